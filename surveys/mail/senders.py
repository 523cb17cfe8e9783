"""The two ways mail leaves: SendGrid's v3 API, or one `.eml` file per message.

Both take fully rendered `OutgoingEmail`s (no database access while sending).
A sender first says how it groups emails into requests (`batches`), then
sends one request at a time (`send_batch`), answering with the failures by
outbox message id: `TemporaryFailure` (try again later) or `PermanentFailure`
(this message will never go; the reason says why). Every email not named in
the answer was accepted.

SendGrid takes up to 1,000 recipients per request when they share one body:
emails rendered from the same template differ only in their substitution
tags (see `surveys.mail.personal.Personal`), so a batch of survey emails is one
request whose personalizations each carry their recipient, subject, headers,
substitutions and custom_args.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.error import URLError

import sendgrid
from flask import Flask
from python_http_client.exceptions import HTTPError
from sendgrid.helpers.mail import (
    Category,
    Content,
    From,
    Mail,
    MimeType,
    ReplyTo,
)


@dataclass(frozen=True)
class OutgoingEmail:
    """One rendered email to one recipient, ready for any sender.

    `text` and `html` may hold substitution tags (keys of `substitutions`);
    `final_text` / `final_html` are what the recipient reads. The subject is
    always final.
    """

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
    # This recipient's values for the tags in `text` and `html`.
    substitutions: dict[str, str] = field(default_factory=dict)

    @property
    def final_text(self) -> str:
        return substitute(self.text, self.substitutions)

    @property
    def final_html(self) -> str:
        return substitute(self.html, self.substitutions)

    def shares_body_with(self) -> tuple:
        """What must be equal for two emails to go in one SendGrid request."""
        return (self.from_email, self.from_name, self.reply_to, self.category, self.text, self.html)


def substitute(text: str, substitutions: dict[str, str]) -> str:
    """Replace each tag by its value in one pass (a value is never scanned for tags)."""
    if not substitutions:
        return text
    pattern = _tag_pattern(tuple(sorted(substitutions, key=len, reverse=True)))
    return pattern.sub(lambda match: substitutions[match.group(0)], text)


@functools.lru_cache(maxsize=64)
def _tag_pattern(tags: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(re.escape(tag) for tag in tags))


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
    """Trying again would get the same answer (the provider refused this message).

    `by_personalization` maps the positions of the recipients SendGrid named
    in its errors ("personalizations.3.to.0.email") to what it said of each.
    """

    def __init__(self, reason: str, by_personalization: dict[int, str] | None = None) -> None:
        super().__init__(reason)
        self.by_personalization = by_personalization or {}


Failures = dict[int, DeliveryFailure]


class Sender(Protocol):
    def batches(self, emails: list[OutgoingEmail]) -> list[list[OutgoingEmail]]:
        """The requests this sender makes for these emails, in order."""

    def send_batch(self, emails: list[OutgoingEmail]) -> Failures:
        """Send one request; return the failures by message id (empty: all accepted)."""

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

# SendGrid's limit of personalizations (and recipients) per mail/send request.
MAX_RECIPIENTS_PER_REQUEST = 1000
# Statuses worth retrying besides 5xx. 401 and 403 describe our account (a
# revoked key, an unverified sender), not the message: failing every queued
# survey for good on a configuration slip would lose them, so they wait, with
# backoff, until someone fixes it or the retry budget runs out.
RETRYABLE_STATUSES = {401, 403, 408, 429}
PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\b")
# A request whose answer never came may have been accepted all the same (SendGrid
# takes no idempotency key). It is tried again no sooner than this, by which time
# SendGrid's Event Webhook has reported on whatever it accepted, and those
# messages are marked sent instead (`surveys.outbox.outcomes`).
UNCERTAIN_RETRY_SECONDS = 300.0


class SendGridSender:
    """Sends through SendGrid's v3 `mail/send` with the official library."""

    def __init__(
        self,
        api_key: str,
        *,
        host: str,
        timeout: float,
        max_recipients: int = MAX_RECIPIENTS_PER_REQUEST,
    ) -> None:
        self.host = host
        self.timeout = timeout
        self.max_recipients = max_recipients
        self.api = sendgrid.SendGridAPIClient(api_key, host=host)
        # The library waits forever by default; a hung connection would stall
        # the worker with messages claimed. The client passes this on to
        # every request it builds.
        self.api.client.timeout = timeout

    def describe(self) -> str:
        return f"SendGrid at {self.host}"

    def batches(self, emails: list[OutgoingEmail]) -> list[list[OutgoingEmail]]:
        """Emails with the same body, up to 1,000 per request, each address once per request."""
        groups: dict[tuple, list[OutgoingEmail]] = {}
        for email in emails:
            groups.setdefault(email.shares_body_with(), []).append(email)
        requests: list[list[OutgoingEmail]] = []
        for group in groups.values():
            requests += _chunks_with_unique_addresses(group, self.max_recipients)
        return requests

    def send(self, email: OutgoingEmail) -> None:
        failure = self.send_batch([email]).get(email.message_id)
        if failure is not None:
            raise failure

    def send_batch(self, emails: list[OutgoingEmail]) -> Failures:
        """One request for all of `emails`; a refusal that names recipients spares the others.

        A temporary failure is every recipient's: the whole request is retried
        later, and only its own recipients. A permanent one that names some
        recipients fails those, and the rest go again at once; one that names
        nobody (a body too large…) is split in halves until it does.
        """
        try:
            self.send_body(mail_send_body(emails))
        except TemporaryFailure as failure:
            return {email.message_id: failure for email in emails}
        except PermanentFailure as failure:
            if len(emails) == 1:
                return {emails[0].message_id: failure}
            return self._spare_the_others(emails, failure)
        return {}

    def _spare_the_others(self, emails: list[OutgoingEmail], failure: PermanentFailure) -> Failures:
        named = {
            position: why
            for position, why in failure.by_personalization.items()
            if position < len(emails)
        }
        if named:
            failures: Failures = {
                emails[position].message_id: PermanentFailure(why)
                for position, why in named.items()
            }
            rest = [email for position, email in enumerate(emails) if position not in named]
            return failures | (self.send_batch(rest) if rest else {})
        half = len(emails) // 2
        return self.send_batch(emails[:half]) | self.send_batch(emails[half:])

    def send_body(self, body: dict) -> None:
        """POST one `mail/send` body; raise a classified failure when it is refused."""
        try:
            self.api.client.mail.send.post(request_body=body, timeout=self.timeout)
        except HTTPError as exc:
            raise classify_http_error(exc) from exc
        except URLError as exc:
            # Raised while connecting or sending (refused, DNS, a connect
            # timeout): SendGrid never had the whole request.
            reason = f"could not reach SendGrid: {_describe_network_error(exc)}"
            raise TemporaryFailure(reason) from exc
        except TimeoutError as exc:
            raise TemporaryFailure(
                f"SendGrid did not answer within {self.timeout:g} s (it may have accepted "
                "the request: tried again in 5 minutes, for those it has not reported on)",
                retry_after=UNCERTAIN_RETRY_SECONDS,
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            # The connection broke (reset, closed, a truncated answer) after the
            # request went out: as uncertain as a timeout.
            raise TemporaryFailure(
                f"SendGrid's answer was cut off ({_describe_network_error(exc)}); it may have "
                "accepted the request: tried again in 5 minutes, for those it has not reported on",
                retry_after=UNCERTAIN_RETRY_SECONDS,
            ) from exc


def _chunks_with_unique_addresses(
    emails: list[OutgoingEmail], size: int
) -> list[list[OutgoingEmail]]:
    """Split into requests of at most `size`; SendGrid refuses an address twice in one request."""
    chunks: list[list[OutgoingEmail]] = []
    addresses: list[set[str]] = []
    for email in emails:
        address = email.to_email.lower()
        for chunk, seen in zip(chunks, addresses, strict=True):
            if len(chunk) < size and address not in seen:
                break
        else:
            chunk, seen = [], set()
            chunks.append(chunk)
            addresses.append(seen)
        chunk.append(email)
        seen.add(address)
    return chunks


def mail_send_body(emails: list[OutgoingEmail]) -> dict:
    """One `mail/send` body: the shared body once, one personalization per email.

    The library's `Mail` builds the shared part; each personalization is a
    plain dict, a thousand of them being the hot loop of a big send.
    """
    first = emails[0]
    mail = Mail()
    mail.from_email = From(first.from_email, first.from_name)
    # No shared subject: each personalization carries its recipient's own.
    if first.reply_to:
        mail.reply_to = ReplyTo(first.reply_to)
    mail.add_content(Content(MimeType.text, first.text))
    mail.add_content(Content(MimeType.html, first.html))
    if first.category:
        mail.add_category(Category(first.category))
    body = mail.get()
    body["personalizations"] = [personalization_for(email) for email in emails]
    return body


def personalization_for(email: OutgoingEmail) -> dict:
    """The recipient, their subject, headers, substitutions and custom_args."""
    recipient = {"email": email.to_email}
    if email.to_name:
        recipient["name"] = email.to_name
    personalization: dict = {"to": [recipient], "subject": email.subject}
    if email.headers:
        personalization["headers"] = dict(email.headers)
    if email.substitutions:
        personalization["substitutions"] = dict(email.substitutions)
    if email.custom_args:
        personalization["custom_args"] = {
            name: str(value) for name, value in email.custom_args.items()
        }
    return personalization


def classify_http_error(exc: HTTPError) -> TemporaryFailure | PermanentFailure:
    """429, 5xx (and account-level 401/403) are temporary; any other 4xx is permanent."""
    status = int(exc.status_code)
    prefix = f"SendGrid answered {status} {exc.reason or ''}".rstrip()
    errors = _errors_of(exc.body)
    details = "; ".join(_describe_error(error) for error in errors) if errors else _raw(exc.body)
    reason = (f"{prefix}: {details}" if details else prefix)[:1000]
    if status >= 500 or status in RETRYABLE_STATUSES:
        return TemporaryFailure(reason, retry_after=_retry_after(exc.headers))
    by_personalization: dict[int, list[str]] = {}
    for error in errors:
        match = PERSONALIZATION_FIELD.match(str(error.get("field") or ""))
        if match:
            by_personalization.setdefault(int(match.group(1)), []).append(_describe_error(error))
    return PermanentFailure(
        reason,
        {
            position: f"{prefix}: {'; '.join(messages)}"[:1000]
            for position, messages in by_personalization.items()
        },
    )


def _errors_of(body: bytes | str | None) -> list[dict]:
    """SendGrid's `{"errors": [{"message", "field"}]}`, or [] when the body is not that."""
    if not body:
        return []
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        errors = json.loads(text).get("errors") or []
    except (ValueError, AttributeError):
        return []
    return [error for error in errors if isinstance(error, dict)]


def _describe_error(error: dict) -> str:
    message = str(error.get("message") or "").strip()
    field_name = error.get("field")
    return f"{message} ({field_name})" if field_name else message


def _raw(body: bytes | str | None) -> str:
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text.strip()[:300]


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

    def batches(self, emails: list[OutgoingEmail]) -> list[list[OutgoingEmail]]:
        # Files cost no round trip; one "request" per email keeps failures apart.
        return [[email] for email in emails]

    def send_batch(self, emails: Iterable[OutgoingEmail]) -> Failures:
        failures: Failures = {}
        for email in emails:
            try:
                self.send(email)
            except (TemporaryFailure, PermanentFailure) as failure:
                failures[email.message_id] = failure
        return failures

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
    message.set_content(email.final_text)
    message.add_alternative(email.final_html, subtype="html")
    return message


def split_address(value: str) -> tuple[str | None, str]:
    """`"Name <addr>"` or `"addr"` → (name or None, addr)."""
    name, address = parseaddr(value)
    return (name or None), (address or value)
