"""Reading an email that came back: a raw MIME message, or SendGrid Inbound Parse's fields.

Both become one `ReceivedEmail` (surveys.services.cases.inbound): the sender,
the subject, the new words with the quoted history and signature stripped by
`mail-parser-reply`, and the files. Whatever the bytes (NUL, lone surrogates,
an unknown charset, broken MIME), reading never fails: what cannot be decoded
is replaced. `receive_email` finds the case address it was sent to and hands
it to the service; the webhook and `flask mail receive` both call it.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import unicodedata
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from flask import current_app
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES
from sqlalchemy.orm import Session

from surveys.mail.reply_addresses import read_case_address
from surveys.services.cases.inbound import (
    Receipt,
    ReceivedAttachment,
    ReceivedEmail,
    receive_case_email,
)

log = logging.getLogger(__name__)

# Every language the library knows "On … wrote:" in (its "david" entry is a test fixture).
REPLY_PARSER = EmailReplyParser(languages=[name for name in MAIL_LANGUAGES if name != "david"])
MAX_SUBJECT_LENGTH = 300
# Headers that mark an automatic message (RFC 3834, and what common auto-responders send).
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply)@", re.IGNORECASE)


def receive_email(session: Session, email: ReceivedEmail, recipients: list[str], *, now):
    """Put `email` on the case whose address it was sent to; a Receipt says what happened."""
    config = current_app.config
    domain = config.get("INBOUND_DOMAIN")
    if not domain:
        return Receipt("ignored", "INBOUND_DOMAIN is not set, so no address names a case")
    for recipient in recipients:
        address = read_case_address(config["SECRET_KEY"], domain, recipient)
        if address is not None:
            return receive_case_email(
                session,
                email,
                case_id=address.case_id,
                audience=address.audience,
                now=now,
            )
    return Receipt("ignored", f"not sent to a case's address at {domain}")


# --- raw MIME -------------------------------------------------------------------------------


def read_mime(raw: bytes) -> tuple[ReceivedEmail, list[str]]:
    """A whole message (`.eml`, or Inbound Parse's `email` field): the email and its recipients."""
    message = message_from_bytes(raw, policy=policy.compat32)
    sender_name, sender = parseaddr(_header(message, "From"))
    recipients = _addresses(
        _header(message, "Delivered-To"), _header(message, "To"), _header(message, "Cc")
    )
    text, html = _bodies(message)
    email = ReceivedEmail(
        sender=clean_line(sender).lower(),
        sender_name=clean_line(sender_name),
        subject=clean_line(_header(message, "Subject"))[:MAX_SUBJECT_LENGTH],
        text=new_words(text or html_to_text(html)),
        attachments=tuple(_attachments(message)),
        automatic=automatic_reason(message, sender),
    )
    return email, recipients


def _header(message: Message, name: str) -> str:
    """A header decoded (RFC 2047), any bytes it holds replaced rather than refused."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, TypeError, AssertionError):
        return str(value)


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _bodies(message: Message) -> tuple[str, str]:
    """The first plain-text and HTML parts that are not attachments."""
    text = html = None
    for part in message.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and text is None:
            text = _part_text(part)
        elif content_type == "text/html" and html is None:
            html = _part_text(part)
    return text or "", html or ""


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment":
        return True
    # An inline image with a name is a file too; an unnamed text part is the body.
    return bool(part.get_filename()) and not part.get_content_type().startswith("text/")


def _attachments(message: Message):
    for number, part in enumerate(message.walk(), start=1):
        if part.is_multipart() or not _is_attachment(part):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        yield ReceivedAttachment(
            filename=safe_filename(_filename(part), number),
            content_type=clean_line(part.get_content_type()),
            content=content,
        )


def _filename(part: Message) -> str:
    try:
        return part.get_filename() or ""
    except (LookupError, UnicodeError, ValueError):
        return ""


def automatic_reason(headers: Message, sender: str) -> str | None:
    """Why this is an automatic message (an out-of-office, a bounce), or None."""
    auto_submitted = (headers.get("Auto-Submitted") or "no").strip().lower()
    if auto_submitted != "no":
        return f"Auto-Submitted: {clean_line(auto_submitted)}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response"):
        if headers.get(name):
            return f"{name} header"
    precedence = (headers.get("Precedence") or "").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    if AUTOMATIC_SENDERS.match(sender or ""):
        return f"sent by {clean_line(sender)}"
    return None


# --- SendGrid's parsed fields ---------------------------------------------------------------


def read_parse_fields(
    fields: dict[str, bytes], files: dict[str, tuple[str, str, bytes]]
) -> tuple[ReceivedEmail, list[str]]:
    """Inbound Parse's form: `email` (raw) when "POST the raw, full MIME message" is ticked,
    else `from`, `to`, `cc`, `subject`, `text`, `html`, `headers`, `envelope`, `charsets`
    and `attachment1`…`attachmentN` (named in `attachment-info`)."""
    envelope = _json_object(fields.get("envelope"))
    envelope_to = envelope.get("to")
    envelope_to = [str(item) for item in envelope_to] if isinstance(envelope_to, list) else []
    if "email" in fields:
        email, recipients = read_mime(fields["email"])
        return email, _addresses(*envelope_to) + recipients
    charsets = {
        str(name): str(value) for name, value in _json_object(fields.get("charsets")).items()
    }

    def field(name: str) -> str:
        return decode_bytes(fields.get(name, b""), charsets.get(name))

    headers = HeaderParser(policy=policy.compat32).parsestr(field("headers"))
    sender_name, sender = parseaddr(field("from"))
    info = _json_object(fields.get("attachment-info"))
    attachments = []
    for number, (name, (filename, content_type, content)) in enumerate(sorted(files.items()), 1):
        described = info.get(name) if isinstance(info.get(name), dict) else {}
        attachments.append(
            ReceivedAttachment(
                filename=safe_filename(str(described.get("filename") or filename), number),
                content_type=clean_line(str(described.get("type") or content_type))[:255],
                content=content,
            )
        )
    email = ReceivedEmail(
        sender=clean_line(sender).lower(),
        sender_name=clean_line(sender_name),
        subject=clean_line(field("subject"))[:MAX_SUBJECT_LENGTH],
        text=new_words(field("text") or html_to_text(field("html"))),
        attachments=tuple(attachments),
        automatic=automatic_reason(headers, sender),
    )
    return email, _addresses(*envelope_to, field("to"), field("cc"))


def _json_object(raw: bytes | None) -> dict:
    try:
        value = json.loads(decode_bytes(raw or b"{}", "utf-8"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _addresses(*values: str) -> list[str]:
    return [clean_line(address).lower() for _, address in getaddresses(values) if address]


# --- text -------------------------------------------------------------------------------------


def decode_bytes(raw: bytes, charset: str | None) -> str:
    """Bytes in the charset they claim; an unknown charset reads as UTF-8, bad bytes as U+FFFD."""
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except (LookupError, ValueError, TypeError):
        codec = "utf-8"
    try:
        return clean_text(raw.decode(codec, errors="replace"))
    except Exception:  # a codec that fails even with "replace" (some rare ones do)
        return clean_text(raw.decode("utf-8", errors="replace"))


def clean_text(text: str) -> str:
    """Storable text: plain line ends, no NUL, no lone surrogate, no control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    return "".join(
        char for char in text if unicodedata.category(char) != "Cc" or char in "\n\t"
    ).replace("\x00", "")


def clean_line(text: str) -> str:
    """One line of clean text (names, subjects, addresses)."""
    return " ".join(clean_text(str(text)).split())


def new_words(text: str) -> str:
    """What the sender wrote this time: without the quoted history or their signature."""
    text = clean_text(text).strip()
    if not text:
        return ""
    try:
        replies = REPLY_PARSER.read(text).replies
    except Exception:  # a regular-expression library edge case: keep the whole text
        log.warning("could not strip the quoted history of a message", exc_info=True)
        return text
    if not replies:
        return text
    first = replies[0]
    words = (first.body or first.content or "").strip()
    # A message that is all quote (forwarded as is) keeps what it had.
    return words or text


def safe_filename(name: str, number: int) -> str:
    """A file name for the case page and the download: one line, no path, never empty."""
    name = clean_line(name).replace("\\", "/").rsplit("/", 1)[-1].strip(". ")
    return (name or f"attachment-{number}")[:255]


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML body, without quoted history (`blockquote`)."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"}
    SKIPPED = {"style", "script", "head", "blockquote", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    if not html:
        return ""
    reader = _TextOfHtml()
    try:
        reader.feed(html)
        reader.close()
    except Exception:  # HTMLParser is lenient; this is for what it still chokes on
        return ""
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
