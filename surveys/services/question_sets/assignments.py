"""Which question set follows a purchase: the default set, and sets chosen by item category."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from surveys.models import (
    Purchase,
    QuestionSet,
    QuestionSetAssignment,
    User,
)
from surveys.models.question_sets import IMPORTED_SET_KEYS
from surveys.services.audit import record_admin_change
from surveys.services.question_sets.versions import latest_version
from surveys.services.settings import get_setting, set_setting

# Seeded by the migrations; used when the configured default set is gone.
FALLBACK_QUESTION_SET = "heart-to-heart"
MAX_CATEGORY = 128


class EditorError(ValueError):
    """A change an admin asked for that cannot be made; the message says why."""


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


def _require_published(session: Session, question_set: QuestionSet) -> None:
    if question_set.key in IMPORTED_SET_KEYS:
        raise EditorError(
            _(
                "“%(set)s” only holds answers imported from elsewhere; it is never sent.",
                set=question_set.name,
            )
        )
    if latest_version(session, question_set) is None:
        raise EditorError(
            _(
                "“%(set)s” has no published version yet; publish it before sending it to "
                "customers.",
                set=question_set.name,
            )
        )


def set_purchase_question_set(
    session: Session, question_set: QuestionSet, *, actor: User, now: datetime
) -> None:
    """Make this set the one sent after a purchase (unless a category chooses another)."""
    _require_published(session, question_set)
    before = get_setting(session, "purchase_question_set")
    if before == question_set.key:
        return
    set_setting(session, "purchase_question_set", question_set.key)
    record_admin_change(
        session,
        actor_user=actor,
        action="setting.changed",
        target="setting purchase_question_set",
        before={"purchase_question_set": before},
        after={"purchase_question_set": question_set.key},
        now=now,
    )


def assign_category(
    session: Session, *, category: str, question_set: QuestionSet, actor: User, now: datetime
) -> QuestionSetAssignment:
    """Send this set after purchases of items in `category` (replaces that category's set)."""
    category = (category or "").strip()
    if not category:
        raise EditorError(_("Name the item category, exactly as your shop sends it."))
    if len(category) > MAX_CATEGORY:
        raise EditorError(_("Keep the category to %(num)s characters.", num=MAX_CATEGORY))
    _require_published(session, question_set)
    assignment = session.scalar(
        select(QuestionSetAssignment).where(QuestionSetAssignment.category == category)
    )
    before = (
        {"category": category, "question_set": assignment.question_set.key} if assignment else None
    )
    if assignment is None:
        assignment = QuestionSetAssignment(category=category, question_set_id=question_set.id)
        session.add(assignment)
    else:
        assignment.question_set_id = question_set.id
    session.flush()
    session.refresh(assignment, ["question_set"])
    record_admin_change(
        session,
        actor_user=actor,
        action="question_set.category_assigned",
        target=f"category {category}",
        before=before,
        after={"category": category, "question_set": question_set.key},
        now=now,
    )
    return assignment


def remove_category_assignment(
    session: Session, assignment: QuestionSetAssignment, *, actor: User, now: datetime
) -> None:
    """Purchases in this category get the default set again."""
    before = {"category": assignment.category, "question_set": assignment.question_set.key}
    session.execute(delete(QuestionSetAssignment).where(QuestionSetAssignment.id == assignment.id))
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="question_set.category_unassigned",
        target=f"category {before['category']}",
        before=before,
        after=None,
        now=now,
    )
