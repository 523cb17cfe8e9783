"""Turning an outbox message into an email: one builder per template name.

Adding an email (say `reply`) takes three templates under `templates/emails/`
(`reply.subject.txt`, `reply.txt`, `reply.html`, the last extending
`_layout.html`) and one builder registered here:

    @email_template("reply", to_customer=True)
    def reply_email(session, message, now):
        case = session.get(Case, message.case_id)
        return {"case": case, "body": message.context["body"]}

The builder loads what it needs from the message's ids and `context` and
returns the template's variables. `build_email` adds what every email has
(the sender, the recipient's name, and for customers the unsubscribe link
and List-Unsubscribe headers, on a token minted for this email) and renders
the three parts; a customer email's text and HTML must both show
`{{ unsubscribe_url }}`. A builder may raise `CancelDelivery` when the reason
to send went away, or `DeferDelivery` when it should wait (quiet hours).

Hooks, all optional: `on_sent(session, message, now)` and
`on_sent_batch(session, messages, now)` once the provider accepted the
email(s) (high-volume templates use the batch form: one statement for a
thousand messages); `on_failed(session, message, reason, now)` when it
failed for good; `preload(session, messages)` loads what the builder will
read for a whole batch at once, so building each email issues no query.

Batching: values that differ between recipients of the same template may be
returned as `Personal(key, value)`. They render as substitution tags, so a
thousand survey emails share one body and SendGrid fills in each recipient's
name and link (`OutgoingEmail.substitutions`). `render_email(name, context)`
renders without the database, for previews.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from surveys.mail.senders import OutgoingEmail, split_address, substitute
from surveys.models import (
    Case,
    Customer,
    OutboxMessage,
    Purchase,
    QuestionSet,
    QuestionSetVersion,
    Survey,
    SurveyToken,
)
from surveys.services.cases.fix_check import record_fix_check_sent
from surveys.services.question_sets import current_version
from surveys.services.quiet_hours import quiet_hours, quiet_until
from surveys.services.settings import get_setting
from surveys.services.tokens import hash_token
from surveys.templating import first_name, purchase_phrase

# How long a survey's personal link works after it is sent; after that it answers 410.
SURVEY_LINK_DAYS = 30
# A survey still to be delivered: scheduled, or failed and put back in the
# queue by an admin (the outbox page's retry only has to re-queue the message).
UNDELIVERED_SURVEY = ("scheduled", "failed")

Builder = Callable[[Session, OutboxMessage, datetime], dict]
SentHook = Callable[[Session, OutboxMessage, datetime], None]
SentBatchHook = Callable[[Session, list[OutboxMessage], datetime], None]
FailedHook = Callable[[Session, OutboxMessage, str, datetime], None]
Preload = Callable[[Session, list[OutboxMessage]], None]


class CancelDelivery(Exception):
    """The email should not go after all; the message is cancelled with this reason.

    Whatever the builder changed before raising (a survey marked suppressed)
    is committed with the cancellation.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeferDelivery(Exception):
    """Not now: the message waits until `until` (not counted as an attempt)."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


class UnknownTemplate(LookupError):
    """No builder is registered under the message's template name."""


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    build: Builder
    # Customer emails carry the unsubscribe link and headers; staff emails do not.
    to_customer: bool
    on_sent: SentHook | None = None
    on_failed: FailedHook | None = None
    on_sent_batch: SentBatchHook | None = None
    preload: Preload | None = None

    def sent(self, session: Session, messages: list[OutboxMessage], now: datetime) -> None:
        """Run the sent hooks for messages of this template the provider accepted."""
        if self.on_sent_batch is not None:
            self.on_sent_batch(session, messages, now)
        if self.on_sent is not None:
            for message in messages:
                self.on_sent(session, message, now)


EMAIL_TEMPLATES: dict[str, EmailTemplate] = {}


def email_template(
    name: str,
    *,
    to_customer: bool,
    on_sent: SentHook | None = None,
    on_failed: FailedHook | None = None,
    on_sent_batch: SentBatchHook | None = None,
    preload: Preload | None = None,
) -> Callable[[Builder], Builder]:
    """Register the builder of the email named `name` (the outbox `template`)."""

    def register(build: Builder) -> Builder:
        EMAIL_TEMPLATES[name] = EmailTemplate(
            name, build, to_customer, on_sent, on_failed, on_sent_batch, preload
        )
        return build

    return register


def get_email_template(name: str) -> EmailTemplate:
    try:
        return EMAIL_TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"no email template is registered as {name!r}") from None


# --- per-recipient values ------------------------------------------------------------

TAG = re.compile(r"\[h2h:([a-z_]+)\]")


class Personal:
    """One recipient's value in a batched email, rendered as a substitution tag.

    In a text template `{{ first_name }}` prints `[h2h:first_name]`, in an
    HTML one `[h2h:first_name:html]`; `substitutions()` gives both tags their
    value (escaped for HTML). The body therefore never depends on the value,
    only on whether there is one (`{% if first_name %}`). Print it, test it,
    or put it in an f-string (`f"{base}/s/{token}"`, for values safe in URLs
    and HTML alike); do not run filters on it.
    """

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: str) -> None:
        self.key = key
        self.value = value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return f"[h2h:{self.key}]"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> str:
        return f"[h2h:{self.key}:html]"

    def __repr__(self) -> str:
        return f"Personal({self.key!r}, {self.value!r})"

    def substitutions(self) -> dict[str, str]:
        return {str(self): self.value, self.__html__(): str(escape(self.value))}


def personal(key: str, value: str | None) -> Personal | None:
    """A Personal value, or None when there is nothing to say (so `{% if %}` reads it)."""
    return Personal(key, value) if value else None


def _html_subject(subject: str) -> Markup:
    """The subject for the HTML `<title>`: escaped, its tags turned into their HTML form."""
    return Markup(TAG.sub(r"[h2h:\1:html]", str(escape(subject))))


# --- rendering -------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    """Render `emails/<name>.subject.txt`, `.txt` and `.html` with `context`.

    Pure rendering (no database), so previews can call it with sample values.
    With `Personal` values in `context`, the parts hold their tags.
    """
    env = current_app.jinja_env
    subject = env.get_template(f"emails/{name}.subject.txt").render(context)
    # One line, whatever the template's whitespace: a newline in a subject
    # would be a header injection.
    subject = " ".join(subject.split())
    text = env.get_template(f"emails/{name}.txt").render({**context, "subject": subject})
    html = env.get_template(f"emails/{name}.html").render(
        {**context, "subject": _html_subject(subject)}
    )
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html)


def _tidy_text(text: str) -> str:
    """Strip trailing spaces and runs of blank lines that template tags leave behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


class UnbuildableEmail(Exception):
    """A message of a batch could not be built (a bug, a missing row); says which and why."""

    def __init__(self, message_id: int, error: BaseException) -> None:
        super().__init__(f"could not prepare the email: {type(error).__name__}: {error}"[:1000])
        self.message_id = message_id


Built = OutgoingEmail | CancelDelivery | DeferDelivery


def build_emails(
    session: Session, messages: list[OutboxMessage], *, now: datetime
) -> dict[int, Built]:
    """Build a batch: what each message became, by id (an email, or why not now or never).

    A few queries load what the whole batch shows, and the personal tokens it
    mints are inserted in one statement. Raises UnbuildableEmail for the first
    message that fails unexpectedly; the caller rolls back. The caller commits
    before sending, so a link never points at a token that was rolled back.
    """
    preload_messages(session, messages)
    built: dict[int, Built] = {}
    # No autoflush: each builder's changes (a pinned version, a cancelled
    # survey) go to the database together when the batch is committed.
    with session.no_autoflush:
        for message in messages:
            try:
                built[message.id] = _build(session, message, now=now)
            except (CancelDelivery, DeferDelivery) as stop:
                built[message.id] = stop
            except Exception as exc:
                raise UnbuildableEmail(message.id, exc) from exc
    _write_batch(session, now=now)
    return built


def build_email(session: Session, message: OutboxMessage, *, now: datetime) -> OutgoingEmail:
    """One message's email, rendered (may mint a token); see `build_emails`.

    Raises CancelDelivery when the email should not go, DeferDelivery when it
    should wait, UnknownTemplate when no builder exists.
    """
    email = _build(session, message, now=now)
    _write_batch(session, now=now)
    return email


def mint(session: Session, *, customer_id: int, survey_id: int | None = None) -> str:
    """A new personal token for this email, inserted with the others of its batch."""
    raw = secrets.token_urlsafe(32)
    batch_memo(session, "minted_tokens", list).append(
        {"token_hash": hash_token(raw), "customer_id": customer_id, "survey_id": survey_id}
    )
    return raw


def pin_version(session: Session, survey: Survey, version: QuestionSetVersion) -> None:
    """Pin the survey to the version its email shows, with the others of its batch."""
    batch_memo(session, "pins", dict).setdefault(version.id, []).append(survey.id)
    set_committed_value(survey, "version_id", version.id)


def _write_batch(session: Session, *, now: datetime) -> None:
    """What building the batch decided, in a few statements: its tokens, its pinned versions."""
    memo = session.info.get("mail_memo", {})
    rows = memo.pop("minted_tokens", None)
    if rows:
        session.execute(
            SurveyToken.__table__.insert(), [{**row, "created_at": now} for row in rows]
        )
    for version_id, survey_ids in (memo.pop("pins", None) or {}).items():
        session.execute(
            update(Survey)
            .where(Survey.id.in_(survey_ids), Survey.version_id.is_(None))
            .values(version_id=version_id),
            execution_options={"synchronize_session": False},
        )


def _build(session: Session, message: OutboxMessage, *, now: datetime) -> OutgoingEmail:
    spec = get_email_template(message.template)
    if not message.to_email:
        raise CancelDelivery("the message has no recipient address")
    context = spec.build(session, message, now)
    config = current_app.config
    sender_name = batch_memo(session, "sender_name", lambda: get_setting(session, "sender_name"))
    mail_from_name, from_email = split_address(config["MAIL_FROM"])
    headers: dict[str, str] = {}
    if spec.to_customer:
        token = context.get("token") or Personal(
            "token", mint(session, customer_id=_customer_id_for(session, message))
        )
        context["token"] = token  # so a minted one's substitution travels with the email
        raw_token = token.value if isinstance(token, Personal) else token
        unsubscribe_url = f"{config['BASE_URL']}/u/{token}"
        context["unsubscribe_url"] = unsubscribe_url
        headers["List-Unsubscribe"] = f"<{config['BASE_URL']}/u/{raw_token}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    rendered = _render_shared(
        session,
        message.template,
        {
            "base_url": config["BASE_URL"],
            "sender_name": sender_name,
            "recipient_name": message.to_name,
            "first_name": first_name(message.to_name),
            **context,
        },
    )
    if spec.to_customer and not all(
        unsubscribe_url in part for part in (rendered.text, rendered.html)
    ):
        # Every customer email shows its unsubscribe link (and List-Unsubscribe headers); a
        # template that forgot it is a bug to fix, not an email to send.
        raise RuntimeError(f"the {message.template} email does not show its unsubscribe link")
    substitutions: dict[str, str] = {}
    for value in context.values():
        if isinstance(value, Personal):
            substitutions.update(value.substitutions())
    custom_args = {"message_id": str(message.id)}
    if message.survey_id is not None:
        custom_args["survey_id"] = str(message.survey_id)
    return OutgoingEmail(
        message_id=message.id,
        to_email=message.to_email,
        to_name=message.to_name,
        from_email=from_email,
        from_name=message.from_name or sender_name or mail_from_name,
        reply_to=message.reply_to,
        subject=" ".join(substitute(rendered.subject, substitutions).split()),
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        custom_args=custom_args,
        category=message.template,
        date=now,
        substitutions=substitutions,
    )


def _render_shared(session: Session, name: str, context: dict) -> RenderedEmail:
    """Render, once per batch for emails whose variables differ only in Personal values.

    A thousand survey emails of one kind come down to a handful of renders.
    The key is every variable the template receives (objects by identity), so
    anything a template could print is part of it.
    """
    try:
        key = (name, _frozen(context))
        hash(key)
    except TypeError:  # a variable that cannot be compared: render this one on its own
        return render_email(name, context)
    renders = batch_memo(session, "renders", dict)
    if key not in renders:
        renders[key] = render_email(name, context)
    return renders[key]


def _frozen(value):
    if isinstance(value, Personal):
        return (Personal, value.key, bool(value))
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value


def preload_messages(session: Session, messages: list[OutboxMessage]) -> None:
    """Let each template load what its builder reads for these messages, in a few queries."""
    by_template: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        by_template.setdefault(message.template, []).append(message)
    for name, group in by_template.items():
        spec = EMAIL_TEMPLATES.get(name)
        if spec is not None and spec.preload is not None:
            spec.preload(session, group)


def batch_memo(session: Session, key: str, compute: Callable[[], object]):
    """A value computed once per session: a worker's session renders one batch.

    Settings are read for every email; without this, a setting left at its
    default (no row to find in the identity map) would cost a query each time.
    """
    memo = session.info.setdefault("mail_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _customer_id_for(session: Session, message: OutboxMessage) -> int:
    if message.customer_id is not None:
        return message.customer_id
    customer_id = session.scalar(select(Customer.id).where(Customer.email == message.to_email))
    if customer_id is None:
        # Without a customer there is no unsubscribe link, and no customer
        # email may go without one.
        raise CancelDelivery(f"no customer has the address {message.to_email}")
    return customer_id


# --- survey and reminder: what both load and show ----------------------------------------


def preload_surveys(session: Session, messages: list[OutboxMessage]) -> None:
    """The surveys of a batch with their customers, purchases and questions: four queries."""
    survey_ids = {message.survey_id for message in messages if message.survey_id is not None}
    if not survey_ids:
        return
    surveys = session.scalars(
        select(Survey)
        .where(Survey.id.in_(survey_ids))
        .options(
            joinedload(Survey.customer),
            joinedload(Survey.question_set),
            selectinload(Survey.purchase).selectinload(Purchase.items),
        )
    ).all()
    pinned = {survey.version_id for survey in surveys if survey.version_id is not None}
    unpinned_sets = {survey.question_set_id for survey in surveys if survey.version_id is None}
    versions = session.scalars(
        select(QuestionSetVersion)
        .where(
            QuestionSetVersion.id.in_(pinned)
            | QuestionSetVersion.question_set_id.in_(unpinned_sets)
        )
        .options(selectinload(QuestionSetVersion.questions))
    ).all()
    newest: dict[int, QuestionSetVersion] = {}
    for version in versions:
        known = newest.get(version.question_set_id)
        if known is None or version.number > known.number:
            newest[version.question_set_id] = version
    memo = session.info.setdefault("mail_memo", {})
    memo.update(
        {
            ("current_version", set_id): version
            for set_id, version in newest.items()
            if set_id in unpinned_sets
        }
    )
    memo.setdefault("surveys", {}).update({survey.id: survey for survey in surveys})


def _survey_for(session: Session, message: OutboxMessage) -> Survey | None:
    if message.survey_id is None:
        return None
    preloaded = session.info.get("mail_memo", {}).get("surveys", {})
    if message.survey_id in preloaded:
        return preloaded[message.survey_id]
    # On its own: loaded here with what the email shows.
    return session.get(
        Survey,
        message.survey_id,
        options=[
            joinedload(Survey.customer),
            joinedload(Survey.question_set),
            joinedload(Survey.purchase).joinedload(Purchase.items),
        ],
    )


def _current_version(session: Session, question_set: QuestionSet) -> QuestionSetVersion:
    return batch_memo(
        session,
        ("current_version", question_set.id),
        lambda: current_version(session, question_set),
    )


def _hold_for_quiet_hours(session: Session, customer: Customer, now: datetime) -> None:
    """Raise DeferDelivery when it is night where the customer lives."""
    if not customer.timezone:
        return
    start, end = batch_memo(session, "quiet_hours", lambda: quiet_hours(session))
    until = quiet_until(now, customer.timezone, start=start, end=end)
    if until is not None:
        raise DeferDelivery(until, f"quiet hours in {customer.timezone} until {until:%H:%M} UTC")


def _refuse_unreachable(customer: Customer) -> None:
    if customer.suppressed_at is not None:
        reason = customer.suppression_reason or "the address is suppressed"
        raise CancelDelivery(f"the customer's address is suppressed ({reason})")
    if customer.erased_at is not None:
        raise CancelDelivery("the customer's data was erased")


def _survey_context(
    session: Session, survey: Survey, message: OutboxMessage, now: datetime
) -> dict:
    """What the survey and its reminder show: greeting, purchase, first question, links.

    Everything personal is a Personal value, so that the emails of a batch
    share their body (and its rendering).
    """
    # Pinned on the first attempt and kept: if that attempt reached the
    # customer after all (a timeout after SendGrid accepted it), its link
    # shows the same questions as any later one.
    if survey.version_id is None:
        version = _current_version(session, survey.question_set)
        pin_version(session, survey, version)
    else:
        version = survey.version
    questions = version.questions
    first_question = questions[0] if questions else None
    customer = survey.customer
    token = Personal("token", mint(session, customer_id=customer.id, survey_id=survey.id))
    survey_url = f"{current_app.config['BASE_URL']}/s/{token}"
    case = session.get(Case, survey.case_id) if survey.case_id else None
    return {
        "token": token,
        "kind": survey.kind,
        "recipient_name": personal("recipient_name", message.to_name),
        "first_name": personal("first_name", first_name(customer.name)),
        "purchase_phrase": Personal("purchase_phrase", purchase_phrase(survey.purchase)),
        "several_items": survey.purchase is not None and len(survey.purchase.items) > 1,
        "case_owner_name": personal(
            "case_owner_name", first_name(case.owner.name) if case and case.owner else None
        ),
        "survey_url": survey_url,
        "first_question": first_question,
        "answer_links": answer_links(first_question, survey_url),
        "link_days": SURVEY_LINK_DAYS,
    }


def answer_links(question, survey_url: str) -> list[dict]:
    """One link per answer of a choice or scale question (none for a text question)."""
    if question is None:
        return []
    if question.type == "choice":
        values = [(option["value"], option["label"]) for option in question.options or ()]
    elif question.type == "scale":
        low = question.min_value or 0
        high = 10 if question.max_value is None else question.max_value
        values = [(str(n), str(n)) for n in range(low, high + 1)]
    else:
        return []
    return [
        {"value": value, "label": label, "url": f"{survey_url}?a={quote(value, safe='')}"}
        for value, label in values
    ]


# --- survey --------------------------------------------------------------------


def surveys_sent(session: Session, messages: list[OutboxMessage], now: datetime) -> None:
    """The surveys are in their customers' mailboxes; their links work for 30 days from now."""
    survey_ids = [message.survey_id for message in messages if message.survey_id is not None]
    if not survey_ids:
        return
    # Only an undelivered survey moves: one answered through an earlier
    # attempt's link (a timeout that was delivered after all) stays answered.
    moved = session.execute(
        update(Survey)
        .where(Survey.id.in_(survey_ids), Survey.status.in_(UNDELIVERED_SURVEY))
        .values(status="sent", sent_at=now, expires_at=now + timedelta(days=SURVEY_LINK_DAYS))
        .returning(Survey.id, Survey.case_id),
        execution_options={"synchronize_session": False},
    ).all()
    for survey_id, case_id in moved:
        if case_id is not None:
            # A fix-check reached the customer: its case's timeline says so.
            record_fix_check_sent(session, survey_id, now=now)


def survey_failed(session: Session, message: OutboxMessage, reason: str, now: datetime) -> None:
    """The survey could not be delivered: say so on the survey, with the reason."""
    session.execute(
        update(Survey)
        .where(Survey.id == message.survey_id, Survey.status.in_(UNDELIVERED_SURVEY))
        .values(status="failed", status_reason=reason[:300])
    )


@email_template(
    "survey",
    to_customer=True,
    on_sent_batch=surveys_sent,
    on_failed=survey_failed,
    preload=preload_surveys,
)
def survey_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Any survey invitation; `survey.kind` decides the wording."""
    survey = _survey_for(session, message)
    if survey is None:
        raise CancelDelivery("the survey no longer exists")
    if survey.status not in UNDELIVERED_SURVEY:
        raise CancelDelivery(f"the survey is {survey.status}, no longer waiting to be sent")
    customer = survey.customer
    if customer.suppressed_at is not None:
        reason = customer.suppression_reason or "the address is suppressed"
        survey.status, survey.status_reason = "suppressed", reason[:300]
        raise CancelDelivery(f"the customer's address is suppressed ({reason})")
    if customer.erased_at is not None:
        survey.status, survey.status_reason = "cancelled", "the customer's data was erased"
        raise CancelDelivery("the customer's data was erased")
    _hold_for_quiet_hours(session, customer, now)
    return _survey_context(session, survey, message, now)


# --- reminder ------------------------------------------------------------------


def reminders_sent(session: Session, messages: list[OutboxMessage], now: datetime) -> None:
    """Stamp the moment each reminder really left (it was queued earlier)."""
    survey_ids = [message.survey_id for message in messages if message.survey_id is not None]
    if survey_ids:
        session.execute(
            update(Survey).where(Survey.id.in_(survey_ids)).values(reminder_sent_at=now),
            execution_options={"synchronize_session": False},
        )


@email_template("reminder", to_customer=True, on_sent_batch=reminders_sent, preload=preload_surveys)
def reminder_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """The one gentle reminder of an unanswered survey, with the same personal links."""
    survey = _survey_for(session, message)
    if survey is None:
        raise CancelDelivery("the survey no longer exists")
    if survey.status != "sent":
        raise CancelDelivery(f"the survey is {survey.status}; a reminder would only annoy")
    if survey.expires_at is not None and survey.expires_at <= now:
        raise CancelDelivery("the survey's link has expired")
    _refuse_unreachable(survey.customer)
    _hold_for_quiet_hours(session, survey.customer, now)
    return _survey_context(session, survey, message, now)


# --- owner_new_case ----------------------------------------------------------------


@email_template("owner_new_case", to_customer=False)
def owner_new_case_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Tell the owner a customer needs them, with the customer's own words."""
    case = session.get(Case, message.case_id) if message.case_id else None
    if case is None:
        raise CancelDelivery("the case no longer exists")
    answers = [
        {
            "question": answer.question.text,
            "answer": answer.question.label_for(answer.value),
            "is_text": answer.question.type == "text",
            "negative": answer.negative,
        }
        for answer in case.response.answers
        if answer.value not in (None, "")
    ]
    return {
        "case": case,
        "customer": case.customer,
        "purchase": case.purchase,
        "answers": answers,
        "case_url": f"{current_app.config['BASE_URL']}/cases/{case.id}",
        # It opened when nobody could own it: the owner should know the customer has waited.
        "waited_for_owner": any(event.kind == "owner_assigned" for event in case.events),
    }


# The case emails (reply, escalation, reassignment, reopened) register themselves here.
from surveys.mail import case_emails  # noqa: E402, F401
