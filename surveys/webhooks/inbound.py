"""`POST /webhooks/inbound`: SendGrid Inbound Parse posts every email sent to INBOUND_DOMAIN.

SendGrid cannot sign these posts; it puts Basic-auth credentials from the URL
(`https://inbound:<password>@host/webhooks/inbound`) in each request, checked
against INBOUND_PARSE_PASSWORD (any user name). Once that password is right,
every answer is 200, even for a message we ignore: SendGrid retries anything
else for three days, and a message we cannot use would only come back. The
form is multipart, its text fields in the charsets its `charsets` field names,
so the body is read here byte for byte rather than through Flask's form.
"""

from __future__ import annotations

import hmac
import logging

from flask import abort, current_app, request
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)

from surveys import clock
from surveys.db import db
from surveys.errors import problem_response
from surveys.mail.inbound import read_parse_fields, receive_email
from surveys.services.cases.inbound import Receipt

log = logging.getLogger(__name__)

# SendGrid takes messages up to 30 MB; the form around them adds a little.
MAX_POST_BYTES = 40 * 1024 * 1024
MAX_FIELD_BYTES = 30 * 1024 * 1024
MAX_PARTS = 1000


def receive_inbound_email():
    """One email from Inbound Parse, put on its case; always 200 once authenticated."""
    password = current_app.config.get("INBOUND_PARSE_PASSWORD")
    if not password:
        abort(404)  # without a password we could not tell SendGrid from anybody
    given = request.authorization.password if request.authorization else None
    if given is None or not hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"),
        password.encode("utf-8", "surrogateescape"),
    ):
        response = problem_response(
            401,
            "Wrong credentials",
            "Put INBOUND_PARSE_PASSWORD in the URL SendGrid posts to.",
        )
        response.headers["WWW-Authenticate"] = 'Basic realm="inbound"'
        return response
    request.max_content_length = MAX_POST_BYTES
    parts = _multipart_parts()
    if parts is None:
        receipt = Receipt("ignored", "not an Inbound Parse post (no multipart form)")
    else:
        email, recipients = read_parse_fields(*parts)
        session = db.session()
        receipt = receive_email(session, email, recipients, now=clock.now())
        session.commit()
    log.info("Inbound email: %s (%s)", receipt.outcome, receipt.detail)
    return {
        "outcome": receipt.outcome,
        "detail": receipt.detail,
        "case_id": receipt.case_id,
    }, 200


def _multipart_parts():
    """The form's fields (raw bytes) and files by field name, or None when it is no form."""
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get("boundary")
    if mimetype != "multipart/form-data" or not boundary:
        return None
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"), max_parts=MAX_PARTS)
    try:
        decoder.receive_data(request.get_data(cache=False))
        decoder.receive_data(None)
        return _collect(decoder)
    except ValueError as exc:  # a broken form: nothing to read
        log.info("Inbound post with a broken form: %s", exc)
        return None


def _collect(decoder: MultipartDecoder):
    fields: dict[str, bytes] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    current, chunks = None, []
    while True:
        event = decoder.next_event()
        if isinstance(event, (NeedData, Epilogue)):
            break
        if isinstance(event, (Field, File)):
            current, chunks = event, []
        elif isinstance(event, Data) and current is not None:
            chunks.append(event.data)
            if not event.more_data:
                content = b"".join(chunks)[: MAX_FIELD_BYTES + 1]
                if isinstance(current, File):
                    content_type = current.headers.get("Content-Type", "application/octet-stream")
                    files[current.name] = (
                        current.filename or "",
                        content_type,
                        content,
                    )
                else:
                    fields[current.name] = content
                current, chunks = None, []
    return fields, files
