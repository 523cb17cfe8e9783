"""A case as a conversation: who it waits on, its timeline in time order (the customer's
answers first), how often it was reopened, and the one next step its page leads with.

`waiting_on` is the one place that decides whom a case waits on; `waiting_on_sql` says
the same in SQL for lists that filter and sort by it, and the tests hold the two together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import aliased

from surveys.formats import local_datetime
from surveys.humanize import duration_words
from surveys.models import Case, CaseEvent
from surveys.models.cases import CaseStatus
from surveys.services.cases.deadlines import Deadline, next_deadline
from surveys.services.cases.queries import answer_words
from surveys.services.cases.timeline import fix_check_ask_at

OWNER = "owner"
CUSTOMER = "customer"
# The owner writing to the customer: from the case page or the API ("reply"), or from
# their own mailbox ("personal_reply").
OWNER_REPLY_KINDS = ("reply", "personal_reply")
# The customer speaking after their survey answers: a reply by email, a fix-check answer.
CUSTOMER_WORDS_KINDS = ("customer_replied", "reopened", "fix_check_answered")
# What the customer says after their survey that puts the case back in the owner's hands.
CALLED_BACK_KINDS = ("customer_replied", "reopened", "fix_check_answered")
# A message someone (not verifiably the customer) sent about the case: read, never relayed.
UNVERIFIED_KIND = "unverified_message"
NOTE_KIND = "note"
# The opening message of every timeline: the survey answers that opened the case.
ANSWERS_KIND = "survey_answers"


# --- whom the case waits on ------------------------------------------------------------


def _last_exchange(case: Case) -> CaseEvent | None:
    """The latest word either way: the owner's reply or the customer's words.

    Events written in the same instant come in the order they were written (the
    timeline's order, by id), as `last_exchange_kind_sql` orders them.
    """
    exchanged = [
        (event.created_at, position, event)
        for position, event in enumerate(case.events)
        if event.kind in OWNER_REPLY_KINDS or event.kind in CUSTOMER_WORDS_KINDS
    ]
    return max(exchanged, key=lambda item: item[:2])[2] if exchanged else None


def waiting_on(case: Case) -> str | None:
    """ "owner", "customer", or None (closed): whose turn it is on the case.

    Open cases, and cases whose customer spoke (a reply, a reopening fix-check)
    after the owner last wrote, wait on the owner; resolved ones on the customer's
    answer to the fix-check; an acknowledged case whose owner wrote last, on the
    customer. A resolved case waits on the fix-check even when it was reopened
    before: resolving again is the owner's answer.
    """
    if case.status == CaseStatus.CLOSED:
        return None
    if case.status == CaseStatus.OPEN:
        return OWNER
    if case.status == CaseStatus.RESOLVED:
        return CUSTOMER
    last = _last_exchange(case)
    if last is not None and last.kind in OWNER_REPLY_KINDS:
        return CUSTOMER
    return OWNER


def last_exchange_kind_sql():
    """The kind of a case's latest reply or customer's words, as a correlated subquery."""
    event = aliased(CaseEvent)
    return (
        select(event.kind)
        .where(
            event.case_id == Case.id,
            event.kind.in_(OWNER_REPLY_KINDS + CUSTOMER_WORDS_KINDS),
        )
        .order_by(event.created_at.desc(), event.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )


def waiting_on_sql():
    """`waiting_on` as a SQL expression over `Case`, for lists that filter or sort by it."""
    last_kind = last_exchange_kind_sql()
    return sql_case(
        (Case.status == CaseStatus.CLOSED, None),
        (Case.status == CaseStatus.OPEN, OWNER),
        (Case.status == CaseStatus.RESOLVED, CUSTOMER),
        (last_kind.in_(OWNER_REPLY_KINDS), CUSTOMER),
        else_=OWNER,
    )


def called_back_by(case: Case) -> CaseEvent | None:
    """The customer's words the owner has not answered yet (a reply, a reopening), if any."""
    if waiting_on(case) != OWNER:
        return None
    last = _last_exchange(case)
    return last if last is not None and last.kind in CALLED_BACK_KINDS else None


def reopened_count(case: Case) -> int:
    """How many times the customer said the fix did not work."""
    return sum(1 for event in case.events if event.kind == "reopened")


def handover(case: Case) -> CaseEvent | None:
    """The hand-over that gave the current owner the case, if it came to them that way."""
    for event in reversed(case.events):
        if event.kind == "reassigned":
            if (event.data or {}).get("to_user_id") == case.owner_id:
                return event
            return None
    return None


# --- the timeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerLine:
    """One survey answer in the opening message: the question, the words, whether negative."""

    question: str
    words: str
    negative: bool
    written: bool


@dataclass(frozen=True)
class Entry:
    """One line of the conversation.

    `style` is how the page shows it: "customer" and "owner" messages, an internal
    "note", an "unverified" message, or a small "system" event.
    """

    kind: str
    author: str
    body: str | None
    created_at: datetime
    style: str
    event: CaseEvent | None = None
    answers: tuple[AnswerLine, ...] = field(default=())

    @property
    def anchor(self) -> str:
        return f"event-{self.event.id}" if self.event is not None else "answers"

    @property
    def data(self) -> dict:
        return (self.event.data or {}) if self.event is not None else {}

    @property
    def author_unknown(self) -> bool:
        """An unverified message that named no sender: the page says so in its reader's
        language; `author` keeps the English for the API."""
        return self.style == "unverified" and not self.data.get("from")


def _answers_entry(case: Case) -> Entry:
    response = case.response
    lines = tuple(
        AnswerLine(
            question=answer.question.text,
            words=answer_words(answer),
            negative=bool(answer.negative),
            written=answer.question.type == "text",
        )
        for answer in response.answers
        if answer.value not in (None, "")
    )
    body = "\n".join(
        f"{line.question} {line.words}{' (negative)' if line.negative else ''}" for line in lines
    )
    return Entry(
        kind=ANSWERS_KIND,
        author=case.customer.display_name,
        body=body,
        created_at=response.submitted_at or case.created_at,
        style=CUSTOMER,
        answers=lines,
    )


def _style(kind: str) -> str:
    if kind in OWNER_REPLY_KINDS:
        return OWNER
    if kind in CUSTOMER_WORDS_KINDS or kind == "fix_confirmed":
        return CUSTOMER
    if kind == NOTE_KIND:
        return "note"
    if kind == UNVERIFIED_KIND:
        return "unverified"
    return "system"


UNKNOWN_SENDER = "Someone unknown"


def _author(case: Case, event: CaseEvent) -> str:
    style = _style(event.kind)
    if style == CUSTOMER:
        return case.customer.display_name
    if style == "unverified":
        return str((event.data or {}).get("from") or UNKNOWN_SENDER)
    return event.actor_label


def timeline(case: Case) -> list[Entry]:
    """The whole conversation in time order: the survey answers that opened the case, then
    every event (replies both ways, notes, unverified messages, system events)."""
    entries = [_answers_entry(case)]
    # Stable: events of one instant stay in the order they were written.
    events = sorted(case.events, key=lambda event: event.created_at)
    entries += [
        Entry(
            kind=event.kind,
            author=_author(case, event),
            body=event.body,
            created_at=event.created_at,
            style=_style(event.kind),
            event=event,
        )
        for event in events
    ]
    # Stable: the answers stay first when the case opened in the same instant.
    return sorted(entries, key=lambda entry: entry.created_at)


# --- the next step -------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """The status line at the top of a case page, and the deadline that goes with it."""

    headline: str
    tone: str  # "urgent" (the owner's move, customer waiting), "owner", "customer", "done"
    deadline: Deadline | None = None
    deadline_words: str | None = None
    overdue: bool = False


def deadline_words(deadline: Deadline, now: datetime) -> str:
    """'due in 3 hours', or plainly 'overdue by 2 days', in the reader's language."""
    seconds = abs((deadline.due_at - now).total_seconds())
    if deadline.is_overdue(now):
        return _("overdue by %(duration)s", duration=duration_words(seconds))
    return _("due in %(duration)s", duration=duration_words(seconds))


CLOSED_HEADLINES = {
    "confirmed": _l("Closed: the customer said the fix worked"),
    "unconfirmed": _l("Closed: no answer to the fix-check"),
}


def next_step(case: Case, now: datetime) -> NextStep:
    """What the case needs next, in one line of the reader's language: "Reopened: the fix did
    not work", "Customer replied 2 hours ago", "Waiting for the customer", "New: acknowledge
    by …"."""
    deadline = next_deadline(case)
    words = deadline_words(deadline, now) if deadline else None
    overdue = bool(deadline and deadline.is_overdue(now))

    def step(headline: str, tone: str) -> NextStep:
        return NextStep(str(headline), tone, deadline, words, overdue)

    if case.status == CaseStatus.CLOSED:
        return step(
            CLOSED_HEADLINES.get(case.closed_reason or "", pgettext("case", "Closed")), "done"
        )
    if case.owner_id is None:
        return step(_("Waiting for an owner: hand it to someone"), "urgent")
    if case.status == CaseStatus.RESOLVED:
        ask_at = fix_check_ask_at(case)
        if ask_at is not None and ask_at > now:
            # The owner chose to let the fix settle first: say when we ask, not that we did.
            later = duration_words((ask_at - now).total_seconds(), round_up=True)
            return step(
                _("Resolved: we ask whether the fix worked in %(duration)s", duration=later),
                CUSTOMER,
            )
        return step(_("Waiting for the customer: we asked whether the fix worked"), CUSTOMER)
    called_back = called_back_by(case)
    if called_back is not None:
        if called_back.kind == "reopened":
            return step(_("Reopened: the fix did not work"), "urgent")
        ago = duration_words(max(0.0, (now - called_back.created_at).total_seconds()))
        if called_back.kind == "customer_replied":
            return step(_("Customer replied %(duration)s ago", duration=ago), "urgent")
        return step(_("Customer answered the fix-check %(duration)s ago", duration=ago), "urgent")
    if case.status == CaseStatus.OPEN:
        return step(
            _("New: acknowledge by %(moment)s", moment=local_datetime(case.acknowledge_by) or "—"),
            "urgent",
        )
    if waiting_on(case) == CUSTOMER:
        return step(_("Waiting for the customer"), CUSTOMER)
    return step(
        _("Acknowledged: write to %(customer)s", customer=case.customer.display_name), OWNER
    )
