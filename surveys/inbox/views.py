"""Owners' pages: logging in and out, the inbox of cases, a case with its actions, a customer."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import NotFound

from surveys import clock, throttle
from surveys.auth import acting_user
from surveys.db import db
from surveys.humanize import MINUTES_TO_SECONDS, duration_words
from surveys.inbox.forms import (
    AcknowledgeForm,
    CustomerNoteForm,
    LoginForm,
    NoteForm,
    ReassignForm,
    ReplyForm,
    ResolveForm,
)
from surveys.models import Case, Customer, User
from surveys.services.cases import actions, deadlines, queries, states
from surveys.services.cases.errors import CaseInputError, CaseNotFound, CaseStateError
from surveys.services.customers import profile as customers
from surveys.services.customers import touchpoints
from surveys.services.users import accounts as users
from surveys.validation.text import unstorable_text_reason
from surveys.web_input import database_id, page_number

bp = Blueprint("inbox", __name__)

WRONG_CREDENTIALS = "That email and password do not match. Please try again."


# --- logging in and out --------------------------------------------------------


@bp.get("/")
def show_home():
    """Send people to their inbox, or to the login page first."""
    if current_user.is_authenticated:
        return redirect(url_for(".show_inbox"))
    return redirect(url_for(".login"))


# Each POST passes the login throttle first (surveys/throttle.py, attached in create_app):
# too many failures for the account or from the address answer show_login_throttled below.
@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a person in with their email and password, then take them where they were going."""
    next_path = safe_next_path(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or url_for(".show_inbox"))
    form = LoginForm()
    if not form.is_submitted():
        return render_template("inbox/login.html", form=form, next=next_path)
    if not form.validate():
        return render_template("inbox/login.html", form=form, next=next_path), 422
    user = users.authenticate(db.session(), form.email.data, form.password.data)
    if user is None:
        # Counted against the account and the address (surveys/throttle.py), and logged.
        throttle.record_failed_login(form.email.data)
        # One answer for every failure, so the page never tells which part was wrong
        # or whether the address has an account. Status 200: the form was well filled in.
        form.form_errors.append(WRONG_CREDENTIALS)
        return render_template("inbox/login.html", form=form, next=next_path)
    # A fresh session (and CSRF token) on login, so nothing planted before it survives.
    session.clear()
    login_user(user)
    return redirect(next_path or url_for(".show_inbox"))


def show_login_throttled(limit: RequestLimit) -> Response:
    """The login form again, 429: too many failed attempts for this account or from this address."""
    wait = throttle.retry_after_seconds(limit)
    # Rounded up: told "1 minute" with 90 seconds to go, a person would be refused again.
    wait_words = duration_words(wait, units=MINUTES_TO_SECONDS, round_up=True)
    form = LoginForm()
    form.form_errors.append(
        f"Too many failed attempts to log in. Please wait {wait_words} and try again."
    )
    page = render_template(
        "inbox/login.html", form=form, next=safe_next_path(request.args.get("next"))
    )
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.get("/logout")
def confirm_logout():
    """A typed or bookmarked /logout: ask with a button (logging out is a POST)."""
    if not current_user.is_authenticated:
        return redirect(url_for(".login"))
    return render_template("inbox/confirm_logout.html")


@bp.post("/logout")
def logout():
    """Log out everywhere: this session and every other one of this person, copies included.

    A POST with a CSRF token, so another site cannot do it with a link.
    """
    if current_user.is_authenticated:
        s = db.session()
        users.end_sessions(s, acting_user())
        s.commit()
    logout_user()
    session.clear()
    flash("You are logged out. See you soon.")
    return redirect(url_for(".login"))


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "/\evil.example" as "//evil.example", and strip tabs, newlines and
    # other control characters: no path of ours holds any of them.
    if any(char in target for char in "\\\t") or unstorable_text_reason(target, multiline=False):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# --- the inbox -------------------------------------------------------------------


@bp.get("/inbox")
@login_required
def show_inbox():
    """The cases waiting on the owner, the most pressing first; admins may see everyone's."""
    everyone = current_user.is_admin and request.args.get("owner") == "all"
    inbox = queries.inbox_cases(
        db.session(), owner=None if everyone else acting_user(), page=page_number(request.args)
    )
    return render_template("inbox/show_inbox.html", inbox=inbox, everyone=everyone)


# --- a case ------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@login_required
def show_case(case_id: int):
    """One case: the customer's answers, who they are, what they bought, and what to do next."""
    return _render_case(_load_case(case_id))


@bp.post("/cases/<int:case_id>/acknowledge")
@login_required
def acknowledge_case(case_id: int):
    """Take the case, so the customer knows a person is on it."""
    s = db.session()
    case = _load_case(case_id)
    actions.acknowledge_case(s, case, by_user=acting_user(), now=clock.now())
    s.commit()
    flash(f"It is yours now. {case.customer.display_name} will be glad to hear from you.")
    return redirect(url_for(".show_case", case_id=case.id))


@bp.post("/cases/<int:case_id>/resolve")
@login_required
def resolve_case(case_id: int):
    """Mark the case fixed, with a note of what was done."""
    s = db.session()
    case = _load_case(case_id)
    form = ResolveForm()
    g.case_form = ("resolve_form", form)
    if not form.validate():
        # A stale page may post to a case that can no longer be resolved:
        # say that, rather than point at a form the page no longer shows.
        states.ensure_can_resolve(case)
        return _render_case(case, resolve_form=form, status=422)
    actions.resolve_case(
        s, case, resolution=form.resolution.data, by_user=acting_user(), now=clock.now()
    )
    s.commit()
    flash(f"Resolved. Thank you for looking after {case.customer.display_name}.")
    return redirect(url_for(".show_case", case_id=case.id))


@bp.post("/cases/<int:case_id>/replies")
@login_required
def reply_to_case(case_id: int):
    """Write to the customer in your own name; their answer comes straight back to you."""
    return _case_action(
        case_id,
        "reply_form",
        ReplyForm(),
        ensure=states.ensure_can_reply,
        perform=lambda s, case, form: actions.reply_to_customer(
            s, case, message=form.message.data, by_user=acting_user(), now=clock.now()
        ),
        done=lambda case: (
            f"Sent to {case.customer.display_name}, from you. "
            "Their answer will come straight to your mailbox."
        ),
    )


@bp.post("/cases/<int:case_id>/notes")
@login_required
def add_case_note(case_id: int):
    """Add an internal note to the timeline (never shown to the customer)."""
    return _case_action(
        case_id,
        "note_form",
        NoteForm(),
        ensure=None,
        perform=lambda s, case, form: actions.add_case_note(
            s, case, body=form.body.data, by_user=acting_user(), now=clock.now()
        ),
        done=lambda case: "Note added. Only the people who look after this case see it.",
    )


@bp.post("/cases/<int:case_id>/reassign")
@login_required
def reassign_case(case_id: int):
    """Hand the case to one new owner, with the reason; they and the customer are told."""
    return _case_action(
        case_id,
        "reassign_form",
        ReassignForm(),
        ensure=states.ensure_can_reassign,
        perform=lambda s, case, form: actions.reassign_case(
            s,
            case,
            new_owner=s.get(User, form.owner_id.data) if form.owner_id.data else None,
            reason=form.reason.data,
            by_user=acting_user(),
            now=clock.now(),
        ),
        done=lambda case: (
            f"{case.owner.name} owns this case now; we emailed them, and told "
            f"{case.customer.display_name} who looks after them."
        ),
    )


def _case_action(case_id: int, form_name: str, form, *, ensure, perform, done):
    """Load the case, check the form, run one action, commit once, and go back to the case.

    A stale page may post to a case whose status no longer allows the action:
    that is said plainly (409) rather than pointing at a form the page no
    longer shows. What the action refuses is answered below, by the blueprint's
    error handlers.
    """
    s = db.session()
    case = _load_case(case_id)
    g.case_form = (form_name, form)
    if not form.validate():
        if ensure is not None:
            ensure(case)
        return _render_case(case, status=422, **{form_name: form})
    perform(s, case, form)
    s.commit()
    flash(done(case))
    me = acting_user()
    if not (me.is_admin or case.owner_id == me.id):
        # Handed over to someone else: the case is theirs now, and off this inbox.
        return redirect(url_for(".show_inbox"))
    return redirect(url_for(".show_case", case_id=case.id))


def _load_case(case_id: int) -> Case:
    """The case if the current user may see it; CaseNotFound (a 404) otherwise, also for actions."""
    return queries.get_case_for(db.session(), acting_user(), case_id)


# --- what a case action refuses, answered once for every page here ----------------------

# The services name the new owner `owner`; the reassign form calls it `owner_id`.
_FORM_FIELDS = {"owner": "owner_id"}


@bp.errorhandler(CaseNotFound)
def _answer_case_not_found(_exc: CaseNotFound):
    """No such case, or not this person's to see: the same 404 page as any unknown address."""
    return current_app.handle_http_exception(NotFound())


@bp.errorhandler(CaseStateError)
def _answer_case_state_error(exc: CaseStateError):
    """An action the case's status does not allow (often a stale page): the case, saying so.

    Said plainly (409), rather than pointing at a form the page no longer shows.
    """
    return _render_case(_load_case(request.view_args["case_id"]), error=str(exc), status=409)


@bp.errorhandler(CaseInputError)
def _answer_case_input_error(exc: CaseInputError):
    """A value the action refused: the case with the submitted form, the message at its field."""
    form_name, form = g.case_form
    field = form[_FORM_FIELDS.get(exc.field, exc.field)]
    field.errors = [*field.errors, str(exc)]
    case = _load_case(request.view_args["case_id"])
    return _render_case(case, status=422, **{form_name: form})


def _render_case(case: Case, *, error: str | None = None, status: int = 200, **forms):
    """The case page; `forms` are submitted forms to show with their errors."""
    s = db.session()
    shown = {
        "acknowledge_form": AcknowledgeForm(formdata=None),
        "resolve_form": ResolveForm(formdata=None),
        # The composer starts with the customer's own words, for the owner to paraphrase.
        "reply_form": ReplyForm(formdata=None, data={"message": queries.reply_opening(case)}),
        "note_form": NoteForm(formdata=None),
        "reassign_form": ReassignForm(formdata=None),
        "customer_note_form": CustomerNoteForm(formdata=None),
    }
    shown.update({name: form for name, form in forms.items() if form is not None})
    candidates = queries.reassign_candidates(s, case)
    shown["reassign_form"].owner_id.choices = [("", "Choose someone")] + [
        (person.id, f"{person.name} (admin)" if person.is_admin else person.name)
        for person in candidates
    ]
    return render_template(
        "inbox/show_case.html",
        case=case,
        remembered=customers.remembered_about(s, case.customer),
        has_candidates=bool(candidates),
        error=error,
        **shown,
    ), status


# --- a customer ------------------------------------------------------------------------


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
            return url_for(".show_case", case_id=case_id)
    return url_for(".show_customer", customer_id=customer.id)


def _load_customer(customer_id: int) -> Customer:
    """The customer if the current user may see them; 404 otherwise."""
    try:
        return customers.get_customer_for(db.session(), acting_user(), customer_id)
    except customers.CustomerNotFound:
        abort(404)


def _render_customer(
    customer: Customer, *, note_form: CustomerNoteForm | None = None, status: int = 200
):
    profile = customers.customer_profile(db.session(), customer)
    return render_template(
        "inbox/show_customer.html",
        profile=profile,
        customer=customer,
        note_form=note_form or CustomerNoteForm(formdata=None),
        aim=touchpoints.AIM,
        kind_label=touchpoints.kind_label,
    ), status


# --- template helpers ------------------------------------------------------------------


def describe_deadline(deadline: deadlines.Deadline | None) -> dict | None:
    """How the next deadline reads: 'due in 3 hours', or plainly 'overdue by 2 days'."""
    if deadline is None:
        return None
    now = clock.now()
    overdue = deadline.is_overdue(now)
    seconds = abs((deadline.due_at - now).total_seconds())
    words = (
        f"overdue by {duration_words(seconds)}" if overdue else f"due in {duration_words(seconds)}"
    )
    return {
        "action": deadline.action,
        "due_at": deadline.due_at,
        "overdue": overdue,
        "words": words,
    }


@bp.context_processor
def _case_helpers() -> dict:
    return {
        "deadline_of": lambda case: describe_deadline(deadlines.next_deadline(case)),
        "first_reason": lambda case: next(iter(queries.negative_reasons(case)), None),
        "can_acknowledge": states.can_acknowledge,
        "can_resolve": states.can_resolve,
        "can_reply": states.can_reply,
        "can_reassign": states.can_reassign,
        "answer_words": queries.answer_words,
        "negative_because": queries.negative_because,
    }
