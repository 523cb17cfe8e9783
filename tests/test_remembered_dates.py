"""Dates that matter: an owner records them on the customer page, confirms or refuses the
dates the page suggests, and the worker reminds the account owner once per occurrence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from surveys.db import db
from surveys.models import (
    CustomerNote,
    CustomerPreference,
    OutboxMessage,
    RefusedDateSuggestion,
    RememberedDate,
)
from surveys.services.customers.erasure import erase_customer
from surveys.services.occasions.reminders import queue_date_reminders
from surveys.services.settings import set_setting
from tests.factories import make_customer, make_purchase, make_user
from tests.journey import run_worker
from tests.pages import page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def olivia(session):
    return make_user(session, email="olivia@shop.example", name="Olivia Bennett")


@pytest.fixture
def ana(session, olivia, clock):
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz", owner=olivia)
    make_purchase(
        session,
        customer,
        order_id="A-1001",
        purchased_at=datetime(2026, 10, 5, 15, 0, tzinfo=UTC),
        items=[{"sku": "KB-1", "name": "Walnut keyboard", "quantity": 1}],
    )
    session.add(CustomerNote(customer_id=customer.id, author_id=olivia.id, body="Loves walnut."))
    session.commit()
    return customer


def profile_path(customer) -> str:
    return f"/customers/{customer.id}"


def add_date(client, customer, **fields):
    data = {"label": "Birthday", "day": "1", "month": "12", "year": "", "yearly": "y"}
    data.update(fields)
    if data.get("yearly") is None:
        data.pop("yearly")
    token = csrf_token(client, profile_path(customer))
    return client.post(f"/customers/{customer.id}/dates", data={**data, "csrf_token": token})


def dates_of(session, customer) -> list[RememberedDate]:
    return list(
        session.scalars(
            select(RememberedDate)
            .where(RememberedDate.customer_id == customer.id)
            .order_by(RememberedDate.id)
        )
    )


def date_reminders(fake_sendgrid) -> list:
    return [mail for mail in fake_sendgrid.accepted if mail.categories == ["date_coming_up"]]


def test_a_reminder_goes_once_per_occurrence_and_again_the_next_year(
    client, session, runner, clock, fake_sendgrid, olivia, ana
):
    session.add(
        CustomerPreference(customer_id=ana.id, body="Please write rather than call, I work nights.")
    )
    session.commit()
    log_in(client, olivia)
    response = add_date(client, ana, label="Birthday", day="1", month="12")
    assert response.status_code == 302
    [birthday] = dates_of(session, ana)
    assert (birthday.next_occurrence.isoformat(), birthday.yearly) == ("2026-12-01", True)
    assert birthday.recorded_by_id == olivia.id

    run_worker(runner)  # 23 November: 1 December is 8 days away, one more than the 7 of notice
    assert date_reminders(fake_sendgrid) == []

    clock.advance(days=1)
    for _ in range(3):  # however often the worker runs
        run_worker(runner)
    clock.advance(days=3)
    run_worker(runner)

    [reminder] = date_reminders(fake_sendgrid)
    assert reminder.to_email == "olivia@shop.example"
    assert reminder.subject == "Birthday for Ana Diaz: in 7 days"
    for known in (
        "1 December 2026",
        "Loves walnut.",  # the notes
        "I work nights",  # their own words
        "A-1001",  # their last purchase
        "A handwritten birthday card",  # a gesture that fits
        f"/customers/{ana.id}",
    ):
        assert known in reminder.text, known
        assert known in reminder.html, known
    session.refresh(birthday)
    assert birthday.next_occurrence.isoformat() == "2027-12-01"

    # Still coming up in the inbox until the day, though the reminder went.
    inbox = page(client.get("/inbox"))
    coming_up = inbox.region("Coming up")
    assert "1 December" in text_of(coming_up) and "Birthday" in text_of(coming_up)

    clock.set(datetime(2027, 11, 24, 9, 0, tzinfo=UTC))
    run_worker(runner)
    run_worker(runner)
    reminders = date_reminders(fake_sendgrid)
    assert len(reminders) == 2
    assert "1 December 2027" in reminders[1].text


def test_a_yearly_29_february_falls_on_the_28th_in_other_years(
    client, session, runner, clock, fake_sendgrid, olivia, ana
):
    log_in(client, olivia)
    refused = add_date(client, ana, label="Leap birthday", day="29", month="2", year="2027")
    assert refused.status_code == 422
    assert page(refused).field_errors("day") == ["2027 has no 29 February."]
    assert dates_of(session, ana) == []

    assert add_date(client, ana, label="Leap birthday", day="29", month="2").status_code == 302
    [leap] = dates_of(session, ana)
    assert leap.next_occurrence.isoformat() == "2027-02-28"

    clock.set(datetime(2027, 2, 21, 9, 0, tzinfo=UTC))
    run_worker(runner)
    [reminder] = date_reminders(fake_sendgrid)
    assert "28 February 2027" in reminder.text
    session.refresh(leap)
    assert leap.next_occurrence.isoformat() == "2028-02-29"


def test_a_day_the_month_does_not_have_is_refused_at_the_field(client, session, olivia, ana):
    log_in(client, olivia)

    april = add_date(client, ana, day="31", month="4")
    nul = add_date(client, ana, label="Birth\x00day")
    nothing = add_date(client, ana, label="", day="", month="")

    assert april.status_code == 422
    assert page(april).field_errors("day") == ["April has 30 days."]
    assert nul.status_code == 422
    assert page(nul).field_errors("label")
    assert nothing.status_code == 422
    assert page(nothing).field_errors("label")
    assert dates_of(session, ana) == []


def test_a_reminder_goes_to_whoever_routing_chooses_when_the_owner_has_left(
    client, session, runner, clock, fake_sendgrid, olivia, ana
):
    admin = make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    session.commit()
    log_in(client, olivia)
    add_date(client, ana, label="Birthday", day="25", month="11")
    olivia.active = False
    session.commit()

    run_worker(runner)

    [reminder] = date_reminders(fake_sendgrid)
    assert reminder.to_email == admin.email
    assert reminder.subject == "Birthday for Ana Diaz: in 2 days"


def test_the_notice_is_a_setting(client, session, runner, clock, fake_sendgrid, olivia, ana):
    set_setting(session, "date_reminder_days", 0)
    session.commit()
    log_in(client, olivia)
    add_date(client, ana, label="Birthday", day="24", month="11")

    run_worker(runner)
    assert date_reminders(fake_sendgrid) == []
    clock.advance(days=1)
    run_worker(runner)
    [reminder] = date_reminders(fake_sendgrid)
    assert reminder.subject == "Birthday for Ana Diaz: today"


def suggestions(response) -> dict[str, str]:
    """Each suggested date as the page shows it, to the label its form offers."""
    shown = page(response)
    found = {}
    for item in shown.all("li.date-suggestion"):
        when = text_of(item.find("strong"))
        found[when] = shown.field_value(
            next(c["name"] for c in item.find_all("input") if c["name"].endswith("label")),
            within=item,
        )
    return found


def test_a_suggested_date_is_confirmed_and_another_refused(client, session, clock, olivia, ana):
    session.add(
        CustomerPreference(
            customer_id=ana.id, body="My daughter graduates on June 12! Call me now, today."
        )
    )
    note = CustomerNote(
        customer_id=ana.id, author_id=olivia.id, body="Our wedding anniversary is 3rd of March."
    )
    session.add(note)
    session.commit()
    log_in(client, olivia)

    shown = client.get(profile_path(ana))
    assert suggestions(shown) == {
        "12 June": "My daughter graduates",
        "3 March": "Our wedding anniversary",
        "5 October": "First order anniversary",
    }
    assert dates_of(session, ana) == []  # suggestions are never saved by themselves

    june = next(i for i in page(shown).all("li.date-suggestion") if "12 June" in text_of(i))
    confirm = june.find("form")
    label_name = next(c["name"] for c in confirm.find_all("input") if c["name"].endswith("label"))
    token = csrf_token(client, profile_path(ana))
    response = client.post(
        confirm["action"], data={label_name: "Emma’s graduation", "csrf_token": token}
    )
    assert response.status_code == 302

    march = next(i for i in page(shown).all("li.date-suggestion") if "3 March" in text_of(i))
    refuse = march.find_all("form")[1]
    assert "Not a date" in text_of(refuse)
    response = client.post(refuse["action"], data={"csrf_token": token})
    assert response.status_code == 302

    [graduation] = dates_of(session, ana)
    assert (graduation.label, graduation.day, graduation.month, graduation.year) == (
        "Emma’s graduation",
        12,
        6,
        None,
    )
    assert (graduation.yearly, graduation.source) == (False, "suggestion")  # box left unticked
    assert graduation.next_occurrence.isoformat() == "2027-06-12"
    assert session.scalar(select(func.count()).select_from(RefusedDateSuggestion)) == 1
    again = client.get(profile_path(ana))
    assert suggestions(again) == {"5 October": "First order anniversary"}
    assert "Emma’s graduation" in text_of(page(again).region("Dates that matter"))

    # Refusing or confirming twice (another tab) changes nothing more.
    response = client.post(refuse["action"], data={"csrf_token": token})
    assert response.status_code == 302
    assert session.scalar(select(func.count()).select_from(RefusedDateSuggestion)) == 1
    assert len(dates_of(session, ana)) == 1


def test_the_first_order_anniversary_is_offered_and_kept_yearly(client, session, olivia, ana):
    log_in(client, olivia)
    shown = page(client.get(profile_path(ana)))
    [offer] = shown.all("li.date-suggestion")
    assert "their first order" in text_of(offer)
    confirm = offer.find("form")
    names = {c["name"] for c in confirm.find_all("input") if c.get("type") != "hidden"}
    label_name = next(n for n in names if n.endswith("label"))
    yearly_name = next(n for n in names if n.endswith("yearly"))
    assert shown.field_value(yearly_name, within=offer) == ["y"]

    response = client.post(
        confirm["action"],
        data={
            label_name: "First order anniversary",
            yearly_name: "y",
            "csrf_token": csrf_token(client, profile_path(ana)),
        },
    )

    assert response.status_code == 302
    [anniversary] = dates_of(session, ana)
    assert (anniversary.day, anniversary.month, anniversary.yearly) == (5, 10, True)
    assert anniversary.source == "first_order"
    assert anniversary.next_occurrence.isoformat() == "2027-10-05"


def test_a_confirmed_suggestion_needs_a_label(client, session, olivia, ana):
    log_in(client, olivia)
    offer = page(client.get(profile_path(ana))).one("li.date-suggestion")
    confirm = offer.find("form")
    label_name = next(c["name"] for c in confirm.find_all("input") if c["name"].endswith("label"))

    response = client.post(
        confirm["action"],
        data={label_name: "  ", "csrf_token": csrf_token(client, profile_path(ana))},
    )

    assert response.status_code == 422
    assert page(response).field_errors(label_name)
    assert dates_of(session, ana) == []


def test_a_date_is_forgotten_and_another_owner_cannot_touch_it(client, session, olivia, ana):
    other = make_user(session, email="ben@shop.example", name="Ben Baker")
    session.commit()
    log_in(client, olivia)
    add_date(client, ana)
    [birthday] = dates_of(session, ana)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    log_in(client, other)
    refused = client.post(
        f"/customers/{ana.id}/dates/{birthday.id}/delete",
        data={"csrf_token": csrf_token(client, "/inbox")},
    )
    assert refused.status_code == 404
    assert "Coming up" not in page(client.get("/inbox")).text
    assert len(dates_of(session, ana)) == 1

    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    log_in(client, olivia)
    response = client.post(
        f"/customers/{ana.id}/dates/{birthday.id}/delete",
        data={"csrf_token": csrf_token(client, "/inbox")},
    )
    assert response.status_code == 302
    assert dates_of(session, ana) == []


def test_a_reminder_for_a_date_forgotten_meanwhile_is_not_sent(
    client, session, runner, clock, fake_sendgrid, olivia, ana
):
    log_in(client, olivia)
    add_date(client, ana, day="25", month="11")
    [birthday] = dates_of(session, ana)
    assert queue_date_reminders(session, clock.now()) == 1
    session.commit()
    client.post(
        f"/customers/{ana.id}/dates/{birthday.id}/delete",
        data={"csrf_token": csrf_token(client, "/inbox")},
    )

    run_worker(runner)

    assert date_reminders(fake_sendgrid) == []
    message = session.scalar(
        select(OutboxMessage).where(OutboxMessage.template == "date_coming_up")
    )
    assert message.status == "cancelled"


def test_the_reminder_job_seeks_the_dates_due_and_nothing_else(session, clock, olivia, ana):
    far = RememberedDate(
        customer_id=ana.id,
        label="Far away",
        day=1,
        month=6,
        yearly=True,
        next_occurrence=(clock.now() + timedelta(days=190)).date(),
    )
    session.add(far)
    session.flush()

    assert queue_date_reminders(session, clock.now()) == 0
    assert far.next_occurrence == (clock.now() + timedelta(days=190)).date()


def test_erasing_a_customer_forgets_their_dates(client, session, clock, olivia, ana):
    log_in(client, olivia)
    add_date(client, ana, label="Emma’s graduation", day="12", month="6")

    erase_customer(session, ana, now=clock.now())
    session.commit()

    assert dates_of(session, ana) == []


def test_two_workers_at_once_remind_of_each_occurrence_once(committed_app):
    now = datetime.now(UTC)
    soon = (now + timedelta(days=3)).date()
    with committed_app.app_context():
        session = db.session()
        owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
        for number in range(20):
            customer = make_customer(session, owner=owner, email=f"c{number}@example.com")
            session.add(
                RememberedDate(
                    customer_id=customer.id,
                    label="Birthday",
                    day=soon.day,
                    month=soon.month,
                    yearly=True,
                    next_occurrence=soon,
                )
            )
        session.commit()

    counts: list[int] = []
    barrier = threading.Barrier(2)

    def queue():
        with committed_app.app_context():
            session = db.session()
            barrier.wait()
            counts.append(queue_date_reminders(session, now))
            session.commit()

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with committed_app.app_context():
        session = db.session()
        reminded = session.scalars(
            select(OutboxMessage.customer_id).where(OutboxMessage.template == "date_coming_up")
        ).all()
        assert sum(counts) == 20
        assert len(reminded) == len(set(reminded)) == 20
        assert (
            session.scalar(
                select(func.count())
                .select_from(RememberedDate)
                .where(RememberedDate.next_occurrence == soon)
            )
            == 0
        )
