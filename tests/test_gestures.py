"""Pleasant surprises and service heroics: an owner records a gesture from the customer or case
page (or with a resolution) within the monthly allowance an admin set; over it, it is refused
and nothing changes. Each gesture is a positive touch credited to its owner."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from surveys.models import AuditEntry, CaseEvent, Gesture, Touchpoint
from surveys.services.settings import set_setting
from tests.factories import make_case, make_customer, make_user
from tests.pages import page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def people(session):
    olivia = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    admin = make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    set_setting(session, "shop_currency", "EUR")
    session.commit()
    return {"olivia": olivia, "admin": admin}


@pytest.fixture
def ana_case(session, people, clock):
    customer = make_customer(
        session, email="ana@example.com", name="Ana Diaz", owner=people["olivia"]
    )
    case = make_case(session, owner=people["olivia"], customer=customer, now=clock.now())
    session.commit()
    return case


def set_allowance(client, people, amount: str):
    """An admin sets Olivia's allowance on the users page, then Olivia logs back in."""
    log_in(client, people["admin"])
    response = client.post(
        f"/admin/users/{people['olivia'].id}/gesture-allowance",
        data={"allowance": amount, "csrf_token": csrf_token(client, "/admin/users")},
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    return response


def record(client, path: str, token_from: str, **fields):
    data = {f"gesture-{name}": value for name, value in fields.items()}
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def gestures(session) -> list[Gesture]:
    return list(session.scalars(select(Gesture).order_by(Gesture.id)))


def touches(session, customer_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Touchpoint).where(Touchpoint.customer_id == customer_id)
    )


def test_gestures_within_the_allowance_are_recorded_and_over_it_refused(
    client, session, clock, people, ana_case
):
    customer_id = ana_case.customer_id
    assert set_allowance(client, people, "50").status_code == 302
    session.refresh(people["olivia"])
    assert people["olivia"].monthly_gesture_allowance == Decimal("50.00")
    assert session.scalar(
        select(AuditEntry.action).where(AuditEntry.action == "user.gesture_allowance")
    )
    log_in(client, people["olivia"])
    profile = f"/customers/{customer_id}"

    card = record(
        client,
        f"/customers/{customer_id}/gestures",
        profile,
        kind="card",
        cost="20",
        note="Thanks!",
    )
    assert card.status_code == 302
    [gesture] = gestures(session)
    assert (gesture.kind, gesture.cost, gesture.currency, gesture.owner_id, gesture.case_id) == (
        "card",
        Decimal("20.00"),
        "EUR",
        people["olivia"].id,
        None,
    )
    touch = session.get(Touchpoint, gesture.touchpoint_id)
    assert (touch.kind, touch.polarity) == ("gesture", "positive")
    shown = page(client.get(profile))
    assert "A handwritten card · €20.00: Thanks!" in text_of(shown.region("Gestures"))
    assert "Left this month: €30.00 of €50.00" in text_of(shown.region("Gestures"))

    case_page = f"/cases/{ana_case.id}"
    assert "Left this month: €30.00." in page(client.get(case_page)).text
    before = touches(session, customer_id)
    over = record(client, f"/cases/{ana_case.id}/gestures", case_page, kind="gift", cost="30.01")
    assert over.status_code == 422
    [message] = page(over).field_errors("gesture-cost")
    assert "€30.00 of €50.00" in message and "An admin can raise your allowance" in message
    assert len(gestures(session)) == 1 and touches(session, customer_id) == before

    upgrade = record(client, f"/cases/{ana_case.id}/gestures", case_page, kind="upgrade", cost="30")
    assert upgrade.status_code == 302
    timeline = page(client.get(case_page)).region("Conversation")
    assert "A gesture for the customer by Olivia Bennett" in text_of(timeline)
    assert "An upgrade (30.00 EUR)" in text_of(timeline)
    assert "Left this month: €0.00." in page(client.get(case_page)).text
    # Free gestures need no allowance.
    assert (
        record(client, f"/cases/{ana_case.id}/gestures", case_page, kind="call").status_code == 302
    )

    clock.set(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))  # a new month, a new allowance
    assert "Left this month: €50.00." in page(client.get(case_page)).text


def test_without_an_allowance_only_free_gestures_and_an_admin_may_spend(
    client, session, clock, people, ana_case
):
    customer_id = ana_case.customer_id
    log_in(client, people["olivia"])
    profile = f"/customers/{customer_id}"

    refused = record(client, f"/customers/{customer_id}/gestures", profile, kind="gift", cost="5")
    assert refused.status_code == 422
    [message] = page(refused).field_errors("gesture-cost")
    assert "no gesture allowance" in message and "admin" in message
    assert gestures(session) == []

    assert (
        record(client, f"/customers/{customer_id}/gestures", profile, kind="call").status_code
        == 302
    )

    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    log_in(client, people["admin"])
    response = record(client, f"/customers/{customer_id}/gestures", profile, kind="gift", cost="80")
    assert response.status_code == 302
    assert [(g.kind, g.owner_id) for g in gestures(session)] == [
        ("call", people["olivia"].id),
        ("gift", people["admin"].id),
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "", "cost": ""}, "gesture-kind"),
        ({"kind": "yacht", "cost": ""}, "gesture-kind"),
        ({"kind": "card", "cost": "twelve"}, "gesture-cost"),
        ({"kind": "card", "cost": "-3"}, "gesture-cost"),
        ({"kind": "card", "cost": "1.005"}, "gesture-cost"),
        ({"kind": "card", "note": "Tha\x00nks"}, "gesture-note"),
    ],
)
def test_a_gesture_that_cannot_be_kept_is_refused_at_its_field(
    client, session, clock, people, ana_case, fields, field
):
    log_in(client, people["olivia"])
    customer_id = ana_case.customer_id

    response = record(
        client, f"/customers/{customer_id}/gestures", f"/customers/{customer_id}", **fields
    )

    assert response.status_code == 422
    assert page(response).field_errors(field)
    assert gestures(session) == []


def test_resolving_a_case_can_record_the_gesture_that_went_with_the_fix(
    client, session, clock, people, ana_case
):
    set_allowance(client, people, "25")
    log_in(client, people["olivia"])
    case_page = f"/cases/{ana_case.id}"

    over = client.post(
        f"/cases/{ana_case.id}/resolve",
        data={
            "resolution": "Sent a new keyboard by express.",
            "ask_in_days": "2",
            "gesture_kind": "gift",
            "gesture_cost": "40",
            "csrf_token": csrf_token(client, case_page),
        },
    )
    assert over.status_code == 422
    assert "€25.00" in page(over).field_errors("gesture_cost")[0]
    session.refresh(ana_case)
    assert ana_case.status == "open" and gestures(session) == []

    response = client.post(
        f"/cases/{ana_case.id}/resolve",
        data={
            "resolution": "Sent a new keyboard by express.",
            "ask_in_days": "2",
            "gesture_kind": "upgrade",
            "gesture_cost": "25",
            "csrf_token": csrf_token(client, case_page),
        },
    )
    assert response.status_code == 302
    session.refresh(ana_case)
    assert ana_case.status == "resolved"
    [gesture] = gestures(session)
    assert (gesture.kind, gesture.cost, gesture.case_id) == (
        "upgrade",
        Decimal("25.00"),
        ana_case.id,
    )
    assert (
        session.scalar(
            select(CaseEvent.body).where(
                CaseEvent.case_id == ana_case.id, CaseEvent.kind == "gesture"
            )
        )
        == "An upgrade (25.00 EUR)"
    )


def test_the_dashboard_counts_gestures_and_heroics_per_owner(
    client, session, clock, people, ana_case
):
    log_in(client, people["olivia"])
    customer_id = ana_case.customer_id
    record(client, f"/customers/{customer_id}/gestures", f"/customers/{customer_id}", kind="card")
    for kind in ("call", "beyond"):
        record(client, f"/cases/{ana_case.id}/gestures", f"/cases/{ana_case.id}", kind=kind)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    log_in(client, people["admin"])

    dashboard = page(client.get("/admin/dashboard"))

    rows = dashboard.table_rows(dashboard.region("Gestures this month").find("table"))
    assert rows == [
        {
            "Owner": "Olivia Bennett",
            "Pleasant surprises": "1",
            "Service heroics": "2",
            "Spent": "€0.00",
        }
    ]


def test_an_allowance_that_is_not_an_amount_is_refused_at_its_field(client, session, clock, people):
    log_in(client, people["admin"])
    response = client.post(
        f"/admin/users/{people['olivia'].id}/gesture-allowance",
        data={"allowance": "lots", "csrf_token": csrf_token(client, "/admin/users")},
    )

    assert response.status_code == 422
    assert page(response).field_errors(
        "allowance", within=page(response).by_id(f"user-{people['olivia'].id}")
    )
    session.refresh(people["olivia"])
    assert people["olivia"].monthly_gesture_allowance is None
