"""Owners' pages: logging in and out, the inbox of cases, and a case with its actions."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from surveys import clock
from surveys.db import db
from surveys.inbox.forms import AcknowledgeForm, LoginForm, ResolveForm
from surveys.models import Case, User
from surveys.services import case_workflow, users
from surveys.services.case_workflow import CaseInputError, CaseNotFound, CaseStateError

bp = Blueprint("inbox", __name__)

WRONG_CREDENTIALS = "That email and password do not match. Please try again."


# --- logging in and out --------------------------------------------------------


@bp.get("/")
def show_home():
    """Send people to their inbox, or to the login page first."""
    if current_user.is_authenticated:
        return redirect(url_for(".show_inbox"))
    return redirect(url_for(".login"))


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
        current_app.logger.info("Failed login for %r from %s", form.email.data,
                                request.remote_addr)
        # One answer for every failure, so the page never tells which part was wrong
        # or whether the address has an account. Status 200: the form was well filled in.
        form.form_errors.append(WRONG_CREDENTIALS)
        return render_template("inbox/login.html", form=form, next=next_path)
    # A fresh session (and CSRF token) on login, so nothing planted before it survives.
    session.clear()
    login_user(user)
    return redirect(next_path or url_for(".show_inbox"))


@bp.post("/logout")
def logout():
    """Log out (a POST with a CSRF token, so another site cannot do it with a link)."""
    logout_user()
    session.clear()
    flash("You are logged out. See you soon.")
    return redirect(url_for(".login"))


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "/\evil.example" as "//evil.example", and strip tabs and newlines.
    if any(char in target for char in "\\\t\r\n"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.before_app_request
def _log_out_deactivated_users():
    # Flask-Login already treats an inactive user as logged out; dropping the
    # session too means reactivating them later does not revive an old login.
    if "_user_id" in session and isinstance(current_user._get_current_object(), User) \
            and not current_user.active:
        logout_user()


# --- the inbox -------------------------------------------------------------------


@bp.get("/inbox")
@login_required
def show_inbox():
    """The cases waiting on the owner, the most pressing first; admins may see everyone's."""
    everyone = current_user.is_admin and request.args.get("owner") == "all"
    cases = case_workflow.inbox_cases(db.session(), owner=None if everyone else _me())
    return render_template("inbox/show_inbox.html", cases=cases, everyone=everyone)


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
    try:
        case_workflow.acknowledge_case(s, case, by_user=_me(), now=clock.now())
    except CaseStateError as exc:
        return _render_case(case, error=str(exc), status=409)
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
    try:
        if not form.validate():
            # A stale page may post to a case that can no longer be resolved:
            # say that, rather than point at a form the page no longer shows.
            case_workflow.ensure_can_resolve(case)
            return _render_case(case, resolve_form=form, status=422)
        case_workflow.resolve_case(s, case, resolution=form.resolution.data, by_user=_me(),
                                   now=clock.now())
    except CaseStateError as exc:
        return _render_case(case, error=str(exc), status=409)
    except CaseInputError as exc:
        form[exc.field].errors = [*form[exc.field].errors, str(exc)]
        return _render_case(case, resolve_form=form, status=422)
    s.commit()
    flash(f"Resolved. Thank you for looking after {case.customer.display_name}.")
    return redirect(url_for(".show_case", case_id=case.id))


def _me() -> User:
    # The User itself rather than Flask-Login's proxy, to hand to the services.
    return current_user._get_current_object()


def _load_case(case_id: int) -> Case:
    """The case if the current user may see it; 404 otherwise (also for actions)."""
    try:
        return case_workflow.get_case_for(db.session(), _me(), case_id)
    except CaseNotFound:
        abort(404)


def _render_case(case: Case, *, resolve_form: ResolveForm | None = None,
                 error: str | None = None, status: int = 200):
    return render_template(
        "inbox/show_case.html",
        case=case,
        acknowledge_form=AcknowledgeForm(formdata=None),
        resolve_form=resolve_form or ResolveForm(formdata=None),
        error=error,
    ), status


# --- template helpers ------------------------------------------------------------------


def duration_words(seconds: float) -> str:
    """'3 hours', '2 days', '1 minute': a duration as a person says it."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def describe_deadline(deadline: case_workflow.Deadline | None) -> dict | None:
    """How the next deadline reads: 'due in 3 hours', or plainly 'overdue by 2 days'."""
    if deadline is None:
        return None
    now = clock.now()
    overdue = deadline.is_overdue(now)
    seconds = abs((deadline.due_at - now).total_seconds())
    words = f"overdue by {duration_words(seconds)}" if overdue else \
        f"due in {duration_words(seconds)}"
    return {"action": deadline.action, "due_at": deadline.due_at, "overdue": overdue,
            "words": words}


@bp.context_processor
def _case_helpers() -> dict:
    return {
        "deadline_of": lambda case: describe_deadline(case_workflow.next_deadline(case)),
        "first_reason": lambda case: next(iter(case_workflow.negative_reasons(case)), None),
        "can_acknowledge": case_workflow.can_acknowledge,
        "can_resolve": case_workflow.can_resolve,
        "answer_words": case_workflow.answer_words,
    }


@bp.app_context_processor
def _navigation_helpers() -> dict:
    # base.html links to pages of blueprints that may not have their views yet.
    return {"has_endpoint": lambda endpoint: endpoint in current_app.view_functions}
