"""/admin/neglected: customers short of ten positive touches per negative one, or untouched for
90 days, most neglected first; inviting the chosen ones to a relationship review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import AuditEntry, Case, Survey
from surveys.services.customers.neglect import PAGE_SIZE
from surveys.services.customers.touchpoints import record_touchpoint
from surveys.services.customers.unsubscribe import unsubscribe_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_customer, make_user
from tests.journey import answer_survey, mails_to, run_worker, survey_path
from tests.pages import page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def admin(session):
    user = make_user(session, role="admin", name="Alex Morgan")
    session.commit()
    return user


def customer_with(
    session,
    clock,
    name: str,
    *,
    positive: int = 0,
    negative: int = 0,
    days_ago: int = 0,
    known_for_days: int = 365,
    **extra,
):
    """A customer known for `known_for_days`, with touches `days_ago`."""
    email = f"{name.split()[0].lower()}@example.com"
    customer = make_customer(session, email=email, name=name, **extra)
    customer.created_at = clock.now() - timedelta(days=known_for_days)
    for polarity, count in (("positive", positive), ("negative", negative)):
        for _ in range(count):
            record_touchpoint(
                session,
                customer=customer,
                kind="call",
                polarity=polarity,
                now=clock.now(),
                occurred_at=clock.now() - timedelta(days=days_ago),
            )
    return customer


def names_listed(html: str) -> list[str]:
    return [text_of(label.strong) for label in page(html).all('label[for^="customer-"]')]


def invite(client, ids: list[int]):
    token = csrf_token(client, "/admin/neglected")
    return client.post(
        "/admin/neglected/invite", data={"customer_ids": [str(i) for i in ids], "csrf_token": token}
    )


def test_the_list_holds_who_is_short_of_ten_to_one_or_untouched_most_neglected_first(
    client, session, clock, admin
):
    customer_with(session, clock, "Ratio Short", positive=2, negative=1)  # 8 short
    customer_with(session, clock, "Barely Short", positive=9, negative=1)  # 1 short
    customer_with(session, clock, "Long Silent", positive=20, days_ago=200)  # 200 days quiet
    customer_with(session, clock, "Never Touched", known_for_days=120)  # 120 days quiet
    customer_with(session, clock, "Well Loved", positive=10, negative=1)  # aim met
    customer_with(session, clock, "Brand New", known_for_days=3)  # too new to tell
    customer_with(session, clock, "Recent Friend", positive=1, days_ago=89)  # touched lately
    erased = customer_with(session, clock, "Erased Person", positive=1, negative=1)
    erased.erased_at = clock.now()
    session.commit()
    log_in(client, admin)

    html = client.get("/admin/neglected").get_data(as_text=True)

    # Longest without a positive touch first (a customer never touched well counts from when
    # we first knew them).
    assert names_listed(html) == ["Long Silent", "Never Touched", "Ratio Short", "Barely Short"]
    by_shortfall = client.get("/admin/neglected?sort=shortfall").get_data(as_text=True)
    assert names_listed(by_shortfall) == [
        "Ratio Short",
        "Barely Short",
        "Long Silent",
        "Never Touched",
    ]
    listed = page(html).text
    assert "2 positive, 1 negative · 8 short of 10 to 1" in listed
    assert "last positive touch 200 days ago" in listed
    assert "no positive touch in 120 days" in listed


def test_the_page_is_for_admins_only(client, session):
    owner = make_user(session)
    session.commit()

    assert client.get("/admin/neglected").status_code == 302  # to the login page
    log_in(client, owner)
    assert client.get("/admin/neglected").status_code == 403
    token = csrf_token(client, "/inbox")
    assert (
        client.post(
            "/admin/neglected/invite", data={"customer_ids": ["1"], "csrf_token": token}
        ).status_code
        == 403
    )
    assert session.scalars(select(Survey)).all() == []


def test_inviting_the_chosen_respects_suppression_and_the_throttle_and_is_audited(
    client, session, clock, admin
):
    chosen = customer_with(session, clock, "Ratio Short", positive=1, negative=1)
    not_chosen = customer_with(session, clock, "Barely Short", positive=9, negative=1)
    gone = customer_with(session, clock, "Gone Away", positive=1, negative=1)
    unsubscribe_customer(session, gone, now=clock.now())
    recent = customer_with(session, clock, "Recently Asked", positive=1, negative=1)
    schedule_survey(
        session,
        customer=recent,
        kind="purchase",
        question_set=get_question_set(session, "heart-to-heart"),
        now=clock.now() - timedelta(days=3),
    )
    session.commit()
    log_in(client, admin)

    response = invite(client, [chosen.id, gone.id, recent.id])

    assert response.status_code == 302
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invited 2 customers to a relationship review." in flashed
    opens = clock.now() + timedelta(days=27)
    assert (
        f"1 was surveyed recently: the invitation waits and goes on {opens:%-d %b %Y, %H:%M} UTC"
        in flashed
    )
    assert "1 has unsubscribed or bounced, so is never asked." in flashed
    reviews = {
        s.customer_id: (s.status, s.send_at)
        for s in session.scalars(select(Survey).where(Survey.kind == "relationship_review"))
    }
    # The throttled invitation is not dropped: it waits for the window to open.
    assert reviews == {
        chosen.id: ("scheduled", clock.now()),
        gone.id: ("suppressed", None),
        recent.id: ("scheduled", opens),
    }
    assert not_chosen.id not in reviews
    [entry] = session.scalars(select(AuditEntry)).all()
    assert entry.action == "customers.invited_to_review"
    assert entry.actor_user_id == admin.id
    assert entry.after == {
        "survey": {
            str(chosen.id): "scheduled",
            str(gone.id): "suppressed",
            str(recent.id): "scheduled",
        }
    }


def test_inviting_nobody_is_refused(client, session, clock, admin):
    customer_with(session, clock, "Ratio Short", positive=1, negative=1)
    session.commit()
    log_in(client, admin)

    response = invite(client, [])

    assert response.status_code == 422
    assert "Choose at least one customer to invite." in response.get_data(as_text=True)
    assert session.scalars(select(AuditEntry)).all() == []


def test_an_invited_customer_answering_unhappily_gets_a_case_like_any_other(
    client, session, runner, clock, fake_sendgrid, admin
):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    customer = customer_with(session, clock, "Ratio Short", positive=1, negative=1, owner=owner)
    session.commit()
    log_in(client, admin)
    invite(client, [customer.id])

    run_worker(runner)
    [mail] = mails_to(fake_sendgrid, customer.email)
    assert mail.subject == "Ratio, are we still exceeding your expectations?"
    answer_survey(
        client, survey_path(mail), {"expectations": "short", "issues": "Nobody calls me back."}
    )

    [case] = session.scalars(select(Case)).all()
    assert case.customer_id == customer.id and case.owner_id == owner.id
    run_worker(runner)
    [owner_mail] = mails_to(fake_sendgrid, "olivia@shop.example")
    assert "Nobody calls me back." in owner_mail.text


def test_the_list_is_paged_with_nobody_hidden(client, session, clock, admin):
    for number in range(PAGE_SIZE * 2 + 3):
        customer_with(session, clock, f"Q{number:03d} Quiet", known_for_days=100 + number)
    session.commit()
    log_in(client, admin)

    pages = [
        page(client.get(f"/admin/neglected?page={n}").get_data(as_text=True)) for n in (1, 2, 3)
    ]

    listed = [
        text_of(label.strong) for shown in pages for label in shown.all('label[for^="customer-"]')
    ]
    # Everyone once, the longest-quiet (known longest) first.
    assert listed == [f"Q{number:03d} Quiet" for number in reversed(range(PAGE_SIZE * 2 + 3))]
    assert "103 customers" in pages[0].text and "Page 1 of 3" in pages[0].text
    assert pages[2].links()["← Previous"] == "/admin/neglected?sort=quiet&page=2"
    # A page past the last shows the last.
    beyond = page(client.get("/admin/neglected?page=99").get_data(as_text=True))
    assert "Page 3 of 3" in beyond.text


def test_each_customer_says_whether_they_can_be_invited_now_or_from_when(
    client, session, clock, admin
):
    free = customer_with(session, clock, "Free Now", known_for_days=200)
    recent = customer_with(session, clock, "Recently Asked", known_for_days=210)
    schedule_survey(
        session,
        customer=recent,
        kind="purchase",
        question_set=get_question_set(session, "heart-to-heart"),
        now=clock.now() - timedelta(days=10),
    )
    gone = customer_with(session, clock, "Gone Away", known_for_days=220)
    unsubscribe_customer(session, gone, now=clock.now())
    session.commit()
    log_in(client, admin)

    shown = page(client.get("/admin/neglected").get_data(as_text=True))

    windows = {
        text_of(item.strong): text_of(item.select_one(".invite-window"))
        for item in shown.all(".neglected-list li")
    }
    opens = clock.now() + timedelta(days=20)
    assert windows == {
        "Gone Away": "Cannot be invited: unsubscribed.",
        "Recently Asked": f"Can be invited from {opens:%-d %b %Y, %H:%M} UTC; "
        "an invitation now waits until then.",
        "Free Now": "Can be invited now.",
    }
    assert free.id


def test_a_waiting_invitation_goes_out_when_the_window_opens(
    client, session, runner, clock, fake_sendgrid, admin
):
    recent = customer_with(session, clock, "Recently Asked", known_for_days=210)
    schedule_survey(
        session,
        customer=recent,
        kind="manual",
        question_set=get_question_set(session, "heart-to-heart"),
        now=clock.now() - timedelta(days=10),
    )
    session.commit()
    run_worker(runner)
    log_in(client, admin)
    invite(client, [recent.id])
    [review] = session.scalars(select(Survey).where(Survey.kind == "relationship_review")).all()

    def review_mails() -> list:
        return [m for m in mails_to(fake_sendgrid, recent.email) if m.survey_id == review.id]

    clock.advance(days=19)
    run_worker(runner)
    assert review_mails() == []
    clock.advance(days=1, minutes=1)
    run_worker(runner)

    session.refresh(review)
    assert review.status == "sent"
    assert len(review_mails()) == 1


def test_inviting_someone_whose_invitation_waits_does_not_invite_them_twice(
    client, session, clock, admin
):
    ana = customer_with(session, clock, "Ana Quiet", known_for_days=200)
    session.commit()
    log_in(client, admin)
    invite(client, [ana.id])

    again = invite(client, [ana.id])

    flashed = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "1 already had an invitation on its way, so was not invited twice" in flashed
    reviews = session.scalars(select(Survey).where(Survey.kind == "relationship_review")).all()
    assert len(reviews) == 1
    assert len(session.scalars(select(AuditEntry)).all()) == 1
