"""The settings page in Chromium: a person turns the weekly digest off and picks their time zone,
at 1280 px and on a 360 px phone; screenshots kept in test-artifacts/."""

from __future__ import annotations

import pytest

from surveys.models import User
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 740}}


def _log_in(page, base, email, path):
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{path}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_a_person_turns_the_digest_off_and_picks_their_time_zone(
    committed_app, live_server, browser, artifacts_dir, backend, viewport
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        owner = make_user(session, name="Olivia Moreno")
        session.commit()
        owner_id, email = owner.id, owner.email
    width = viewport["viewport"]["width"]

    context = browser.new_context(**viewport)
    page = context.new_page()
    _log_in(page, base, email, "/inbox")
    page.get_by_role("link", name="My settings").click()
    page.wait_for_url(f"{base}/account/settings")
    digest = page.get_by_label("Email me the weekly digest on Monday mornings")
    assert digest.is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(
        path=str(artifacts_dir / f"account-settings-{width}-{backend}.png"), full_page=True
    )

    digest.uncheck()
    page.get_by_label("My time zone").select_option("Pacific/Auckland")
    page.get_by_role("button", name="Save my settings").click()
    page.wait_for_url(f"{base}/account/settings")
    assert page.get_by_text("Saved. We will not send you the weekly digest.").is_visible()
    assert not page.get_by_label("Email me the weekly digest on Monday mornings").is_checked()
    assert page.get_by_label("My time zone").input_value() == "Pacific/Auckland"
    page.screenshot(
        path=str(artifacts_dir / f"account-settings-saved-{width}-{backend}.png"), full_page=True
    )
    context.close()

    with sessions() as session:
        saved = session.get(User, owner_id)
        assert (saved.weekly_digest, saved.time_zone) == (False, "Pacific/Auckland")
