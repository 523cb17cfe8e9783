"""In Chromium: the email words editor's preview on a phone and a desk, and the weight of a
customer's first, cold visit to the survey page."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from surveys.services.brand import replace_logo
from surveys.services.settings import set_setting
from tests.factories import PASSWORD, make_customer, make_purchase, make_sent_survey, make_user

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESK = {"viewport": {"width": 1280, "height": 900}}
# What a cold load of the survey page may weigh on the wire, its stylesheet included.
MAX_SURVEY_PAGE_BYTES = 30 * 1024


def log_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("device", ["phone", "desk"])
def test_admin_previews_edited_words_before_saving_them(
    committed_app, live_server, browser, artifacts_dir, backend, device
):
    base = live_server(committed_app)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.test")
        session.commit()
        admin_email = admin.email
    page = browser.new_context(**(PHONE if device == "phone" else DESK)).new_page()
    log_in(page, base, admin_email, "/admin/emails/words/survey.purchase?locale=en")
    expect(page.locator("h1")).to_have_text("Survey: after a purchase")

    page.fill("input[name=greeting]", "Dear {{ first_name }},")
    page.fill("textarea[name=paragraphs]", "Be blunt with us about {{ purchase }}.")
    page.click("button:has-text('Preview')")

    expect(page.locator("pre.email-text")).to_contain_text("Dear Ana,")
    frame = page.frame_locator("iframe[sandbox]")
    expect(frame.locator("body")).to_contain_text("Be blunt with us about your walnut keyboard.")
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(
        path=str(artifacts_dir / f"email-words-preview-{device}-{backend}.png"), full_page=True
    )

    page.fill("input[name=subject]", "Hello {{ nickname }}")
    page.click("button:has-text('Save these words')")
    expect(page.locator(".field-errors")).to_contain_text("no placeholder {{ nickname }}")
    page.screenshot(
        path=str(artifacts_dir / f"email-words-refused-{device}-{backend}.png"), full_page=True
    )


def test_a_cold_survey_page_weighs_at_most_30_kb_with_its_stylesheet(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        customer = make_customer(session, name="Ana Diaz")
        _survey, token = make_sent_survey(
            session, customer, purchase=make_purchase(session, customer)
        )
        session.commit()
    context = browser.new_context(**PHONE)  # a new context: an empty cache
    page = context.new_page()
    client = context.new_cdp_session(page)
    client.send("Network.enable")
    transferred: dict[str, int] = {}
    urls: dict[str, str] = {}
    client.on(
        "Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"])
    )
    client.on(
        "Network.loadingFinished",
        lambda e: transferred.__setitem__(e["requestId"], e["encodedDataLength"]),
    )

    page.goto(f"{base}/s/{token}", wait_until="load")
    expect(page.locator("button", has_text="Send my answers")).to_be_visible()
    page.wait_for_load_state("networkidle")

    loaded = {urls.get(request_id, request_id): size for request_id, size in transferred.items()}
    total = sum(loaded.values())
    (artifacts_dir / f"survey-page-weight-{backend}.txt").write_text(
        "\n".join(f"{size:>7} {url}" for url, size in sorted(loaded.items()))
        + f"\n{total:>7} total\n"
    )
    page.screenshot(path=str(artifacts_dir / f"survey-page-cold-{backend}.png"), full_page=True)
    assert any("/static/app.css" in url for url in loaded)
    assert total <= MAX_SURVEY_PAGE_BYTES, loaded


def test_a_branded_survey_page_and_the_settings_that_brand_it(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    logo = io.BytesIO()
    picture = Image.new("RGBA", (480, 120), (0, 0, 0, 0))
    ImageDraw.Draw(picture).rounded_rectangle((0, 0, 479, 119), radius=24, fill=(31, 95, 139))
    picture.save(logo, format="PNG")
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.test")
        replace_logo(
            session, logo.getvalue(), actor=admin, now=committed_app.extensions["clock"].now()
        )
        set_setting(session, "shop_name", "Lumen Lamps")
        set_setting(session, "accent_colour", "#1f5f8b")
        customer = make_customer(session, name="Ana Diaz")
        _survey, token = make_sent_survey(
            session, customer, purchase=make_purchase(session, customer)
        )
        session.commit()
        admin_email = admin.email
    for device, options in (("phone", PHONE), ("desk", DESK)):
        page = browser.new_context(**options).new_page()
        page.goto(f"{base}/s/{token}")
        expect(page.locator("header img.brand-logo")).to_be_visible()
        button = page.locator("button", has_text="Send my answers")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 95, 139)"
        page.screenshot(
            path=str(artifacts_dir / f"survey-branded-{device}-{backend}.png"), full_page=True
        )
        log_in(page, base, admin_email, "/admin/settings")
        expect(page.locator("#logo img.brand-logo")).to_be_visible()
        page.screenshot(
            path=str(artifacts_dir / f"settings-brand-{device}-{backend}.png"), full_page=True
        )
        # The email carries the logo too, and the preview's frame may load it.
        page.goto(f"{base}/admin/emails/survey?variant=purchase")
        email_logo = page.frame_locator("iframe[sandbox]").locator("img[alt='Lumen Lamps']")
        expect(email_logo).to_be_visible()
        assert email_logo.evaluate("img => img.naturalWidth") > 0
        page.screenshot(
            path=str(artifacts_dir / f"email-branded-{device}-{backend}.png"), full_page=True
        )
