"""An owner works a case end to end in Chromium: inbox, the case with the customer's
preferences beside their answers, a personal reply, the resolution. Screenshots are kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from surveys.models import Case, CaseEvent, CustomerNote, CustomerPreference, Survey
from surveys.services.surveys.responses import submit_response
from tests.factories import (
    PASSWORD,
    UNHAPPY_ANSWERS,
    make_case,
    make_customer,
    make_sent_survey,
    make_user,
)

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PROMISE = (
    "That is not the first impression we want to give. A new keyboard leaves today by "
    "express and reaches you on Thursday; I will check on Friday that it arrived."
)


def fits(page, width: int) -> bool:
    """Nothing on the page makes it scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_owner_replies_personally_and_resolves_from_a_phone(
    committed_app,
    live_server,
    browser,
    artifacts_dir,
    backend,
    fake_sendgrid_server,
):
    committed_app.config.update(fake_sendgrid_server.app_config)
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as setup:
        owner = make_user(setup, email="olivia@shop.example", name="Olivia Bennett")
        customer = make_customer(setup, email="ana@example.com", name="Ana Diaz", owner=owner)
        case = make_case(setup, owner=owner, customer=customer)
        setup.add(
            CustomerPreference(
                customer_id=customer.id,
                response_id=case.response_id,
                body="I work nights, so please email rather than call.",
            )
        )
        setup.add(
            CustomerNote(
                customer_id=customer.id, author_id=owner.id, body="Daughter graduates in June."
            )
        )
        make_case(
            setup, owner=owner, status="acknowledged", customer=make_customer(setup, name="Ben Ode")
        )
        setup.commit()
        case_id, customer_id = case.id, customer.id
    shot = f"owner-case-{backend}"

    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{base}/inbox")
    page.fill("input[name=email]", "olivia@shop.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")
    assert page.url == f"{base}/inbox"
    # The open case, due first, comes first.
    assert page.locator(".case-customer").first.inner_text() == "Ana Diaz"
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-1-inbox.png", full_page=True)

    page.click("text=Ana Diaz")
    assert page.url == f"{base}/cases/{case_id}"
    remembered = page.locator(".remembered").inner_text()
    assert "I work nights, so please email rather than call." in remembered
    assert "Daughter graduates in June." in remembered
    # The composer starts empty: what the owner understood is theirs to say.
    understood = page.locator("textarea[name=understood]")
    assert understood.input_value() == ""
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-2-case-with-preferences.png", full_page=True)

    # The owner says back what they understood, in their own words, then what they will do.
    understood.fill(
        "Your keyboard came with a broken key, and when you wrote to us nobody answered."
    )
    page.fill("textarea[name=will_do]", PROMISE)
    page.click("button:has-text('Send reply')")
    assert "Sent to Ana Diaz, from you." in page.content()
    assert "Replied to the customer" in page.locator(".timeline").inner_text()
    page.screenshot(path=artifacts_dir / f"{shot}-3-replied.png", full_page=True)

    page.fill("textarea[name=resolution]", "Sent a new keyboard by express.")
    assert page.locator("select[name=ask_in_days]").input_value() == "2"
    page.select_option("select[name=ask_in_days]", "3")
    page.click("button:has-text('Mark as resolved')")
    assert "Resolved. Thank you for looking after Ana Diaz." in page.content()
    assert "We will ask them whether it worked in 3 days." in page.content()
    assert "We ask Ana Diaz whether the fix worked" in page.content()
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-4-resolved.png", full_page=True)

    page.click("text=Profile, history and touch points")
    assert page.url == f"{base}/customers/{customer_id}"
    assert "Personal reply from their owner" in page.locator(".ledger").inner_text()
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-5-profile.png", full_page=True)

    wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    wide.context.add_cookies(page.context.cookies())
    wide.goto(f"{base}/cases/{case_id}")
    wide.screenshot(path=artifacts_dir / f"{shot}-6-case-desktop.png", full_page=True)

    with committed_app.app_context(), sessions() as check:
        stored = check.get(Case, case_id)
        assert stored.status == "resolved"
        assert list(
            check.scalars(
                select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ) == ["opened", "acknowledged", "reply", "resolved"]
        [fix_check] = check.scalars(select(Survey).where(Survey.case_id == case_id)).all()
        assert fix_check.kind == "fix_check"

    # The worker delivers the reply: in Olivia's name, Reply-To Olivia.
    result = committed_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    [reply] = [m for m in fake_sendgrid_server.accepted if m.categories == ["reply"]]
    assert reply.from_name == "Olivia Bennett" and reply.reply_to == "olivia@shop.example"
    assert PROMISE in reply.text


def test_an_admin_finds_a_case_waiting_for_an_owner_and_gives_it_to_someone(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as setup:
        # Ana answers while nobody can own her case; the people are written in afterwards.
        customer = make_customer(setup, email="ana@example.com", name="Ana Diaz")
        survey, _token = make_sent_survey(setup, customer)
        submit_response(setup, survey, UNHAPPY_ANSWERS, now=datetime.now(UTC))
        make_user(setup, role="admin", email="alex@shop.example", name="Alex Morgan")
        make_user(setup, email="olivia@shop.example", name="Olivia Bennett")
        setup.commit()
        case_id = setup.scalars(select(Case.id)).one()
    shot = f"waiting-case-{backend}"

    wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in_page(wide, base, "alex@shop.example")
    wide.goto(f"{base}/admin/dashboard")
    assert "1 case waits for an owner" in wide.locator("#waiting-title").inner_text()
    wide.screenshot(path=artifacts_dir / f"{shot}-1-dashboard-1280.png", full_page=True)

    page = browser.new_context(**PHONE).new_page()
    log_in_page(page, base, "alex@shop.example")
    page.goto(f"{base}/admin/dashboard")
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-2-dashboard-360.png", full_page=True)
    page.click(f"text=Case {case_id}: Ana Diaz")
    assert page.url == f"{base}/cases/{case_id}"
    assert "Nobody owns this case yet" in page.inner_text("body")
    assert page.locator("form.acknowledge-form").count() == 0
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-3-case-360.png", full_page=True)
    page.select_option("select[name=owner_id]", label="Olivia Bennett")
    page.fill("textarea[name=reason]", "Olivia looks after keyboard orders.")
    page.click("button:has-text('Give it to them')")
    assert "Olivia Bennett owns this case now" in page.inner_text("body")
    page.screenshot(path=artifacts_dir / f"{shot}-4-given-360.png", full_page=True)

    with committed_app.app_context(), sessions() as check:
        case = check.get(Case, case_id)
        assert case.owner.name == "Olivia Bennett"
        assert case.acknowledge_by is not None


def log_in_page(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")
