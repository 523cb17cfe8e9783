"""Which of our contacts touch the customer, and how: the one place that decides.

The aim is ten positive touches for every negative one, so the ledger must be honest:

- **positive**: the customer was given something: a personal reply, a gesture (a pleasant
  surprise, a service heroic), a congratulation on a date that matters to them, a fix they
  confirmed worked, a relationship review they answered well;
- **negative**: something went wrong for them: a case opened by their answer, a fix that did
  not work, a goodbye (they unsubscribed), an order refunded in full (its reason kept), an
  invoice or other negative contact an integrator reports through the API;
- **neutral**: we asked and gave nothing: a survey, a reminder, a fix-check email, the
  survey they answered (its thank-you page is our manners, not a gift).

Some events are not the customer's touches at all and are never recorded: an internal
escalation (a deadline we missed is felt through the case, already counted), a case marked
resolved (the customer feels the fix when they confirm it), a bounce (they never saw it).

Owners log contacts of their own from the customer's page (a call, a visit, a card), saying
whether it went well; integrators report contacts made elsewhere with a polarity of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.models import Case, Customer, Response, Survey, Touchpoint
from surveys.models.cases import CaseStatus
from surveys.services.customers.touchpoints import TouchpointError, record_touchpoint, tally_for


@dataclass(frozen=True)
class TouchKind:
    key: str
    polarity: str
    label: str


SERVICE_TOUCHES: dict[str, TouchKind] = {
    kind.key: kind
    for kind in (
        TouchKind("personal_reply", "positive", _l("Personal reply from their owner")),
        TouchKind("gesture", "positive", _l("A pleasant surprise from their owner")),
        TouchKind("congratulation", "positive", _l("Congratulated on a date that matters to them")),
        TouchKind("fix_confirmed", "positive", _l("Confirmed the fix worked")),
        TouchKind("relationship_review", "positive", _l("Relationship review answered well")),
        TouchKind("negative_answer", "negative", _l("Answered a survey unhappily; a case opened")),
        TouchKind("reopened", "negative", _l("The fix did not work; case reopened")),
        TouchKind("unsubscribed", "negative", _l("Unsubscribed from our surveys")),
        TouchKind("refund", "negative", _l("An order refunded")),
        TouchKind("survey_sent", "neutral", _l("Sent a survey")),
        TouchKind("reminder_sent", "neutral", _l("Sent a reminder")),
        TouchKind("fix_check_sent", "neutral", _l("Asked whether the fix worked")),
        TouchKind("thank_you", "neutral", _l("Answered a survey")),
    )
}

# Contacts an owner logs from the customer's page, with the polarity they choose.
OWNER_CONTACTS = {
    "call": _l("A phone call"),
    "visit": _l("A visit"),
    "card": _l("A card or letter"),
    "other": _l("Another contact"),
}

# Kinds an earlier ledger recorded that are not the customer's touches (removed by
# migration 0018, never recorded again), with why.
NOT_TOUCHES = {
    "escalation": "an internal deadline we missed; the customer feels the case, counted once",
    "resolution": "a case marked resolved; the customer's touch is confirming the fix",
    "bounce": "an email that never reached them",
}


def record_service_touch(
    session: Session,
    *,
    customer: Customer,
    kind: str,
    now: datetime,
    note: str | None = None,
    case: Case | None = None,
    survey: Survey | None = None,
    occurred_at: datetime | None = None,
) -> Touchpoint:
    """Record one of the service's own contacts, with the polarity this ledger gives it."""
    return record_touchpoint(
        session,
        customer=customer,
        kind=kind,
        polarity=SERVICE_TOUCHES[kind].polarity,
        now=now,
        note=note,
        case=case,
        survey=survey,
        occurred_at=occurred_at,
    )


def log_owner_contact(
    session: Session,
    customer: Customer,
    *,
    kind: str,
    polarity: str,
    note: str | None,
    now: datetime,
) -> Touchpoint:
    """A call, visit or card an owner made, logged from the customer's page."""
    if kind not in OWNER_CONTACTS:
        raise TouchpointError({"kind": "must be a call, a visit, a card or another contact"})
    return record_touchpoint(
        session, customer=customer, kind=kind, polarity=polarity, now=now, note=note
    )


def record_asks(
    session: Session, asks: list[tuple[int, int | None, str]], *, now: datetime
) -> None:
    """Neutral touches for emails that reached customers, each (customer id, survey id,
    kind), in one statement: a batch of surveys leaves in one provider call."""
    rows = [
        {
            "customer_id": customer_id,
            "survey_id": survey_id,
            "kind": kind,
            "polarity": SERVICE_TOUCHES[kind].polarity,
            "occurred_at": now,
            "created_at": now,
        }
        for customer_id, survey_id, kind in asks
    ]
    if rows:
        # Neutral touches leave the customers' tallies as they are (record_touchpoint's
        # bookkeeping has nothing to add), so a plain insert is the whole of it.
        session.execute(insert(Touchpoint), rows)


def record_answer_touches(session: Session, response: Response, *, now: datetime) -> None:
    """The touches of a submitted survey: answered (neutral), and a review answered well.

    A negative answer's own touch is recorded with the case it opens.
    """
    survey = response.survey
    customer = survey.customer
    record_service_touch(session, customer=customer, kind="thank_you", now=now, survey=survey)
    if survey.kind == "relationship_review" and not response.negative:
        record_service_touch(
            session, customer=customer, kind="relationship_review", now=now, survey=survey
        )


# Beyond this long without a positive touch, a customer is drifting away.
QUIET_DAYS = 90


def next_positive_touch(session: Session, customer: Customer, *, now: datetime) -> str | None:
    """What would do this customer good next, in a sentence for their owner; None when they
    have said goodbye (a relationship ended is not pursued)."""
    if customer.erased_at is not None or customer.suppressed_at is not None:
        return None
    open_case = session.scalar(
        select(Case.id)
        .where(Case.customer_id == customer.id, Case.status != CaseStatus.CLOSED)
        .order_by(Case.id)
        .limit(1)
    )
    if open_case is not None:
        return _(
            "Case %(id)s is still open: a fix they confirm is the positive touch that counts most.",
            id=open_case,
        )
    tally = tally_for(session, customer)
    last = customer.last_positive_touch_at
    if last is None or (now - last).days >= QUIET_DAYS:
        if last is None:
            return _(
                "Nothing positive yet: a call just to check in, or an invitation to a "
                "relationship review."
            )
        days = (now - last).days
        return ngettext(
            "%(num)s day of quiet: a call just to check in, or an invitation to a "
            "relationship review.",
            "%(num)s days of quiet: a call just to check in, or an invitation to a "
            "relationship review.",
            days,
        )
    if tally.positives_needed:
        return ngettext(
            "%(num)s more positive touch reaches ten to one: a handwritten card, or a small "
            "upgrade on their next order.",
            "%(num)s more positive touches reach ten to one: a handwritten card, or a small "
            "upgrade on their next order.",
            tally.positives_needed,
        )
    return _("A note just to say thank you keeps it that way.")


def kind_label(kind: str) -> str:
    """A touch's kind in words ("Personal reply from their owner", or the kind itself)."""
    if kind in SERVICE_TOUCHES:
        return str(SERVICE_TOUCHES[kind].label)
    if kind in OWNER_CONTACTS:
        return str(OWNER_CONTACTS[kind])
    return kind.replace("_", " ").capitalize()
