"""The admin dashboard: open and overdue cases, this week's responses and their negative share,
mail that failed, and a way to every admin page."""

from __future__ import annotations

from datetime import timedelta

from surveys.models import OutboxMessage
from surveys.services.dashboard import overview
from tests.factories import make_case, make_user
from tests.pages import page
from tests.web import log_in


def test_the_dashboard_counts_what_needs_attention(client, session, clock):
    admin = make_user(session, role="admin")
    owner = make_user(session, name="Olivia Owner")
    now = clock.now()
    make_case(session, owner=owner, now=now - timedelta(hours=5))  # open, overdue
    make_case(session, owner=owner, now=now)  # open, on time
    make_case(
        session,
        owner=owner,
        now=now - timedelta(days=3),  # resolve overdue
        status="acknowledged",
    )
    make_case(
        session,
        owner=owner,
        now=now - timedelta(days=10),  # an old answer
        status="resolved",
    )
    make_case(session, owner=owner, now=now, status="closed", answers={"expectations": "meeting"})
    session.add(
        OutboxMessage(
            template="survey",
            to_email="x@example.com",
            status="failed",
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.commit()

    numbers = overview(session, now=now)
    assert (
        numbers.open_cases,
        numbers.unacknowledged_cases,
        numbers.overdue_cases,
        numbers.waiting_on_customer,
    ) == (3, 2, 2, 1)
    # Responses of the last seven days: four, three of them negative.
    assert (numbers.responses_this_week, numbers.negative_this_week) == (4, 3)
    assert numbers.negative_share == 0.75
    assert numbers.outbox_failed == 1

    log_in(client, admin)
    shown = page(client.get("/admin/dashboard"))
    assert shown.stats()["overdue cases"] == "2"
    assert "75%" in shown.stats().values()
    assert "failed email" in shown.text
    assert "Olivia Owner" in shown.text
    assert {
        "/admin/question-sets",
        "/admin/routing",
        "/admin/users",
        "/admin/settings",
        "/admin/audit",
    } <= set(shown.links().values())


def test_an_empty_week_shows_no_share(client, session, clock):
    admin = make_user(session, role="admin")
    session.commit()
    assert overview(session, now=clock.now()).negative_share is None
    log_in(client, admin)
    response = client.get("/admin/", follow_redirects=True)
    assert response.status_code == 200
    assert "How we are doing" in response.get_data(as_text=True)
