"""Security headers on every response: what a page may load, who may frame it, what it tells others.

No page runs a script or carries an inline style (tests/test_security_headers.py reads every
template to keep it so): the policy allows this site's stylesheet and images, forms that post
back here, and frames of this site's own previews. Nothing at all may frame our pages.
"""

from __future__ import annotations

from flask import Flask, Response, current_app


def content_security_policy(**directives: str) -> str:
    """The site's policy, with some directives replaced (`frame_ancestors="'self'"`)."""
    policy = {
        "default-src": "'none'",
        "style-src": "'self'",
        "img-src": "'self'",
        "form-action": "'self'",
        "frame-src": "'self'",  # the admin's previews of a survey and of an email
        "frame-ancestors": "'none'",  # no other site can frame a page to trick a click
        "base-uri": "'none'",
    }
    policy.update({name.replace("_", "-"): value for name, value in directives.items()})
    return "; ".join(f"{name} {value}" for name, value in policy.items())


SITE_POLICY = content_security_policy()
# A page shown inside one of this site's own pages (the question set editor's phone preview).
FRAMED_BY_THIS_SITE = content_security_policy(frame_ancestors="'self'")
# An email's HTML inside the admin's email preview. Mail clients drop stylesheets, so emails
# carry inline styles; this policy allows them and nothing else, in a sandbox (no script, an
# origin of its own) even when opened on its own.
EMAIL_HTML_PREVIEW = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


def email_html_preview_policy() -> str:
    """EMAIL_HTML_PREVIEW, also letting the frame load the shop's logo from BASE_URL.

    The frame is sandboxed (its origin is opaque, so 'self' would match nothing) and in
    development BASE_URL is plain http, which `https:` does not cover.
    """
    origin = "/".join(current_app.config["BASE_URL"].split("/")[:3])
    return EMAIL_HTML_PREVIEW.replace("img-src https: data:", f"img-src https: data: {origin}")


# Survey and unsubscribe links carry a personal token in their path. `strict-origin` sends only
# the origin, to us and to others, so the token never travels in a Referer header (nor into a
# proxy's or gunicorn's log of the stylesheet request); Flask-WTF's HTTPS check of the Referer
# is satisfied by the origin alone, which `no-referrer` would fail.
REFERRER_POLICY = "strict-origin"
# A year; not includeSubDomains: other hosts under the same domain may not serve HTTPS.
HSTS = "max-age=31536000"


def register(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # setdefault: a view may have chosen its own policy (the previews).
        response.headers.setdefault("Content-Security-Policy", SITE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = REFERRER_POLICY
        # Browsers heed HSTS only over HTTPS; over plain http (`make run`) it would be noise.
        if current_app.config["BASE_URL"].startswith("https://"):
            response.headers["Strict-Transport-Security"] = HSTS
        return response
