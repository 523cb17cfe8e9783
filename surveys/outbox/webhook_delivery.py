"""Delivering webhooks out: due `webhook` outbox rows, one signed POST each.

The worker calls `WebhookDelivery(claims).deliver_due()` on every pass, after
the email, with its own `surveys.outbox.claims.Claims`. The pattern is the email's:

1. claim: due rows of active endpoints are leased to this worker and
   committed; rows of a paused endpoint are not claimed, so they wait,
   uncounted, until it is resumed;
2. for each row: renew the lease (skipping rows another worker took over),
   then POST its stored body outside any transaction, signed with the
   endpoint's current secret and a fresh timestamp;
3. record the outcome through the claims (`record_sent` / `record_failures`):
   any 2xx is `sent`; anything else (a 3xx, 4xx or 5xx, a timeout, a refused
   connection) is tried again with the worker's backoff and jitter, and after
   the last attempt the row is `failed` with the reason, for admins to see.

Redirects are not followed: a POST redirected to a GET would look delivered
when nothing was received.

Slack and Teams channels (`surveys.services.chat_channels`) are endpoints of
their own kind and go the same way, unsigned (they check no signature); one
that answers 404 or 410 is gone, so it is paused with that reason, and its
messages wait for an admin to fix and resume it.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException

from flask import current_app
from sqlalchemy import Select

from surveys import clock
from surveys.db import db
from surveys.mail.senders import DeliveryFailure, PermanentFailure, TemporaryFailure
from surveys.models import OutboxMessage, WebhookEndpoint
from surveys.models.outbox import OutboxStatus
from surveys.outbox.claims import Claims, unclaim
from surveys.services.chat_channels import channels as chat
from surveys.services.webhooks_out import events as webhooks_out

log = logging.getLogger(__name__)

USER_AGENT = "HeartToHeart-Webhooks/1"
DEFAULT_TIMEOUT_SECONDS = 10.0
# Rows claimed at a time: even if every receiver times out, a claim is sent
# long before its lease runs out.
BATCH_SIZE = 20
# How much of a refusal's body is kept as the reason.
MAX_REASON_BODY = 200


@dataclass(frozen=True)
class WebhookRequest:
    """One delivery, ready to send without the database."""

    message_id: int
    url: str
    event: str
    body: bytes
    # None: a Slack or Teams channel, posted to unsigned.
    secret: str | None
    kind: str = webhooks_out.WEBHOOK_KIND


class EndpointRefused(TemporaryFailure):
    """The endpoint answered, with a status other than 2xx (kept: 404 and 410 pause a chat)."""

    def __init__(self, reason: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(reason, retry_after=retry_after)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None  # the 3xx then raises HTTPError and counts as a failed attempt


_opener = urllib.request.build_opener(_NoRedirects)


class WebhookDelivery:
    """Delivers the due webhook rows under one worker's claims (its lease and retry policy)."""

    def __init__(self, claims: Claims, *, stopping: threading.Event | None = None) -> None:
        self.claims = claims
        self.stopping = stopping or threading.Event()
        self.timeout = float(
            current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        )

    def deliver_due(self) -> Counter:
        """Send every delivery due now, a claim at a time, until none is left or we stop."""
        outcomes: Counter = Counter()
        while not self.stopping.is_set():
            claimed = self.claim()
            if not claimed:
                break
            for position, message_id in enumerate(claimed):
                if self.stopping.is_set():
                    self.claims.release(claimed[position:])
                    return outcomes
                outcomes.update(self.deliver(message_id))
        return outcomes

    def claim(self) -> list[int]:
        """Lease up to BATCH_SIZE due deliveries of active endpoints to this worker."""
        return self.claims.claim(webhooks_out.CHANNEL, BATCH_SIZE, narrow=_active_endpoints)

    def deliver(self, message_id: int) -> Counter:
        """Send one claimed delivery and record what became of it."""
        request = self.prepare(message_id)
        if isinstance(request, str):
            return Counter({request: 1})
        failure = post(request, timeout=self.timeout, now=clock.now())
        if failure is None:
            return Counter(sent=self.claims.record_sent([message_id]))
        log.info("webhook delivery %s to %s: %s", message_id, request.url, failure.reason)
        outcomes = self.claims.record_failures([message_id], failure)
        if (
            request.kind in chat.KINDS
            and isinstance(failure, EndpointRefused)
            and failure.status in chat.GONE_STATUSES
        ):
            self._pause_gone_channel(message_id, failure.reason)
        return outcomes

    def _pause_gone_channel(self, message_id: int, reason: str) -> None:
        with db.sessionmaker() as session:
            message = session.get(OutboxMessage, message_id)
            if message is not None and message.webhook_endpoint_id is not None:
                if chat.pause_gone_channel(
                    session, message.webhook_endpoint_id, reason, now=clock.now()
                ):
                    log.warning("chat channel %s paused: %s", message.webhook_endpoint_id, reason)
            session.commit()

    def prepare(self, message_id: int) -> WebhookRequest | str:
        """Renew our lease and read what to send; else the outcome to count instead."""
        now = clock.now()
        with db.sessionmaker() as session:
            if not self.claims.renew(session, [message_id], now):
                session.commit()
                return "skipped"  # another worker took it over, or it was cancelled
            message = session.get(OutboxMessage, message_id)
            endpoint = session.get(WebhookEndpoint, message.webhook_endpoint_id)
            if endpoint is not None and not endpoint.active:
                # Paused since the claim: it waits, and this was no attempt.
                message.status = OutboxStatus.PENDING
                unclaim(message)
                session.commit()
                return "deferred"
            session.commit()
        if endpoint is None or message.payload is None:
            return self._give_up(
                message_id, "there is nothing to deliver: the endpoint or the body is missing"
            )
        return WebhookRequest(
            message_id=message_id,
            url=endpoint.url,
            event=message.template,
            body=webhooks_out.body_bytes(message.payload),
            secret=None if endpoint.kind in chat.KINDS else endpoint.secret,
            kind=endpoint.kind,
        )

    def _give_up(self, message_id: int, reason: str) -> str:
        outcomes = self.claims.record_failures([message_id], PermanentFailure(reason))
        return next(iter(outcomes), "failed")


def _active_endpoints(query: Select) -> Select:
    return query.join(
        WebhookEndpoint, WebhookEndpoint.id == OutboxMessage.webhook_endpoint_id
    ).where(WebhookEndpoint.active.is_(True))


def post(request: WebhookRequest, *, timeout: float, now: datetime) -> DeliveryFailure | None:
    """POST one signed delivery; None when it was answered 2xx, else why it was not."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Surveys-Event": request.event,
        "X-Surveys-Delivery": str(request.message_id),
    }
    if request.secret is not None:
        headers[webhooks_out.SIGNATURE_HEADER] = webhooks_out.signature(
            request.secret, int(now.timestamp()), request.body
        )
    http_request = urllib.request.Request(
        request.url, data=request.body, headers=headers, method="POST"
    )
    try:
        with _opener.open(http_request, timeout=timeout) as answer:
            answer.read(64 * 1024)  # let the receiver finish; what it says does not matter
        return None
    except urllib.error.HTTPError as exc:
        return EndpointRefused(_refusal(exc), status=exc.code, retry_after=_retry_after(exc))
    except TimeoutError:
        return TemporaryFailure(f"the endpoint did not answer within {timeout:g} s")
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return TemporaryFailure(f"the endpoint did not answer within {timeout:g} s")
        return TemporaryFailure(f"could not reach the endpoint: {exc.reason}"[:1000])
    except (HTTPException, OSError, ValueError) as exc:
        return TemporaryFailure(f"the request failed: {type(exc).__name__}: {exc}"[:1000])


def _refusal(error: urllib.error.HTTPError) -> str:
    """`the endpoint answered 500 Internal Server Error: <the start of its body>`."""
    reason = f"the endpoint answered {error.code} {error.reason}".rstrip()
    if 300 <= error.code < 400:
        where = error.headers.get("Location")
        return f"{reason} (redirects are not followed{f'; to {where}' if where else ''})"[:1000]
    try:
        said = error.read(MAX_REASON_BODY + 1).decode("utf-8", "replace")
    except (OSError, HTTPException):
        said = ""
    said = " ".join(said.split())
    if len(said) > MAX_REASON_BODY:
        said = said[:MAX_REASON_BODY] + "…"
    return f"{reason}: {said}"[:1000] if said else reason


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = (error.headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None
