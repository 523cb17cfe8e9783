"""The shop's voice: its name, logo, accent colour, sender and signature on customers' pages
and emails, and never this software's name where a customer looks."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from surveys.mail.samples import preview_entries
from surveys.models import AuditEntry, BrandLogo, Setting
from surveys.services.brand import LOGO_MAX_BYTES, current_brand
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import all_settings, page_specs, set_setting
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user
from tests.pages import page
from tests.web import csrf_token

ONE_YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


def png(width: int = 300, height: int = 100, colour=(180, 35, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def settings_form(session, **changes) -> dict[str, str]:
    values = all_settings(session)
    data = {spec.key: str(values[spec.key]) for spec in page_specs()}
    return {**data, **changes}


def post_settings(client, session, **changes):
    data = settings_form(session, **changes)
    data["csrf_token"] = csrf_token(client, "/admin/settings")
    return client.post("/admin/settings", data=data)


def upload_logo(client, data: bytes, filename: str = "logo.png"):
    token = csrf_token(client, "/admin/settings")
    return client.post(
        "/admin/settings/logo",
        data={"csrf_token": token, "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def set_brand(session, **values) -> None:
    for key, value in values.items():
        set_setting(session, key, value)
    session.commit()


def deliver(app, runner) -> list:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    ]


def body(email, subtype: str) -> str:
    return email.get_body((subtype,)).get_content().replace("\r\n", "\n")


# --- settings ------------------------------------------------------------------------------


def test_brand_settings_are_saved_and_each_change_audited(admin_client, session):
    response = post_settings(
        admin_client,
        session,
        shop_name="Lumen Lamps",
        accent_colour="#1F5F8B",
        sender_name="Lumen Lamps team",
        sender_address="hello@lumen.example",
        signature="With light,\nMarta and the Lumen team",
    )

    assert response.status_code == 302
    brand = current_brand(session)
    assert brand.shop_name == "Lumen Lamps"
    assert brand.accent_colour == "#1f5f8b"
    assert brand.sender_name == "Lumen Lamps team"
    assert brand.sender_address == "hello@lumen.example"
    assert brand.signature_lines == ["With light,", "Marta and the Lumen team"]
    targets = set(session.scalars(select(AuditEntry.target)))
    assert {"setting shop_name", "setting accent_colour", "setting signature"} <= targets


def test_an_accent_colour_white_text_cannot_be_read_on_is_refused_and_nothing_is_saved(
    admin_client, session
):
    response = post_settings(admin_client, session, shop_name="Lumen", accent_colour="#ffcc00")

    assert response.status_code == 422
    shown = page(response)
    assert "contrast of 1.5 to 1" in shown.text and "4.5 to 1" in shown.text
    assert session.get(Setting, "shop_name") is None  # the other change waits too
    assert current_brand(session).accent_colour == "#b4233c"


@pytest.mark.parametrize("colour", ["red", "#12345", "#gggggg", "1f5f8b"])
def test_an_accent_colour_that_is_not_hex_is_refused(admin_client, session, colour):
    response = post_settings(admin_client, session, accent_colour=colour)

    assert response.status_code == 422
    assert "six hexadecimal digits" in page(response).text


def test_a_sender_address_must_be_an_address(admin_client, session):
    response = post_settings(admin_client, session, sender_address="hello at lumen")

    assert response.status_code == 422
    assert "not a valid email address" in page(response).text
    assert current_brand(session).sender_address is None


# --- the logo ------------------------------------------------------------------------------


def test_an_uploaded_logo_is_kept_and_served_for_a_year_at_its_digest(admin_client, session):
    response = upload_logo(admin_client, png())

    assert response.status_code == 302
    [logo] = session.scalars(select(BrandLogo)).all()
    assert (logo.media_type, logo.width, logo.height) == ("image/png", 300, 100)
    assert current_brand(session).logo_digest == logo.digest
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "brand.logo_changed"))

    served = admin_client.get(f"/brand/logo/{logo.digest}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Cache-Control"] == ONE_YEAR_IMMUTABLE
    assert served.headers["ETag"] == f'"{logo.digest}"'
    assert Image.open(io.BytesIO(served.data)).size == (300, 100)
    again = admin_client.get(
        f"/brand/logo/{logo.digest}", headers={"If-None-Match": f'"{logo.digest}"'}
    )
    assert again.status_code == 304


def test_a_large_logo_is_kept_smaller_and_without_anything_but_pixels(admin_client, session):
    big = io.BytesIO()
    Image.new("RGB", (2400, 800), (20, 60, 90)).save(big, format="JPEG")
    with_trailer = big.getvalue() + b"<script>alert(1)</script>"

    assert upload_logo(admin_client, with_trailer, "logo.jpg").status_code == 302

    [logo] = session.scalars(select(BrandLogo)).all()
    assert (logo.media_type, logo.width, logo.height) == ("image/jpeg", 600, 200)
    assert b"<script" not in logo.content


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\x89PNG" + b"0" * (LOGO_MAX_BYTES + 10), "huge.png", "larger than 512 KB"),
        (b"just some words, not a picture", "logo.png", "not a picture we can read"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(document.cookie)</script></svg>",
            "logo.png",
            "SVG logos are not taken",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
            "logo.svg",
            "SVG logos are not taken",
        ),
        (b"GIF89a" + png()[8:], "logo.gif", "upload a PNG, JPEG or WebP"),
        (png()[:60], "logo.png", "damaged or cut short"),
        (b"", "logo.png", "Choose an image file"),
    ],
    ids=[
        "too-big",
        "not-an-image",
        "svg-with-script",
        "svg-named-svg",
        "gif",
        "cut-short",
        "empty",
    ],
)
def test_a_file_that_is_not_a_logo_we_keep_is_refused_with_a_message(
    admin_client, session, data, filename, message
):
    response = upload_logo(admin_client, data, filename)

    assert response.status_code == 422
    assert message in page(response).text
    assert session.scalar(select(func.count()).select_from(BrandLogo)) == 0
    assert current_brand(session).logo_digest is None


def test_a_file_past_what_any_request_may_carry_answers_413(admin_client, session):
    response = upload_logo(admin_client, b"\x89PNG" + b"0" * (2 * 1024 * 1024))

    assert response.status_code == 413
    assert session.scalar(select(func.count()).select_from(BrandLogo)) == 0


def test_an_unknown_logo_digest_answers_404(client):
    assert client.get("/brand/logo/" + "0" * 64).status_code == 404
    assert client.get("/brand/logo/not-a-digest").status_code == 404


def test_removing_the_logo_shows_the_shop_name_again(admin_client, session):
    upload_logo(admin_client, png())
    token = csrf_token(admin_client, "/admin/settings")

    assert (
        admin_client.post("/admin/settings/logo/remove", data={"csrf_token": token}).status_code
        == 302
    )

    assert current_brand(session).logo_digest is None
    # An email sent earlier still shows it.
    [logo] = session.scalars(select(BrandLogo)).all()
    assert admin_client.get(f"/brand/logo/{logo.digest}").status_code == 200


# --- the brand where customers look --------------------------------------------------------


@pytest.fixture
def branded(admin_client, session):
    """Lumen Lamps, with its logo, accent colour, sender and signature."""
    upload_logo(admin_client, png())
    set_brand(
        session,
        shop_name="Lumen Lamps",
        accent_colour="#1f5f8b",
        sender_name="Marta at Lumen",
        sender_address="hello@lumen.example",
        signature="With light,\nThe Lumen team",
    )
    return current_brand(session)


def test_survey_email_carries_the_shops_name_logo_colour_sender_and_signature(
    app, session, runner, clock, branded
):
    customer = make_customer(session, name="Ana Diaz")
    purchase = make_purchase(session, customer, purchased_at=clock.now())
    schedule_survey(
        session,
        customer=customer,
        kind="purchase",
        purchase=purchase,
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
    )
    session.commit()

    [email] = deliver(app, runner)

    assert email["From"].addresses[0].display_name == "Marta at Lumen"
    assert email["From"].addresses[0].addr_spec == "hello@lumen.example"
    html, text = body(email, "html"), body(email, "plain")
    assert f"http://surveys.test/brand/logo/{branded.logo_digest}" in html
    assert 'alt="Lumen Lamps"' in html
    assert "#1f5f8b" in html and "#b4233c" not in html
    assert "With light,\nThe Lumen team" in text
    assert "With light,<br>The Lumen team" in html


def test_survey_page_carries_the_shops_name_logo_and_colours_as_a_stylesheet(
    client, session, branded
):
    customer = make_customer(session, name="Ana Diaz")
    _survey, token = make_sent_survey(session, customer, purchase=make_purchase(session, customer))
    session.commit()

    shown = page(client.get(f"/s/{token}"))

    assert shown.soup.title.get_text().endswith("Lumen Lamps")
    logo = shown.one("header img.brand-logo")
    assert logo["src"] == f"/brand/logo/{branded.logo_digest}" and logo["alt"] == "Lumen Lamps"
    theme = [link["href"] for link in shown.soup.select("link[rel=stylesheet]")]
    assert any(href.startswith("/brand/theme/") for href in theme)
    [theme_url] = [href for href in theme if href.startswith("/brand/theme/")]
    css = client.get(theme_url)
    assert css.headers["Content-Type"].startswith("text/css")
    assert "--accent:#1f5f8b" in css.get_data(as_text=True)
    assert css.headers["Cache-Control"] == ONE_YEAR_IMMUTABLE
    # No inline style: the policy allows this site's stylesheets only.
    assert "style=" not in client.get(f"/s/{token}").get_data(as_text=True)


def test_an_old_theme_address_gets_todays_colours_without_a_years_cache(client, session):
    response = client.get("/brand/theme/0123456789abcdef.css")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"


# --- "Heart to Heart" nowhere a customer looks --------------------------------------------

SOFTWARE = "Heart to Heart"


@pytest.mark.parametrize(
    "entry",
    [entry for entry in preview_entries() if entry.to_customer],
    ids=lambda entry: f"{entry.name}-{entry.variant}",
)
def test_no_customer_email_names_this_software(admin_client, entry):
    query = f"?variant={entry.variant}" if entry.variant else ""
    shown = page(admin_client.get(f"/admin/emails/{entry.name}{query}"))
    html = admin_client.get(shown.one("iframe[sandbox]")["src"]).get_data(as_text=True)
    headers = shown.one("dl.email-headers").get_text()
    text = shown.one("pre.email-text").get_text()

    for part in (html, headers, text):
        assert SOFTWARE not in part
    assert "Our shop" in headers + text  # the shop's name where this software's was


def test_no_email_a_customer_receives_names_this_software(app, session, runner, clock):
    owner = make_user(session, role="owner", name="Olivia Moreno")
    customer = make_customer(session, name="Ana Diaz")
    purchase = make_purchase(session, customer, purchased_at=clock.now())
    for kind in ("purchase", "manual"):
        schedule_survey(
            session,
            customer=make_customer(session, name="Bo Chen") if kind == "manual" else customer,
            kind=kind,
            purchase=purchase if kind == "purchase" else None,
            now=clock.now(),
            question_set=get_question_set(session, "heart-to-heart"),
        )
    session.commit()

    emails = deliver(app, runner)

    assert emails
    for email in emails:
        # MAIL_FROM of the tests is "Heart to Heart <…>": customers see the shop's name.
        assert SOFTWARE not in str(email["From"])
        assert SOFTWARE not in body(email, "plain") + body(email, "html") + str(email["Subject"])
    del owner


def customer_pages(client, session, clock) -> dict[str, str]:
    """Every page a customer can reach from an email, by name, as HTML."""
    customer = make_customer(session, name="Ana Diaz")
    purchase = make_purchase(session, customer)
    _survey, token = make_sent_survey(session, customer, purchase=purchase)
    _other, unsubscribe_token = make_sent_survey(session, make_customer(session, name="Bo"))
    owner = make_user(session, role="owner", name="Olivia Moreno")
    case = make_case(session, owner=owner, status="resolved", now=clock.now())
    _fix, fix_token = make_sent_survey(session, case.customer, kind="fix_check")
    _fix.case_id = case.id
    session.commit()
    pages = {
        "survey": client.get(f"/s/{token}"),
        "one tap": client.get(f"/s/{token}?a=short"),
        "fix-check": client.get(f"/s/{fix_token}"),
        "link not found": client.get("/s/no-such-token"),
        "unsubscribe": client.get(f"/u/{unsubscribe_token}"),
        "not found": client.get("/no/such/page"),
    }
    form = page(pages["survey"])
    answered = client.post(
        f"/s/{token}",
        data={
            "csrf_token": form.field_value("csrf_token"),
            "expectations": "exceeding",
            "recommend": "9",
            "time_money": "yes",
        },
    )
    pages["thank you"] = answered
    pages["already answered"] = client.get(f"/s/{token}")
    unsubscribed = client.post(f"/u/{unsubscribe_token}")
    pages["unsubscribed"] = unsubscribed
    return {name: response.get_data(as_text=True) for name, response in pages.items()}


def test_no_customer_page_names_this_software(client, session, clock):
    for name, html in customer_pages(client, session, clock).items():
        assert SOFTWARE not in html, name
        assert "Our shop" in html, name
