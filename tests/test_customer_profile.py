"""The customer's profile (/customers/<id>, GET /api/v1/customers?email=): what we remember,
what happened, and the touch-point counts, right after a whole case life cycle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import CustomerNote
from surveys.services.customers.profile import PAGE_SIZES
from surveys.services.customers.touchpoints import record_touchpoint
from tests.factories import (
    make_api_key,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)
from tests.journey import (
    act_on_case,
    answer_survey,
    bearer,
    latest_fix_check_path,
    log_in_as,
    post_purchase,
    run_worker,
    unhappy_customer,
)
from tests.pages import page, text_of
from tests.test_openapi import assert_documented
from tests.web import csrf_token, log_in

ANA = "ana@example.com"


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    stranger = make_user(session, email="ben@shop.example", name="Ben Baker")
    admin = make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    _key, raw = make_api_key(session)
    session.commit()
    return {"owner": owner, "stranger": stranger, "admin": admin, "raw_key": raw}


@pytest.fixture
def lived_case(client, session, runner, clock, fake_sendgrid, people):
    """Ana's whole case: unhappy answer, reply, resolve, "no", resolve, "yes"."""
    case = unhappy_customer(
        client,
        session,
        runner,
        fake_sendgrid,
        raw_key=people["raw_key"],
        owner_email="olivia@shop.example",
    )
    log_in(client, people["owner"])
    act_on_case(client, case.id, "acknowledge")
    act_on_case(
        client,
        case.id,
        "replies",
        understood="Your keyboard came with a broken key and nobody wrote back to you.",
        will_do="A new keyboard ships today.",
    )
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)
    clock.advance(days=2)
    answer_survey(
        client,
        latest_fix_check_path(fake_sendgrid, ANA),
        {"fix_worked": "no", "anything_else": "The new one has the same sticky key."},
    )
    clock.advance(hours=5)
    act_on_case(
        client, case.id, "resolve", ask_in_days="0", resolution="Replaced the switch and tested it."
    )
    run_worker(runner)
    clock.advance(days=1)
    answer_survey(client, latest_fix_check_path(fake_sendgrid, ANA), {"fix_worked": "yes"})
    assert (
        act_on_case(client, case.id, "notes", body="Called her; lovely person.").status_code == 302
    )
    return case


def add_note(client, customer_id: int, body: str):
    token = csrf_token(client, f"/customers/{customer_id}")
    return client.post(f"/customers/{customer_id}/notes", data={"body": body, "csrf_token": token})


def test_after_a_whole_case_the_ledger_counts_two_positive_two_negative(
    client, session, people, lived_case, document
):
    # Positive: the personal reply, the confirmed fix. Negative: the unhappy answer, the
    # reopening. Neutral (not counted): three surveys sent and answered. Not touches at all:
    # the two resolutions (the customer felt the fix when they confirmed it).
    response = client.get(f"/api/v1/customers?email={ANA}", headers=bearer(people["raw_key"]))

    assert response.status_code == 200
    assert_documented(document, "/api/v1/customers", "GET", response)
    body = response.get_json()
    assert body["touchpoints"] == {"positive": 2, "negative": 2, "ratio": 1.0}
    assert body["email"] == ANA and body["name"] == "Ana Diaz"
    assert body["owner"] == {"email": "olivia@shop.example", "name": "Olivia Bennett"}
    assert body["preferences"] == ["I work nights, so please email rather than call."]
    assert body["notes"] == []
    assert body["suppressed"] is False


def test_the_profile_page_shows_the_whole_story_and_the_ledger(client, session, people, lived_case):
    customer_id = lived_case.customer_id

    response = client.get(f"/customers/{customer_id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "I work nights, so please email rather than call." in html
    # The ledger: counts, ratio against the aim, and each touch in words.
    shown = page(html)
    assert shown.stats() == {"positive": "2", "negative": "2", "aim: 10 : 1": "1.0 : 1"}
    assert "18 more positive touches reach the aim of 10 to 1." in html
    assert len(shown.all(".touch-positive")) == 2
    assert len(shown.all(".touch-negative")) == 2
    # The asks are on the ledger too, neither positive nor negative.
    neutral = [text_of(li) for li in shown.all(".touch-neutral")]
    assert sum("Sent a survey" in line for line in neutral) == 1
    assert sum("Asked whether the fix worked" in line for line in neutral) == 2
    assert sum("Answered a survey" in line for line in neutral) == 3
    assert "Confirmed the fix worked" in html and "The fix did not work; case reopened" in html
    # The case, the surveys with their answers, the purchase.
    assert f"/cases/{lived_case.id}" in shown.links().values() and "closed confirmed" in html
    assert "The keyboard arrived with a broken key and nobody answered my email." in html
    assert "The new one has the same sticky key." in html
    assert html.count("Did the fix work?") == 2
    assert "A-1001" in html and "Keyboard" in html


def test_an_owner_keeps_a_personal_note_everyone_who_looks_after_the_customer_sees(
    client, session, people, lived_case
):
    customer_id = lived_case.customer_id

    response = add_note(client, customer_id, "  Daughter graduates in June.  ")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{customer_id}"
    note = session.scalars(select(CustomerNote)).one()
    assert note.body == "Daughter graduates in June." and note.author_id == people["owner"].id
    assert "Daughter graduates in June." in client.get(f"/customers/{customer_id}").get_data(
        as_text=True
    )
    # Beside the answers on the case page, so the next reply can be personal.
    case_page = page(client.get(f"/cases/{lived_case.id}"))
    remembered = text_of(case_page.one('section[aria-labelledby="remembered-title"]'))
    assert "Daughter graduates in June." in remembered
    assert "I work nights, so please email rather than call." in remembered
    # And in the API's customer object.
    body = client.get(
        f"/api/v1/customers?email={ANA}", headers=bearer(people["raw_key"])
    ).get_json()
    assert body["notes"] == [
        {
            "body": "Daughter graduates in June.",
            "author": "Olivia Bennett",
            "created_at": "2026-11-26T14:00:00Z",
        }
    ]


def test_a_note_added_from_the_case_page_goes_back_to_the_case(client, session, people, clock):
    customer = make_customer(session, email=ANA, owner=people["owner"])
    case = make_case(session, owner=people["owner"], customer=customer, now=clock.now())
    session.commit()
    log_in(client, people["owner"])

    response = client.post(
        f"/customers/{customer.id}/notes?case={case.id}",
        data={
            "body": "Die-hard Red Sox fan.",
            "csrf_token": csrf_token(client, f"/cases/{case.id}"),
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.id}#remembered"
    assert "Die-hard Red Sox fan." in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_an_empty_note_is_refused_with_the_error_in_place(client, session, people, clock):
    customer = make_customer(session, email=ANA, owner=people["owner"])
    session.commit()
    log_in(client, people["owner"])

    response = add_note(client, customer.id, "   ")

    assert response.status_code == 422
    assert "Write what you want everyone to remember." in response.get_data(as_text=True)
    assert session.scalars(select(CustomerNote)).all() == []


# --- who sees whom ---------------------------------------------------------------------------


def test_an_owner_sees_their_account_customers_and_the_customers_of_their_cases(
    client, session, people, clock
):
    mine = make_customer(session, email="mine@example.com", owner=people["owner"])
    of_my_case = make_customer(session, email="case@example.com")
    make_case(session, owner=people["owner"], customer=of_my_case, now=clock.now())
    not_mine = make_customer(session, email="other@example.com", owner=people["stranger"])
    session.commit()
    log_in(client, people["owner"])

    assert client.get(f"/customers/{mine.id}").status_code == 200
    assert client.get(f"/customers/{of_my_case.id}").status_code == 200
    assert client.get(f"/customers/{not_mine.id}").status_code == 404
    assert add_note(client, mine.id, "ok").status_code == 302
    token = csrf_token(client, "/inbox")
    assert (
        client.post(
            f"/customers/{not_mine.id}/notes", data={"body": "sneaky", "csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get("/customers/999999").status_code == 404


def test_an_admin_sees_every_customer(client, session, people):
    customer = make_customer(session, email="other@example.com", owner=people["stranger"])
    session.commit()
    log_in(client, people["admin"])

    assert client.get(f"/customers/{customer.id}").status_code == 200


def test_the_profile_needs_a_login(client, session, people):
    customer = make_customer(session)
    session.commit()

    response = client.get(f"/customers/{customer.id}")

    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_reassigned_case_brings_its_customer_to_the_new_owner(client, session, people, clock):
    customer = make_customer(session, email=ANA)
    case = make_case(session, owner=people["owner"], customer=customer, now=clock.now())
    session.commit()
    log_in(client, people["owner"])
    act_on_case(
        client,
        case.id,
        "reassign",
        owner_id=str(people["stranger"].id),
        reason="Ben knows this product.",
    )

    assert client.get(f"/customers/{customer.id}").status_code == 404
    log_in_as(client, people["stranger"])
    assert client.get(f"/customers/{customer.id}").status_code == 200


# --- the API ----------------------------------------------------------------------------------


def test_the_api_finds_a_customer_whatever_the_letter_case(client, session, people):
    make_customer(session, email=ANA, name="Ana Diaz")
    session.commit()

    response = client.get(
        "/api/v1/customers?email=Ana@Example.com", headers=bearer(people["raw_key"])
    )

    assert response.status_code == 200
    assert response.get_json()["touchpoints"] == {"positive": 0, "negative": 0, "ratio": None}
    assert response.get_json()["owner"] is None


def test_the_api_answers_404_for_an_unknown_customer_and_422_without_an_email(
    client, people, document
):
    unknown = client.get(
        "/api/v1/customers?email=nobody@example.com", headers=bearer(people["raw_key"])
    )
    missing = client.get("/api/v1/customers", headers=bearer(people["raw_key"]))

    assert unknown.status_code == 404
    assert missing.status_code == 422 and list(missing.get_json()["errors"]) == ["email"]
    assert client.get(f"/api/v1/customers?email={ANA}").status_code == 401
    for response in (unknown, missing):
        assert_documented(document, "/api/v1/customers", "GET", response)


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


# --- a long history is paged -------------------------------------------------------------


def test_a_long_history_is_read_a_page_at_a_time_newest_first(client, session, clock, people):
    """However long the customer's history, the page holds one page of each part of it."""
    ana = make_customer(session, email=ANA, name="Ana Diaz", owner=people["owner"])
    start = clock.now() - timedelta(days=400)
    for day in range(60):
        record_touchpoint(
            session,
            customer=ana,
            kind="call",
            polarity="positive",
            note=f"call {day:02d}",
            now=clock.now(),
            occurred_at=start + timedelta(days=day),
        )
    for day in range(PAGE_SIZES["purchases"] + 2):
        purchase = make_purchase(
            session, ana, order_id=f"ORDER-{day:02d}", purchased_at=start + timedelta(days=day)
        )
        if day < PAGE_SIZES["surveys"] + 1:
            survey, _token = make_sent_survey(session, ana, purchase=purchase)
            survey.created_at = start + timedelta(days=day)
    session.commit()
    log_in(client, people["owner"])

    first = client.get(f"/customers/{ana.id}").get_data(as_text=True)
    # The tally still counts the whole ledger; the ledger shows its newest page.
    assert '<span class="stat-value">60</span>' in first
    assert len(re.findall(r"call \d\d", first)) == PAGE_SIZES["touches"]
    assert "call 59" in first and "call 35" in first and "call 34" not in first
    assert "ORDER-21" in first and "ORDER-00" not in first
    assert f"/customers/{ana.id}?touches=2#touchpoints-title" in first
    assert f"/customers/{ana.id}?purchases=2#purchases-title" in first
    assert f"/customers/{ana.id}?surveys=2#surveys-title" in first

    second = client.get(f"/customers/{ana.id}?touches=2").get_data(as_text=True)
    assert "call 34" in second and "call 10" in second and "call 09" not in second
    assert f"/customers/{ana.id}?touches=1#touchpoints-title" in second
    assert f"/customers/{ana.id}?touches=3#touchpoints-title" in second
    last = client.get(f"/customers/{ana.id}?touches=3").get_data(as_text=True)
    assert "call 09" in last and "call 00" in last and "touches=4" not in last

    # A page that is no page shows the first; one past the end shows none of the ledger.
    for bad in ("0", "-1", "x", "99999999999999999999"):
        response = client.get(f"/customers/{ana.id}?touches={bad}")
        assert response.status_code == 200 and "call 59" in response.get_data(as_text=True)
    assert not re.findall(
        r"call \d\d", client.get(f"/customers/{ana.id}?touches=50").get_data(as_text=True)
    )


def test_the_profile_says_why_a_purchase_was_not_surveyed(client, session, people, clock):
    """The API's `survey.reason` and the page say the same: the owner sees why nobody asked."""
    first = post_purchase(client, people["raw_key"], order_id="A-1", email=ANA)
    clock.advance(days=3)
    second = post_purchase(client, people["raw_key"], order_id="A-2", email=ANA)
    assert second["survey"]["status"] == "throttled"
    log_in(client, people["admin"])

    shown = page(client.get(f"/customers/{first['customer_id']}"))

    [reason] = [text_of(p) for p in shown.all(".survey-history p.survey-reason")]
    assert reason == second["survey"]["reason"] == "Already surveyed in the last 30 days."
