"""A case as a conversation: whom it waits on (in Python and in SQL, which must agree), its
timeline with the customer's answers first, how often it was reopened, and its next step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import Case, CaseEvent
from surveys.services.cases import actions
from surveys.services.cases.conversation import (
    handover,
    next_step,
    reopened_count,
    timeline,
    waiting_on,
    waiting_on_sql,
)
from tests.factories import make_case, make_customer, make_user


@pytest.fixture(autouse=True)
def _as_a_page_reads_it(app, session):
    """The next step is worded for the page's reader (their language and time zone): inside a
    request, as the case page asks for it."""
    with app.test_request_context():
        yield


@pytest.fixture
def owner(session):
    return make_user(session, name="Olivia Owen")


def say(case: Case, kind: str, at, *, body: str | None = None, data=None, by=None) -> CaseEvent:
    """Put one event on the case's timeline, as the inbound mail or an action would."""
    event = CaseEvent(kind=kind, body=body, data=data, created_at=at, actor_user=by)
    case.events.append(event)
    return event


def sql_waiting_on(session, case: Case) -> str | None:
    session.flush()
    return session.scalar(select(waiting_on_sql()).where(Case.id == case.id))


def test_whom_each_case_waits_on_in_python_and_in_sql(session, owner, clock):
    t = clock.now()
    customer = make_customer(session, name="Ana Diaz")

    def case_with(status, *events):
        case = make_case(session, owner=owner, customer=customer, status=status, now=t)
        for hours, kind in events:
            say(case, kind, t + timedelta(hours=hours), body="words", by=owner)
        return case

    expected = {
        # open: the owner's move, whatever happened
        "open": (case_with("open"), "owner"),
        "open, replied": (case_with("open", (1, "reply")), "owner"),
        # acknowledged, nobody wrote yet: the owner's move
        "acknowledged": (case_with("acknowledged"), "owner"),
        # the owner wrote last: the customer's move (a note is not writing to them)
        "replied": (case_with("acknowledged", (1, "reply"), (2, "note")), "customer"),
        "replied by mail": (case_with("acknowledged", (1, "personal_reply")), "customer"),
        # the customer spoke after the owner's last reply
        "customer replied": (
            case_with("acknowledged", (1, "reply"), (2, "customer_replied")),
            "owner",
        ),
        "reopened": (case_with("acknowledged", (1, "reply"), (2, "reopened")), "owner"),
        "answered again": (case_with("acknowledged", (1, "reopened"), (2, "reply")), "customer"),
        # an unverified message is not the customer speaking
        "stranger": (
            case_with("acknowledged", (1, "reply"), (2, "unverified_message")),
            "customer",
        ),
        # resolved: waiting for the fix-check, even when it was reopened before
        "resolved": (case_with("resolved"), "customer"),
        "resolved again": (case_with("resolved", (1, "reopened"), (2, "resolved")), "customer"),
        "closed": (case_with("closed"), None),
    }

    for name, (case, whom) in expected.items():
        assert waiting_on(case) == whom, name
        assert sql_waiting_on(session, case) == whom, name


def test_equal_moments_are_ordered_by_the_order_they_were_written(session, owner, clock):
    # A frozen clock writes several events in one instant: the later row is the later word.
    case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    say(case, "customer_replied", clock.now(), body="Still broken.")
    say(case, "reply", clock.now(), body="On it.", by=owner)

    assert waiting_on(case) == sql_waiting_on(session, case) == "customer"

    say(case, "customer_replied", clock.now(), body="Thanks!")
    assert waiting_on(case) == sql_waiting_on(session, case) == "owner"


def test_the_timeline_opens_with_the_answers_and_marks_each_kind(session, owner, clock):
    t = clock.now()
    case = make_case(session, owner=owner, customer=make_customer(session, name="Ana Diaz"), now=t)
    say(case, "note", t + timedelta(minutes=5), body="Call her first.", by=owner)
    say(case, "reply", t + timedelta(minutes=10), body="I am sorry.", by=owner)
    say(
        case,
        "unverified_message",
        t + timedelta(minutes=20),
        body="Buy cheap pills",
        data={"from": "spam@example.net", "reason": "not the customer's address"},
    )
    say(case, "customer_replied", t + timedelta(minutes=15), body="Thank you, Tuesday is fine.")

    entries = timeline(case)

    assert [(e.kind, e.author, e.style) for e in entries] == [
        ("survey_answers", "Ana Diaz", "customer"),
        ("opened", "Heart to Heart", "system"),
        ("note", "Olivia Owen", "note"),
        ("reply", "Olivia Owen", "owner"),
        ("customer_replied", "Ana Diaz", "customer"),
        ("unverified_message", "spam@example.net", "unverified"),
    ]
    opening = entries[0]
    assert opening.body.splitlines()[0] == (
        "Are we exceeding your expectations? You are falling short (negative)"
    )
    # The score, the "no" and the written complaint ("broken", "nobody" are complaint words).
    assert [line.negative for line in opening.answers].count(True) == 3
    assert entries[4].body == "Thank you, Tuesday is fine."


def test_reopened_count_and_the_hand_over_that_gave_the_owner_the_case(session, owner, clock):
    ben = make_user(session, name="Ben Baker")
    case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    assert reopened_count(case) == 0 and handover(case) is None

    say(case, "reopened", clock.now(), body="No")
    say(case, "reopened", clock.now(), body="No")
    session.flush()
    actions.reassign_case(
        session, case, new_owner=ben, reason="Ben does returns.", by_user=owner, now=clock.now()
    )

    assert reopened_count(case) == 2
    assert handover(case).body == "Ben does returns."


@pytest.mark.parametrize(
    "status, events, headline, deadline",
    [
        ("open", [], "New: acknowledge by 23 Nov 2026, 13:00 UTC", "due in 2 hours"),
        ("acknowledged", [], "Acknowledged: write to Ana Diaz", "due in 1 day"),
        ("acknowledged", [(1, "reply")], "Waiting for the customer", "due in 1 day"),
        (
            "acknowledged",
            [(1, "reply"), (-1, "customer_replied")],
            "Customer replied 1 hour ago",
            "due in 1 day",
        ),
        ("acknowledged", [(1, "reply"), (1.5, "reopened")], "Reopened: the fix did not work", None),
        (
            "resolved",
            [],
            "Waiting for the customer: we asked whether the fix worked",
            None,
        ),
        ("closed", [], "Closed: the customer said the fix worked", None),
    ],
)
def test_the_next_step_in_one_line_with_its_deadline(
    session, owner, clock, status, events, headline, deadline
):
    start = clock.now()
    case = make_case(
        session, owner=owner, customer=make_customer(session, name="Ana Diaz"), status=status
    )
    case.created_at = start
    case.acknowledge_by = start + timedelta(hours=4)
    case.resolve_by = start + timedelta(hours=48)
    now = start + timedelta(hours=2)
    for hours, kind in events:
        # Negative hours: that long before `now`.
        at = now + timedelta(hours=hours) if hours < 0 else start + timedelta(hours=hours)
        say(case, kind, at, body="words", by=owner)

    step = next_step(case, now)

    assert step.headline == headline
    if deadline:
        assert step.deadline_words == deadline
    elif status != "acknowledged":
        assert step.deadline is None


def test_a_resolved_case_says_when_the_fix_check_goes_while_it_waits(session, owner, clock):
    case = make_case(session, owner=owner, status="resolved", now=clock.now())
    ask_at = clock.now() + timedelta(days=2)
    say(
        case,
        "resolved",
        clock.now(),
        body="Sent a new keyboard.",
        data={"ask_at": ask_at.isoformat()},
    )

    assert next_step(case, clock.now()).headline == (
        "Resolved: we ask whether the fix worked in 2 days"
    )
    assert next_step(case, ask_at).headline == (
        "Waiting for the customer: we asked whether the fix worked"
    )


def test_an_overdue_deadline_is_said_plainly(session, owner, clock):
    case = make_case(session, owner=owner, now=clock.now())

    step = next_step(case, clock.now() + timedelta(hours=7))

    assert step.overdue and step.deadline_words == "overdue by 3 hours"
