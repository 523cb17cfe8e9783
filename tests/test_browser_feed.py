"""The comment feed in Chromium, on a desktop and on a phone: an admin filters by a theme and
opens the customer behind a response; an owner reads their own feed on a phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import PASSWORD, make_case, make_customer, make_user
from tests.insight_data import make_response

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 740}}


def _log_in(page, base, email, next_path):
    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def test_the_feed_reads_well_on_a_desktop_and_a_phone(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    now = datetime.now(UTC)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin = make_user(session, role="admin", email="ada@shop.test")
        owner = make_user(session, email="olive@shop.test", name="Olive Owner")
        ana = make_customer(session, name="Ana Diaz", owner=owner)
        ben = make_customer(session, name="Benedikt Alexander Longname-Berg")
        make_response(
            session, ana, at=now - timedelta(days=1), one_thing="The deliveries were late again."
        )
        make_response(
            session,
            ben,
            at=now - timedelta(days=2),
            one_thing="Superb quality; " + "the packaging was lovely and " * 6 + "that's it.",
        )
        make_case(
            session,
            owner=owner,
            customer=ana,
            now=now - timedelta(days=3),
            answers={"expectations": "short", "one_thing": "Late delivery and a crushed box."},
        )
        session.commit()
        admin_email, owner_email, ana_id = admin.email, owner.email, ana.id

    desktop = browser.new_context(**DESKTOP).new_page()
    _log_in(desktop, base, admin_email, "/admin/responses")
    assert desktop.locator(".feed-item").count() == 3
    desktop.screenshot(path=artifacts_dir / f"feed-admin-1280-{backend}.png", full_page=True)
    desktop.locator(".feed-more summary").click()  # the filters are folded on arrival
    desktop.fill("#feed-theme", "Deliveries")
    desktop.get_by_role("button", name="Show").click()
    desktop.wait_for_url("**theme=Deliveries**")
    assert desktop.locator(".feed-item").count() == 2
    desktop.get_by_role("link", name="Ana Diaz").first.click()
    desktop.wait_for_url(f"{base}/customers/{ana_id}")

    phone = browser.new_context(**PHONE).new_page()
    _log_in(phone, base, owner_email, "/dashboard/responses")
    assert phone.locator(".feed-item").count() == 2  # Ana's: her response and her case's
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=artifacts_dir / f"feed-owner-360-{backend}.png", full_page=True)
    phone.goto(f"{base}/admin/responses")  # an owner is not let into the admin feed
    phone.goto(f"{base}/dashboard/responses?from=someday")
    assert "“from” must be a date" in phone.inner_text("[role=alert]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=artifacts_dir / f"feed-owner-360-bad-input-{backend}.png", full_page=True)
