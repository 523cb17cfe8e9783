"""The inbox: an owner's unclosed cases, the most pressing first, deadlines said plainly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.models import Case
from tests.factories import PASSWORD, make_case, make_customer, make_user
from tests.pages import page, text_of
from tests.web import log_in


def customer_names_in_order(html: str) -> list[str]:
    return [text_of(link) for link in page(html).all("a.case-customer")]


def inbox(client, **query) -> str:
    response = client.get("/inbox", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def case_for(session, owner, name: str, **kwargs):
    return make_case(session, owner=owner, customer=make_customer(session, name=name), **kwargs)


def test_the_inbox_needs_a_login(client):
    response = client.get("/inbox")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_owner_sees_their_unclosed_cases_and_nobody_elses(client, session, clock):
    owner, colleague = make_user(session), make_user(session)
    now = clock.now()
    case_for(session, owner, "Open Olga", now=now)
    case_for(session, owner, "Acknowledged Ari", status="acknowledged", now=now)
    case_for(session, owner, "Resolved Rosa", status="resolved", now=now)
    case_for(session, owner, "Closed Carl", status="closed", now=now)
    case_for(session, colleague, "Someone Elses", now=now)
    log_in(client, owner)

    names = customer_names_in_order(inbox(client))

    assert sorted(names) == ["Acknowledged Ari", "Open Olga", "Resolved Rosa"]


def test_an_overdue_acknowledged_case_comes_before_an_open_one_not_yet_due(client, session, clock):
    owner = make_user(session)
    start = clock.now()
    case_for(session, owner, "Open, due in 4 hours", now=start)
    case_for(
        session,
        owner,
        "Acknowledged, overdue",
        status="acknowledged",
        now=start - timedelta(hours=50),
    )
    log_in(client, owner)

    assert customer_names_in_order(inbox(client)) == [
        "Acknowledged, overdue",
        "Open, due in 4 hours",
    ]


def test_cases_waiting_on_their_owner_come_by_next_deadline_and_resolved_ones_last(
    client, session, clock
):
    owner = make_user(session)
    start = clock.now()
    case_for(session, owner, "Acknowledged later", status="acknowledged", now=start)
    case_for(session, owner, "Open later", now=start + timedelta(hours=2))
    case_for(session, owner, "Resolved", status="resolved", now=start)
    case_for(session, owner, "Open sooner", now=start)
    case_for(
        session, owner, "Acknowledged sooner", status="acknowledged", now=start - timedelta(hours=5)
    )
    log_in(client, owner)

    names = customer_names_in_order(inbox(client))

    assert names == [
        "Open sooner",
        "Open later",
        "Acknowledged sooner",
        "Acknowledged later",
        "Resolved",
    ]


def test_a_deadline_not_yet_reached_says_when_it_is_due(client, session, clock):
    owner = make_user(session)
    case_for(session, owner, "Ana Diaz", now=clock.now())
    log_in(client, owner)
    clock.advance(hours=1)

    html = inbox(client)

    assert "Acknowledge: due in 3 hours" in html
    assert "overdue" not in html


def test_an_overdue_deadline_is_said_plainly_and_marked(client, session, clock):
    owner = make_user(session)
    case_for(session, owner, "Ana Diaz", now=clock.now())
    case_for(session, owner, "Ben Ode", status="acknowledged", now=clock.now())
    log_in(client, owner)
    clock.advance(hours=7, minutes=20)

    html = inbox(client)

    due = {text_of(span): span["class"] for span in page(html).all(".case-due")}
    assert due["Acknowledge: overdue by 3 hours"] == ["case-due", "overdue"]
    assert due["Resolve: due in 1 day"] == ["case-due"]


def test_each_row_shows_the_first_negative_answer_in_the_customers_words(client, session, clock):
    owner = make_user(session)
    case = case_for(
        session,
        owner,
        "Ana Diaz",
        now=clock.now(),
        answers={"expectations": "meeting", "time_money": "no", "recommend": "3"},
    )
    log_in(client, owner)

    html = inbox(client)

    assert f'href="/cases/{case.id}"' in html
    assert "Did we save you time and money?" in html
    assert '<q dir="auto">No</q>' in html  # the customer's words keep their own direction
    assert "How likely are you to recommend us" not in html
    assert 'class="badge badge-open"' in html


def test_an_empty_inbox_says_something_kind(client, session):
    log_in(client, make_user(session))

    html = inbox(client)

    assert "Nobody is waiting on you" in html
    assert 'class="case-list"' not in html


def test_an_admin_sees_their_own_cases_and_everyones_on_request(client, session, clock):
    admin = make_user(session, role="admin")
    owner = make_user(session, name="Olivia Owen")
    case_for(session, admin, "Admins Customer", now=clock.now())
    case_for(session, owner, "Olivias Customer", now=clock.now())
    log_in(client, admin)

    assert customer_names_in_order(inbox(client)) == ["Admins Customer"]
    everyone = inbox(client, owner="all")
    assert sorted(customer_names_in_order(everyone)) == ["Admins Customer", "Olivias Customer"]
    assert "Olivia Owen" in everyone


def test_an_owner_cannot_see_everyones_cases(client, session, clock):
    owner = make_user(session)
    case_for(session, owner, "Mine", now=clock.now())
    case_for(session, make_user(session), "Not Mine", now=clock.now())
    log_in(client, owner)

    html = inbox(client, owner="all")

    assert customer_names_in_order(html) == ["Mine"]
    assert "Show everyone" not in html


def test_the_inbox_reads_on_a_phone_without_javascript(client, session, clock):
    owner = make_user(session)
    case_for(session, owner, "Ana Diaz", now=clock.now())
    log_in(client, owner)

    html = inbox(client)

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html
    assert "<table" not in html


@pytest.mark.browser
def test_an_owner_works_a_case_from_the_inbox_on_a_360px_phone(
    committed_app, live_server, browser, artifacts_dir, backend
):
    """Log in, open the most pressing case, acknowledge and resolve it: no sideways scrolling."""
    with committed_app.extensions["db"]["sessionmaker"]() as setup:
        owner = make_user(setup, name="Olivia Owen", email="olivia@shop.example")
        customer = make_customer(setup, name="Ana Maria Diaz Fernández", owner=owner)
        case_id = make_case(setup, owner=owner, customer=customer).id
        make_case(
            setup, owner=owner, status="acknowledged", customer=make_customer(setup, name="Ben Ode")
        )
        setup.commit()
    base = live_server(committed_app)

    # No JavaScript: every action is a plain form post.
    context = browser.new_context(viewport={"width": 360, "height": 780}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/inbox")
    page.fill("input[name=email]", "olivia@shop.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url(f"{base}/inbox")
    assert fits_the_width(page)
    page.screenshot(path=str(artifacts_dir / f"inbox-360px-{backend}.png"), full_page=True)

    page.click("text=Ana Maria Diaz Fernández")
    page.wait_for_url(f"{base}/cases/{case_id}")
    assert fits_the_width(page)
    page.screenshot(path=str(artifacts_dir / f"case-360px-{backend}.png"), full_page=True)

    page.click("button:has-text('Acknowledge')")
    page.wait_for_selector("text=It is yours now.")
    page.click("button:has-text('Mark as resolved')")
    assert page.locator(".field-errors").inner_text() == "Say what you did to fix it."
    page.fill("textarea[name=resolution]", "Called Ana and sent a new keyboard.")
    page.click("button:has-text('Mark as resolved')")
    page.wait_for_selector("text=Resolved. Thank you for looking after")
    page.screenshot(path=str(artifacts_dir / f"case-resolved-360px-{backend}.png"), full_page=True)
    context.close()

    with committed_app.extensions["db"]["sessionmaker"]() as check:
        assert check.get(Case, case_id).status == "resolved"


def fits_the_width(page) -> bool:
    """Nothing on the page makes a phone scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_long_inbox_shows_the_most_pressing_page_first_and_pages_through_the_rest(
    client, session, clock
):
    # Each row loads the customer's answers: a page of them, not hundreds at once.
    owner = make_user(session)
    start = clock.now()
    for number in range(52):
        # The older the case, the sooner it is due: case 0 is the most pressing.
        case_for(session, owner, f"Customer {number:02d}", now=start - timedelta(minutes=number))
    log_in(client, owner)

    first = inbox(client)
    second = inbox(client, page=2)
    past_the_end = inbox(client, page=99999999999999999999)

    assert customer_names_in_order(first) == [f"Customer {n:02d}" for n in range(51, 1, -1)]
    assert "52 cases, the most pressing first" in first and 'href="/inbox?page=2"' in first
    assert customer_names_in_order(second) == ["Customer 01", "Customer 00"]
    assert customer_names_in_order(past_the_end) == ["Customer 01", "Customer 00"]
