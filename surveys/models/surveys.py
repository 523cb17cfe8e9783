"""Surveys (one per invitation), their links, and the responses they collect."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.customers import Customer
from surveys.models.purchases import Purchase
from surveys.models.question_sets import Question, QuestionSet, QuestionSetVersion

# "imported": an answer given before the move (Delighted's history), never sent by us.
SURVEY_KINDS = ("purchase", "fix_check", "relationship_review", "manual", "imported")


# scheduled: waiting for send_at; sent: in the customer's mailbox; answered.
# throttled / suppressed / skipped: decided at purchase time, never sent.
# held: the customer has a case still open; decided again when it closes
# (surveys.services.surveys.held).
# cancelled: not sent after all (the address was suppressed meanwhile, the order was
# refunded or cancelled); failed: refused by the mail service.
class SurveyStatus(StrEnum):
    """Stored as these strings; a member compares equal to its string."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    ANSWERED = "answered"
    THROTTLED = "throttled"
    SUPPRESSED = "suppressed"
    SKIPPED = "skipped"
    HELD = "held"
    CANCELLED = "cancelled"
    FAILED = "failed"


SURVEY_STATUSES = tuple(SurveyStatus)


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24), default="purchase")
    status: Mapped[str] = mapped_column(sa.String(12))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    purchase_id: Mapped[int | None] = mapped_column(sa.ForeignKey("purchases.id"), index=True)
    # The case a fix-check survey asks about.
    # use_alter: surveys -> cases -> responses -> surveys is a cycle; this link is added last.
    case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cases.id", use_alter=True), index=True
    )
    question_set_id: Mapped[int] = mapped_column(sa.ForeignKey("question_sets.id"))
    # Pinned when the survey is sent: it keeps showing this version after a publish.
    version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("question_set_versions.id"))
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Indexed: the mail figures read the surveys sent in a range.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    purchase: Mapped[Purchase | None] = relationship()
    question_set: Mapped[QuestionSet] = relationship()
    version: Mapped[QuestionSetVersion | None] = relationship()
    response: Mapped[Response | None] = relationship(back_populates="survey", uselist=False)

    __table_args__ = (sa.Index("ix_surveys_customer_id_sent_at", "customer_id", "sent_at"),)


class SurveyToken(Base):
    """A personal link's secret, stored only as its SHA-256.

    Each email gets a fresh token when it is delivered, so the raw value never
    rests in the database; every token of a survey stays valid until the
    survey expires. A token without a survey serves only to unsubscribe (it is
    the List-Unsubscribe link of a reply or other non-survey email).
    """

    __tablename__ = "survey_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    survey_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    survey: Mapped[Survey | None] = relationship()


class Response(Base):
    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a survey is answered once, even when two submits race.
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"), unique=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("question_set_versions.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    negative: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When notes or tags were last changed through the Delighted-compatible API; the
    # customer's answers themselves are never edited. Null until then.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Labels an integration put on the response (Delighted's `tags`), in the order given.
    tags: Mapped[list | None] = mapped_column(sa.JSON)
    # The response's id at Delighted, for history brought over: unique, so importing the same
    # export twice adds nothing the second time.
    delighted_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    survey: Mapped[Survey] = relationship(back_populates="response")
    version: Mapped[QuestionSetVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", order_by="Answer.position", cascade="all, delete-orphan"
    )
    notes: Mapped[list[ResponseNote]] = relationship(
        back_populates="response", order_by="ResponseNote.id"
    )

    # Serves date ranges and the API's keyset cursor `(submitted_at, id) > (x, y)`.
    __table_args__ = (sa.Index("ix_responses_submitted_at_id", "submitted_at", "id"),)


class ResponseNote(Base):
    """A note an integration wrote on a response (Delighted's `notes`); only ever added."""

    __tablename__ = "response_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[Response] = relationship(back_populates="notes")


class Answer(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"))
    position: Mapped[int]
    value: Mapped[str | None] = mapped_column(sa.Text)
    negative: Mapped[bool] = mapped_column(default=False)
    # Written answers only: the sentiment from -1 to 1 (null for answers recorded before it
    # was read), and the rule's words they contain, shown on the case page.
    sentiment: Mapped[float | None] = mapped_column(sa.Float)
    negative_words: Mapped[list | None] = mapped_column(sa.JSON)

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()

    __table_args__ = (sa.UniqueConstraint("response_id", "question_id"),)


class ReviewLinkClick(Base):
    """A respondent followed the public review link from the thank-you page; one per survey,
    however often they follow it (the dashboard counts people, not clicks of one person)."""

    __tablename__ = "review_link_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    # Indexed: the dashboard counts the clicks of a range.
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EmailEvent(Base):
    """An event SendGrid reported about a message (delivered, open, bounce…)."""

    __tablename__ = "email_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SendGrid's own id: a repeated event is recognised and ignored.
    sg_event_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    event: Mapped[str] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    survey_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    # Indexed: retention clears it before deleting an old outbox row.
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_messages.id"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
