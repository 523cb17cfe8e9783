"""The emails there are: each template name's builder and hooks, and why a builder may stop.

Builders register with `@email_template`; `surveys.mail.render` imports every
builder module, so read the registry through `render.EMAIL_TEMPLATES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from surveys.models import OutboxMessage

Builder = Callable[[Session, OutboxMessage, datetime], dict]
SentHook = Callable[[Session, OutboxMessage, datetime], None]
SentBatchHook = Callable[[Session, list[OutboxMessage], datetime], None]
FailedHook = Callable[[Session, OutboxMessage, str, datetime], None]
Preload = Callable[[Session, list[OutboxMessage]], None]


class CancelDelivery(Exception):
    """The email should not go after all; the message is cancelled with this reason.

    Whatever the builder changed before raising (a survey marked suppressed)
    is committed with the cancellation.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeferDelivery(Exception):
    """Not now: the message waits until `until` (not counted as an attempt)."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    build: Builder
    # Customer emails carry the unsubscribe link and headers; staff emails do not.
    to_customer: bool
    on_sent: SentHook | None = None
    on_failed: FailedHook | None = None
    on_sent_batch: SentBatchHook | None = None
    preload: Preload | None = None

    def sent(self, session: Session, messages: list[OutboxMessage], now: datetime) -> None:
        """Run the sent hooks for messages of this template the provider accepted."""
        if self.on_sent_batch is not None:
            self.on_sent_batch(session, messages, now)
        if self.on_sent is not None:
            for message in messages:
                self.on_sent(session, message, now)


# Filled by the `@email_template` builders as their modules are imported.
REGISTERED: dict[str, EmailTemplate] = {}


def email_template(
    name: str,
    *,
    to_customer: bool,
    on_sent: SentHook | None = None,
    on_failed: FailedHook | None = None,
    on_sent_batch: SentBatchHook | None = None,
    preload: Preload | None = None,
) -> Callable[[Builder], Builder]:
    """Register the builder of the email named `name` (the outbox `template`)."""

    def register(build: Builder) -> Builder:
        REGISTERED[name] = EmailTemplate(
            name, build, to_customer, on_sent, on_failed, on_sent_batch, preload
        )
        return build

    return register
