"""Which responses the comment feed and the themes read, under the names they use; the rule
itself (an owner's customers, the category, the question set) lives in `scope.py`, the one place
every insight figure takes it from."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from surveys.models.surveys import Response
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import owner_customers, response_filters


def owner_sees(owner_id: int) -> ColumnElement[bool]:
    """Responses of the customers the owner looks after (scope.owner_customers)."""
    return Response.customer_id.in_(owner_customers(owner_id))


def response_conditions(filters: InsightFilters, *, dated: bool = True) -> list[ColumnElement]:
    """WHERE conditions on `Response` for the filters (and their date range unless `dated` is
    False, for a caller reading two periods at once)."""
    return response_filters(filters, dated=dated)


def in_scope(filters: InsightFilters) -> ColumnElement[bool]:
    return and_(*response_conditions(filters))
