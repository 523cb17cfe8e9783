"""A customer's page: their profile, what they asked us to remember, personal notes."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from surveys import clock
from surveys.auth import acting_user
from surveys.db import db
from surveys.inbox import occasion_pages
from surveys.inbox.blueprint import bp
from surveys.inbox.forms import (
    CustomerNoteForm,
)
from surveys.models import Case, Customer
from surveys.services.customers import profile as customers
from surveys.services.customers import touchpoints
from surveys.web_input import database_id


@bp.get("/customers/<int:customer_id>")
@login_required
def show_customer(customer_id: int):
    """A customer's profile: what we remember, purchases, surveys, cases and touch points."""
    return _render_customer(_load_customer(customer_id))


@bp.post("/customers/<int:customer_id>/notes")
@login_required
def add_customer_note(customer_id: int):
    """Keep a personal detail about the customer, for everyone who looks after them."""
    s = db.session()
    customer = _load_customer(customer_id)
    form = CustomerNoteForm()
    if not form.validate():
        return _render_customer(customer, note_form=form, status=422)
    try:
        customers.add_customer_note(
            s, customer, body=form.body.data, author=acting_user(), now=clock.now()
        )
    except customers.CustomerNoteError as exc:
        form.body.errors = [*form.body.errors, str(exc)]
        return _render_customer(customer, note_form=form, status=422)
    s.commit()
    flash(f"Noted. Everyone who looks after {customer.display_name} will see it.")
    return redirect(_back_from_note(customer))


def _back_from_note(customer: Customer) -> str:
    """Back to the case the note was written from (when it is this customer's), else the profile."""
    case_id = database_id(request.args.get("case"))
    if case_id is not None:
        case = db.session().get(Case, case_id)
        if case is not None and case.customer_id == customer.id:
            return url_for(".show_case", case_id=case_id, _anchor="remembered")
    return url_for(".show_customer", customer_id=customer.id)


def _load_customer(customer_id: int) -> Customer:
    """The customer if the current user may see them; 404 otherwise."""
    try:
        return customers.get_customer_for(db.session(), acting_user(), customer_id)
    except customers.CustomerNotFound:
        abort(404)


def _render_customer(
    customer: Customer, *, note_form: CustomerNoteForm | None = None, status: int = 200, **forms
):
    """The profile; `forms` are submitted forms of dates and gestures to show with their errors."""
    pages = {section: _page_number(request.args.get(section)) for section in customers.PAGE_SIZES}
    profile = customers.customer_profile(db.session(), customer, pages=pages)
    occasions = occasion_pages.customer_context(
        db.session(), customer, acting_user(), now=clock.now(), forms=forms
    )
    return render_template(
        "inbox/show_customer.html",
        profile=profile,
        customer=customer,
        note_form=note_form or CustomerNoteForm(formdata=None),
        aim=touchpoints.AIM,
        kind_label=touchpoints.kind_label,
        **occasions,
    ), status


def _page_number(value: str | None) -> int:
    """A page asked for in the address; anything but a positive whole number is the first."""
    number = database_id(value)
    return number if number is not None else 1


# --- template helpers ------------------------------------------------------------------
