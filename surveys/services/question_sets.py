"""Reading question sets: the current version, and which set follows a purchase."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from surveys.models import (
    Purchase,
    QuestionSet,
    QuestionSetAssignment,
    QuestionSetVersion,
)
from surveys.services.settings import get_setting

# Seeded by the migrations; used when the configured default set is gone.
FALLBACK_QUESTION_SET = "heart-to-heart"


def get_question_set(session: Session, key: str) -> QuestionSet | None:
    return session.scalar(select(QuestionSet).where(QuestionSet.key == key))


def current_version(session: Session, question_set: QuestionSet) -> QuestionSetVersion:
    """The newest published version of a set."""
    return session.scalars(
        select(QuestionSetVersion)
        .where(QuestionSetVersion.question_set_id == question_set.id)
        .order_by(QuestionSetVersion.number.desc())
        .limit(1)
    ).one()


# Built once, with the lists as parameters: it runs for every purchase.
_SETS_FOR_PURCHASE = (
    select(QuestionSet, QuestionSetAssignment.category)
    .outerjoin(
        QuestionSetAssignment,
        and_(
            QuestionSetAssignment.question_set_id == QuestionSet.id,
            QuestionSetAssignment.category.in_(bindparam("categories", expanding=True)),
        ),
    )
    .where(
        or_(
            QuestionSetAssignment.category.is_not(None),
            QuestionSet.key.in_(bindparam("keys", expanding=True)),
        )
    )
)


def question_set_for_purchase(
    session: Session,
    purchase: Purchase | None,
    *,
    default_key: str | None = None,
    categories: list[str] | None = None,
) -> QuestionSet:
    """The set to send after this purchase: a category override, else the default.

    One query fetches both the sets assigned to the purchase's categories and
    the default set, since this runs for every purchase that arrives. A caller
    that has read the settings already passes the default set's key, and one
    that has the items' categories at hand passes them (in the items' order).
    """
    if categories is None:
        items = purchase.items if purchase else []
        categories = [item.category for item in items if item.category]
    if default_key is None:
        default_key = get_setting(session, "purchase_question_set")
    rows = session.execute(
        _SETS_FOR_PURCHASE,
        {"categories": categories, "keys": [default_key, FALLBACK_QUESTION_SET]},
    ).all()
    by_category = {category: question_set for question_set, category in rows if category}
    for category in categories:  # the first item's category decides
        if category in by_category:
            return by_category[category]
    by_key = {question_set.key: question_set for question_set, _category in rows}
    return by_key.get(default_key) or by_key[FALLBACK_QUESTION_SET]
