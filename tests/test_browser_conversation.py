"""An owner works a reopened case in Chromium: from the inbox's "Needs me" filter, through a
reply, to resolution, each action landing where it was done. Screenshots at 360 and 1280 px
are kept under test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select

from surveys.models import Case, CaseEvent
from tests.factories import PASSWORD, make_case, make_customer, make_user

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
UNDERSTOOD = "You told us the new keyboard has the same sticky key as the first one."
WILL_DO = "I am sending a different model by express today; it reaches you on Thursday."


def fill_reply(page, *, understood: str, will_do: str) -> None:
    """Write the reply in the case page's reply form and send it.

    The only place this test knows the form's fields.
    """
    page.fill("textarea[name=understood]", understood)
    page.fill("textarea[name=will_do]", will_do)
    page.click("button:has-text('Send reply')")


def fits(page, width: int) -> bool:
    """Nothing on the page makes it scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth") <= width


def in_view(page, element_id: str) -> bool:
    """The element's top comes onto the screen (the browser scrolls to a #fragment after load)."""
    try:
        page.wait_for_function(
            """id => {
                const top = document.getElementById(id).getBoundingClientRect().top;
                return top >= 0 && top < window.innerHeight;
            }""",
            arg=element_id,
            timeout=3000,
        )
    except PlaywrightTimeoutError:
        return False
    return True


def heights(page, selector: str) -> list[float]:
    return page.eval_on_selector_all(
        selector, "elements => elements.map(e => e.getBoundingClientRect().height)"
    )


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")


def test_an_owner_works_a_reopened_case_from_needs_me_to_resolution(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    now = datetime.now(UTC)
    with committed_app.app_context(), sessions() as setup:
        owner = make_user(setup, email="olivia@shop.example", name="Olivia Bennett")
        ana = make_customer(setup, email="ana@example.com", name="Ana Diaz", owner=owner)
        case = make_case(
            setup, owner=owner, customer=ana, status="acknowledged", now=now - timedelta(days=4)
        )
        case.events += [
            CaseEvent(
                kind="reply",
                actor_user=owner,
                body="A new keyboard leaves today by express.",
                created_at=now - timedelta(days=4) + timedelta(hours=1),
            ),
            CaseEvent(
                kind="resolved",
                actor_user=owner,
                body="Sent a new keyboard.",
                created_at=now - timedelta(days=3),
            ),
            CaseEvent(
                kind="reopened",
                body="Did the fix work? No\nAnything else? The new one sticks too.",
                created_at=now - timedelta(hours=2),
            ),
        ]
        case.resolve_by = now + timedelta(hours=46)
        # Waiting on its customer: not in "Needs me".
        waiting = make_case(
            setup,
            owner=owner,
            customer=make_customer(setup, name="Ben Ode"),
            status="acknowledged",
            now=now - timedelta(hours=5),
        )
        waiting.events.append(
            CaseEvent(
                kind="reply",
                actor_user=owner,
                body="Which size?",
                created_at=now - timedelta(hours=4),
            )
        )
        make_case(setup, owner=owner, customer=make_customer(setup, name="Cleo New"), now=now)
        setup.commit()
        case_id = case.id
    shot = f"conversation-{backend}"

    page = browser.new_context(**PHONE).new_page()
    log_in(page, base, "olivia@shop.example")
    page.click("nav[aria-label=Filters] >> text=Needs me")
    assert page.url == f"{base}/inbox?show=needs-me"
    assert page.locator(".case-customer").all_inner_texts() == ["Ana Diaz", "Cleo New"]
    assert page.locator(".case-row").first.locator(".badge-called-back").inner_text() == (
        "reopened"
    )
    # Tap targets of at least 44 px on a phone: the filters, the cases, the search.
    for selector in (".inbox-filters a", ".case-customer", ".inbox-search button"):
        assert min(heights(page, selector)) >= 44, selector
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-1-needs-me-360.png", full_page=True)

    page.click("text=Ana Diaz")
    assert page.url == f"{base}/cases/{case_id}"
    # The status and the one next step, above the fold.
    assert page.inner_text("#next-step-title") == "Reopened: the fix did not work"
    assert in_view(page, "next-step")
    assert "Resolve: due in 1 day" in page.inner_text("#next-step")
    assert min(heights(page, ".action-bar a, .action-bar button")) >= 44
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-2-reopened-case-360.png")
    page.screenshot(path=artifacts_dir / f"{shot}-3-reopened-case-full-360.png", full_page=True)

    page.click("nav[aria-label=Actions] >> text=Reply")
    assert page.url.endswith("#reply")
    fill_reply(page, understood=UNDERSTOOD, will_do=WILL_DO)
    # Back at the reply just sent, its message beside it, not at the top of the page.
    assert "#event-" in page.url
    anchor = page.url.rsplit("#", 1)[1]
    assert in_view(page, anchor)
    assert WILL_DO in page.inner_text(f"#{anchor}")
    assert "Sent to Ana Diaz, from you." in page.inner_text("#done")
    assert page.inner_text("#next-step-title") == "Waiting for the customer"
    page.screenshot(path=artifacts_dir / f"{shot}-4-replied-360.png")

    page.click("nav[aria-label=Actions] >> text=Resolve")
    page.fill("textarea[name=resolution]", "Sent a different model by express.")
    page.click("button:has-text('Mark as resolved')")
    anchor = page.url.rsplit("#", 1)[1]
    assert anchor.startswith("event-") and in_view(page, anchor)
    assert "Resolved. Thank you for looking after Ana Diaz." in page.inner_text("#done")
    # Asked two days from now by default, so the fix has time to show.
    assert page.inner_text("#next-step-title") == (
        "Resolved: we ask whether the fix worked in 2 days"
    )
    assert fits(page, 360)
    page.screenshot(path=artifacts_dir / f"{shot}-5-resolved-360.png")
    page.screenshot(path=artifacts_dir / f"{shot}-6-resolved-full-360.png", full_page=True)

    page.goto(f"{base}/inbox?show=needs-me")
    assert page.locator(".case-customer").all_inner_texts() == ["Cleo New"]

    wide = browser.new_context(**DESKTOP).new_page()
    log_in(wide, base, "olivia@shop.example")
    wide.goto(f"{base}/inbox?show=waiting")
    assert sorted(wide.locator(".case-customer").all_inner_texts()) == ["Ana Diaz", "Ben Ode"]
    wide.screenshot(path=artifacts_dir / f"{shot}-7-waiting-1280.png", full_page=True)
    wide.goto(f"{base}/cases/{case_id}")
    # The customer panel beside the conversation on a wide screen.
    side = wide.locator("aside.case-side").bounding_box()
    main = wide.locator(".case-main").bounding_box()
    assert side["x"] > main["x"] + main["width"] - 1 and abs(side["y"] - main["y"]) < 5
    wide.screenshot(path=artifacts_dir / f"{shot}-8-case-1280.png", full_page=True)

    with committed_app.app_context(), sessions() as check:
        stored = check.get(Case, case_id)
        assert stored.status == "resolved"
        kinds = check.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).all()
        assert kinds[-2:] == ["reply", "resolved"]
