"""The pages work in Chromium under the security headers: nothing blocked by the
Content-Security-Policy at phone and desktop widths, and a survey answered over HTTPS."""

from __future__ import annotations

import pytest

from tests.factories import (
    PASSWORD,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)

pytestmark = pytest.mark.browser

WIDTHS = {
    "phone": {"viewport": {"width": 360, "height": 760}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


def make_people_and_a_survey(app) -> dict:
    """An admin, an owner with an open case, and a customer's unanswered survey link."""
    with app.extensions["db"]["sessionmaker"]() as session:
        admin = make_user(session, role="admin", name="Ada Admin", email="ada@shop.example")
        owner = make_user(session, name="Olivia Moreno", email="olivia@shop.example")
        case = make_case(session, owner=owner, customer=make_customer(session, name="Ana Diaz"))
        customer = make_customer(session, name="Ben Ode", email="ben@example.com")
        _survey, token = make_sent_survey(
            session, customer, purchase=make_purchase(session, customer)
        )
        session.commit()
        return {"admin": admin.email, "case": case.id, "token": token}


def log_in(page, base: str, email: str, then: str) -> None:
    page.goto(f"{base}/login?next={then}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{then}")


def styled_by_the_stylesheet(page) -> bool:
    # app.css sets the system font; without it Chromium falls back to a serif.
    return "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")


def test_the_browser_reports_what_the_policy_blocks(committed_app, live_server, browser):
    # The watch every browser test relies on (tests/browser.py) does see a blocked style.
    base = live_server(committed_app)
    page = browser.new_page()
    page.goto(f"{base}/login")

    page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>p{color:red}</style>')")
    page.wait_for_timeout(100)

    assert any("style-src" in violation for violation in browser.csp_violations)
    browser.csp_violations.clear()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_kind_of_page_works_under_the_policy(
    committed_app, live_server, browser, artifacts_dir, backend, width
):
    base = live_server(committed_app)
    data = make_people_and_a_survey(committed_app)
    shot = f"csp-{width}-{backend}"
    context = browser.new_context(**WIDTHS[width])

    customer = context.new_page()
    customer.goto(f"{base}/s/{data['token']}?a=meeting")
    assert customer.is_checked("input[name=expectations][value=meeting]")
    assert styled_by_the_stylesheet(customer)
    customer.screenshot(path=artifacts_dir / f"{shot}-survey.png", full_page=True)

    page = context.new_page()
    page.goto(f"{base}/login")
    assert styled_by_the_stylesheet(page)
    page.screenshot(path=artifacts_dir / f"{shot}-login.png", full_page=True)

    log_in(page, base, data["admin"], "/inbox?owner=all")
    assert page.is_visible("text=Ana Diaz")
    page.screenshot(path=artifacts_dir / f"{shot}-inbox.png", full_page=True)

    page.goto(f"{base}/cases/{data['case']}")
    assert page.is_visible("text=Acknowledge") or page.is_visible("text=acknowledge")
    page.screenshot(path=artifacts_dir / f"{shot}-case.png", full_page=True)

    page.goto(f"{base}/admin/users")
    assert page.is_visible("text=Olivia Moreno")
    page.screenshot(path=artifacts_dir / f"{shot}-admin-users.png", full_page=True)

    # The editor frames the survey preview (allowed for this site's own pages only).
    page.goto(f"{base}/admin/question-sets/heart-to-heart")
    frame = "iframe[title='Preview of the survey on a phone']"
    page.locator(frame).scroll_into_view_if_needed()  # it loads lazily
    preview = page.frame_locator(frame)
    preview.locator("text=Are we exceeding your expectations?").first.wait_for()
    page.screenshot(path=artifacts_dir / f"{shot}-admin-editor.png", full_page=True)

    # An email's HTML keeps its inline styles inside the preview's sandboxed frame.
    page.goto(f"{base}/admin/emails/survey?variant=purchase")
    email = page.frame_locator("iframe[title='The HTML part of the email']")
    email.locator("p", has_text="Are we exceeding your expectations?").wait_for()
    background = email.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
    assert background == "rgb(251, 250, 248)"  # the email layout's inline style
    page.screenshot(path=artifacts_dir / f"{shot}-admin-email-preview.png", full_page=True)
    context.close()


def test_a_customer_answers_the_survey_over_https(
    committed_app, live_server, browser, artifacts_dir, backend
):
    # Over HTTPS, Flask-WTF wants a Referer from this host on every form POST: the policy
    # must let the browser send the origin, while keeping the token out of it.
    base = live_server(committed_app, https=True)
    data = make_people_and_a_survey(committed_app)
    context = browser.new_context(ignore_https_errors=True, **WIDTHS["phone"])
    page = context.new_page()

    opened = page.goto(f"{base}/s/{data['token']}?a=exceeding")
    assert opened.headers["strict-transport-security"] == "max-age=31536000"
    assert opened.headers["referrer-policy"] == "strict-origin"
    page.click("button[type=submit]")

    page.wait_for_selector("h1:has-text('Thank you')")
    page.screenshot(path=artifacts_dir / f"survey-over-https-{backend}.png", full_page=True)
    [cookie] = [c for c in context.cookies() if c["name"] == "session"]
    assert cookie["secure"] and cookie["httpOnly"]
    context.close()


def test_a_throttled_login_shows_the_form_and_how_long_to_wait(
    committed_app, live_server, browser, artifacts_dir, backend
):
    base = live_server(committed_app)
    data = make_people_and_a_survey(committed_app)
    page = browser.new_context(**WIDTHS["phone"]).new_page()
    page.goto(f"{base}/login")

    for attempt in range(6):
        page.fill("input[name=email]", data["admin"])
        page.fill("input[name=password]", f"not the password {attempt}")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("button[type=submit]")

    assert answer.value.status == 429
    page.wait_for_selector("text=Too many failed attempts to log in. Please wait")
    assert page.input_value("input[name=email]") == data["admin"]
    page.screenshot(path=artifacts_dir / f"login-throttled-phone-{backend}.png", full_page=True)
