"""Queueing chat messages where cases and answers change, and the weekly summary.

Each function is called by the service that makes the change, in its
transaction, beside the webhook out and the owner's email it queues: a
rolled-back change posts nothing. One outbox row per active channel that
chose the event and whose owner filter, if any, is the case's owner.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_babel.speaklater import LazyString
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.formats import current_language, day_and_month, local_date, number
from surveys.models import Answer, Case, Response, WebhookEndpoint
from surveys.models.cases import CaseStatus
from surveys.services.cases.queries import answer_in_words
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
    in_shop_language,
    queue_message,
)
from surveys.services.chat_channels.messages import ChatNote, Link
from surveys.services.dashboard import overdue_condition
from surveys.services.digests import business_zone_name, local_midnight, send_from, week_start

# Each note is written in the shop's language (`in_shop_language`): the whole team reads it.
HEADLINES = {
    NEGATIVE_RESPONSE: _l("A negative answer on case #%(id)s"),
    CASE_OPENED: _l("Case #%(id)s opened"),
    CASE_REOPENED: _l("Case #%(id)s reopened"),
    CUSTOMER_REPLIED: _l("The customer replied on case #%(id)s"),
    FIX_CONFIRMED: _l("The customer confirmed the fix on case #%(id)s"),
}
# The deadline the owner missed ("acknowledged" or "resolved").
OVERDUE_HEADLINES = {
    "acknowledged": _l("Case #%(id)s is overdue: not acknowledged by the deadline"),
    "resolved": _l("Case #%(id)s is overdue: not resolved by the deadline"),
}
# A case's status as the facts show it ("Status: acknowledged").
STATUS_WORDS = {
    CaseStatus.OPEN: _l("open"),
    CaseStatus.ACKNOWLEDGED: _l("acknowledged"),
    CaseStatus.RESOLVED: _l("resolved"),
    CaseStatus.CLOSED: _l("closed"),
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
    headline: LazyString | str | None = None,
    quote: str | None = None,
) -> int:
    """Post `event` about the case to the channels listening; returns how many were queued.

    `headline`: a lazy message with an `%(id)s` (the event's own by default), made in the
    shop's language; `quote` defaults to what the customer wrote in the answer that opened
    the case, as they wrote it.
    """
    channels = listening_channels(session, event, owner_id=case.owner_id)
    if not channels:
        return 0  # most installations have none: nothing is rendered
    with in_shop_language(session):
        note = case_note(
            case,
            str(headline if headline is not None else HEADLINES[event]) % {"id": case.id},
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
        headline=OVERDUE_HEADLINES[missed],
    )


def case_note(case: Case, headline: str, *, quote: str | None) -> ChatNote:
    """The customer's words, the score, the owner and the link to the case (in the language
    the caller forced)."""
    facts = []
    score = score_words(case.response)
    if score:
        facts.append((_("Score"), score))
    owner = case.owner.name if case.owner is not None else _("waiting for an owner")
    facts.append((_("Owner"), owner))
    status = STATUS_WORDS.get(case.status)
    facts.append((_("Status"), str(status) if status is not None else case.status))
    return ChatNote(
        headline=headline,
        quote=quote or None,
        facts=facts,
        link=Link(
            external_url("inbox.show_case", case_id=case.id), _("Open case #%(id)s", id=case.id)
        ),
    )


def customer_words(response: Response | None) -> str:
    """What the customer wrote that made the answer negative; else all they wrote; else their
    negative answers in words, a score as the shop says it ("4 out of 10", "4 de 10")."""
    if response is None:
        return ""
    written = [a for a in response.answers if a.question.type == "text"]
    return (
        _words_of([a for a in written if a.negative])
        or _words_of(written)
        or _words_of([a for a in response.answers if a.negative])
    )


def _words_of(answers: list[Answer]) -> str:
    return "\n".join(words for a in answers if (words := answer_in_words(a)))


def score_words(response: Response | None) -> str | None:
    """The first scale answer, as the shop says it ("3 out of 10", "3 de 10")."""
    if response is None:
        return None
    for answer in sorted(response.answers, key=lambda a: a.position):
        if answer.question.type == "scale" and answer.value not in (None, ""):
            return answer_in_words(answer)
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
        with in_shop_language(session):
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
    """Last week (Monday to Sunday, local) in numbers: answers, cases, and what is open now,
    in the language the caller forced."""
    start = local_midnight(monday - timedelta(days=7), zone)
    end = local_midnight(monday, zone)
    mine = (Case.owner_id == owner.id,) if owner is not None else ()

    def count(model, *conditions) -> str:
        return number(session.scalar(select(func.count(model.id)).where(*conditions)) or 0)

    facts = []
    if owner is None:
        answered = (Response.submitted_at >= start, Response.submitted_at < end)
        facts += [
            (_("Answers"), count(Response, *answered)),
            (
                pgettext("answers", "Negative"),
                count(Response, *answered, Response.negative.is_(True)),
            ),
        ]
    facts += [
        (_("Cases opened"), count(Case, *mine, Case.created_at >= start, Case.created_at < end)),
        (_("Cases closed"), count(Case, *mine, Case.closed_at >= start, Case.closed_at < end)),
        (
            _("Open now"),
            count(Case, *mine, Case.status.in_((CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED))),
        ),
        (_("Overdue now"), count(Case, *mine, overdue_condition(now))),
    ]
    week = week_words(monday - timedelta(days=7), monday - timedelta(days=1))
    if owner is None:
        headline = _("Last week in Heart to Heart: %(week)s", week=week)
    else:
        headline = _("Last week in %(name)s's cases: %(week)s", name=owner.name, week=week)
    return ChatNote(
        headline=headline,
        facts=facts,
        link=Link(external_url("admin.show_dashboard"), _("Open the dashboard")),
    )


def week_words(first: date, last: date) -> str:
    """Monday to Sunday in the current language: "23 Nov – 29 Nov 2026" (the English the
    summary always had), "23 de noviembre – 29 de noviembre de 2026"."""
    if current_language() == "en":
        return f"{local_date(first, 'dd MMM')} – {local_date(last, 'dd MMM y')}"
    return f"{day_and_month(first)} – {local_date(last)}"
