"""What keeps the insight pages fast: each written answer's themes recorded with it, the day and
month tallies the worker counts (the same figures as the rows give), and the neglected count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from surveys.models import AnswerTheme, InsightDay, ThemeTally
from surveys.services.customers.erasure import erase_customer
from surveys.services.customers.touchpoints import record_touchpoint
from surveys.services.insights import rollups, tallies, themes
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scores import net_score
from surveys.services.insights.touches import neglected_count
from surveys.services.surveys.responses import submit_response
from surveys.services.timed_work import timed_jobs
from tests.factories import make_customer, make_sent_survey
from tests.insight_data import make_response

HAPPY = {"expectations": "meeting", "time_money": "yes", "recommend": "9"}


def _answer(session, customer, now, one_thing):
    survey, _token = make_sent_survey(session, customer, sent_at=now - timedelta(hours=1))
    return submit_response(session, survey, {**HAPPY, "one_thing": one_thing}, now=now)


def test_a_submitted_written_answer_records_its_themes_with_it(session, clock):
    response = _answer(session, make_customer(session), clock.now(), "Deliveries late")
    keys = set(
        session.scalars(select(AnswerTheme.key).where(AnswerTheme.response_id == response.id))
    )
    assert keys == {"deliveri", "late", "deliveri late"}


def test_themes_from_the_tallies_equal_themes_from_the_answers(session, clock):
    now = clock.now()
    customer = make_customer(session)
    texts = ["Late delivery again", "Delivery was late", "Deliveries late, box crushed"]
    for days in range(0, 120, 3):
        make_response(
            session,
            customer,
            at=now - timedelta(days=days, hours=days % 7),
            one_thing=texts[days % 3],
            negative=days % 2 == 0,
        )
    ranges = [
        InsightFilters.last_days(now, 90),
        InsightFilters.last_days(now, 7),
        InsightFilters.last_days(now - timedelta(days=20), 60),
    ]
    from_rows = [themes.themes(session, filters, top=50) for filters in ranges]
    assert rollups.refresh_rollups(session, now) > 0
    # Whole months and whole days are read from the tallies now.
    assert session.scalar(select(func.count()).where(ThemeTally.grain == "month")) > 0
    assert all(tallies.split(session, filters) is not None for filters in ranges)
    assert [themes.themes(session, filters, top=50) for filters in ranges] == from_rows
    assert from_rows[0] and from_rows[1]


def test_a_day_answered_after_the_count_is_read_from_its_rows(session, clock):
    now = clock.now()
    customer = make_customer(session)
    make_response(session, customer, at=now - timedelta(days=3), answers={"recommend": "10"})
    rollups.refresh_rollups(session, now)
    assert session.scalar(select(func.sum(InsightDay.promoters))) == 1
    _answer(session, customer, now - timedelta(minutes=5), "fine")  # today: not counted yet
    assert net_score(session, InsightFilters.last_days(now, 30)).promoters == 2


def test_the_worker_counts_the_days_at_most_once_an_hour(session, clock):
    now = clock.now()
    make_response(session, make_customer(session), at=now - timedelta(days=2))
    job = dict(timed_jobs())["insight days counted"]
    assert job(session, now) > 0
    assert job(session, now + timedelta(minutes=30)) == 0
    assert job(session, now + timedelta(minutes=61)) == rollups.RECOUNT_DAYS


def test_erasing_a_customer_forgets_the_themes_of_their_words(session, clock):
    now = clock.now()
    customer = make_customer(session)
    for days in (2, 3):
        make_response(session, customer, at=now - timedelta(days=days), one_thing="Zanzibar tea")
    rollups.refresh_rollups(session, now)
    filters = InsightFilters.last_days(now, 30)
    assert [theme.label for theme in themes.themes(session, filters)][:1] == ["zanzibar tea"]
    erase_customer(session, customer, now=now)
    assert themes.themes(session, filters) == []
    assert session.scalar(select(func.count()).select_from(AnswerTheme)) == 0


def test_the_neglected_count_is_exact_past_the_lists_length(session, clock):
    now = clock.now()
    for _ in range(205):
        record_touchpoint(
            session,
            customer=make_customer(session),
            kind="late_delivery",
            polarity="negative",
            now=now,
        )
    counted = neglected_count(session, now=now, owner_id=None)
    assert (counted.count, counted.at_least) == (205, False)
