"""Goodbyes: a relationship that ends stays personal.

A customer who unsubscribes is told who will miss them (their owner, by name), may then
say why (never as a condition of unsubscribing), and can come back with one tap. Their
owner is told, and the ledger counts the goodbye as a negative touch with the reason.
An owner may also end a relationship themselves, with a letter they write; that stops
the surveys and is kept in the audit log.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.formats import local_date
from surveys.models import Customer, Goodbye, OutboxMessage, Touchpoint, User
from surveys.models.outbox import OutboxStatus
from surveys.outbox.enqueue import enqueue_email, enqueue_email_to_user
from surveys.services.audit import record_admin_change
from surveys.services.customers.ledger import record_service_touch
from surveys.services.customers.unsubscribe import unsubscribe_customer
from surveys.services.routing.decisions import NoOwnerAvailable, choose_owner

# What a customer may tick after unsubscribing, in their words; then a sentence of their own.
REASONS = {
    "too_often": "You wrote to me too often",
    "not_relevant": "The questions were not for me",
    "bad_experience": "I had a bad experience",
    "not_buying": "I no longer buy from you",
    "other": "Something else",
}
MAX_WORDS_LENGTH = 1000
MAX_LETTER_LENGTH = 5000
# The owner's notice waits this long, so that a reason given right after unsubscribing
# arrives in the same email rather than in a second one.
NOTICE_DELAY = timedelta(minutes=10)
# Suppressions a customer may undo themselves: their own unsubscribe, not a bounce, a
# complaint or a relationship their owner ended.
SELF_SERVICE_REASON = "unsubscribed"
ENDED_REASON = "relationship ended by their owner"


class GoodbyeError(ValueError):
    """A goodbye step that cannot be taken; `field` names the form field at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def open_goodbye(session: Session, customer: Customer) -> Goodbye | None:
    """The goodbye that still stands (not withdrawn by coming back), if any."""
    return session.scalars(
        select(Goodbye)
        .where(Goodbye.customer_id == customer.id, Goodbye.withdrawn_at.is_(None))
        .order_by(Goodbye.id.desc())
        .limit(1)
    ).first()


def who_looks_after(session: Session, customer: Customer) -> User | None:
    """The person who signs the customer's goodbye and is told of it: the account owner,
    else whoever a new case of theirs would go to; None when nobody could."""
    try:
        return choose_owner(session, customer=customer, purchase=None).owner
    except NoOwnerAvailable:
        return None


def unsubscribe_by_customer(session: Session, customer: Customer, *, now: datetime) -> bool:
    """The customer's own unsubscribe (their link, or their mail provider's one click).

    Suppresses the address and cancels what was scheduled (as any suppression does); the
    first time, also records the goodbye, a negative touch, and the owner's notice. True
    when the address was newly suppressed.
    """
    newly = unsubscribe_customer(session, customer, now=now, reason=SELF_SERVICE_REASON)
    if not newly:
        return False
    touch = record_service_touch(
        session, customer=customer, kind="unsubscribed", note="did not say why", now=now
    )
    goodbye = Goodbye(
        customer_id=customer.id, kind="unsubscribed", touchpoint_id=touch.id, created_at=now
    )
    session.add(goodbye)
    session.flush()
    owner = who_looks_after(session, customer)
    if owner is not None:
        notice = enqueue_email_to_user(
            session,
            owner,
            template="customer_unsubscribed",
            now=now,
            context={"goodbye_id": goodbye.id},
            send_at=now + NOTICE_DELAY,
        )
        goodbye.notice_message_id = notice.id
    return True


def say_why(
    session: Session, customer: Customer, *, reason: str | None, words: str | None, now: datetime
) -> Goodbye:
    """Keep what the customer told us after unsubscribing; once only.

    Raises GoodbyeError when they are not unsubscribed, already said why, or gave nothing
    we can keep. Their owner learns it in the notice, or in a second email when the notice
    already went out.
    """
    goodbye = open_goodbye(session, customer)
    if goodbye is None or goodbye.kind != "unsubscribed":
        raise GoodbyeError(gettext("You are not unsubscribed, so there is nothing to explain."))
    if goodbye.said_why_at is not None:
        raise GoodbyeError(gettext("You already told us why. Thank you; it has been passed on."))
    reason = (reason or "").strip() or None
    words = (words or "").strip() or None
    if reason is not None and reason not in REASONS:
        raise GoodbyeError(gettext("Please choose one of the reasons shown."), field="reason")
    if reason is None and words is None:
        raise GoodbyeError(gettext("Choose a reason or write a few words."), field="reason")
    if words is not None and len(words) > MAX_WORDS_LENGTH:
        raise GoodbyeError(
            gettext("Please keep it under %(max)d characters.", max=MAX_WORDS_LENGTH), field="words"
        )
    goodbye.reason, goodbye.words, goodbye.said_why_at = reason, words, now
    touch = session.get(Touchpoint, goodbye.touchpoint_id) if goodbye.touchpoint_id else None
    if touch is not None:
        touch.note = reason_in_words(goodbye)
    if _notice_already_sent(session, goodbye):
        owner = who_looks_after(session, customer)
        if owner is not None:
            enqueue_email_to_user(
                session,
                owner,
                template="customer_said_why",
                now=now,
                context={"goodbye_id": goodbye.id},
            )
    session.flush()
    return goodbye


def reason_in_words(goodbye: Goodbye) -> str:
    """What the customer said, as one line: "I had a bad experience: “The chair broke.”"."""
    parts = []
    if goodbye.reason:
        parts.append(REASONS.get(goodbye.reason, goodbye.reason))
    if goodbye.words:
        parts.append(f"“{goodbye.words}”")
    return ": ".join(parts) if parts else "did not say why"


def come_back(session: Session, customer: Customer, *, now: datetime) -> None:
    """Undo the customer's own unsubscribe: surveys may reach them again.

    Raises GoodbyeError when the address is suppressed for another reason (a bounce, a
    complaint, a relationship ended by their owner): those are not the customer's to undo.
    """
    if customer.suppressed_at is None:
        return
    if customer.suppression_reason != SELF_SERVICE_REASON:
        raise GoodbyeError(
            gettext(
                "We stopped writing to this address for a reason you cannot undo here. "
                "Reply to any of our emails and a person will help."
            )
        )
    customer.suppressed_at = None
    customer.suppression_reason = None
    goodbye = open_goodbye(session, customer)
    if goodbye is not None:
        goodbye.withdrawn_at = now
    session.flush()


def goodbye_letter_draft(
    customer: Customer, owner: User, sender_name: str, *, language: str | None = None
) -> str:
    """A starting point for the owner's letter, in `language` (the customer's, so the letter
    reads as theirs; else the page's); the owner makes it theirs before sending."""
    with force_locale(language) if language else nullcontext():
        if customer.name:
            greeting = gettext("Dear %(name)s,", name=customer.name.split()[0])
        else:
            greeting = gettext("Hello,")
        paragraphs = [
            greeting,
            gettext(
                "Thank you for the time you have spent with us at %(shop)s. We will stop sending "
                "you our surveys from today.",
                shop=sender_name,
            ),
            gettext(
                "If there is ever anything I can do for you, just reply to this email: it comes "
                "straight to me."
            ),
            gettext("With warm wishes,") + f"\n{owner.name}",
        ]
    return "\n\n".join(paragraphs)


def end_relationship(
    session: Session, customer: Customer, *, owner: User, letter: str, now: datetime
) -> Goodbye:
    """The owner ends the relationship with a personal letter: it is sent in their name,
    future surveys stop, and the audit log keeps who did it and what they wrote."""
    letter = (letter or "").strip()
    if not letter:
        raise GoodbyeError(gettext("Write the letter the customer will read."), field="letter")
    if len(letter) > MAX_LETTER_LENGTH:
        raise GoodbyeError(
            gettext("Keep the letter under %(max)d characters.", max=MAX_LETTER_LENGTH),
            field="letter",
        )
    if customer.erased_at is not None:
        raise GoodbyeError(gettext("This customer's data was erased; there is nobody to write to."))
    standing = open_goodbye(session, customer)
    if standing is not None:
        on = local_date(standing.created_at)
        if standing.kind == "unsubscribed":
            raise GoodbyeError(
                gettext(
                    "This relationship has already ended (the customer unsubscribed, %(date)s).",
                    date=on,
                )
            )
        raise GoodbyeError(
            gettext("This relationship has already ended (a letter, %(date)s).", date=on)
        )
    unsubscribe_customer(session, customer, now=now, reason=ENDED_REASON)
    goodbye = Goodbye(
        customer_id=customer.id, kind="ended", ended_by_id=owner.id, letter=letter, created_at=now
    )
    session.add(goodbye)
    session.flush()
    enqueue_email(
        session,
        template="goodbye_letter",
        to_email=customer.email,
        to_name=customer.name,
        reply_to=owner.email,
        from_name=owner.name,
        context={"goodbye_id": goodbye.id},
        customer=customer,
        now=now,
    )
    record_admin_change(
        session,
        actor_user=owner,
        action="customer.relationship_ended",
        target=f"customer {customer.id}",
        before=None,
        # No personal data here (erasure does not reach the audit log): the letter is on the
        # goodbye, which an erasure blanks.
        after={"goodbye_id": goodbye.id, "surveys": "stopped"},
        now=now,
    )
    return goodbye


def _notice_already_sent(session: Session, goodbye: Goodbye) -> bool:
    """Whether the owner's notice of this goodbye has left, so it cannot carry the reason.
    A notice no longer in the outbox (removed by retention) left long ago."""
    if goodbye.notice_message_id is None:
        return False  # nobody was told: nobody to tell now either
    status = session.scalar(
        select(OutboxMessage.status).where(OutboxMessage.id == goodbye.notice_message_id)
    )
    return status != OutboxStatus.PENDING
