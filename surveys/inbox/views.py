"""Owners' pages: the inbox of cases, and a case with its conversation and actions."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from surveys import clock
from surveys.auth import acting_user
from surveys.db import db
from surveys.inbox import occasion_pages
from surveys.inbox.blueprint import bp
from surveys.inbox.forms import (
    AcknowledgeForm,
    CustomerNoteForm,
    InboxSearchForm,
    NoteForm,
    ReassignForm,
    ReplyForm,
    ResolveForm,
)
from surveys.inbox.occasion_pages import record_resolve_gesture, resolve_gesture
from surveys.models import Case, User
from surveys.services.cases import actions, conversation, deadlines, queries, states, timeline
from surveys.services.cases.errors import CaseInputError, CaseNotFound, CaseStateError
from surveys.services.cases.inbox import FILTER_LABELS, InboxFilter, InboxPage, inbox_cases
from surveys.services.cases.queries import answer_in_words
from surveys.services.customers import profile as customers
from surveys.services.occasions.dates import coming_up_for
from surveys.services.settings import get_setting
from surveys.services.surveys import held
from surveys.web_input import page_number
from surveys.wording import quoted_list


@bp.get("/inbox")
@login_required
def show_inbox():
    """The owner's cases under one filter or a search, the customers who spoke last first,
    then the most pressing; admins may see everyone's."""
    everyone = current_user.is_admin and request.args.get("owner") == "all"
    show = _inbox_filter(request.args.get("show"))
    form = InboxSearchForm(formdata=request.args)
    if not form.validate():
        # A search nothing can match (a NUL byte, a page of text): said beside the box,
        # rather than listing everything under a search that was not applied.
        nothing = InboxPage(
            rows=[], total=0, page=1, per_page=1, counts=dict.fromkeys(InboxFilter, 0)
        )
        return _inbox_page(nothing, form, show=show, everyone=everyone, status=422)
    inbox = inbox_cases(
        db.session(),
        owner=None if everyone else acting_user(),
        show=show,
        search=form.q.data or None,
        page=page_number(request.args),
    )
    return _inbox_page(inbox, form, show=show, everyone=everyone)


def _inbox_filter(value: str | None) -> InboxFilter:
    """The filter asked for; every open case for a filter we do not know."""
    try:
        return InboxFilter(value or InboxFilter.ALL)
    except ValueError:
        return InboxFilter.ALL


def _inbox_page(inbox, form, *, show: InboxFilter, everyone: bool, status: int = 200):
    # Only the inbox's own arguments go into its links: the query string's other names
    # would reach url_for as its own arguments (_external, _scheme…).
    search = form.q.data if not form.errors and form.q.data else None
    scope = {"owner": "all"} if everyone else {}
    shown = {"show": show.value} if show != InboxFilter.ALL else {}
    searched = {"q": search} if search else {}
    return render_template(
        "inbox/show_inbox.html",
        inbox=inbox,
        everyone=everyone,
        form=form,
        show=show,
        show_label=FILTER_LABELS[show],
        search=search,
        filters=[
            (
                choice,
                label,
                {**scope, **searched, **({"show": choice.value} if choice.value != "all" else {})},
            )
            for choice, label in FILTER_LABELS.items()
        ],
        page_args={**scope, **searched, **shown},
        clear_args={**scope, **shown},
        coming_up=coming_up_for(db.session(), acting_user(), today=clock.now().date()),
    ), status


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
    event = actions.acknowledge_case(s, case, by_user=acting_user(), now=clock.now())
    s.commit()
    flash(
        _(
            "It is yours now. %(customer)s will be glad to hear from you.",
            customer=case.customer.display_name,
        )
    )
    return redirect(_at_entry(case, event))


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
    gesture = resolve_gesture(s, form, by_user=acting_user(), now=clock.now())
    event = actions.resolve_case(
        s,
        case,
        resolution=form.resolution.data,
        ask_in_days=form.ask_in_days.data,
        by_user=acting_user(),
        now=clock.now(),
    )
    if gesture is not None:
        record_resolve_gesture(s, case, gesture, by_user=acting_user(), now=clock.now())
    s.commit()
    days = event.data["ask_in_days"]
    customer = case.customer.display_name
    if days == 0:
        done = _(
            "Resolved. Thank you for looking after %(customer)s. "
            "We will ask them whether it worked right away.",
            customer=customer,
        )
    else:
        done = ngettext(
            "Resolved. Thank you for looking after %(customer)s. "
            "We will ask them whether it worked in %(num)d day.",
            "Resolved. Thank you for looking after %(customer)s. "
            "We will ask them whether it worked in %(num)d days.",
            days,
            customer=customer,
        )
    flash(done)
    return redirect(_at_entry(case, event))


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
            s,
            case,
            understood=form.understood.data,
            will_do=form.will_do.data,
            by_user=acting_user(),
            now=clock.now(),
        ),
        done=lambda case: _(
            "Sent to %(customer)s, from you. Their answer will come straight to your mailbox.",
            customer=case.customer.display_name,
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
        done=lambda case: _("Note added. Only the people who look after this case see it."),
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
        done=lambda case: _(
            "%(owner)s owns this case now; we emailed them, and told %(customer)s who looks "
            "after them.",
            owner=case.owner.name,
            customer=case.customer.display_name,
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
    event = perform(s, case, form)
    s.commit()
    flash(done(case))
    me = acting_user()
    if not (me.is_admin or case.owner_id == me.id):
        # Handed over to someone else: the case is theirs now, and off this inbox.
        return redirect(url_for(".show_inbox"))
    return redirect(_at_entry(case, event))


def _at_entry(case: Case, event) -> str:
    """The case page, at what the action just added to the conversation: the owner goes
    on from where they acted, not from the top of the page."""
    return url_for(".show_case", case_id=case.id, _anchor=f"event-{event.id}")


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
        # When to ask whether the fix worked starts at the setting; the owner may change it.
        "resolve_form": ResolveForm(
            formdata=None, data={"ask_in_days": get_setting(s, "fix_check_delay_days")}
        ),
        # Empty: what the owner understood is theirs to write, not a quote to trim.
        "reply_form": ReplyForm(formdata=None),
        "note_form": NoteForm(formdata=None),
        "reassign_form": ReassignForm(formdata=None),
        "customer_note_form": CustomerNoteForm(formdata=None),
    }
    shown.update(occasion_pages.case_context(s, case, acting_user(), now=clock.now()))
    shown.update({name: form for name, form in forms.items() if form is not None})
    candidates = queries.reassign_candidates(s, case)
    shown["reassign_form"].owner_id.choices = [("", _("Choose someone"))] + [
        (person.id, _("%(name)s (admin)", name=person.name) if person.is_admin else person.name)
        for person in candidates
    ]
    now = clock.now()
    return render_template(
        "inbox/show_case.html",
        case=case,
        step=conversation.next_step(case, now),
        entries=conversation.timeline(case),
        handover=conversation.handover(case),
        reopened=conversation.reopened_count(case),
        remembered=customers.remembered_about(s, case.customer),
        # Purchases whose survey waits for the customer's open case to close.
        waiting_purchases=held.held_surveys(s, case.customer_id),
        age_limit_days=get_setting(s, "age_limit_days"),
        has_candidates=bool(candidates),
        error=error,
        **shown,
    ), status


# --- a customer ------------------------------------------------------------------------


def deadline_action(action: str) -> str:
    """What the deadline asks of the owner ("Acknowledge", "Resolve"), in their language."""
    return {"Acknowledge": _("Acknowledge"), "Resolve": _("Resolve")}.get(action, action)


def describe_deadline(deadline: deadlines.Deadline | None) -> dict | None:
    """How the next deadline reads: 'due in 3 hours', or plainly 'overdue by 2 days'."""
    if deadline is None:
        return None
    now = clock.now()
    return {
        "action": deadline_action(deadline.action),
        "due_at": deadline.due_at,
        "overdue": deadline.is_overdue(now),
        "words": conversation.deadline_words(deadline, now),
    }


def negative_because(answer) -> str | None:
    """Why a written answer counts as negative, as the sentence after its "Negative" badge."""
    because = queries.negative_rule(answer)
    if because is None:
        return None
    if because.rule == "words":
        return _("because it mentions %(words)s.", words=quoted_list(list(because.words)))
    if because.rule == "tone":
        return _(
            "because it reads as unhappy (tone %(tone)s, below %(threshold)s).",
            tone=format_decimal(because.tone, "0.00"),
            threshold=format_decimal(because.threshold),
        )
    return _("because it answers a question where any answer needs you.")


@bp.context_processor
def _case_helpers() -> dict:
    return {
        "deadline_of": lambda case: describe_deadline(deadlines.next_deadline(case)),
        "deadline_action": deadline_action,
        "can_acknowledge": states.can_acknowledge,
        "can_resolve": states.can_resolve,
        "can_reply": states.can_reply,
        "can_reassign": states.can_reassign,
        "answer_words": answer_in_words,
        "fix_check_ask_at": timeline.fix_check_ask_at,
        "negative_because": negative_because,
    }
