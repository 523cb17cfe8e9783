"""The dashboard in Chromium: every chart loads as an image with its title (and the policy blocks
nothing: the autouse check in tests/browser.py), the numbers open as a table, a figure leads to the
cases behind it; at 1280 px and on a 360 px phone, screenshots kept in test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.insights_data import make_insights_data
from tests.test_dashboard_pages import CHART_NAMES

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 740}}


def _log_in(page, base, email, path):
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def _charts_drawn(page) -> None:
    for name in CHART_NAMES:
        figure = page.locator(f"#chart-{name}")
        title = figure.locator("h3").inner_text()
        assert title
        image = figure.locator("img")
        assert image.get_attribute("alt").startswith(title)
        # Loaded and drawn: an image that failed (or was blocked) has no natural width.
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )


def test_the_admin_reads_the_dashboard_and_follows_a_figure(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        data = make_insights_data(session, datetime.now(UTC))
        admin_email, owner_email = data.admin.email, data.owner_a.email

    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    _log_in(page, base, admin_email, "/admin/dashboard")
    _charts_drawn(page)
    page.locator("#chart-net-score summary").click()
    expect(page.locator("#chart-net-score table")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / f"dashboard-admin-1280-{backend}.png"), full_page=True)
    negative = page.locator('[data-figure="negative responses"]')
    assert negative.get_attribute("href").startswith("/admin/responses?from=")
    page.locator('[data-figure="cases opened"]').click()
    page.wait_for_url(f"{base}/inbox?owner=all")
    assert page.get_by_text("Everyone’s cases").is_visible()
    context.close()

    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    _log_in(page, base, owner_email, "/dashboard")
    _charts_drawn(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts_dir / f"dashboard-owner-360-{backend}.png"), full_page=True)
    page.goto(f"{base}/dashboard?from=2026-13-01")
    assert "Give the first day as a date" in page.locator("#filter-from-errors").inner_text()
    phone.close()
