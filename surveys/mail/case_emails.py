"""The emails of a case's life: a new case, the owner's reply, escalations, hand-overs, a reopening.

Each builder loads the case (and the timeline event the email is about, named
by `context["event_id"]`) and returns the template's variables; the texts are
under `templates/emails/`. The customer's emails go from the service's
address with the owner's name and `Reply-To` the owner, set on the outbox
message when it is queued (`surveys.services.cases.actions`).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import format_decimal, gettext
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.mail.registry import CancelDelivery, email_template
from surveys.models import Case, CaseEvent, OutboxMessage
from surveys.services.cases.queries import answer_in_words, negative_rule
from surveys.wording import first_name, purchase_phrase, quoted_list


def _case(session: Session, message: OutboxMessage) -> Case:
    case = session.get(Case, message.case_id) if message.case_id else None
    if case is None:
        raise CancelDelivery("the case no longer exists")
    return case


def _event(session: Session, message: OutboxMessage, kind: str) -> CaseEvent:
    event_id = (message.context or {}).get("event_id")
    event = session.get(CaseEvent, event_id) if event_id else None
    if event is None or event.kind != kind or event.case_id != message.case_id:
        raise CancelDelivery(f"the {kind} this email is about no longer exists")
    return event


def customer_answers(case: Case) -> list[dict]:
    """The answers that opened the case as the customer gave them, for every email that lists them.

    Scores read "4 out of 10" in the reader's language, choices in the words the customer
    chose, text verbatim; the preferences answer too, since it tells the owner how to serve
    them. Shown by the `answers_table` and `answers_list` macros.
    """
    return [
        answer_item(
            question=answer.question.text,
            answer=answer_in_words(answer),
            is_text=answer.question.type == "text",
            negative=answer.negative,
            reason=negative_reason(answer),
        )
        for answer in case.response.answers
        if answer.value not in (None, "")
    ]


def negative_reason(answer) -> dict | None:
    """Which of its question's rules made a written answer negative (`queries.negative_rule`),
    as plain data for the email to word in its reader's language; None for other answers."""
    because = negative_rule(answer)
    if because is None:
        return None
    return {
        "rule": because.rule,
        "words": list(because.words),
        "tone": because.tone,
        "threshold": because.threshold,
    }


def answer_item(
    *, question: str, answer: str, is_text: bool, negative: bool, reason: dict | None
) -> dict:
    """One answer as the macros show it, with why it needs the owner as whole sentences in the
    reader's language: `needs_you` under the answer in HTML, `needs_you_note` beside it in
    the plain text."""
    needs_you = needs_you_note = None
    if reason is not None:
        needs_you, needs_you_note = _needs_you_sentences(reason)
    elif negative:
        needs_you_note = gettext("needs you")
    return {
        "question": question,
        "answer": answer,
        "is_text": is_text,
        "negative": negative,
        "needs_you": needs_you,
        "needs_you_note": needs_you_note,
    }


def _needs_you_sentences(reason: dict) -> tuple[str, str]:
    if reason["rule"] == "words":
        words = quoted_list(reason["words"])
        return (
            gettext("Needs you: it mentions %(words)s.", words=words),
            gettext("needs you: it mentions %(words)s", words=words),
        )
    if reason["rule"] == "tone":
        tone = format_decimal(reason["tone"], "0.00")
        threshold = format_decimal(reason["threshold"])
        return (
            gettext(
                "Needs you: it reads as unhappy (tone %(tone)s, below %(threshold)s).",
                tone=tone,
                threshold=threshold,
            ),
            gettext(
                "needs you: it reads as unhappy (tone %(tone)s, below %(threshold)s)",
                tone=tone,
                threshold=threshold,
            ),
        )
    return (
        gettext("Needs you: it answers a question where any answer needs you."),
        gettext("needs you: it answers a question where any answer needs you"),
    )


def _still_reachable(case: Case) -> None:
    if case.customer.erased_at is not None:
        raise CancelDelivery("the customer's data was erased")


# --- to the customer ---------------------------------------------------------------


@email_template("reply", to_customer=True)
def reply_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """The owner's own words to the customer, signed by them."""
    case = _case(session, message)
    event = _event(session, message, "reply")
    _still_reachable(case)
    return {
        "customer": case.customer,
        "first_name": first_name(case.customer.name),
        "message_body": event.body,
        "owner_name": message.from_name or case.owner.name,
        "purchase": case.purchase,
        "purchase_phrase": purchase_phrase(case.purchase),
    }


@email_template("case_reassigned_customer", to_customer=True)
def case_reassigned_customer_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Tell the customer who their one point of contact is from now on."""
    case = _case(session, message)
    event = _event(session, message, "reassigned")
    _still_reachable(case)
    if (event.data or {}).get("to_user_id") != case.owner_id:
        # It changed hands again before this went out; the later email says who.
        raise CancelDelivery("the case moved on to someone else since")
    return {
        "customer": case.customer,
        "first_name": first_name(case.customer.name),
        "owner_name": case.owner.name,
        "owner_first_name": first_name(case.owner.name),
        "purchase": case.purchase,
        "purchase_phrase": purchase_phrase(case.purchase),
    }


# --- to owners and admins ------------------------------------------------------------


@email_template("escalation", to_customer=False)
def escalation_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """A missed deadline, to the owner and every admin."""
    case = _case(session, message)
    breach = (message.context or {}).get("breach", "acknowledge")
    return {
        "case": case,
        "customer": case.customer,
        "owner": case.owner,
        "breach": breach,
        "missed": "acknowledged" if breach == "acknowledge" else "resolved",
        "due_at": case.acknowledge_by if breach == "acknowledge" else case.resolve_by,
        "to_owner": (message.context or {}).get("user_id") == case.owner_id,
        "answers": customer_answers(case),
        "case_url": external_url("inbox.show_case", case_id=case.id),
    }


@email_template("case_reassigned_owner", to_customer=False)
def case_reassigned_owner_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Hand the case over: who had it, why it moved, and the customer's own words."""
    case = _case(session, message)
    event = _event(session, message, "reassigned")
    if (message.context or {}).get("user_id") != case.owner_id:
        raise CancelDelivery("the case moved on to someone else since")
    return {
        "case": case,
        "customer": case.customer,
        "from_name": (event.data or {}).get("from_name"),
        "by": event.actor_label,
        "reason": event.body,
        "answers": customer_answers(case),
        "case_url": external_url("inbox.show_case", case_id=case.id),
    }


@email_template("case_reopened", to_customer=False)
def case_reopened_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """The fix did not work: the case is back with its owner, with the customer's words."""
    case = _case(session, message)
    event = _event(session, message, "reopened")
    return {
        "case": case,
        "customer": case.customer,
        "words": (event.data or {}).get("answers", []),
        "case_url": external_url("inbox.show_case", case_id=case.id),
    }


@email_template("customer_replied", to_customer=False)
def customer_replied_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """The customer answered by email: their words (history stripped), files, and the link."""
    case = _case(session, message)
    event = _event(session, message, "customer_replied")
    data = event.data or {}
    return {
        "case": case,
        "customer": case.customer,
        "reply_body": event.body or "",
        "reply_subject": data.get("subject") or "",
        "attachments": data.get("attachments") or [],
        "reopened": any(
            later.kind == "reopened" and (later.data or {}).get("event_id") == event.id
            for later in case.events
        ),
        "case_url": external_url("inbox.show_case", case_id=case.id),
        # Only then does answering this email reach the case (and the customer).
        "answer_by_email": bool(current_app.config.get("INBOUND_DOMAIN")),
    }


# --- owner_new_case ----------------------------------------------------------------


@email_template("owner_new_case", to_customer=False)
def owner_new_case_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Tell the owner a customer needs them, with the customer's own words."""
    case = session.get(Case, message.case_id) if message.case_id else None
    if case is None:
        raise CancelDelivery("the case no longer exists")
    return {
        "case": case,
        "customer": case.customer,
        "purchase": case.purchase,
        "answers": customer_answers(case),
        "case_url": external_url("inbox.show_case", case_id=case.id),
        # It opened when nobody could own it: the owner should know the customer has waited.
        "waited_for_owner": any(event.kind == "owner_assigned" for event in case.events),
    }
