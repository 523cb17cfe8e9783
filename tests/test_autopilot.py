"""Autopilot: a member is invited to the relationship review every configured interval, by the
worker's timed job, once a turn, with the throttle and unsubscribes holding."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from surveys.models import AutopilotMembership, Survey
from surveys.services.customers.autopilot import (
    invite_due_members,
    join_autopilot,
    leave_autopilot,
)
from surveys.services.customers.erasure import erase_customer
from surveys.services.customers.unsubscribe import unsubscribe_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from surveys.services.surveys.scheduling import schedule_survey
from surveys.services.timed_work import timed_jobs


def reviews(session) -> list[tuple[str, str]]:
    """(status, customer email) of every relationship review, in the order they were made."""
    return [
        (survey.status, survey.customer.email)
        for survey in session.scalars(
            select(Survey).where(Survey.kind == "relationship_review").order_by(Survey.id)
        )
    ]


def test_a_member_is_invited_once_a_turn_and_again_after_the_interval(session, clock):
    join_autopilot(session, "ana@example.com", {"Plan": "pro"}, now=clock.now())

    first = invite_due_members(session, clock.now())
    again = invite_due_members(session, clock.now())
    clock.advance(days=89)
    too_soon = invite_due_members(session, clock.now())
    clock.advance(days=1)
    next_turn = invite_due_members(session, clock.now())

    assert (first, again, too_soon, next_turn) == (1, 0, 0, 1)
    assert reviews(session) == [
        ("scheduled", "ana@example.com"),
        ("scheduled", "ana@example.com"),
    ]


def test_the_interval_is_the_admins_setting(session, clock):
    set_setting(session, "autopilot_interval_days", 30)
    join_autopilot(session, "ana@example.com", {}, now=clock.now())
    invite_due_members(session, clock.now())

    clock.advance(days=30)

    assert invite_due_members(session, clock.now()) == 1


def test_the_throttle_and_unsubscribes_hold(session, clock):
    bo = join_autopilot(session, "bo@example.com", {}, now=clock.now()).customer
    cy = join_autopilot(session, "cy@example.com", {}, now=clock.now()).customer
    schedule_survey(
        session,
        customer=bo,
        kind="purchase",
        question_set=get_question_set(session, "heart-to-heart"),
        now=clock.now(),
    )
    unsubscribe_customer(session, cy, now=clock.now())

    invite_due_members(session, clock.now())

    assert reviews(session) == [("throttled", "bo@example.com"), ("suppressed", "cy@example.com")]


def test_joining_again_replaces_the_properties_and_keeps_the_turn(session, clock):
    join_autopilot(session, "ana@example.com", {"Plan": "pro"}, now=clock.now())
    invite_due_members(session, clock.now())
    clock.advance(days=3)

    membership = join_autopilot(session, "ana@example.com", {"Plan": "team"}, now=clock.now())

    assert membership.properties == {"Plan": "team"}
    assert membership.next_invite_at == clock.now() - timedelta(days=3) + timedelta(days=90)
    assert invite_due_members(session, clock.now()) == 0


def test_leaving_cancels_the_review_not_yet_sent(session, clock):
    ana = join_autopilot(session, "ana@example.com", {}, now=clock.now()).customer
    invite_due_members(session, clock.now())

    assert leave_autopilot(session, ana) is True
    assert leave_autopilot(session, ana) is False
    assert reviews(session) == [("cancelled", "ana@example.com")]
    assert session.scalars(select(AutopilotMembership)).all() == []


def test_an_erased_customer_leaves_autopilot(session, clock):
    ana = join_autopilot(session, "ana@example.com", {}, now=clock.now()).customer

    erase_customer(session, ana, now=clock.now())

    assert session.scalars(select(AutopilotMembership)).all() == []


def test_the_worker_runs_the_invitations():
    assert ("autopilot members invited", invite_due_members) in timed_jobs()
