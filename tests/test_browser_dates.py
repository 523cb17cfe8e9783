"""An owner, on a phone, confirms a date the customer page suggests from the customer's own
words and records a gesture on their case, within the allowance an admin set. Screenshots at
360 and 1280 px are kept in test-artifacts/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from surveys.models import CustomerPreference, Gesture, RememberedDate
from tests.factories import make_case, make_customer, make_purchase, make_user
from tests.test_browser_case import PHONE, fits, log_in_page

pytestmark = pytest.mark.browser


def test_an_owner_confirms_a_suggested_date_and_records_a_gesture(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as setup:
        owner = make_user(setup, email="olivia@shop.example", name="Olivia Bennett")
        owner.monthly_gesture_allowance = Decimal("40")
        customer = make_customer(setup, email="ana@example.com", name="Ana Diaz", owner=owner)
        make_purchase(setup, customer, order_id="A-1001")
        case = make_case(setup, owner=owner, customer=customer)
        setup.add(
            CustomerPreference(
                customer_id=customer.id,
                response_id=case.response_id,
                body="My daughter graduates on June 12, so the keyboard is her present.",
            )
        )
        setup.commit()
        case_id, customer_id = case.id, customer.id
    shot = f"dates-gestures-{backend}"

    page = browser.new_context(**PHONE).new_page()
    log_in_page(page, base, "olivia@shop.example")
    page.goto(f"{base}/customers/{customer_id}")
    june = page.locator(".date-suggestion", has_text="12 June")
    assert "their own words" in june.inner_text()
    label = june.locator("input[type=text]")
    assert label.input_value() == "My daughter graduates"
    assert fits(page, 360)
    june.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / f"{shot}-1-suggested-360.png", full_page=True)
    page.locator("section.dates").screenshot(path=artifacts_dir / f"{shot}-1a-dates-360.png")

    label.fill("Emma’s graduation")
    june.locator("button:has-text('Remember this date')").click()
    assert "Remembered: Emma’s graduation, 12 June." in page.inner_text("body")
    assert "Emma’s graduation" in page.locator(".remembered-dates").inner_text()
    assert page.locator(".date-suggestion", has_text="12 June").count() == 0
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-2-confirmed-360.png", full_page=True)
    page.locator("section.dates").screenshot(path=artifacts_dir / f"{shot}-2a-dates-360.png")

    page.goto(f"{base}/cases/{case_id}")
    gesture = page.get_by_role("region", name="A gesture")
    assert "Left this month: $40.00 of $40.00" in gesture.inner_text()
    gesture.locator("summary:has-text('Record a gesture')").click()
    gesture.locator("select[name='gesture-kind']").select_option("card")
    gesture.locator("input[name='gesture-cost']").fill("12.50")
    gesture.locator("textarea[name='gesture-note']").fill("A card for Emma from all of us.")
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-3-gesture-form-360.png", full_page=True)
    gesture.screenshot(path=artifacts_dir / f"{shot}-3a-gesture-form-360.png")
    gesture.locator("button:has-text('Record the gesture')").click()
    assert "Recorded on the case." in page.inner_text("body")
    assert "A handwritten card (12.50" in page.locator(".timeline").inner_text()
    assert "Left this month: $27.50 of $40.00" in page.inner_text("body")
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-4-gesture-recorded-360.png", full_page=True)
    page.locator(".timeline li").last.screenshot(
        path=artifacts_dir / f"{shot}-4a-timeline-gesture-360.png"
    )

    wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    wide.context.add_cookies(page.context.cookies())
    wide.goto(f"{base}/customers/{customer_id}")
    assert "A handwritten card" in wide.locator(".gesture-list").inner_text()
    wide.screenshot(path=artifacts_dir / f"{shot}-5-profile-1280.png", full_page=True)
    wide.locator("aside").screenshot(path=artifacts_dir / f"{shot}-5a-profile-aside-1280.png")
    wide.goto(f"{base}/cases/{case_id}")
    wide.screenshot(path=artifacts_dir / f"{shot}-6-case-1280.png", full_page=True)

    with committed_app.app_context(), sessions() as check:
        [remembered] = check.scalars(select(RememberedDate)).all()
        assert (remembered.label, remembered.day, remembered.month) == ("Emma’s graduation", 12, 6)
        [made] = check.scalars(select(Gesture)).all()
        assert (made.kind, made.cost, made.case_id) == ("card", Decimal("12.50"), case_id)
