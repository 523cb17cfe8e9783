"""Which answers, cases and touch points a figure counts: a date range and optional filters."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

# What the dashboard and the comment feed show when nobody chose a range.
DEFAULT_RANGE_DAYS = 90


@dataclass(frozen=True)
class InsightFilters:
    """A half-open range [start, end) in UTC, and the filters every insight page shares.

    `owner_id` also scopes an owner's own pages (their customers' answers and their cases);
    `category` is an item category of the purchase; `question_set_key` the set answered;
    `property_name` and `property_value` a custom property of the purchase, exactly as stored
    (both or neither).
    """

    start: datetime
    end: datetime
    category: str | None = None
    owner_id: int | None = None
    question_set_key: str | None = None
    property_name: str | None = None
    property_value: str | None = None
    # Instead of an owner's: the rows of exactly these customers and cases (the tallies'
    # corrections for customers and cases that joined or left an owner since their count).
    customer_ids: tuple[int, ...] | None = None
    case_ids: tuple[int, ...] | None = None

    @property
    def narrowed(self) -> bool:
        """Whether a filter beyond the range and the owner is chosen (the tallies count the
        business and each owner, nothing narrower)."""
        return bool(
            self.category
            or self.question_set_key
            or self.by_property
            or self.customer_ids is not None
            or self.case_ids is not None
        )

    @property
    def by_property(self) -> bool:
        return self.property_name is not None and self.property_value is not None

    @classmethod
    def last_days(cls, now: datetime, days: int = DEFAULT_RANGE_DAYS, **filters) -> InsightFilters:
        return cls(start=now - timedelta(days=days), end=now, **filters)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> InsightFilters:
        """The period of the same length just before, with the same filters (for "compared to")."""
        return replace(self, start=self.start - self.length, end=self.start)
