"""Reading question sets: the current version, and which set follows a purchase."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import (
    Purchase,
    QuestionSet,
    QuestionSetAssignment,
    QuestionSetVersion,
)
from surveys.services.settings import get_setting


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


def question_set_for_purchase(session: Session, purchase: Purchase | None) -> QuestionSet:
    """The set to send after this purchase: a category override, else the default."""
    categories = [item.category for item in (purchase.items if purchase else []) if item.category]
    if categories:
        assignments = session.scalars(
            select(QuestionSetAssignment).where(QuestionSetAssignment.category.in_(categories))
        ).all()
        by_category = {a.category: a.question_set for a in assignments}
        for category in categories:  # the first item's category decides
            if category in by_category:
                return by_category[category]
    default_key = get_setting(session, "purchase_question_set")
    return get_question_set(session, default_key) or get_question_set(session, "heart-to-heart")
