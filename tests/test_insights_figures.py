"""Every dashboard figure against values worked out by hand on the fixed data set of
tests/insights_data.py (on SQLite and PostgreSQL): the range, the previous period, each filter,
and an owner's own figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.services.insights.cases import case_figures, percentile
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.mail import mail_figures
from surveys.services.insights.rollups import refresh_rollups
from surveys.services.insights.scores import (
    choice_counts,
    choice_trend,
    negative_rate,
    negative_trend,
    net_score,
    net_score_trend,
)
from surveys.services.insights.touches import neglected_count, touch_figures, touch_trend
from tests.insights_data import make_insights_data


@pytest.fixture(params=["rows", "day tallies"])
def data(request, session, clock):
    """The data set, read from its rows, and again after the worker counted its days into the
    tallies (every whole day before today then comes from them): the same figures either way."""
    made = make_insights_data(session, clock.now())
    if request.param == "day tallies":
        refresh_rollups(session, clock.now())
    return made


@pytest.fixture
def last_90(clock):
    return InsightFilters.last_days(clock.now())


def test_the_net_score_counts_promoters_minus_detractors_in_points(session, data, last_90):
    score = net_score(session, last_90)
    # 10, 9 | 7 | 4, 6, 3
    assert (score.promoters, score.passives, score.detractors) == (2, 1, 3)
    assert score.score == pytest.approx(100 * (2 - 3) / 6)  # -16.7 points
    assert score.shares == pytest.approx({"promoters": 2 / 6, "passives": 1 / 6, "detractors": 0.5})
    # The previous 90 days: r6's 10 alone.
    assert net_score(session, last_90.previous()).score == 100


def test_the_net_score_trend_goes_week_by_week_from_monday(session, data, last_90):
    trend = [
        (week, s.promoters, s.passives, s.detractors)
        for week, s in net_score_trend(session, last_90)
    ]
    assert trend == [
        ("2026-11-02", 0, 0, 1),  # c2, Tuesday 3 Nov
        ("2026-11-09", 0, 1, 0),  # r3, Friday 13 Nov
        ("2026-11-16", 2, 0, 2),  # r1 Sunday, r2 Saturday, c1 Friday, c3 Wednesday
    ]


def test_a_year_goes_month_by_month(session, data, clock):
    year = InsightFilters.last_days(clock.now(), 365)
    assert [(month, s.answers) for month, s in net_score_trend(session, year)] == [
        ("2026-05-01", 1),  # the case still waiting for an owner, 7 May
        ("2026-08-01", 1),  # r6, 15 August
        ("2026-11-01", 6),
    ]


def test_the_shares_of_each_choice_and_their_trend(session, data, last_90):
    assert choice_counts(session, last_90, "expectations") == {
        "exceeding": 1,
        "meeting": 2,
        "short": 2,
    }
    assert choice_counts(session, last_90, "time_money") == {"yes": 2, "somewhat": 2, "no": 1}
    assert choice_trend(session, last_90, "expectations") == [
        ("2026-11-02", {"exceeding": 0, "meeting": 0, "short": 1}),
        ("2026-11-09", {"exceeding": 0, "meeting": 1, "short": 0}),
        ("2026-11-16", {"exceeding": 1, "meeting": 1, "short": 1}),
    ]


def test_the_negative_rate_and_its_trend(session, data, last_90):
    rate = negative_rate(session, last_90)
    assert (rate.part, rate.whole, rate.value) == (3, 6, 0.5)
    assert [(week, r.part, r.whole) for week, r in negative_trend(session, last_90)] == [
        ("2026-11-02", 1, 1),
        ("2026-11-09", 0, 1),
        ("2026-11-16", 2, 4),
    ]
    assert negative_rate(session, last_90.previous()).value == 0


def test_the_mail_figures(session, data, last_90):
    mail = mail_figures(session, last_90)
    assert (mail.sent, mail.answered, mail.opened, mail.clicked) == (8, 6, 3, 1)
    assert (mail.response_rate, mail.open_rate, mail.click_rate) == (6 / 8, 3 / 8, 1 / 8)
    # The bounce of an owner's mail is not a survey's.
    assert (mail.unsubscribes, mail.bounces) == (1, 1)
    before = mail_figures(session, last_90.previous())
    assert (before.sent, before.answered, before.unsubscribes) == (1, 1, 1)


def test_the_case_figures(session, data, last_90):
    cases = case_figures(session, last_90)
    assert cases.opened == 3
    # Acknowledged after 2 h and 6 h (target 4 h): median 4, 90th percentile 2 + 0.9 × 4.
    ack = cases.acknowledge
    assert (ack.count, ack.on_time, ack.target_hours) == (2, 1, 4)
    assert ack.median_hours == pytest.approx(4)
    assert ack.p90_hours == pytest.approx(5.6)
    # Resolved after 30 h and 60 h (target 48 h).
    res = cases.resolve
    assert (res.count, res.on_time, res.target_hours) == (2, 1, 48)
    assert res.median_hours == pytest.approx(45)
    assert res.p90_hours == pytest.approx(57)
    assert (cases.escalated, cases.escalation_rate) == (1, pytest.approx(1 / 3))
    assert (cases.fix_confirmed, cases.reopened, cases.fix_worked_rate) == (1, 1, 0.5)
    assert (cases.ever_resolved, cases.reopen_rate) == (2, 0.5)
    assert cases.waiting_for_owner == 1


def test_percentiles_interpolate_like_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == pytest.approx(9.0)


def test_the_touch_figures(session, data, last_90, clock):
    touches = touch_figures(session, last_90)
    assert (touches.positive, touches.negative, touches.ratio, touches.meets_aim) == (
        8,
        1,
        8.0,
        False,
    )
    assert [(week, t.positive, t.negative) for week, t in touch_trend(session, last_90)] == [
        ("2026-11-09", 0, 1),  # Sunday 15 November
        ("2026-11-16", 8, 0),
    ]
    # ca is 5:1, cc 0:1; cb has no negative touch and a recent positive one.
    assert neglected_count(session, now=clock.now(), owner_id=None).count == 2
    assert neglected_count(session, now=clock.now(), owner_id=data.owner_a.id).count == 1


def test_an_owner_sees_only_their_customers_and_cases(session, data, last_90):
    mine = InsightFilters.last_days(last_90.end, owner_id=data.owner_a.id)
    # r1 (their customer), c2 and c3 (their cases): 10 | 6, 3.
    score = net_score(session, mine)
    assert (score.promoters, score.passives, score.detractors) == (1, 0, 2)
    assert negative_rate(session, mine).value == pytest.approx(2 / 3)
    mail = mail_figures(session, mine)
    assert (mail.sent, mail.answered, mail.opened, mail.clicked) == (3, 3, 1, 1)
    cases = case_figures(session, mine)
    assert (cases.opened, cases.acknowledge.count, cases.waiting_for_owner) == (2, 1, None)
    assert cases.acknowledge.median_hours == pytest.approx(6)
    touches = touch_figures(session, mine)
    assert (touches.positive, touches.negative) == (5, 1)


def test_the_category_and_question_set_filters(session, data, last_90, clock):
    books = InsightFilters.last_days(clock.now(), category="books")
    assert (net_score(session, books).promoters, net_score(session, books).answers) == (1, 1)
    assert mail_figures(session, books).sent == 1
    assert case_figures(session, books).opened == 0
    hardware = InsightFilters.last_days(clock.now(), category="hardware")
    # r1 (10) and the three cases (4, 6, 3), whose purchases hold a keyboard.
    assert net_score(session, hardware).score == pytest.approx(100 * (1 - 3) / 4)
    assert case_figures(session, hardware).opened == 3
    other_set = InsightFilters.last_days(clock.now(), question_set_key="relationship-review")
    assert net_score(session, other_set).score is None
    assert negative_rate(session, other_set).value is None
    assert case_figures(session, other_set).acknowledge.median_hours is None
    same_set = InsightFilters.last_days(clock.now(), question_set_key="heart-to-heart")
    assert net_score(session, same_set) == net_score(session, last_90)


def test_the_range_bounds_are_half_open(session, data, clock):
    # Only r1 (NOW-1d) and nothing on the end's instant itself.
    day = InsightFilters(start=clock.now() - timedelta(days=1), end=clock.now())
    assert net_score(session, day).answers == 1
    later = InsightFilters(
        start=clock.now() - timedelta(days=1) + timedelta(seconds=1), end=clock.now()
    )
    assert net_score(session, later).answers == 0
