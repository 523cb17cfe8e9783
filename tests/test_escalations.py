"""Service levels: a missed deadline is escalated to the owner and every admin, once per breach,
and a fix the customer never confirms closes as unconfirmed. Time moves with the frozen clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.clock import FrozenClock
from surveys.mail.senders import FileSender
from surveys.models import Case, CaseEvent, OutboxMessage, Touchpoint
from surveys.outbox.worker import PassReport, Worker
from surveys.services.settings import set_setting
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_case, make_customer, make_user
from tests.journey import (
    act_on_case,
    answer_survey,
    latest_fix_check_path,
    mails_to,
    run_worker,
    unhappy_customer,
)
from tests.web import log_in


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    admins = [
        make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan"),
        make_user(session, role="admin", email="sam@shop.example", name="Sam Lee"),
    ]
    make_user(session, role="admin", email="former@shop.example", active=False)
    session.commit()
    return owner, admins


@pytest.fixture
def case(session, people, clock):
    owner, _admins = people
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz", owner=owner)
    made = make_case(session, owner=owner, customer=customer, now=clock.now())
    session.commit()
    return made


def escalation_mails(fake_sendgrid) -> list:
    return [mail for mail in fake_sendgrid.accepted if mail.categories == ["escalation"]]


def escalations(session, case_id: int) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalated")
        )
    )


def test_nothing_is_escalated_before_the_acknowledge_deadline(
    session, runner, clock, fake_sendgrid, case
):
    clock.advance(hours=4)  # exactly at the deadline: not missed yet

    run_worker(runner)

    assert escalation_mails(fake_sendgrid) == []
    assert session.get(Case, case.id).acknowledge_escalated_at is None


def test_a_missed_acknowledge_deadline_emails_the_owner_and_every_active_admin_once(
    client, session, runner, clock, fake_sendgrid, people, case
):
    clock.advance(hours=4, minutes=1)

    output = run_worker(runner)
    for _ in range(3):
        clock.advance(minutes=10)
        run_worker(runner)

    assert "escalated 1" in output
    mails = escalation_mails(fake_sendgrid)
    assert sorted(m.to_email for m in mails) == [
        "alex@shop.example",
        "olivia@shop.example",
        "sam@shop.example",
    ]
    to_owner = next(m for m in mails if m.to_email == "olivia@shop.example")
    assert to_owner.subject == f"Not acknowledged in time: Ana Diaz, case #{case.id}"
    assert "Please take it now" in to_owner.text
    assert f"http://surveys.test/cases/{case.id}" in to_owner.text
    to_admin = next(m for m in mails if m.to_email == "alex@shop.example")
    assert "owned by Olivia Bennett" in to_admin.text
    stored = session.get(Case, case.id)
    assert stored.acknowledge_escalated_at == TEST_START + timedelta(hours=4, minutes=1)
    assert stored.resolve_escalated_at is None
    [event] = escalations(session, case.id)
    assert event.data["breach"] == "acknowledge" and event.actor_label == "Heart to Heart"
    # The API and the inbox say so too.
    _key, raw = make_api_key(session)
    session.commit()
    api_case = client.get(
        f"/api/v1/cases/{case.id}", headers={"Authorization": f"Bearer {raw}"}
    ).get_json()
    assert api_case["escalated"] is True
    log_in(client, people[0])
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "badge-escalated" in inbox and "overdue by" in inbox


def test_a_missed_resolve_deadline_is_a_second_breach_emailed_once(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people[0])
    clock.advance(hours=1)
    act_on_case(client, case.id, "acknowledge")
    clock.advance(hours=10)
    run_worker(runner)
    assert escalation_mails(fake_sendgrid) == []  # acknowledged in time

    clock.set(case.resolve_by + timedelta(seconds=1))
    run_worker(runner)
    clock.advance(hours=6)
    run_worker(runner)

    mails = escalation_mails(fake_sendgrid)
    assert len(mails) == 3
    assert all(m.subject.startswith("Not resolved in time") for m in mails)
    [event] = escalations(session, case.id)
    assert event.data["breach"] == "resolve"
    assert session.get(Case, case.id).resolve_escalated_at == case.resolve_by + timedelta(seconds=1)


def test_an_untouched_case_misses_both_deadlines_and_each_is_emailed_once(
    session, runner, clock, fake_sendgrid, case
):
    clock.advance(days=3)

    run_worker(runner)
    run_worker(runner)

    assert sorted(e.data["breach"] for e in escalations(session, case.id)) == [
        "acknowledge",
        "resolve",
    ]
    assert len(escalation_mails(fake_sendgrid)) == 6
    # A missed deadline is ours, not a contact with the customer: the ledger is untouched.
    assert session.scalars(select(Touchpoint.kind).where(Touchpoint.case_id == case.id)).all() == []


def test_a_resolved_or_closed_case_is_never_escalated(
    session, runner, clock, fake_sendgrid, people
):
    owner, _admins = people
    make_case(session, owner=owner, status="resolved", now=clock.now())
    make_case(session, owner=owner, status="closed", now=clock.now())
    session.commit()
    clock.advance(days=5)

    run_worker(runner)

    assert escalation_mails(fake_sendgrid) == []


def test_an_owner_who_is_also_an_admin_gets_one_email_per_breach(
    session, runner, clock, fake_sendgrid, people
):
    _owner, admins = people
    make_case(session, owner=admins[0], now=clock.now())
    session.commit()
    clock.advance(hours=5)

    run_worker(runner)

    assert sorted(m.to_email for m in escalation_mails(fake_sendgrid)) == [
        "alex@shop.example",
        "sam@shop.example",
    ]


def test_a_shorter_acknowledge_setting_applies_to_new_cases(
    session, client, runner, clock, fake_sendgrid, people
):
    set_setting(session, "acknowledge_hours", 1)
    _key, raw = make_api_key(session)
    session.commit()

    case = unhappy_customer(
        client, session, runner, fake_sendgrid, raw_key=raw, owner_email="olivia@shop.example"
    )
    assert case.acknowledge_by == clock.now() + timedelta(hours=1)
    clock.advance(minutes=61)

    run_worker(runner)

    assert len(escalation_mails(fake_sendgrid)) == 3


def test_workers_running_at_the_same_moment_escalate_each_breach_once(committed_app, tmp_path):
    """Four workers at once on the same overdue cases: each breach is emailed exactly once."""
    committed_app.extensions["clock"] = FrozenClock(TEST_START + timedelta(days=3))
    factory = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), factory() as setup:
        owner = make_user(setup, email="olivia@shop.example")
        make_user(setup, role="admin", email="alex@shop.example")
        case_ids = [make_case(setup, owner=owner, now=TEST_START).id for _ in range(5)]
        setup.commit()

    errors = []

    def work() -> None:
        try:
            with committed_app.app_context():
                Worker(FileSender(tmp_path / "outbox")).run_timed_jobs(PassReport())
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with committed_app.app_context(), factory() as check:
        # Two breaches per case, two people per breach.
        assert (
            check.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.template == "escalation")
            )
            == len(case_ids) * 2 * 2
        )
        assert (
            check.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == "escalated"))
            == len(case_ids) * 2
        )


# --- the unconfirmed close ---------------------------------------------------------------------


def test_a_fix_check_unanswered_for_7_days_closes_the_case_unconfirmed(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people[0])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    clock.advance(hours=2)
    run_worker(runner)  # the fix-check reaches Ana now
    sent_at = clock.now()

    clock.set(sent_at + timedelta(days=7) - timedelta(minutes=1))
    run_worker(runner)
    assert session.get(Case, case.id).status == "resolved"

    clock.set(sent_at + timedelta(days=7, minutes=1))
    output = run_worker(runner)
    run_worker(runner)

    assert "closed unconfirmed 1" in output
    closed = session.get(Case, case.id)
    assert (closed.status, closed.closed_reason) == ("closed", "unconfirmed")
    assert closed.closed_at == sent_at + timedelta(days=7, minutes=1)
    [event] = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "closed")
    ).all()
    assert "did not tell us within 7 days" in event.body
    assert event.actor_label == "Heart to Heart"


def test_the_fix_check_window_follows_its_setting(
    client, session, runner, clock, fake_sendgrid, people, case
):
    set_setting(session, "fix_check_days", 2)
    session.commit()
    log_in(client, people[0])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)

    clock.advance(days=2, minutes=1)
    run_worker(runner)

    assert session.get(Case, case.id).closed_reason == "unconfirmed"


def test_a_late_no_after_an_unconfirmed_close_still_reopens_the_case(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people[0])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)
    clock.advance(days=8)
    run_worker(runner)
    assert session.get(Case, case.id).status == "closed"

    answer_survey(
        client,
        latest_fix_check_path(fake_sendgrid, "ana@example.com"),
        {"fix_worked": "no", "anything_else": "Still broken."},
    )

    reopened = session.get(Case, case.id)
    assert reopened.status == "acknowledged" and reopened.closed_at is None
    assert reopened.owner_id == people[0].id
    run_worker(runner)
    assert [m.categories for m in mails_to(fake_sendgrid, "olivia@shop.example")][-1] == [
        "case_reopened"
    ]


def test_a_late_yes_after_an_unconfirmed_close_makes_it_confirmed(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people[0])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)
    clock.advance(days=8)
    run_worker(runner)

    answer_survey(
        client, latest_fix_check_path(fake_sendgrid, "ana@example.com"), {"fix_worked": "yes"}
    )

    closed = session.get(Case, case.id)
    assert (closed.status, closed.closed_reason) == ("closed", "confirmed")
