"""Queueing chat messages where cases and answers change, and the weekly summary.

Each function is called by the service that makes the change, in its
transaction, beside the webhook out and the owner's email it queues: a
rolled-back change posts nothing. One outbox row per active channel that
chose the event and whose owner filter, if any, is the case's owner.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.models import Answer, Case, Response, WebhookEndpoint
from surveys.models.cases import CaseStatus
from surveys.services.cases.queries import answer_words
from surveys.services.chat_channels.events import (
    CASE_OPENED,
    CASE_OVERDUE,
    CASE_REOPENED,
    CUSTOMER_REPLIED,
    FIX_CONFIRMED,
    KINDS,
    NEGATIVE_RESPONSE,
    TEMPLATE_PREFIX,
    WEEKLY_SUMMARY,
    queue_message,
)
from surveys.services.chat_channels.messages import ChatNote, Link
from surveys.services.dashboard import overdue_condition
from surveys.services.digests import business_zone_name, local_midnight, send_from, week_start

HEADLINES = {
    NEGATIVE_RESPONSE: "A negative answer on case #{id}",
    CASE_OPENED: "Case #{id} opened",
    CASE_REOPENED: "Case #{id} reopened",
    CUSTOMER_REPLIED: "The customer replied on case #{id}",
    FIX_CONFIRMED: "The customer confirmed the fix on case #{id}",
}


def choosing(session: Session, event: str) -> list[WebhookEndpoint]:
    """Active chat channels that chose `event`, oldest first, whatever their owner filter."""
    channels = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.kind.in_(tuple(KINDS)), WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    return [channel for channel in channels if event in (channel.events or ())]


def listening_channels(
    session: Session, event: str, *, owner_id: int | None
) -> list[WebhookEndpoint]:
    """Those channels for everyone's cases, or for this owner's."""
    return [
        channel
        for channel in choosing(session, event)
        if channel.owner_id is None or channel.owner_id == owner_id
    ]


def notify_case(
    session: Session,
    event: str,
    case: Case,
    *,
    now: datetime,
    headline: str | None = None,
    quote: str | None = None,
) -> int:
    """Post `event` about the case to the channels listening; returns how many were queued.

    `quote` defaults to what the customer wrote in the answer that opened the case.
    """
    channels = listening_channels(session, event, owner_id=case.owner_id)
    if not channels:
        return 0  # most installations have none: nothing is rendered
    note = case_note(
        case,
        headline or HEADLINES[event].format(id=case.id),
        quote=quote if quote is not None else customer_words(case.response),
    )
    for channel in channels:
        queue_message(
            session,
            channel,
            TEMPLATE_PREFIX + event,
            note,
            now=now,
            case_id=case.id,
            customer_id=case.customer_id,
        )
    return len(channels)


def notify_negative_answers(
    session: Session, case: Case, answers: list[Answer], *, now: datetime
) -> int:
    """A negative answer: the one that opened the case, or one added to its response later."""
    written = [answer for answer in answers if answer.question.type == "text"]
    quote = _words_of(written) or _words_of(answers)
    return notify_case(session, NEGATIVE_RESPONSE, case, now=now, quote=quote or None)


def notify_overdue(session: Session, case: Case, *, missed: str, now: datetime) -> int:
    """The owner missed a deadline ("acknowledged" or "resolved")."""
    return notify_case(
        session,
        CASE_OVERDUE,
        case,
        now=now,
        headline=f"Case #{case.id} is overdue: not {missed} by the deadline",
    )


def case_note(case: Case, headline: str, *, quote: str | None) -> ChatNote:
    """The customer's words, the score, the owner and the link to the case."""
    facts = []
    score = score_words(case.response)
    if score:
        facts.append(("Score", score))
    facts.append(("Owner", case.owner.name if case.owner is not None else "waiting for an owner"))
    facts.append(("Status", case.status))
    return ChatNote(
        headline=headline,
        quote=quote or None,
        facts=facts,
        link=Link(external_url("inbox.show_case", case_id=case.id), f"Open case #{case.id}"),
    )


def customer_words(response: Response | None) -> str:
    """What the customer wrote that made the answer negative; else all they wrote; else their
    negative answers in words ("4 out of 10")."""
    if response is None:
        return ""
    written = [a for a in response.answers if a.question.type == "text"]
    return (
        _words_of([a for a in written if a.negative])
        or _words_of(written)
        or _words_of([a for a in response.answers if a.negative])
    )


def _words_of(answers: list[Answer]) -> str:
    return "\n".join(words for a in answers if (words := answer_words(a)))


def score_words(response: Response | None) -> str | None:
    """The first scale answer as the customer saw it ("3 out of 10")."""
    if response is None:
        return None
    for answer in sorted(response.answers, key=lambda a: a.position):
        if answer.question.type == "scale" and answer.value not in (None, ""):
            return answer_words(answer)
    return None


# --- the weekly summary -------------------------------------------------------------------


def queue_weekly_summaries(session: Session, now: datetime) -> int:
    """Post last week's summary to each channel that chose it, on Monday from 08:00 in the
    business's time zone; returns how many were queued (a timed job: idempotent).

    Like the digest, a summary missed on Monday goes later that week, never after it; a
    channel added after Monday 08:00 has its first one the Monday after. The channel's
    `summary_week` is moved on by a guarded UPDATE in the transaction that queues the message,
    so two workers at once queue it once.
    """
    zone = business_zone_name(session)
    monday = week_start(now, zone)
    due_at = send_from(monday, zone)
    if now < due_at:
        return 0
    queued = 0
    for channel in choosing(session, WEEKLY_SUMMARY):
        if channel.created_at > due_at or not _claim_week(session, channel, monday):
            continue
        note = summary_note(session, monday, zone, now=now, owner=channel.owner)
        queue_message(session, channel, TEMPLATE_PREFIX + WEEKLY_SUMMARY, note, now=now)
        queued += 1
    session.flush()
    return queued


def _claim_week(session: Session, channel: WebhookEndpoint, monday: date) -> bool:
    """Mark this week's summary as the channel's; False when it already had it."""
    claimed = session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == channel.id,
            or_(WebhookEndpoint.summary_week.is_(None), WebhookEndpoint.summary_week < monday),
        )
        .values(summary_week=monday),
        execution_options={"synchronize_session": False},
    ).rowcount
    return bool(claimed)


def summary_note(session: Session, monday: date, zone: str, *, now: datetime, owner) -> ChatNote:
    """Last week (Monday to Sunday, local) in numbers: answers, cases, and what is open now."""
    start = local_midnight(monday - timedelta(days=7), zone)
    end = local_midnight(monday, zone)
    mine = (Case.owner_id == owner.id,) if owner is not None else ()

    def count(model, *conditions) -> int:
        return session.scalar(select(func.count(model.id)).where(*conditions)) or 0

    facts = []
    if owner is None:
        answered = (Response.submitted_at >= start, Response.submitted_at < end)
        facts += [
            ("Answers", str(count(Response, *answered))),
            ("Negative", str(count(Response, *answered, Response.negative.is_(True)))),
        ]
    facts += [
        ("Cases opened", str(count(Case, *mine, Case.created_at >= start, Case.created_at < end))),
        ("Cases closed", str(count(Case, *mine, Case.closed_at >= start, Case.closed_at < end))),
        (
            "Open now",
            str(count(Case, *mine, Case.status.in_((CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)))),
        ),
        ("Overdue now", str(count(Case, *mine, overdue_condition(now)))),
    ]
    last_day = monday - timedelta(days=1)
    week = f"{monday - timedelta(days=7):%d %b} – {last_day:%d %b %Y}"
    whose = f"{owner.name}'s cases" if owner is not None else "Heart to Heart"
    return ChatNote(
        headline=f"Last week in {whose}: {week}",
        facts=facts,
        link=Link(external_url("admin.show_dashboard"), "Open the dashboard"),
    )
