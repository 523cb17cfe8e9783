"""Erasing a customer's personal data on request, keeping the numbers it fed.

What goes: who they are (name, email, external id, time zone), what we kept
about them (preferences, personal notes, touch point notes), what they wrote
(text answers), what people wrote to or about them on their cases (replies,
internal notes, resolutions, reassignment reasons), their personal links, and
the copies of all that in the outbox (mail and webhook bodies) and in
SendGrid's events.

What stays, tied to nobody: purchases, choice and scale answers and which
answers were negative, cases with their owners, statuses and times, and the
touch points' count, so every statistic still adds up. The customer row stays
too, suppressed, so that nothing is ever sent to it again and the owners'
cases still have someone to belong to ("erased customer").
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from surveys.models import (
    Answer,
    ApiKey,
    AutopilotMembership,
    Case,
    CaseAttachment,
    CaseEvent,
    Customer,
    CustomerNote,
    CustomerPreference,
    EmailEvent,
    Gesture,
    Goodbye,
    OutboxMessage,
    Question,
    RefusedDateSuggestion,
    RememberedDate,
    Response,
    ResponseNote,
    Survey,
    SurveyToken,
    Touchpoint,
)
from surveys.models.outbox import OutboxStatus
from surveys.models.surveys import SurveyStatus
from surveys.services.audit import record_admin_change
from surveys.services.cases.queries import answer_words
from surveys.services.chat_channels.events import TEMPLATE_PREFIX as CHAT_TEMPLATE_PREFIX
from surveys.services.insights.rollups import forget_answer_themes
from surveys.services.surveys.scheduling import lock_customer

ERASED_NAME = "erased customer"
ERASED_TEXT = "(erased with the customer's personal data)"
# .invalid never resolves (RFC 2606), so no mail can reach a placeholder by mistake.
PLACEHOLDER_DOMAIN = "erased.invalid"
REASON = "the customer's data was erased"
# Timeline events whose body a person wrote to or about the customer.
FREE_TEXT_EVENTS = (
    "gesture",
    "reply",
    "note",
    "resolved",
    "reassigned",
    "customer_replied",
    "unverified_message",
)


@dataclass(frozen=True)
class Erasure:
    """What erase_customer did; `newly_erased` is False when it had been done before."""

    newly_erased: bool
    text_answers: int
    preferences: int
    notes: int
    tokens: int
    messages_cancelled: int
    surveys_cancelled: int
    cases_kept: int


def placeholder_email() -> str:
    """A unique address that says nothing about whom it replaced and cannot be turned back."""
    return f"erased-{secrets.token_hex(16)}@{PLACEHOLDER_DOMAIN}"


def erase_customer(
    session: Session, customer: Customer, *, now: datetime, by_api_key: ApiKey | None = None
) -> Erasure:
    """Erase the customer's personal data for good; running it again changes nothing more.

    The first run sets `erased_at`, suppresses the customer and writes an audit
    entry (naming the API key that asked, when one did); a later run keeps those and
    only scrubs what may have appeared since.
    """
    # Waits for a purchase deciding this customer's survey right now, so none slips past.
    lock_customer(session, customer)
    newly = customer.erased_at is None
    placeholder = placeholder_email() if newly else customer.email
    scrub = _Scrubber(customer, placeholder)
    cases = list(
        session.scalars(
            select(Case).where(Case.customer_id == customer.id).options(selectinload(Case.events))
        )
    )
    text_answers = _blank_text_answers(session, customer, scrub)
    for case in cases:
        _scrub_case(session, case, scrub)
    surveys_cancelled = _cancel_surveys(session, customer, scrub)
    messages_cancelled = _scrub_outbox(session, customer, [case.id for case in cases], scrub)
    _scrub_email_events(session, customer, scrub)
    preferences = _delete(session, CustomerPreference, CustomerPreference.customer_id, customer)
    notes = _delete(session, CustomerNote, CustomerNote.customer_id, customer)
    tokens = _delete(session, SurveyToken, SurveyToken.customer_id, customer)
    _delete(session, AutopilotMembership, AutopilotMembership.customer_id, customer)
    # Notes an integration wrote on the customer's responses are about them: blanked.
    session.execute(
        update(ResponseNote)
        .where(
            ResponseNote.response_id.in_(
                select(Response.id).where(Response.customer_id == customer.id)
            )
        )
        .values(text=ERASED_TEXT)
    )
    # Their dates and what was said of them go; a gesture stays counted for its owner.
    _delete(session, RememberedDate, RememberedDate.customer_id, customer)
    _delete(session, RefusedDateSuggestion, RefusedDateSuggestion.customer_id, customer)
    session.execute(update(Gesture).where(Gesture.customer_id == customer.id).values(note=None))
    session.execute(
        update(Touchpoint)
        .where(Touchpoint.customer_id == customer.id, Touchpoint.note.is_not(None))
        .values(note=None)
    )
    session.execute(
        update(Goodbye).where(Goodbye.customer_id == customer.id).values(words=None, letter=None)
    )
    _forget_identity(customer, placeholder, scrub, now=now)
    if newly:
        # Who asked is not known here; the entry names no personal data, only the row.
        record_admin_change(
            session,
            actor_api_key=by_api_key,
            action="customer.erased",
            target=f"customer {customer.id}",
            before=None,
            after={"erased_at": now.isoformat()},
            now=now,
        )
    session.flush()
    return Erasure(
        newly_erased=newly,
        text_answers=text_answers,
        preferences=preferences,
        notes=notes,
        tokens=tokens,
        messages_cancelled=messages_cancelled,
        surveys_cancelled=surveys_cancelled,
        cases_kept=len(cases),
    )


class _Scrubber:
    """Replaces the customer's identity, and texts being erased, wherever copies of them sit."""

    def __init__(self, customer: Customer, placeholder: str) -> None:
        self.email = customer.email
        self.placeholder = placeholder
        self.name = (customer.name or "").strip()
        # Whole values (in JSON copies: webhook bodies, event data) and what replaces them.
        self.values: dict[str, str] = {self.email: placeholder}
        if self.name:
            self.values[self.name] = ERASED_NAME
        patterns = [re.escape(self.email)]
        if self.name:
            # Whole words only: erasing "Al" must not turn "Always" into "erased customerways".
            patterns.append(rf"(?<!\w){re.escape(self.name)}(?!\w)")
        self._in_text = re.compile("|".join(patterns), re.IGNORECASE)

    def forget(self, value: str | None, replacement: str) -> None:
        """Replace this whole value wherever a JSON copy holds it."""
        if value:
            self.values.setdefault(value, replacement)

    def text(self, value: str | None) -> str | None:
        """A sentence with the customer's address and name replaced."""
        if not value:
            return value
        return self._in_text.sub(
            lambda found: self.placeholder if "@" in found.group(0) else ERASED_NAME, value
        )

    def json(self, value):
        """A JSON value with every string the customer's (or erased) replaced."""
        if isinstance(value, str):
            return self.values.get(value, value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        return value


def _blank_text_answers(session: Session, customer: Customer, scrub: _Scrubber) -> int:
    """Blank what the customer wrote; choices and scale values stay for the statistics."""
    answers = session.scalars(
        select(Answer)
        .join(Answer.response)
        .join(Answer.question)
        .where(
            Response.customer_id == customer.id,
            Question.type == "text",
            Answer.value.is_not(None),
            Answer.value != "",
        )
    ).all()
    for answer in answers:
        scrub.forget(answer.value, "")
        answer.value = ""
    # The themes read from those words go too, and the tallies of their days are counted again.
    forget_answer_themes(session, [answer.id for answer in answers])
    return len(answers)


def _scrub_case(session: Session, case: Case, scrub: _Scrubber) -> None:
    """Keep the case's record (what happened, who did it, when) without the personal words."""
    if case.resolution:
        scrub.forget(case.resolution, ERASED_TEXT)
        case.resolution = ERASED_TEXT
    # Files emailed to the case are theirs too: gone, and their names and subjects with them.
    session.execute(delete(CaseAttachment).where(CaseAttachment.case_id == case.id))
    for event in case.events:
        if event.data and ("attachments" in event.data or "subject" in event.data):
            event.data = {
                **event.data,
                "subject": ERASED_TEXT,
                "attachments": [
                    {"id": None, "filename": ERASED_TEXT, "size": item.get("size", 0)}
                    for item in event.data.get("attachments") or []
                ],
            }
    written = [event for event in case.events if event.kind in FREE_TEXT_EVENTS and event.body]
    for event in written:
        # First, so that copies of these words elsewhere (webhook bodies) are recognised.
        scrub.forget(event.body, ERASED_TEXT)
        # A two-part reply keeps its parts beside the letter (surveys.services.cases.replies).
        for part in ("understood", "will_do"):
            scrub.forget((event.data or {}).get(part), ERASED_TEXT)
    for event in case.events:
        if event in written:
            event.body = ERASED_TEXT
        elif event.data and "answers" in event.data and "response_id" in event.data:
            _reword_fix_check_answer(session, event, scrub)
        else:
            event.body = scrub.text(event.body)
        if event.data:
            event.data = scrub.json(event.data)


def _reword_fix_check_answer(session: Session, event: CaseEvent, scrub: _Scrubber) -> None:
    """A fix-check answer on the timeline, rebuilt from its (now blanked) response.

    Rebuilt rather than searched and replaced: a written answer "No" must not
    blank the choice "No" beside it. The words are cases.fix_check.answer_fix_check's.
    """
    response = session.get(Response, event.data["response_id"])
    if response is None:
        event.body = scrub.text(event.body)
        return
    words = [
        {"question": answer.question.text, "answer": answer_words(answer)}
        for answer in response.answers
        if answer.value not in (None, "")
    ]
    event.body = "\n".join(f"{item['question']} {item['answer']}" for item in words)
    event.data = {**event.data, "answers": words}


def _cancel_surveys(session: Session, customer: Customer, scrub: _Scrubber) -> int:
    """Surveys not yet sent will not be; the others keep their status, their reasons scrubbed."""
    cancelled = session.execute(
        update(Survey)
        .where(
            Survey.customer_id == customer.id,
            Survey.status.in_((SurveyStatus.SCHEDULED, SurveyStatus.HELD)),
        )
        .values(status=SurveyStatus.CANCELLED, status_reason=REASON)
    ).rowcount
    for survey in session.scalars(
        select(Survey).where(Survey.customer_id == customer.id, Survey.status_reason.is_not(None))
    ):
        survey.status_reason = scrub.text(survey.status_reason)
    return cancelled


def _scrub_outbox(
    session: Session, customer: Customer, case_ids: list[int], scrub: _Scrubber
) -> int:
    """Cancel mail waiting to go to the customer; scrub every stored copy about them.

    Mail to owners about their cases still goes: it is rendered when sent, so
    it shows "erased customer". Webhook bodies are snapshots: scrubbed in place.
    """
    messages = session.scalars(
        select(OutboxMessage).where(
            or_(
                OutboxMessage.customer_id == customer.id,
                OutboxMessage.case_id.in_(case_ids),
                func.lower(OutboxMessage.to_email) == scrub.email,
            )
        )
    ).all()
    cancelled = 0
    for message in messages:
        if message.template.startswith(CHAT_TEMPLATE_PREFIX):
            # A Slack or Teams message quotes the customer inside its own sentences: nothing
            # to scrub in place, so the body goes, and one not posted yet is not posted.
            if message.status == OutboxStatus.PENDING:
                message.status, message.last_error = OutboxStatus.CANCELLED, REASON
            message.payload = {}
            continue
        to_customer = (message.to_email or "").lower() == scrub.email
        if to_customer and message.status == OutboxStatus.PENDING:
            message.status, message.last_error = OutboxStatus.CANCELLED, REASON
            cancelled += 1
        if to_customer:
            message.to_email, message.to_name = scrub.placeholder, None
        message.last_error = scrub.text(message.last_error)
        message.context = scrub.json(message.context)
        if message.payload is not None:
            message.payload = scrub.json(message.payload)
    return cancelled


def _scrub_email_events(session: Session, customer: Customer, scrub: _Scrubber) -> None:
    """SendGrid's reports name the address and carry its IP and user agent: keep only the kind."""
    survey_ids = select(Survey.id).where(Survey.customer_id == customer.id)
    session.execute(
        update(EmailEvent)
        .where(
            or_(func.lower(EmailEvent.email) == scrub.email, EmailEvent.survey_id.in_(survey_ids))
        )
        .values(email=None, payload={})
    )


def _delete(session: Session, model, customer_column, customer: Customer) -> int:
    return session.execute(delete(model).where(customer_column == customer.id)).rowcount


def _forget_identity(
    customer: Customer, placeholder: str, scrub: _Scrubber, *, now: datetime
) -> None:
    customer.email = placeholder
    customer.name = None
    customer.external_id = None
    customer.timezone = None
    if customer.suppressed_at is None:
        customer.suppressed_at = now
        customer.suppression_reason = REASON
    else:
        # A bounce's reason can quote the address.
        customer.suppression_reason = scrub.text(customer.suppression_reason)
    if customer.erased_at is None:
        customer.erased_at = now
