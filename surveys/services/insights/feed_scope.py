"""Which responses the comment feed and the themes read: the filters as SQL conditions.

An owner sees the answers of their account customers and of their cases' customers."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from surveys.models import Case, Customer, PurchaseItem, QuestionSet, QuestionSetVersion
from surveys.models.surveys import Response, Survey
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.properties import purchases_with_property


def owner_sees(owner_id: int) -> ColumnElement[bool]:
    """Responses of customers the owner looks after: their account customers and the customers
    of their cases (the same people `may_see_customer` lets them open)."""
    # Aliases: a query that already joins customers or cases must not correlate these away.
    customer, case = aliased(Customer), aliased(Case)
    return or_(
        exists().where(customer.id == Response.customer_id, customer.owner_id == owner_id),
        exists().where(case.customer_id == Response.customer_id, case.owner_id == owner_id),
    )


def response_conditions(filters: InsightFilters, *, dated: bool = True) -> list[ColumnElement]:
    """WHERE conditions on `Response` for the filters (and their date range unless `dated` is
    False, for a caller reading two periods at once)."""
    conditions: list[ColumnElement] = []
    if dated:
        conditions += [Response.submitted_at >= filters.start, Response.submitted_at < filters.end]
    if filters.owner_id is not None:
        conditions.append(owner_sees(filters.owner_id))
    if filters.question_set_key is not None:
        conditions.append(
            Response.version_id.in_(
                select(QuestionSetVersion.id)
                .join(QuestionSet, QuestionSet.id == QuestionSetVersion.question_set_id)
                .where(QuestionSet.key == filters.question_set_key)
            )
        )
    if filters.category is not None:
        survey, item = aliased(Survey), aliased(PurchaseItem)
        conditions.append(
            exists().where(
                survey.id == Response.survey_id,
                item.purchase_id == survey.purchase_id,
                item.category == filters.category,
            )
        )
    if filters.by_property:
        survey = aliased(Survey)
        conditions.append(
            exists().where(
                survey.id == Response.survey_id,
                survey.purchase_id.in_(
                    purchases_with_property(filters.property_name, filters.property_value)
                ),
            )
        )
    return conditions


def in_scope(filters: InsightFilters) -> ColumnElement[bool]:
    return and_(*response_conditions(filters))
