"""An admin writes a question set's Spanish beside its English in Chromium, on a desktop and on
a phone, and previews the survey in Arabic."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def _logged_in(browser, base: str, email: str, viewport: dict):
    context = browser.new_context(**viewport)
    page = context.new_page()
    page.goto(f"{base}/login?next=/admin/question-sets/heart-to-heart")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/question-sets/heart-to-heart")
    return context, page


def test_spanish_beside_english_and_an_arabic_preview(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.test")
        session.commit()
        email = admin.email

    context, page = _logged_in(browser, base, email, DESKTOP)
    page.get_by_role("button", name="Spanish").click()
    expect(page.get_by_label("Question in Spanish").first).to_be_visible()
    spanish = page.get_by_label("Question in Spanish").first
    english = page.locator("#questions-0-text")
    # Side by side on a desktop: the Spanish box starts to the right of the English one.
    assert spanish.bounding_box()["x"] > english.bounding_box()["x"] + 200
    spanish.fill("¿Te estamos sorprendiendo para bien?")
    page.get_by_role("button", name="Save draft").first.click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_label("Question in Spanish").first).to_have_value(
        "¿Te estamos sorprendiendo para bien?"
    )
    page.screenshot(path=artifacts_dir / f"translations-editor-1280-{backend}.png", full_page=True)
    context.close()

    context, phone = _logged_in(browser, base, email, PHONE)
    phone.goto(f"{base}/admin/question-sets/heart-to-heart?lang=es")
    spanish = phone.get_by_label("Question in Spanish").first
    english = phone.locator("#questions-0-text")
    expect(spanish).to_be_visible()
    # Stacked on a phone: the Spanish box below the English one, and nothing scrolls sideways.
    assert spanish.bounding_box()["y"] > english.bounding_box()["y"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=artifacts_dir / f"translations-editor-360-{backend}.png", full_page=True)

    phone.goto(f"{base}/admin/question-sets/heart-to-heart/preview?lang=ar")
    expect(phone.get_by_text("هل نتجاوز توقعاتكم؟")).to_be_visible()
    expect(phone.get_by_text("نعم، وبكثير")).to_be_visible()
    phone.screenshot(path=artifacts_dir / f"translations-preview-ar-{backend}.png", full_page=True)
    context.close()
