"""An admin creates an API key in Chromium, sees it once, uses it, then revokes it: the very
next request with it is refused. On a desktop (1280 px) and on a phone (360 px)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest

from tests.factories import PASSWORD, make_api_key, make_user

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
RAW_KEY = re.compile(r"^h2h_[A-Za-z0-9_-]{43}$")


def api_status(base: str, raw: str) -> int:
    """The status of `GET /api/v1/cases` with the key, over real HTTP."""
    request = urllib.request.Request(
        f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {raw}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_admin_creates_a_key_sees_it_once_and_revokes_it(
    committed_app, live_server, browser, artifacts_dir, backend, device
):
    base = live_server(committed_app)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.test")
        make_api_key(session, "Old CRM integration with a rather long name", scope="read")
        session.commit()
        admin_email = admin.email
    options = DESKTOP if device == "desktop" else PHONE
    width = options["viewport"]["width"]
    shot = f"admin-api-keys-{device}-{backend}"

    page = browser.new_context(**options).new_page()
    page.goto(f"{base}/login?next=/admin/api-keys")
    page.fill("input[name=email]", admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/api-keys")
    assert page.get_by_role("link", name="API keys").get_attribute("aria-current") == "page"

    # Create: the key is on the page that answers the form, once.
    page.fill("input[name=name]", "Helpdesk")
    page.select_option("select[name=scope]", "write")
    page.get_by_role("button", name="Create the key").click()
    page.wait_for_selector("text=Copy it now: this is the only time we show it.")
    raw = page.inner_text(".secret-value").strip()
    assert RAW_KEY.match(raw)
    assert fits(page, width)
    page.screenshot(path=artifacts_dir / f"{shot}-1-shown-once.png", full_page=True)
    assert api_status(base, raw) == 200

    # Shown once: reloading the list does not show it again.
    page.goto(f"{base}/admin/api-keys")
    assert raw not in page.content()
    assert raw[:12] in page.content()
    row = page.locator("tr", has_text="Helpdesk")
    assert "just now" in row.inner_text()  # its last use, a moment ago

    # Revoke, after a confirmation step.
    row.get_by_text("Revoke…").click()
    page.screenshot(path=artifacts_dir / f"{shot}-2-confirm-revoke.png", full_page=True)
    row.get_by_role("button", name="Revoke “Helpdesk” now").click()
    page.wait_for_selector("text=Requests with it are refused from now on.")
    assert "revoked" in page.locator("tr", has_text="Helpdesk").inner_text()
    assert fits(page, width)
    page.screenshot(path=artifacts_dir / f"{shot}-3-revoked.png", full_page=True)
    assert api_status(base, raw) == 401
    page.context.close()
