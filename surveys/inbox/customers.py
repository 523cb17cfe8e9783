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
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from surveys import clock
from surveys.auth import acting_user
from surveys.db import db
from surveys.i18n import customer_language
from surveys.inbox import occasion_pages
from surveys.inbox.blueprint import bp
from surveys.inbox.forms import (
    ContactForm,
    CustomerNoteForm,
    GoodbyeLetterForm,
)
from surveys.models import Case, Customer
from surveys.services.customers import goodbyes, ledger, touchpoints
from surveys.services.customers import profile as customers
from surveys.services.settings import get_setting
from surveys.web_input import database_id

# Why a contact was refused, by field, as the page says it.
CONTACT_REFUSALS = {
    "kind": _l("Choose a call, a visit, a card or another contact."),
    "polarity": _l("Say how it went for them."),
    "note": _l("Keep it short."),
}


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
    flash(_("Noted. Everyone who looks after %(name)s will see it.", name=customer.display_name))
    return redirect(_back_from_note(customer))


@bp.post("/customers/<int:customer_id>/contacts")
@login_required
def log_contact(customer_id: int):
    """A call, visit or card the owner made: on the ledger, as they say it went."""
    s = db.session()
    customer = _load_customer(customer_id)
    form = ContactForm()
    if not form.validate():
        return _render_customer(customer, contact_form=form, status=422)
    try:
        ledger.log_owner_contact(
            s,
            customer,
            kind=form.kind.data,
            polarity=form.polarity.data,
            note=form.note.data,
            now=clock.now(),
        )
    except touchpoints.TouchpointError as refused:
        # The service words its reasons for the API's field paths; the page says them whole.
        form[refused.field].errors = [CONTACT_REFUSALS.get(refused.field, _("Check this field."))]
        return _render_customer(customer, contact_form=form, status=422)
    s.commit()
    flash(
        _(
            "%(contact)s with %(name)s is on their ledger.",
            contact=ledger.kind_label(form.kind.data),
            name=customer.display_name,
        )
    )
    return redirect(url_for(".show_customer", customer_id=customer.id, _anchor="touchpoints-title"))


@bp.post("/customers/<int:customer_id>/goodbye")
@login_required
def end_relationship(customer_id: int):
    """End the relationship with a personal letter: sent in the owner's name, surveys stop."""
    s = db.session()
    customer = _load_customer(customer_id)
    form = GoodbyeLetterForm()
    if not form.validate():
        return _render_customer(customer, goodbye_form=form, status=422)
    try:
        goodbyes.end_relationship(
            s, customer, owner=acting_user(), letter=form.letter.data, now=clock.now()
        )
    except goodbyes.GoodbyeError as refused:
        s.rollback()
        if refused.field == "letter":
            form.letter.errors = [str(refused)]
            return _render_customer(customer, goodbye_form=form, status=422)
        flash(str(refused), "error")
        return _render_customer(customer, status=409)
    s.commit()
    flash(
        _(
            "Your letter is on its way to %(name)s. They will not be surveyed again.",
            name=customer.display_name,
        )
    )
    return redirect(url_for(".show_customer", customer_id=customer.id, _anchor="goodbye-title"))


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
    customer: Customer,
    *,
    note_form: CustomerNoteForm | None = None,
    goodbye_form: GoodbyeLetterForm | None = None,
    contact_form: ContactForm | None = None,
    status: int = 200,
    **forms,
):
    """The profile; `forms` are submitted forms of dates and gestures to show with their errors."""
    session = db.session()
    pages = {section: _page_number(request.args.get(section)) for section in customers.PAGE_SIZES}
    profile = customers.customer_profile(session, customer, pages=pages)
    occasions = occasion_pages.customer_context(
        session, customer, acting_user(), now=clock.now(), forms=forms
    )
    goodbye = goodbyes.open_goodbye(session, customer)
    if goodbye_form is None and goodbye is None and customer.erased_at is None:
        draft = goodbyes.goodbye_letter_draft(
            customer,
            acting_user(),
            get_setting(session, "shop_name"),
            language=customer_language(customer),
        )
        goodbye_form = GoodbyeLetterForm(formdata=None, data={"letter": draft})
    return render_template(
        "inbox/show_customer.html",
        profile=profile,
        customer=customer,
        note_form=note_form or CustomerNoteForm(formdata=None),
        goodbye=goodbye,
        goodbye_form=goodbye_form,
        contact_form=contact_form or ContactForm(formdata=None),
        next_touch=ledger.next_positive_touch(session, customer, now=clock.now()),
        goodbye_reason=goodbyes.reason_in_words,
        aim=touchpoints.AIM,
        kind_label=ledger.kind_label,
        one_decimal=_one_decimal,
        **occasions,
    ), status


def _one_decimal(value: float) -> str:
    """A ratio as the reader writes it, to one decimal ("1.5", "1,5")."""
    return format_decimal(value, "#,##0.0")


def _page_number(value: str | None) -> int:
    """A page asked for in the address; anything but a positive whole number is the first."""
    number = database_id(value)
    return number if number is not None else 1


# --- template helpers ------------------------------------------------------------------
