"""What the customer and case pages show of dates that matter and gestures, and their forms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from surveys.inbox.occasion_forms import (
    ConfirmDateSuggestionForm,
    GestureForm,
    RememberedDateForm,
)
from surveys.models import Case, Customer, User
from surveys.services.cases.errors import CaseInputError
from surveys.services.occasions import dates, gestures, suggestions

# Gesture forms carry a prefix: the case page already has a form with the id `note`.
GESTURE_PREFIX = "gesture"


def suggestion_form(suggestion: suggestions.Suggestion) -> ConfirmDateSuggestionForm:
    """The one-click form of a suggestion, its fields named after it so several fit a page."""
    return ConfirmDateSuggestionForm(
        formdata=None,
        prefix=f"s-{suggestion.key}",
        data={"label": suggestion.label, "yearly": suggestion.yearly},
    )


def customer_context(
    session: Session, customer: Customer, user: User, *, now: datetime, forms: dict
) -> dict:
    """The dates, suggestions, gestures and their forms for the customer page."""
    submitted = forms.get("suggestion_form")
    offered = []
    for suggestion in suggestions.suggestions_for(session, customer, now=now):
        form = submitted if submitted is not None and submitted[0] == suggestion.key else None
        offered.append((suggestion, form[1] if form else suggestion_form(suggestion)))
    return {
        "remembered_dates": dates.dates_of(session, customer),
        "date_suggestions": offered,
        "date_form": forms.get("date_form") or RememberedDateForm(formdata=None),
        "gesture_form": forms.get("gesture_form")
        or GestureForm(formdata=None, prefix=GESTURE_PREFIX),
        "gestures": gestures.gestures_of(session, customer),
        "gesture_kind_words": gestures.kind_words,
        "allowance": gestures.allowance_of(session, user, now=now),
        "describe_date": dates.describe,
    }


def case_context(session: Session, case: Case, user: User, *, now: datetime) -> dict:
    """The gesture form and what is left of this month's allowance, for the case page."""
    return {
        "gesture_form": GestureForm(formdata=None, prefix=GESTURE_PREFIX),
        "allowance": gestures.allowance_of(session, user, now=now),
    }


# The resolve form's gesture fields, by the names the gesture service gives them.
_RESOLVE_FIELDS = {"kind": "gesture_kind", "cost": "gesture_cost", "note": "gesture_kind"}


def resolve_gesture(
    session: Session, form, *, by_user: User, now: datetime
) -> tuple[str, Decimal | None] | None:
    """The gesture chosen on the resolve form, checked (CaseInputError at its field), or None."""
    kind = form.gesture_kind.data or None
    try:
        cost = gestures.read_cost(form.gesture_cost.data)
        if kind is None:
            if cost:
                raise gestures.GestureError({"kind": "Choose the gesture this cost was for."})
            return None
        gestures.check_gesture(session, kind=kind, by_user=by_user, now=now, cost=cost)
    except gestures.GestureError as exc:
        field, why = next(iter(exc.errors.items()))
        raise CaseInputError(_RESOLVE_FIELDS.get(field, "gesture_kind"), why) from None
    return kind, cost


def record_resolve_gesture(
    session: Session,
    case: Case,
    gesture: tuple[str, Decimal | None],
    *,
    by_user: User,
    now: datetime,
) -> None:
    """Record the gesture that went with the fix, on the case."""
    kind, cost = gesture
    gestures.record_gesture(
        session, customer=case.customer, case=case, kind=kind, cost=cost, by_user=by_user, now=now
    )
