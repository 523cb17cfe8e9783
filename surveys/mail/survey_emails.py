"""The survey invitation and its one reminder: what both load for a batch, and what they show."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from surveys.mail.batch import batch_memo, mint, pin_version
from surveys.mail.personal import Personal, personal, personal_url
from surveys.mail.registry import CancelDelivery, DeferDelivery, email_template
from surveys.models import (
    Case,
    Customer,
    OutboxMessage,
    Purchase,
    QuestionSet,
    QuestionSetVersion,
    Survey,
)
from surveys.models.cases import CaseStatus
from surveys.models.surveys import SurveyStatus
from surveys.services.cases.fix_check import record_fix_check_sent
from surveys.services.customers.ledger import record_asks
from surveys.services.question_sets.translations import (
    localized_question,
    reader_language,
    shop_default_language,
)
from surveys.services.question_sets.versions import current_version
from surveys.services.surveys.quiet_hours import quiet_hours, quiet_until
from surveys.wording import first_name, purchase_phrase

# How long a survey's personal link works after it is sent; after that it answers 410.
SURVEY_LINK_DAYS = 30
# A survey still to be delivered: scheduled, or failed and put back in the
# queue by an admin (the outbox page's retry only has to re-queue the message).
UNDELIVERED_SURVEY = (SurveyStatus.SCHEDULED, SurveyStatus.FAILED)


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
    customer = survey.customer
    # The first question and its one-tap answers in the customer's language, where the set has
    # it; one object per question and language, so a batch's emails still share their renders.
    first_question = None
    if questions:
        language = reader_language(
            customer,
            default=batch_memo(
                session, "shop_default_language", lambda: shop_default_language(session)
            ),
        )
        first_question = batch_memo(
            session,
            ("localized_question", questions[0].id, language),
            lambda: localized_question(questions[0], language),
        )
    token = Personal("token", mint(session, customer_id=customer.id, survey_id=survey.id))
    survey_url = personal_url("public.show_survey", token=token)
    case = session.get(Case, survey.case_id) if survey.case_id else None
    return {
        "token": token,
        "kind": survey.kind,
        "recipient_name": personal("recipient_name", message.to_name),
        "first_name": personal("first_name", first_name(customer.name)),
        "purchase_phrase": Personal("purchase_phrase", purchase_phrase(survey.purchase)),
        "several_items": survey.purchase is not None and len(survey.purchase.items) > 1,
        "case_owner_name": personal(
            "case_owner_name",
            first_name(case.owner.name) if case and case.owner else None,
        ),
        # A fix-check says what was done, in the owner's words: the customer answers about that.
        "resolution": personal(
            "resolution", case.resolution if case and survey.kind == "fix_check" else None
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
        {
            "value": value,
            "label": label,
            "url": f"{survey_url}?a={quote(value, safe='')}",
        }
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
        .values(
            status=SurveyStatus.SENT,
            sent_at=now,
            expires_at=now + timedelta(days=SURVEY_LINK_DAYS),
        )
        .returning(Survey.id, Survey.case_id, Survey.customer_id, Survey.kind),
        execution_options={"synchronize_session": False},
    ).all()
    for survey_id, case_id, _customer_id, _kind in moved:
        if case_id is not None:
            # A fix-check reached the customer: its case's timeline says so.
            record_fix_check_sent(session, survey_id, now=now)
    record_asks(
        session,
        [
            (customer_id, survey_id, "fix_check_sent" if kind == "fix_check" else "survey_sent")
            for survey_id, _case_id, customer_id, kind in moved
        ],
        now=now,
    )


def survey_failed(session: Session, message: OutboxMessage, reason: str, now: datetime) -> None:
    """The survey could not be delivered: say so on the survey, with the reason."""
    session.execute(
        update(Survey)
        .where(Survey.id == message.survey_id, Survey.status.in_(UNDELIVERED_SURVEY))
        .values(status=SurveyStatus.FAILED, status_reason=reason[:300])
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
        survey.status, survey.status_reason = SurveyStatus.SUPPRESSED, reason[:300]
        raise CancelDelivery(f"the customer's address is suppressed ({reason})")
    if customer.erased_at is not None:
        survey.status, survey.status_reason = (
            SurveyStatus.CANCELLED,
            "the customer's data was erased",
        )
        raise CancelDelivery("the customer's data was erased")
    _cancel_stale_fix_check(session, survey)
    _hold_for_quiet_hours(session, customer, now)
    return _survey_context(session, survey, message, now)


def _cancel_stale_fix_check(session: Session, survey: Survey) -> None:
    """A fix-check asked for later goes only if its case still waits for the answer: one
    reopened meanwhile (the customer wrote back) is being worked on again."""
    if survey.kind != "fix_check" or survey.case_id is None:
        return
    case = session.get(Case, survey.case_id)
    if case is not None and case.status != CaseStatus.RESOLVED:
        reason = f"the case is {case.status} again, no longer waiting for this answer"
        survey.status, survey.status_reason = SurveyStatus.CANCELLED, reason
        raise CancelDelivery(reason)


# --- reminder ------------------------------------------------------------------


def reminders_sent(session: Session, messages: list[OutboxMessage], now: datetime) -> None:
    """Stamp the moment each reminder really left (it was queued earlier)."""
    survey_ids = [message.survey_id for message in messages if message.survey_id is not None]
    if survey_ids:
        session.execute(
            update(Survey).where(Survey.id.in_(survey_ids)).values(reminder_sent_at=now),
            execution_options={"synchronize_session": False},
        )
    record_asks(
        session,
        [
            (message.customer_id, message.survey_id, "reminder_sent")
            for message in messages
            if message.customer_id is not None
        ],
        now=now,
    )


@email_template("reminder", to_customer=True, on_sent_batch=reminders_sent, preload=preload_surveys)
def reminder_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """The one gentle reminder of an unanswered survey, with the same personal links."""
    survey = _survey_for(session, message)
    if survey is None:
        raise CancelDelivery("the survey no longer exists")
    if survey.status != SurveyStatus.SENT:
        raise CancelDelivery(f"the survey is {survey.status}; a reminder would only annoy")
    if survey.expires_at is not None and survey.expires_at <= now:
        raise CancelDelivery("the survey's link has expired")
    if survey.purchase is not None and survey.purchase.cancelled_at is not None:
        raise CancelDelivery(survey.purchase.cancellation_reason or "the order was cancelled")
    _refuse_unreachable(survey.customer)
    _hold_for_quiet_hours(session, survey.customer, now)
    return _survey_context(session, survey, message, now)
