"""The shop's logo and colour stylesheet, cached for a year at addresses named by their content.

A new logo or accent colour is a new address, so a page or an email never shows a stale one,
and browsers and proxies keep each for a year without asking again.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, abort, make_response, request

from surveys.db import db
from surveys.services.brand import current_brand, kept_logo, theme_stylesheet

bp = Blueprint("brand", __name__, url_prefix="/brand")

ONE_YEAR_IMMUTABLE = "public, max-age=31536000, immutable"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
# What theme_fingerprint gives: an address of any other shape was never one of ours.
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


def theme_fingerprint(css: str) -> str:
    return hashlib.sha256(css.encode()).hexdigest()[:16]


@bp.get("/logo/<digest>")
def show_logo(digest: str):
    """The logo with this digest (the current one, or one an email sent earlier shows)."""
    if not DIGEST.match(digest):
        abort(404)
    logo = kept_logo(db.session(), digest)
    if logo is None:
        abort(404)
    response = make_response(logo.content)
    response.headers["Content-Type"] = logo.media_type
    response.headers["Cache-Control"] = ONE_YEAR_IMMUTABLE
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(digest)
    return response.make_conditional(request)


@bp.get("/theme/<fingerprint>.css")
def show_theme(fingerprint: str):
    """The accent colour as CSS custom properties, read by static/app.css."""
    if not FINGERPRINT.match(fingerprint):
        abort(404)
    css = theme_stylesheet(current_brand(db.session()))
    response = make_response(css)
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    current = theme_fingerprint(css)
    # An old address (a page cached before the colour changed) gets today's colours, but
    # only the current address may be kept for a year.
    response.headers["Cache-Control"] = ONE_YEAR_IMMUTABLE if fingerprint == current else "no-cache"
    response.set_etag(current)
    return response.make_conditional(request)
