"""In Chromium: text the database cannot store gets the form back, the message beside the field.

The survey at 360 and 1280 px wide, and the login page: a NUL byte put into a field
(as a script or a broken keyboard driver would) is posted by the browser as %00,
and the page comes back with what was typed and the message next to that field.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.db import utcnow
from surveys.models import Response
from tests.factories import make_customer, make_purchase, make_sent_survey, make_user

pytestmark = pytest.mark.browser

NUL_MESSAGE = "This field must not contain NUL characters."
WIDTHS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


def _put_text(page, selector: str, text: str) -> None:
    # Nobody types a NUL; a script sets it, and the browser posts it as %00.
    page.eval_on_selector(selector, "(field, text) => { field.value = text }", text)


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size", WIDTHS)
def test_a_survey_answer_with_a_nul_byte_comes_back_marked_beside_the_question(
    committed_app, live_server, browser, artifacts_dir, backend, size
):
    base_url = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        owner = make_user(session, role="owner", name="Olivia Moreno")
        customer = make_customer(session, name="Ana Diaz", owner=owner)
        purchase = make_purchase(session, customer)
        _survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=utcnow())
        session.commit()

    context = browser.new_context(**WIDTHS[size])
    page = context.new_page()
    page.goto(f"{base_url}/s/{token}")
    page.check("input[name=expectations][value=short]")
    _put_text(page, "textarea[name=one_thing]", "The box came late\u0000 and crushed.")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    error = page.locator("#one_thing-errors")
    assert error.is_visible() and error.inner_text().strip() == NUL_MESSAGE
    assert "Almost there" in page.inner_text("main")
    assert page.input_value("textarea[name=one_thing]").startswith("The box came late")
    assert page.is_checked("input[name=expectations][value=short]")
    # The message sits right under its question's box, not somewhere else on the page.
    box = page.locator("textarea[name=one_thing]").bounding_box()
    below = error.bounding_box()
    assert 0 <= below["y"] - (box["y"] + box["height"]) < 60
    _fits(page, WIDTHS[size]["viewport"]["width"])
    page.screenshot(path=str(artifacts_dir / f"survey-nul-{size}-{backend}.png"), full_page=True)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 0
    context.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_a_login_email_with_a_nul_byte_comes_back_marked_beside_the_email(
    committed_app, live_server, browser, artifacts_dir, backend, size
):
    base_url = live_server(committed_app)
    context = browser.new_context(**WIDTHS[size])
    page = context.new_page()
    page.goto(f"{base_url}/login")
    _put_text(page, "input[name=email]", "ana\u0000@shop.test")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    error = page.locator("#email-errors")
    assert error.is_visible() and error.inner_text().strip() == NUL_MESSAGE
    assert page.get_attribute("input[name=email]", "aria-describedby") == "email-errors"
    assert page.url.endswith("/login")
    _fits(page, WIDTHS[size]["viewport"]["width"])
    page.screenshot(path=str(artifacts_dir / f"login-nul-{size}-{backend}.png"), full_page=True)
    context.close()
