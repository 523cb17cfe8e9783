"""Light customer pages: text answers compressed, static files at fingerprinted addresses
kept for a year, and the survey page's stylesheet small."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from surveys.static_files import ONE_YEAR_IMMUTABLE
from tests.factories import make_customer, make_purchase, make_sent_survey
from tests.pages import page

STATIC = Path(__file__).resolve().parent.parent / "static"


def survey_link(session) -> str:
    customer = make_customer(session, name="Ana Diaz")
    _survey, token = make_sent_survey(session, customer, purchase=make_purchase(session, customer))
    session.commit()
    return f"/s/{token}"


def without_csrf_token(html: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" type="hidden" value="[^"]*"', b"", html)


def test_pages_travel_gzipped_to_a_client_that_accepts_it(client, session):
    link = survey_link(session)

    plain = client.get(link)
    zipped = client.get(link, headers={"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    # The same page either way, but for its CSRF token, which carries the second it was made.
    assert without_csrf_token(gzip.decompress(zipped.data)) == without_csrf_token(plain.data)
    assert len(zipped.data) < len(plain.data) / 2


def test_stylesheet_is_fingerprinted_and_kept_for_a_year(client, session):
    shown = page(client.get(survey_link(session)))
    [href] = [
        link["href"]
        for link in shown.soup.select("link[rel=stylesheet]")
        if link["href"].startswith("/static/")
    ]
    digest = hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:12]

    assert href == f"/static/app.css?v={digest}"
    response = client.get(href, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == ONE_YEAR_IMMUTABLE
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.data) < 30 * 1024


def test_a_static_address_without_the_current_fingerprint_is_revalidated(client):
    for href in ("/static/app.css", "/static/app.css?v=old"):
        response = client.get(href)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")


def test_the_favicon_is_fingerprinted_too(client, session):
    shown = page(client.get(survey_link(session)))
    icon = shown.one("link[rel=icon]")["href"]

    assert icon.startswith("/static/favicon.svg?v=")
    assert client.get(icon).headers["Cache-Control"] == ONE_YEAR_IMMUTABLE
