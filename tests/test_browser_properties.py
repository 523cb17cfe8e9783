"""A purchase's custom properties in Chromium, on a phone and a desktop: the case page, the
customer's page, the routing rule that reads them and the dashboard filter. Screenshots are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.models import RoutingRule
from tests.conftest import TEST_START
from tests.factories import PASSWORD, make_case, make_customer, make_purchase, make_user

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LONG_VALUE = "Gran Vía 32, second floor, the shop beside the café with the blue awning"


def fits(page, width: int) -> bool:
    """Nothing on the page makes it scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth") <= width


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")


def test_properties_read_well_on_a_phone_and_a_desktop(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as setup:
        admin = make_user(setup, role="admin", email="ada@shop.example", name="Ada Admin")
        customer = make_customer(setup, email="ana@example.com", name="Ana Diaz", owner=admin)
        purchase = make_purchase(setup, customer, purchased_at=TEST_START - timedelta(hours=1))
        purchase.properties = {
            "plan": "gold",
            "store": LONG_VALUE,
            "a_property_name_of_sixty_four_characters_written_without_any_br": "x",
        }
        case = make_case(setup, owner=admin, customer=customer, purchase=purchase)
        setup.add(
            RoutingRule(
                position=1, field="property", property_key="plan", value="gold", owner_id=admin.id
            )
        )
        setup.commit()
        case_id, customer_id = case.id, customer.id
    shot = f"properties-{backend}"

    for name, options, width in (("360", PHONE, 360), ("1280", DESKTOP, 1280)):
        page = browser.new_context(**options).new_page()
        log_in(page, base, "ada@shop.example")
        page.goto(f"{base}/cases/{case_id}")
        properties = page.locator("dl.purchase-properties")
        assert "gold" in properties.inner_text()
        assert LONG_VALUE in properties.inner_text()
        page.screenshot(path=artifacts_dir / f"{shot}-case-{name}.png", full_page=True)
        page.locator("section[aria-labelledby=purchase-title]").screenshot(
            path=artifacts_dir / f"{shot}-case-purchase-{name}.png"
        )
        assert fits(page, width), page.evaluate("document.documentElement.scrollWidth")

        page.goto(f"{base}/customers/{customer_id}#purchases-title")
        assert "gold" in page.locator("dl.purchase-properties").inner_text()
        page.screenshot(path=artifacts_dir / f"{shot}-customer-{name}.png", full_page=True)
        page.locator("section[aria-labelledby=purchases-title]").screenshot(
            path=artifacts_dir / f"{shot}-customer-purchases-{name}.png"
        )
        assert fits(page, width), page.evaluate("document.documentElement.scrollWidth")

        page.goto(
            f"{base}/admin/routing/test?email=new@example.com&property_name=plan&property_value=gold"
        )
        assert "Ada Admin (ada@shop.example) would own the case." in page.inner_text("body")
        page.screenshot(path=artifacts_dir / f"{shot}-routing-{name}.png", full_page=True)
        page.locator("#tester").locator("xpath=following-sibling::section[1]").screenshot(
            path=artifacts_dir / f"{shot}-routing-tester-{name}.png"
        )
        assert fits(page, width), page.evaluate("document.documentElement.scrollWidth")

        page.goto(f"{base}/admin/dashboard?property=plan&property_value=gold")
        assert page.input_value("#filter-property") == "plan"
        page.screenshot(path=artifacts_dir / f"{shot}-dashboard-{name}.png", full_page=True)
        page.locator("form.insight-filters").screenshot(
            path=artifacts_dir / f"{shot}-dashboard-filters-{name}.png"
        )
        assert fits(page, width), page.evaluate("document.documentElement.scrollWidth")
