"""The date range and filters every insight page shares."""

from datetime import UTC, datetime, timedelta

from surveys.services.insights.filters import DEFAULT_RANGE_DAYS, InsightFilters

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_the_default_range_is_the_last_ninety_days():
    filters = InsightFilters.last_days(NOW)
    assert filters.end == NOW
    assert filters.start == NOW - timedelta(days=DEFAULT_RANGE_DAYS) == NOW - timedelta(days=90)


def test_the_previous_period_has_the_same_length_and_filters_and_ends_where_this_starts():
    filters = InsightFilters.last_days(NOW, 30, category="repairs", owner_id=7)
    previous = filters.previous()
    assert previous.end == filters.start
    assert previous.length == filters.length == timedelta(days=30)
    assert (previous.category, previous.owner_id) == ("repairs", 7)
