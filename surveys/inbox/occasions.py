"""Dates that matter and gestures, from the customer and case pages.

An owner records a customer's date (or confirms one the page suggests from the
customer's words, a note or their first order, or says it is "Not a date"), removes
one, and records a gesture for the customer or for a case. Each view loads what the
owner may see (404 otherwise), calls one service, commits once and goes back.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required

from surveys import clock
from surveys.auth import acting_user
from surveys.db import db
from surveys.inbox.blueprint import bp
from surveys.inbox.customers import _load_customer, _render_customer
from surveys.inbox.occasion_forms import (
    ConfirmDateSuggestionForm,
    GestureForm,
    RememberedDateForm,
)
from surveys.inbox.occasion_pages import GESTURE_PREFIX
from surveys.inbox.views import _at_entry, _load_case, _render_case
from surveys.services.cases.errors import CaseInputError
from surveys.services.occasions import dates, gestures, suggestions
from surveys.services.occasions.gestures import GestureError


def _back_to_dates(customer_id: int):
    return redirect(url_for(".show_customer", customer_id=customer_id, _anchor="dates-title"))


@bp.post("/customers/<int:customer_id>/dates")
@login_required
def add_customer_date(customer_id: int):
    """Remember a date that matters to the customer (a birthday, a graduation)."""
    s = db.session()
    customer = _load_customer(customer_id)
    form = RememberedDateForm()
    if not form.validate():
        return _render_customer(customer, date_form=form, status=422)
    year = form.year.data
    data = dates.DateInput(
        label=form.label.data,
        day=form.day.data if form.day.data is not None else 0,
        month=form.month.data if form.month.data is not None else 0,
        year=int(year) if year and year.isascii() and year.isdigit() else (-1 if year else None),
        yearly=bool(form.yearly.data),
    )
    try:
        remembered = dates.record_date(s, customer, data, now=clock.now(), by_user=acting_user())
    except dates.DateError as exc:
        for field, why in exc.errors.items():
            form[field].errors = [*form[field].errors, why]
        return _render_customer(customer, date_form=form, status=422)
    s.commit()
    flash(_remembered(remembered))
    return _back_to_dates(customer.id)


def _remembered(remembered) -> str:
    return _(
        "Remembered: %(label)s, %(date)s.", label=remembered.label, date=dates.describe(remembered)
    )


@bp.post("/customers/<int:customer_id>/dates/<int:date_id>/delete")
@login_required
def remove_customer_date(customer_id: int, date_id: int):
    """Forget one of the customer's dates."""
    s = db.session()
    customer = _load_customer(customer_id)
    try:
        remembered = dates.get_date(s, customer, date_id)
    except dates.DateNotFound:
        abort(404)
    label = remembered.label
    dates.remove_date(s, remembered)
    s.commit()
    flash(_("Forgotten: %(label)s.", label=label))
    return _back_to_dates(customer.id)


def _offered(customer, key: str) -> suggestions.Suggestion:
    if not suggestions.SUGGESTION_KEY.fullmatch(key):
        abort(404)  # no suggestion is ever called this
    suggestion = suggestions.find_suggestion(db.session(), customer, key, now=clock.now())
    if suggestion is None:
        # Confirmed or refused already (another tab, someone else): nothing to do here.
        flash(_("That suggestion is no longer open."))
        abort(_back_to_dates(customer.id))
    return suggestion


@bp.post("/customers/<int:customer_id>/date-suggestions/<suggestion>/confirm")
@login_required
def confirm_date_suggestion(customer_id: int, suggestion: str):
    """Remember a date the page suggested, under the label the owner chose."""
    s = db.session()
    customer = _load_customer(customer_id)
    offered = _offered(customer, suggestion)
    form = ConfirmDateSuggestionForm(prefix=f"s-{offered.key}")
    if not form.validate():
        return _render_customer(customer, suggestion_form=(offered.key, form), status=422)
    data = dates.DateInput(
        label=form.label.data,
        day=offered.day,
        month=offered.month,
        year=offered.year,
        yearly=bool(form.yearly.data),
    )
    try:
        remembered = dates.record_date(
            s,
            customer,
            data,
            now=clock.now(),
            by_user=acting_user(),
            source="first_order" if offered.source == "first_order" else "suggestion",
        )
    except dates.DateError as exc:
        form.label.errors = [*form.label.errors, *exc.errors.values()]
        return _render_customer(customer, suggestion_form=(offered.key, form), status=422)
    s.commit()
    flash(_remembered(remembered))
    return _back_to_dates(customer.id)


@bp.post("/customers/<int:customer_id>/date-suggestions/<suggestion>/refuse")
@login_required
def refuse_date_suggestion(customer_id: int, suggestion: str):
    """ "Not a date": the suggestion goes, and is not suggested again."""
    s = db.session()
    customer = _load_customer(customer_id)
    offered = _offered(customer, suggestion)  # the CSRF token was checked before the view
    suggestions.refuse_suggestion(s, customer, offered, by_user=acting_user(), now=clock.now())
    s.commit()
    flash(_("Not a date: it will not be suggested again."))
    return _back_to_dates(customer.id)


def _gesture_values(form: GestureForm):
    """The kind, cost and note of a submitted gesture form; GestureError for a bad cost."""
    return form.kind.data or None, gestures.read_cost(form.cost.data), form.note.data or None


@bp.post("/customers/<int:customer_id>/gestures")
@login_required
def record_customer_gesture(customer_id: int):
    """Record a pleasant surprise for the customer (a card, a gift, a call)."""
    s = db.session()
    customer = _load_customer(customer_id)
    form = GestureForm(prefix=GESTURE_PREFIX)
    if not form.validate():
        return _render_customer(customer, gesture_form=form, status=422)
    try:
        kind, cost, note = _gesture_values(form)
        gestures.record_gesture(
            s,
            customer=customer,
            kind=kind,
            cost=cost,
            note=note,
            by_user=acting_user(),
            now=clock.now(),
        )
    except GestureError as exc:
        for field, why in exc.errors.items():
            form[field].errors = [*form[field].errors, why]
        return _render_customer(customer, gesture_form=form, status=422)
    s.commit()
    flash(
        _(
            "Recorded. A positive touch for %(name)s, credited to you.",
            name=customer.display_name,
        )
    )
    return redirect(url_for(".show_customer", customer_id=customer.id, _anchor="gestures-title"))


@bp.post("/cases/<int:case_id>/gestures")
@login_required
def record_case_gesture(case_id: int):
    """Record the gesture that went with putting this case right (service heroics)."""
    s = db.session()
    case = _load_case(case_id)
    form = GestureForm(prefix=GESTURE_PREFIX)
    g.case_form = ("gesture_form", form)
    if not form.validate():
        return _render_case(case, status=422, gesture_form=form)
    try:
        kind, cost, note = _gesture_values(form)
        gestures.record_gesture(
            s,
            customer=case.customer,
            case=case,
            kind=kind,
            cost=cost,
            note=note,
            by_user=acting_user(),
            now=clock.now(),
        )
    except GestureError as exc:
        field, why = next(iter(exc.errors.items()))
        raise CaseInputError(field, why) from None
    s.commit()
    flash(
        _(
            "Recorded on the case. A positive touch for %(name)s.",
            name=case.customer.display_name,
        )
    )
    return redirect(_at_entry(case, case.events[-1]))


@bp.context_processor
def _date_words() -> dict:
    """Days and months in the reader's language, for the inbox's "coming up" and the dates."""
    return {"describe_day": dates.describe_day}
