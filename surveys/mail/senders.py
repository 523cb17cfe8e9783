"""The two ways mail leaves: SendGrid's v3 API, or one `.eml` file per message.

Both take a fully rendered `OutgoingEmail` (no database access while sending)
and either return, or raise `TemporaryFailure` (try again later) or
`PermanentFailure` (this message will never go; the reason says why).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

import sendgrid
from flask import Flask
from python_http_client.exceptions import HTTPError
from sendgrid.helpers.mail import (
    Category,
    Content,
    CustomArg,
    From,
    Header,
    Mail,
    MimeType,
    Personalization,
    ReplyTo,
    Subject,
    To,
)


@dataclass(frozen=True)
class OutgoingEmail:
    """One rendered email to one recipient, ready for any sender."""

    message_id: int
    to_email: str
    to_name: str | None
    from_email: str
    from_name: str | None
    subject: str
    text: str
    html: str
    reply_to: str | None = None
    # Extra headers for this recipient (List-Unsubscribe…).
    headers: dict[str, str] = field(default_factory=dict)
    # Carried by SendGrid into its event webhook, so events find their message.
    custom_args: dict[str, str] = field(default_factory=dict)
    category: str | None = None
    date: datetime = field(default_factory=lambda: datetime.now(UTC))


class DeliveryFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later (rate limit, outage, timeout, refused connection)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Trying again would get the same answer (the provider refused this message)."""


class Sender(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Deliver one email, or raise TemporaryFailure / PermanentFailure."""

    def describe(self) -> str:
        """Where mail goes, for the worker's first line of output."""


def sender_for(app: Flask) -> Sender:
    """SendGrid when an API key is configured, else `.eml` files in MAIL_OUTBOX_DIR."""
    if app.config.get("SENDGRID_API_KEY"):
        return SendGridSender(
            app.config["SENDGRID_API_KEY"],
            host=app.config["SENDGRID_API_HOST"],
            timeout=float(app.config["SENDGRID_TIMEOUT_SECONDS"]),
        )
    return FileSender(Path(app.config["MAIL_OUTBOX_DIR"]))


# --- SendGrid ------------------------------------------------------------------

# Statuses worth retrying besides 5xx. 401 and 403 describe our account (a
# revoked key, an unverified sender), not the message: failing every queued
# survey for good on a configuration slip would lose them, so they wait, with
# backoff, until someone fixes it or the retry budget runs out.
RETRYABLE_STATUSES = {401, 403, 408, 429}


class SendGridSender:
    """Sends through SendGrid's v3 `mail/send` with the official library."""

    def __init__(self, api_key: str, *, host: str, timeout: float) -> None:
        self.host = host
        self.timeout = timeout
        self.api = sendgrid.SendGridAPIClient(api_key, host=host)
        # The library waits forever by default; a hung connection would stall
        # the worker with messages claimed. The client passes this on to
        # every request it builds.
        self.api.client.timeout = timeout

    def describe(self) -> str:
        return f"SendGrid at {self.host}"

    def send(self, email: OutgoingEmail) -> None:
        self.send_body(build_mail([email]).get())

    def send_body(self, body: dict) -> None:
        """POST one `mail/send` body; raise a classified failure when it is refused."""
        try:
            self.api.client.mail.send.post(request_body=body, timeout=self.timeout)
        except HTTPError as exc:
            raise classify_http_error(exc) from exc
        except TimeoutError as exc:
            raise TemporaryFailure(f"SendGrid did not answer within {self.timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            # URLError (refused connection, DNS), ConnectionError (reset), a
            # truncated answer: the network, not the message.
            reason = f"could not reach SendGrid: {_describe_network_error(exc)}"
            raise TemporaryFailure(reason) from exc


def build_mail(emails: list[OutgoingEmail]) -> Mail:
    """One `mail/send` body with one personalization per email.

    Recipients' headers and custom_args live in their personalization, so a
    later batch of survey emails (up to 1,000 personalizations, one request)
    only needs per-recipient substitutions for the body; today each call
    carries one email.
    """
    first = emails[0]
    mail = Mail()
    mail.from_email = From(first.from_email, first.from_name)
    mail.subject = Subject(first.subject)
    if first.reply_to:
        mail.reply_to = ReplyTo(first.reply_to)
    for position, email in enumerate(emails):
        mail.add_personalization(personalization_for(email), index=position)
    mail.add_content(Content(MimeType.text, first.text))
    mail.add_content(Content(MimeType.html, first.html))
    if first.category:
        mail.add_category(Category(first.category))
    return mail


def personalization_for(email: OutgoingEmail) -> Personalization:
    """The recipient, their subject, headers and custom_args."""
    personalization = Personalization()
    personalization.add_to(To(email.to_email, email.to_name or None))
    personalization.subject = email.subject
    for name, value in email.headers.items():
        personalization.add_header(Header(name, value))
    for name, value in email.custom_args.items():
        personalization.add_custom_arg(CustomArg(name, str(value)))
    return personalization


def classify_http_error(exc: HTTPError) -> TemporaryFailure | PermanentFailure:
    """429, 5xx (and account-level 401/403) are temporary; any other 4xx is permanent."""
    status = int(exc.status_code)
    reason = f"SendGrid answered {status} {exc.reason or ''}".rstrip()
    details = _error_messages(exc.body)
    if details:
        reason = f"{reason}: {details}"
    reason = reason[:1000]
    if status >= 500 or status in RETRYABLE_STATUSES:
        return TemporaryFailure(reason, retry_after=_retry_after(exc.headers))
    return PermanentFailure(reason)


def _error_messages(body: bytes | str | None) -> str:
    """SendGrid's `{"errors": [{"message", "field"}]}` as one readable line."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        errors = json.loads(text).get("errors") or []
    except (ValueError, AttributeError):
        return text.strip()[:300]
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or "").strip()
        field_name = error.get("field")
        parts.append(f"{message} ({field_name})" if field_name else message)
    return "; ".join(part for part in parts if part)


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date; our own backoff is good enough


def _describe_network_error(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)  # URLError wraps the socket error
    return str(reason if reason is not None else exc) or type(exc).__name__


# --- .eml files --------------------------------------------------------------


# CRLF line ends as RFC 5322 says, and its 998-character line limit rather than
# the default 78, so a long List-Unsubscribe URL stays on one line unfolded.
EML_POLICY = SMTP.clone(max_line_length=998)


class FileSender:
    """Writes each email as one RFC 5322 file: the local stand-in for SendGrid."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def describe(self) -> str:
        return f"files in {self.directory}"

    def send(self, email: OutgoingEmail) -> None:
        try:
            data = to_mime(email).as_bytes()
        except (ValueError, TypeError) as exc:  # an address the email package cannot write
            raise PermanentFailure(f"could not write this email: {exc}") from exc
        name = f"{email.date:%Y%m%dT%H%M%S}-{email.message_id}-{secrets.token_hex(3)}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Written under a temporary name and renamed, so a reader never
            # sees half a message.
            partial = self.directory / f".{name}.partial"
            partial.write_bytes(data)
            os.replace(partial, self.directory / name)
        except OSError as exc:
            raise TemporaryFailure(f"could not write to {self.directory}: {exc}") from exc


def to_mime(email: OutgoingEmail) -> EmailMessage:
    """The email as a multipart/alternative message (plain text first, then HTML)."""
    message = EmailMessage(policy=EML_POLICY)
    message["From"] = Address(email.from_name or "", addr_spec=email.from_email)
    message["To"] = Address(email.to_name or "", addr_spec=email.to_email)
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.date)
    domain = email.from_email.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in email.headers.items():
        message[name] = value
    for name, value in email.custom_args.items():
        message[f"X-Heart-To-Heart-{name.replace('_', '-').title()}"] = str(value)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def split_address(value: str) -> tuple[str | None, str]:
    """`"Name <addr>"` or `"addr"` → (name or None, addr)."""
    name, address = parseaddr(value)
    return (name or None), (address or value)
