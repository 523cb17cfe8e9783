"""`/cases/<id>/attachments/<id>`: a file a customer (or anyone) emailed to a case.

Only the case's owner and admins may download it, always as a download
(`Content-Disposition: attachment`), never shown by the browser: the file came
from outside, and opened in our origin an HTML or SVG file could run as us.
"""

from __future__ import annotations

from io import BytesIO

from flask import abort, send_file
from flask_login import login_required
from sqlalchemy import select

from surveys.auth import acting_user
from surveys.db import db
from surveys.inbox.blueprint import bp
from surveys.mail.inbound import safe_filename
from surveys.models import CaseAttachment
from surveys.services.cases import queries

# Types a browser will not run as a page; anything else goes out as bytes.
SAFE_TYPES = {
    "application/pdf",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/plain",
}


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(case_id: int, attachment_id: int):
    """The file, for the case's owner and admins (404 for anyone else, as for no file)."""
    session = db.session()
    case = queries.get_case_for(session, acting_user(), case_id)
    attachment = session.scalar(
        select(CaseAttachment).where(
            CaseAttachment.id == attachment_id, CaseAttachment.case_id == case.id
        )
    )
    if attachment is None:
        abort(404)
    content_type = attachment.content_type.lower()
    response = send_file(
        BytesIO(attachment.content),
        mimetype=content_type if content_type in SAFE_TYPES else "application/octet-stream",
        as_attachment=True,
        download_name=safe_filename(attachment.filename, attachment.id),
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
