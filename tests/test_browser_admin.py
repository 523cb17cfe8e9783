"""An admin shapes the survey in Chromium: adds a question, moves it, previews it on a phone,
publishes; the next purchase's survey asks it."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from surveys.models import QuestionSet
from surveys.services.question_sets.versions import current_version
from tests.factories import PASSWORD, make_api_key, make_user

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE_VIEWPORT = {"width": 360, "height": 740}
NEW_QUESTION = "Did it arrive when we said it would?"


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]


def survey_link_in_the_outbox(app, email: str) -> str:
    """The personal survey link of the one email the worker wrote to `email`."""
    for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"].addresses[0].addr_spec == email:
            text = message.get_body(("plain",)).get_content()
            return re.search(r"https?://\S+/s/[A-Za-z0-9_-]+", text).group(0)
    raise AssertionError(f"no email to {email} in the outbox")


def test_admin_adds_moves_previews_and_publishes_a_question(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.test")
        _key, raw_key = make_api_key(session, name="shop")
        session.commit()
        admin_email = admin.email
    shot = f"admin-question-editor-{backend}"

    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/login?next=/admin/question-sets/heart-to-heart")
    page.fill("input[name=email]", admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/question-sets/heart-to-heart")

    # Add a question: a new empty one at the end.
    page.get_by_role("button", name="+ Add a question").click()
    page.wait_for_selector("#questions-5-text")
    assert page.url.endswith("#question-5")
    page.fill("#questions-5-text", NEW_QUESTION)
    page.fill("#questions-5-key", "on_time")
    page.select_option("#questions-5-type", "choice")
    # Choosing "choice" shows the option rows at once, without JavaScript (CSS :has).
    assert page.is_visible("#questions-5-options-0-value")
    assert not page.is_visible("#questions-5-min")
    page.fill("#questions-5-options-0-value", "yes")
    page.fill("#questions-5-options-0-label", "Yes, right on time")
    page.fill("#questions-5-options-1-value", "late")
    page.fill("#questions-5-options-1-label", "No, it was late")
    page.check("#questions-5-options-1-negative")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("text=Draft saved.")
    page.screenshot(path=artifacts_dir / f"{shot}-1-added.png", full_page=True)

    # Move it up, above "preferences".
    page.get_by_role("button", name="Move question 6 up").click()
    page.wait_for_selector("#questions-4-key")
    assert page.input_value("#questions-4-key") == "on_time"
    assert page.input_value("#questions-5-key") == "preferences"
    # The phone preview beside the editor shows the saved draft.
    frame = page.frame_locator("iframe[title='Preview of the survey on a phone']")
    frame.get_by_text(NEW_QUESTION).wait_for()
    page.screenshot(path=artifacts_dir / f"{shot}-2-moved-with-preview.png", full_page=True)

    # The preview on a phone-sized viewport, exactly as the customer's page.
    phone = context.new_page()
    phone.set_viewport_size(PHONE_VIEWPORT)
    phone.goto(f"{base}/admin/question-sets/heart-to-heart/preview")
    phone.get_by_text(NEW_QUESTION).wait_for()
    legends = phone.locator("legend, .question > label").all_inner_texts()
    assert [i for i, text in enumerate(legends) if NEW_QUESTION in text] == [4]
    assert phone.is_visible("label:has-text('No, it was late')")
    assert fits_the_phone(phone)
    phone.screenshot(path=artifacts_dir / f"{shot}-3-phone-preview.png", full_page=True)
    phone.close()

    # Publish.
    # Version 2 gave the written answer its rule (migration 0006); the admin publishes 3.
    page.get_by_role("button", name="Publish as version 4").click()
    page.wait_for_selector("text=Published version 4.")
    page.screenshot(path=artifacts_dir / f"{shot}-4-published.png", full_page=True)
    context.close()
    with sessions() as session:
        question_set = session.scalar(
            select(QuestionSet).where(QuestionSet.key == "heart-to-heart")
        )
        version = current_version(session, question_set)
        assert version.number == 4
        assert [q.key for q in version.questions][3:6] == ["recommend", "on_time", "preferences"]

    # A new purchase arrives; the worker sends its survey; the customer opens it on a phone.
    api = committed_app.test_client()
    response = api.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {raw_key}"},
        json={
            "order_id": "A-2001",
            "customer": {"email": "ana@example.com", "name": "Ana Diaz"},
            "items": [{"sku": "KB-1", "name": "Keyboard", "quantity": 1}],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    result = committed_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    link = survey_link_in_the_outbox(committed_app, "ana@example.com")

    customer = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    survey_page = customer.new_page()
    survey_page.goto(link)
    survey_page.get_by_text(NEW_QUESTION).wait_for()
    assert survey_page.is_visible("label:has-text('Yes, right on time')")
    assert fits_the_phone(survey_page)
    survey_page.screenshot(path=artifacts_dir / f"{shot}-5-new-survey.png", full_page=True)
    customer.close()
