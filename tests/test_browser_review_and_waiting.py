"""In Chromium: the thank-you page's public review link, for a detractor on a phone and a
promoter on a wide screen alike, counted when followed; and the case page saying a new purchase
is waiting. Screenshots at 360 and 1280 px are kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from surveys.db import utcnow
from surveys.models import ReviewLinkClick
from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput, record_purchase
from surveys.services.settings import set_setting
from tests.factories import (
    PASSWORD,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)

pytestmark = pytest.mark.browser

REVIEW_URL = "https://reviews.example/review/keys-and-co"
PHONE = {
    "viewport": {"width": 360, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
WIDE = {"viewport": {"width": 1280, "height": 900}}


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_review_link_is_offered_to_a_detractor_and_a_promoter_and_counted(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as setup:
        set_setting(setup, "public_review_url", REVIEW_URL)
        owner = make_user(setup, role="owner", name="Olivia Moreno")
        tokens = {}
        for name in ("Ana Diaz", "Ben Ode"):
            customer = make_customer(setup, name=name, owner=owner)
            purchase = make_purchase(setup, customer, purchased_at=utcnow())
            _survey, tokens[name] = make_sent_survey(
                setup, customer, purchase=purchase, sent_at=utcnow()
            )
        setup.commit()

    # Ana is unhappy: the same invitation as anyone else, on her phone.
    phone = browser.new_context(**PHONE)
    # The review site is outside: answered here, at the network's edge.
    phone.route(
        "https://reviews.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Reviews</h1>"),
    )
    page = phone.new_page()
    page.goto(f"{base}/s/{tokens['Ana Diaz']}?a=short")
    page.get_by_role("button", name="Send this answer").tap()
    invite = page.get_by_role("link", name="Leave a public review")
    expect(invite).to_be_visible()
    assert fits(page, 360)
    invite.scroll_into_view_if_needed()
    page.screenshot(
        path=artifacts_dir / f"review-link-360px-detractor-{backend}.png", full_page=True
    )

    invite.tap()
    expect(page).to_have_url(REVIEW_URL)
    with sessions() as check:
        assert check.scalar(select(func.count(ReviewLinkClick.id))) == 1
    phone.close()

    # Ben is delighted: he sees the very same invitation, on a wide screen.
    wide = browser.new_context(**WIDE).new_page()
    wide.goto(f"{base}/s/{tokens['Ben Ode']}?a=exceeding")
    wide.get_by_role("button", name="Send this answer").click()
    expect(wide.get_by_role("link", name="Leave a public review")).to_be_visible()
    wide.screenshot(
        path=artifacts_dir / f"review-link-1280px-promoter-{backend}.png", full_page=True
    )
    wide.context.close()


def test_the_case_page_says_a_new_purchase_is_waiting(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as setup:
        owner = make_user(setup, email="olivia@shop.example", name="Olivia Bennett")
        customer = make_customer(setup, email="ana@example.com", name="Ana Diaz", owner=owner)
        case = make_case(setup, owner=owner, customer=customer)
        held = record_purchase(
            setup,
            PurchaseInput(
                order_id="SHOP-2041",
                customer=CustomerInput(email="ana@example.com"),
                items=(ItemInput(name="Walnut wrist rest", quantity=1),),
            ),
            now=utcnow(),
        )
        assert held.survey.status == "held"
        setup.commit()
        case_id = case.id

    for name, options in (("360px", PHONE), ("1280px", WIDE)):
        page = browser.new_context(**options).new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=email]", "olivia@shop.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]:has-text('Log in')")
        expect(page.get_by_role("heading", name="Your cases")).to_be_visible()
        page.goto(f"{base}/cases/{case_id}")
        waiting = page.locator(".waiting-purchase")
        expect(waiting).to_be_visible()
        assert "A new purchase is waiting" in waiting.inner_text()
        assert "Walnut wrist rest" in waiting.inner_text()
        assert f"Waiting until case #{case_id} closes." in waiting.inner_text()
        assert fits(page, options["viewport"]["width"])
        page.screenshot(
            path=artifacts_dir / f"case-purchase-waiting-{name}-{backend}.png", full_page=True
        )
        page.context.close()
