"""The weekly digest: once per person per week, on Monday morning in their own time zone, however
often the worker runs; none to those who turned it off or left; the figures hand-computed."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from surveys.db import db
from surveys.models import CaseEvent, OutboxMessage, User, WeeklyDigest
from surveys.services.digests import digest_weeks, queue_weekly_digests
from surveys.services.insights.digest import digest_figures
from surveys.services.settings import set_setting
from surveys.services.timed_work import timed_jobs
from tests.factories import make_case, make_customer, make_user
from tests.insight_data import make_response

LONG_AGO = datetime(2026, 10, 1, tzinfo=UTC)


def person(session, *, role="owner", zone=None, created=LONG_AGO, **kwargs) -> User:
    user = make_user(session, role=role, **kwargs)
    user.time_zone = zone
    user.created_at = created
    session.flush()
    return user


def digests_of(session, user: User) -> list[WeeklyDigest]:
    return list(
        session.scalars(
            select(WeeklyDigest).where(WeeklyDigest.user_id == user.id).order_by(WeeklyDigest.id)
        )
    )


def digest_emails(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "weekly_digest")
            .order_by(OutboxMessage.id)
        )
    )


def hourly(start: datetime, end: datetime):
    moment = start
    while moment <= end:
        yield moment
        moment += timedelta(hours=1)


def test_each_person_gets_one_digest_a_week_on_monday_morning_in_their_own_zone(session, clock):
    set_setting(session, "business_time_zone", "Europe/Madrid")
    # Created on Wednesday 18 November: their first digest is the Monday after.
    joined = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    auckland = person(session, role="admin", zone="Pacific/Auckland", created=joined)
    los_angeles = person(session, zone="America/Los_Angeles", created=joined)
    madrid = person(session, zone=None, created=joined)  # the business's zone
    opted_out = person(session, zone="UTC", created=joined)
    opted_out.weekly_digest = False
    gone = person(session, zone="UTC", created=joined, active=False)
    session.commit()

    queued_at: dict[int, list[datetime]] = defaultdict(list)
    # From Sunday 22 November noon UTC to Tuesday 1 December, every hour, three times each.
    for moment in hourly(datetime(2026, 11, 22, 12, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)):
        clock.set(moment)
        for _ in range(3):
            queue_weekly_digests(session, clock.now())
            session.commit()
        for message in digest_emails(session):
            user_id = message.context["user_id"]
            if message.created_at not in queued_at[user_id]:
                queued_at[user_id].append(message.created_at)

    # 08:00 on Monday there: NZDT is UTC+13, PST UTC-8, CET UTC+1.
    assert queued_at[auckland.id] == [
        datetime(2026, 11, 22, 19, tzinfo=UTC),
        datetime(2026, 11, 29, 19, tzinfo=UTC),
    ]
    assert queued_at[los_angeles.id] == [
        datetime(2026, 11, 23, 16, tzinfo=UTC),
        datetime(2026, 11, 30, 16, tzinfo=UTC),
    ]
    assert queued_at[madrid.id] == [
        datetime(2026, 11, 23, 7, tzinfo=UTC),
        datetime(2026, 11, 30, 7, tzinfo=UTC),
    ]
    assert opted_out.id not in queued_at and gone.id not in queued_at
    assert [(d.week_start, d.time_zone) for d in digests_of(session, auckland)] == [
        (date(2026, 11, 23), "Pacific/Auckland"),
        (date(2026, 11, 30), "Pacific/Auckland"),
    ]
    assert len(digest_emails(session)) == 6
    message = digest_emails(session)[0]
    assert message.to_email == auckland.email
    assert message.context == {
        "user_id": auckland.id,
        "week_start": "2026-11-23",
        "time_zone": "Pacific/Auckland",
    }


def test_the_digest_is_a_job_of_the_worker(session, clock):
    assert "weekly digests queued" in dict(timed_jobs())


def test_a_quiet_week_says_so(session, clock, runner, fake_sendgrid):
    owner = person(session, zone="UTC", name="Olivia Moreno")
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))
    runner.invoke(args=["worker", "--once"])
    mail = delivered(fake_sendgrid, owner)
    assert mail.subject == "Last week with your customers: no 0–10 answers, 0 responses"
    assert "Net score: –\n  nobody answered the 0–10 question last week\n" in mail.text
    assert "Responses: 0 (the week before: 0)" in mail.text
    assert "Your cases now: 0 open, 0 overdue.\n" in mail.text
    assert "Negative responses:" not in mail.text


def test_a_digest_missed_on_monday_goes_later_that_week_but_never_the_week_after(session, clock):
    owner = person(session, zone="America/Los_Angeles")
    # The worker was down from before Monday morning until Thursday.
    clock.set(datetime(2026, 11, 26, 15, tzinfo=UTC))
    assert queue_weekly_digests(session, clock.now()) == 1
    assert queue_weekly_digests(session, clock.now()) == 0
    # Down again from Sunday until the Tuesday after next: that week's digest is not sent late;
    # the next one goes, about the week that just ended.
    clock.set(datetime(2026, 12, 8, 18, tzinfo=UTC))
    assert queue_weekly_digests(session, clock.now()) == 1
    assert [d.week_start for d in digests_of(session, owner)] == [
        date(2026, 11, 23),
        date(2026, 12, 7),
    ]


def test_someone_created_after_monday_morning_waits_for_the_next_monday(session, clock):
    clock.set(datetime(2026, 11, 25, 10, tzinfo=UTC))  # Wednesday
    newcomer = person(session, zone="UTC", created=clock.now() - timedelta(hours=1))
    assert queue_weekly_digests(session, clock.now()) == 0
    clock.set(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    assert queue_weekly_digests(session, clock.now()) == 0
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    assert queue_weekly_digests(session, clock.now()) == 1
    assert [d.week_start for d in digests_of(session, newcomer)] == [date(2026, 11, 30)]


def test_moving_to_a_zone_where_it_is_still_last_week_sends_nothing_twice(session, clock):
    traveller = person(session, zone="Pacific/Auckland")
    clock.set(datetime(2026, 11, 22, 19, tzinfo=UTC))  # Monday 08:00 in Auckland
    assert queue_weekly_digests(session, clock.now()) == 1
    traveller.time_zone = "America/Los_Angeles"  # there it is Sunday 22 November, 11:00
    for moment in hourly(clock.now(), datetime(2026, 11, 29, 12, tzinfo=UTC)):
        assert queue_weekly_digests(session, moment) == 0
    assert queue_weekly_digests(session, datetime(2026, 11, 30, 16, tzinfo=UTC)) == 1


def test_turning_it_off_stops_a_queued_digest_too(session, clock, runner, fake_sendgrid):
    owner = person(session, zone="UTC")
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))
    assert queue_weekly_digests(session, clock.now()) == 1
    owner.weekly_digest = False
    session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert fake_sendgrid.accepted == []
    assert digest_emails(session)[0].status == "cancelled"


def test_two_workers_at_once_queue_one_digest(committed_app, backend):
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        people = [person(session, zone="UTC") for _ in range(3)]
        session.commit()
        ids = [p.id for p in people]
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    barrier = threading.Barrier(4)
    counts: list[int] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with committed_app.app_context():
                session = db.session()
                barrier.wait(timeout=10)
                counts.append(queue_weekly_digests(session, now))
                session.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sum(counts) == 3
    with sessions() as session:
        emails = digest_emails(session)
        assert sorted(m.context["user_id"] for m in emails) == sorted(ids)
        assert session.query(WeeklyDigest).count() == 3


# --- the figures, on a small fixed data set --------------------------------------------------
#
# Everyone in UTC; the digest goes on Monday 23 November at 08:00 and tells about Monday 16 to
# Sunday 22 November, against 9 to 15 November.
#
#   when     customer (owner)  0-10  negative  written answer
#   Nov 17   ca (A)            10    no        "Faster delivery please"
#   Nov 18   ca (A)             9    no        "The delivery was slow"
#   Nov 19   ca (A)             3    yes       "Late delivery and a broken box"
#   Nov 20   cb (B)            10    no        "Great delivery"
#   Nov 21   cb (B)             5    yes       "Broken box"
#   Nov 10   ca (A)             8    no        -           (the week before)
#   Nov 11   ca (A)             6    no        -
#   Nov 12   cb (B)             9    no        -
#   Nov 23 07:00 ca (A)         0    yes       -           (this week: not counted)
#
# A: this week 2 promoters, 1 detractor of 3 = +33; before 0 and 1 of 2 = -50; up 83 points.
#    3 responses, 1 negative, 2 before. Theme: "delivery" in 3 responses, 1 negative.
# Everyone: 3 promoters, 2 detractors of 5 = +20; before 1, 1 of 3 = 0; up 20 points.
#    5 responses, 2 negative, 3 before. Themes: delivery 4 (1 negative), then "broken box" 2 (2).
# Cases, all opened on 1 November: A has one open past its acknowledge-by (overdue), one
# acknowledged due in two months, one acknowledged that the customer reopened on 19 November,
# and one closed; B one open and overdue. Everyone: 4 open, 2 overdue, 1 reopened.

SENT_AT = datetime(2026, 11, 23, 8, tzinfo=UTC)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def week_of_answers(session):
    admin = person(session, role="admin", zone="UTC", name="Ada Admin")
    owner_a = person(session, zone="UTC", name="Olivia Moreno")
    owner_b = person(session, zone="UTC", name="Bo Berg")
    ca = make_customer(session, email="ca@example.com", name="Carla Alves")
    cb = make_customer(session, email="cb@example.com", name="Cem Bayar")
    ca.owner_id, cb.owner_id = owner_a.id, owner_b.id
    for customer, when, score, negative, words in (
        (ca, at(17), "10", False, "Faster delivery please"),
        (ca, at(18), "9", False, "The delivery was slow"),
        (ca, at(19), "3", True, "Late delivery and a broken box"),
        (cb, at(20), "10", False, "Great delivery"),
        (cb, at(21), "5", True, "Broken box"),
        (ca, at(10), "8", False, None),
        (ca, at(11), "6", False, None),
        (cb, at(12), "9", False, None),
        (ca, at(23, 7), "0", True, None),
    ):
        make_response(
            session,
            customer,
            at=when,
            answers={"recommend": score},
            one_thing=words,
            negative=negative,
        )
    opened = datetime(2026, 11, 1, 9, tzinfo=UTC)
    make_case(session, owner=owner_a, now=opened)  # acknowledge by 1 Nov 13:00: overdue
    make_case(session, owner=owner_a, now=opened, status="acknowledged", resolve_hours=24 * 60)
    reopened = make_case(
        session, owner=owner_a, now=opened, status="acknowledged", resolve_hours=24 * 60
    )
    reopened.events.append(CaseEvent(kind="reopened", created_at=at(19)))
    make_case(session, owner=owner_a, now=opened, status="closed")
    make_case(session, owner=owner_b, now=opened)
    session.commit()
    return admin, owner_a, owner_b


def figures_for(session, user):
    weeks = digest_weeks(date(2026, 11, 23), "UTC")
    return digest_figures(session, user, weeks.week, weeks.week_before, now=SENT_AT)


def test_an_owners_figures_are_their_own(session, week_of_answers):
    _admin, owner_a, owner_b = week_of_answers
    a = figures_for(session, owner_a)
    assert (a.score.promoters, a.score.passives, a.score.detractors) == (2, 0, 1)
    assert round(a.score.score, 1) == 33.3
    assert a.score_before.score == -50
    assert round(a.score_change, 1) == 83.3
    assert (a.responses.whole, a.responses.part, a.responses_before.whole) == (3, 1, 2)
    assert (a.cases.open, a.cases.overdue, a.cases.reopened) == (3, 1, 1)
    assert [(t.label, t.count, t.negative) for t in a.themes] == [("delivery", 3, 1)]

    b = figures_for(session, owner_b)
    assert (b.score.promoters, b.score.detractors, b.score.answers) == (1, 1, 2)
    assert b.score.score == 0 and b.score_before.score == 100
    assert (b.responses.whole, b.responses.part, b.responses_before.whole) == (2, 1, 1)
    assert (b.cases.open, b.cases.overdue, b.cases.reopened) == (1, 1, 0)
    assert b.themes == []  # each of B's phrases comes from one response only


def test_an_admins_figures_are_the_whole_business(session, week_of_answers):
    admin, _a, _b = week_of_answers
    figures = figures_for(session, admin)
    assert (figures.score.promoters, figures.score.passives, figures.score.detractors) == (3, 0, 2)
    assert figures.score.score == 20 and figures.score_before.score == 0
    assert figures.score_change == 20
    assert (figures.responses.whole, figures.responses.part) == (5, 2)
    assert figures.responses_before.whole == 3
    assert (figures.cases.open, figures.cases.overdue, figures.cases.reopened) == (4, 2, 1)
    assert [(t.label, t.count, t.negative) for t in figures.themes][:2] == [
        ("delivery", 4, 1),
        ("broken box", 2, 2),
    ]


def digests_delivered(fake_sendgrid) -> list:
    # The worker also escalates the overdue cases: those emails are not digests.
    return [m for m in fake_sendgrid.accepted if m.categories == ["weekly_digest"]]


def delivered(fake_sendgrid, user):
    mails = [m for m in digests_delivered(fake_sendgrid) if m.to_email == user.email]
    assert len(mails) == 1, mails
    return mails[0]


def test_the_delivered_digest_reads_well(
    session, clock, runner, fake_sendgrid, week_of_answers, artifacts_dir, backend
):
    admin, owner_a, owner_b = week_of_answers
    clock.set(SENT_AT)
    for _ in range(3):
        result = runner.invoke(args=["worker", "--once"])
        assert result.exit_code == 0, result.output
    assert len(digests_delivered(fake_sendgrid)) == 3

    mail = delivered(fake_sendgrid, owner_a)
    # Kept to be read as the owner will: test-artifacts/weekly-digest-owner-<backend>.txt/.html
    for part in ("text", "html"):
        path = artifacts_dir / f"weekly-digest-owner-{backend}.{'txt' if part == 'text' else part}"
        path.write_text(f"Subject: {mail.subject}\n\n{getattr(mail, part)}", encoding="utf-8")
    assert mail.subject == (
        "Last week with your customers: net score +33 (up 83 points), 3 responses"
    )
    assert mail.categories == ["weekly_digest"]
    text = mail.text
    assert text.startswith("Hi Olivia,\n\nHere is how last week went with your customers: ")
    assert "Monday 16 to Sunday 22 November (UTC time)." in text
    assert "Net score: +33, up 83 points from -50 the week before\n" in text
    assert "  from 3 answers to the 0–10 question\n" in text
    assert "Responses: 3, 1 of them negative (the week before: 2)\n" in text
    assert (
        "Your cases now: 3 open, 1 overdue; 1 case reopened last week because the fix had not "
        "worked.\n" in text
    )
    assert "- delivery: 3 responses, 1 negative\n" in text
    assert "broken box" not in text.lower()  # B's customers' words
    for link in (
        "/dashboard?from=2026-11-16&to=2026-11-22",
        "/dashboard/responses?from=2026-11-16&to=2026-11-22",
        "/dashboard/responses?theme=deliveri&from=2026-11-16&to=2026-11-22",
        "/dashboard/responses?negative=1&from=2026-11-16&to=2026-11-22",
        "/inbox\n",
        "/account/settings",
    ):
        assert link in text, link
    html = mail.html
    for piece in (
        "Monday 16 to Sunday 22 November",
        ">+33</a>",
        "up 83 points from&nbsp;-50",
        ">3 open</a>",
        "1 overdue",
        "1 case reopened last week",
        ">delivery</a>",
        "Turn it off or change your time zone",
    ):
        assert piece in html, piece

    admin_mail = delivered(fake_sendgrid, admin)
    assert admin_mail.subject == (
        "Last week across the business: net score +20 (up 20 points), 5 responses"
    )
    assert "Cases now: 4 open, 2 overdue; 1 case reopened" in admin_mail.text
    assert "- broken box: 2 responses, 2 negative\n" in admin_mail.text
    assert "/admin/dashboard?from=2026-11-16&to=2026-11-22" in admin_mail.text
    assert "/inbox?owner=all" in admin_mail.text

    b_mail = delivered(fake_sendgrid, owner_b)
    assert b_mail.subject == (
        "Last week with your customers: net score 0 (down 100 points), 2 responses"
    )
    assert "Net score: 0, down 100 points from +100 the week before" in b_mail.text
    assert "No theme came up in more than one written answer last week." in b_mail.text

    # However often the worker runs that week, nobody gets a second one.
    for hours in (1, 30, 100):
        clock.set(SENT_AT + timedelta(hours=hours))
        runner.invoke(args=["worker", "--once"])
    assert len(digests_delivered(fake_sendgrid)) == 3
