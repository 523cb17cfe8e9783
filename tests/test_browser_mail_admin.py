"""An admin on a phone: the outbox (retrying a failed survey) and an email preview, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveys.models import OutboxMessage
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import PASSWORD, make_customer, make_user
from tests.fake_sendgrid import Reply

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_admin_retries_a_failed_survey_and_previews_an_email_on_a_phone(
    committed_app,
    live_server,
    browser,
    artifacts_dir,
    fake_sendgrid_server,
    backend,
):
    committed_app.config.update(fake_sendgrid_server.app_config)
    base = live_server(committed_app)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.test")
        customer = make_customer(
            session, email="fay.longname-with-a-long-address@example.com", name="Fay Okafor"
        )
        schedule_survey(
            session,
            customer=customer,
            kind="manual",
            question_set=get_question_set(session, "heart-to-heart"),
            now=committed_app.extensions["clock"].now(),
        )
        session.commit()
        admin_email = admin.email
    fake_sendgrid_server.respond_with(Reply(400, message="Does not contain a valid address."))
    assert committed_app.test_cli_runner().invoke(args=["worker", "--once"]).exit_code == 0

    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{base}/login?next=/admin/outbox")
    page.fill("input[name=email]", admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/outbox")
    assert page.is_visible("text=Does not contain a valid address.")
    assert fits(page)
    page.screenshot(path=artifacts_dir / f"admin-outbox-phone-{backend}.png", full_page=True)

    page.get_by_role("button", name="Retry message").click()
    page.wait_for_selector("text=is back in the queue")
    assert fits(page)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        assert session.scalars(select(OutboxMessage.status)).one() == "pending"

    page.goto(f"{base}/admin/emails/survey?variant=purchase")
    frame = page.frame_locator("iframe")
    # The preview loads inside its frame after the page itself; wait for it.
    expect(frame.locator("p", has_text="Are we exceeding your expectations?")).to_be_visible()
    assert page.is_visible("text=Warmly,")
    page.screenshot(path=artifacts_dir / f"admin-email-preview-phone-{backend}.png", full_page=True)
    page.locator("iframe").screenshot(
        path=artifacts_dir / f"admin-email-preview-phone-{backend}-html.png"
    )
    assert fits(page)
