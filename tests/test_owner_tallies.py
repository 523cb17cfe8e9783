"""An owner's figures from their own day and month tallies equal the figures read from the rows
(on SQLite and PostgreSQL): as counted, after cases and customers change hands, for days not
counted yet, and again once the worker has counted the changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import Case, Customer, InsightOwnerDay, InsightRollup, OwnerThemeTally
from surveys.services.insights import owner_scope, rollups, tallies, themes
from surveys.services.insights.cases import case_figures
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.mail import mail_figures
from surveys.services.insights.scores import (
    choice_counts,
    choice_trend,
    negative_rate,
    negative_trend,
    net_score,
    net_score_trend,
)
from surveys.services.insights.touches import touch_figures, touch_trend
from tests.factories import make_case, make_customer
from tests.insight_data import make_response
from tests.insights_data import make_insights_data


def _figures(session, filters: InsightFilters) -> dict:
    """Every figure of the owner's dashboard for the range, and the range before it."""
    found = {}
    for name, period in (("range", filters), ("before", filters.previous())):
        found[name] = {
            "mail": mail_figures(session, period),
            "score": net_score(session, period),
            "score trend": net_score_trend(session, period),
            "expectations": choice_counts(session, period, "expectations"),
            "time and money trend": choice_trend(session, period, "time_money"),
            "negative": negative_rate(session, period),
            "negative trend": negative_trend(session, period),
            "cases": case_figures(session, period),
            "touches": touch_figures(session, period),
            "touch trend": touch_trend(session, period),
            "themes": themes.themes(session, period, top=50),
        }
    return found


def _from_rows(session, filters: InsightFilters) -> dict:
    """The figures as a database never counted gives them: every one read from its rows."""
    state = session.get(InsightRollup, 1)
    reach = (state.complete_before, state.refreshed_at)
    state.complete_before = None
    session.flush()
    session.info.clear()
    try:
        assert tallies.split(session, filters) is None
        return _figures(session, filters)
    finally:
        state.complete_before, state.refreshed_at = reach
        session.flush()
        session.info.clear()


def _ranges(owner_id: int, now: datetime) -> list[InsightFilters]:
    return [
        InsightFilters.last_days(now, 90, owner_id=owner_id),
        InsightFilters.last_days(now - timedelta(hours=5), 30, owner_id=owner_id),
        InsightFilters(datetime(2000, 1, 1, tzinfo=now.tzinfo), now, owner_id=owner_id),
    ]


def _add_words(session, data, now):
    """Written answers over the months, so the owners' month theme tallies have something."""
    texts = ["Late delivery again", "Delivery was late", "Deliveries late, box crushed"]
    customers = {
        "a": session.get(Customer, data.cases["c2"].customer_id),
        "b": session.get(Customer, data.cases["c1"].customer_id),
    }
    for days in range(1, 150, 7):
        for i, customer in enumerate(customers.values()):
            make_response(
                session,
                customer,
                at=now - timedelta(days=days, hours=3 * i),
                one_thing=texts[(days + i) % 3],
                negative=days % 2 == 0,
                answers={},  # words only: the hand-computed scores stay as they are
            )
    return customers


@pytest.fixture
def data(session, clock):
    made = make_insights_data(session, clock.now())
    _add_words(session, made, clock.now())
    session.commit()
    return made


def test_an_owners_tallied_figures_equal_the_rows(session, data, clock):
    now = clock.now()
    owners = (data.owner_a.id, data.owner_b.id)
    from_rows = {
        (o, i): _figures(session, f) for o in owners for i, f in enumerate(_ranges(o, now))
    }
    rollups.refresh_rollups(session, now)
    # The owners' days and whole months are counted, and nothing changed since.
    assert session.scalar(select(func.count()).select_from(InsightOwnerDay)) > 0
    assert session.scalar(select(func.count()).select_from(OwnerThemeTally)) > 0
    assert owner_scope.scope_changes(session, data.owner_a.id).parts() == []
    for (owner, i), expected in from_rows.items():
        filters = _ranges(owner, now)[i]
        assert tallies.split(session, filters) is not None
        assert _figures(session, filters) == expected
    # The hand-computed figures of the owner's last 90 days (tests/insights_data.py).
    mine = InsightFilters.last_days(now, owner_id=data.owner_a.id)
    assert (net_score(session, mine).promoters, case_figures(session, mine).opened) == (1, 2)


def test_cases_and_customers_changing_hands_after_the_count(session, data, clock):
    now = clock.now()
    a, b = data.owner_a, data.owner_b
    rollups.refresh_rollups(session, now)
    session.commit()
    # c2 (opened 20 days ago, A's) goes to B; cb (B's account customer) goes to A; a customer
    # with an answer of 40 days ago joins A through a new case; c1's case (B's) loses its
    # owner; and an answer comes in today, a day not counted yet.
    c2 = session.get(Case, data.cases["c2"].id)
    c2.owner_id = b.id
    cb = session.scalars(select(Customer).where(Customer.owner_id == b.id)).one()
    cb.owner_id = a.id
    newcomer = make_customer(session, name="Nina New")
    make_response(session, newcomer, at=now - timedelta(days=40), answers={"recommend": "2"})
    make_case(
        session,
        owner=a,
        customer=newcomer,
        now=now - timedelta(hours=2),
        answers={"recommend": "1"},
    )
    session.get(Case, data.cases["c1"].id).owner_id = None
    make_response(
        session, cb, at=now - timedelta(hours=1), one_thing="Delivery late", negative=True
    )
    session.commit()

    changes = owner_scope.scope_changes(session, a.id)
    assert cb.id in changes.joined_customers and newcomer.id in changes.joined_customers
    assert c2.id in changes.left_cases
    for owner in (a.id, b.id):
        for filters in _ranges(owner, now):
            assert tallies.split(session, filters).corrections
            assert _figures(session, filters) == _from_rows(session, filters)

    # By hand, A's last 90 days: r1 (10), r2 of cb (9), c3 (3), the newcomer's 2 and 1 (their
    # case's), today's 9; c2 (6) left with its case, and its customer with it. Cases: c3 and
    # the newcomer's.
    mine = InsightFilters.last_days(now, owner_id=a.id)
    score = net_score(session, mine)
    assert (score.promoters, score.passives, score.detractors) == (3, 0, 3)
    assert case_figures(session, mine).opened == 2
    theirs = InsightFilters.last_days(now, owner_id=b.id)
    assert case_figures(session, theirs).opened == 1  # c2; c1 has no owner now

    # The worker counts the changed owners' days again: nothing left to correct, same figures.
    expected = {
        (o, i): _from_rows(session, f) for o in (a.id, b.id) for i, f in enumerate(_ranges(o, now))
    }
    rollups.refresh_rollups(session, now + timedelta(hours=2))
    session.commit()
    session.info.clear()
    assert owner_scope.scope_changes(session, a.id).parts() == []
    assert owner_scope.scope_changes(session, b.id).parts() == []
    for (owner, i), figures in expected.items():
        filters = _ranges(owner, now)[i]
        assert not tallies.split(session, filters).corrections
        assert _figures(session, filters) == figures


def test_the_owners_tallies_count_only_their_customers_and_cases(session, data, clock):
    now = clock.now()
    rollups.refresh_rollups(session, now)
    opened = dict(
        session.execute(
            select(InsightOwnerDay.owner_id, func.sum(InsightOwnerDay.cases_opened)).group_by(
                InsightOwnerDay.owner_id
            )
        ).all()
    )
    # A: c2 and c3; B: c1. The case waiting for an owner is nobody's.
    assert opened == {data.owner_a.id: 2, data.owner_b.id: 1}


def test_ranges_read_together_count_each_part_once(session, data, clock):
    """A page may read two ranges whose part-days overlap (here both end today, one an hour
    before the other): read in one pass, each still gets exactly its own rows."""
    now = clock.now()
    rollups.refresh_rollups(session, now)
    make_response(session, make_customer(session), at=now - timedelta(minutes=30))
    session.commit()
    ranges = [
        InsightFilters.last_days(now, 30),
        InsightFilters.last_days(now - timedelta(hours=1), 30),
        InsightFilters.last_days(now, 30, owner_id=data.owner_a.id),
    ]
    alone = []
    for filters in ranges:
        session.info.clear()
        alone.append(_figures(session, filters))
    session.info.clear()
    tallies.prepare(session, ranges + [filters.previous() for filters in ranges])
    assert [_figures(session, filters) for filters in ranges] == alone
    assert alone[0]["range"]["score"].answers == alone[1]["range"]["score"].answers + 1
