"""Question sets and their immutable published versions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.text_reading import TextReading, TextRule, read_answer, words_for

QUESTION_TYPES = ("choice", "scale", "text")
# Sets that only hold answers imported from elsewhere (surveys.services.history): never sent,
# so never offered when choosing what purchases are asked.
IMPORTED_SET_KEYS = ("delighted-nps",)


class QuestionSet(Base):
    __tablename__ = "question_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The editor's working copy (same shape as the API's "questions" list) and
    # a revision counter so that a second admin's stale save is refused.
    draft: Mapped[list | None] = mapped_column(sa.JSON)
    draft_revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[QuestionSetVersion]] = relationship(
        back_populates="question_set", order_by="QuestionSetVersion.number"
    )


class QuestionSetVersion(Base):
    """One published version. Never updated: surveys and answers point at it."""

    __tablename__ = "question_set_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int] = mapped_column(sa.ForeignKey("question_sets.id"))
    number: Mapped[int]
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    question_set: Mapped[QuestionSet] = relationship(back_populates="versions")
    questions: Mapped[list[Question]] = relationship(
        back_populates="version", order_by="Question.position"
    )

    __table_args__ = (sa.UniqueConstraint("question_set_id", "number"),)


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("question_set_versions.id"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(64))
    type: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.Text)
    # The text in other languages by BCP 47 tag ({"es": "…", "pt-BR": "…"}); `text` is the
    # shop's default language, and the fallback for any language missing here.
    translations: Mapped[dict | None] = mapped_column(sa.JSON)
    required: Mapped[bool] = mapped_column(default=False)
    min_value: Mapped[int | None]
    max_value: Mapped[int | None]
    # [{"value": "exceeding", "label": "Yes, you are exceeding them",
    #   "translations": {"es": "Sí, las superáis"}}, …] for choices (translations when given).
    options: Mapped[list | None] = mapped_column(sa.JSON)
    # {"values": [...]} for choices, {"at_most": n} for scales, None for never; for text any of
    # {"sentiment_below": -0.4, "words": [...] or {"en": [...], "es": [...]}, "not_empty": true}.
    negative: Mapped[dict | None] = mapped_column(sa.JSON)

    version: Mapped[QuestionSetVersion] = relationship(back_populates="questions")

    __table_args__ = (
        sa.UniqueConstraint("version_id", "key"),
        sa.CheckConstraint("type in ('choice', 'scale', 'text')", name="type"),
    )

    def is_negative(
        self, value: str | None, language: str | None = None, default_language: str = "en"
    ) -> bool:
        """Whether an answer meets this question's negative rule (a written one read as
        `language`'s, see read_text)."""
        if value in (None, "") or not self.negative:
            return False
        if self.type == "text":
            return self.read_text(value, language, default_language).negative
        if "values" in self.negative:
            return value in self.negative["values"]
        if "at_most" in self.negative:
            try:
                return int(value) <= int(self.negative["at_most"])
            except ValueError:
                return False
        return False

    def read_text(
        self, value: str, language: str | None = None, default_language: str = "en"
    ) -> TextReading:
        """A written answer's sentiment, and which parts of the rule (if any) it meets.

        `language` is the customer's (their locale; None for the shop's default language):
        a rule's words may be listed per language, and the tone is read only in a language
        the sentiment library knows."""
        rule = None
        if self.type == "text" and self.negative:
            rule = TextRule(
                sentiment_below=self.negative.get("sentiment_below"),
                words=tuple(words_for(self.negative.get("words"), language, default_language)),
                not_empty=bool(self.negative.get("not_empty")),
            )
        return read_answer(value, rule, language or default_language)

    def label_for(self, value: str | None) -> str | None:
        """The words the customer chose, rather than the stored value."""
        for option in self.options or ():
            if option["value"] == value:
                return option["label"]
        return value


class QuestionSetAssignment(Base):
    """Which question set follows a purchase of an item in this category."""

    __tablename__ = "question_set_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(128), unique=True)
    question_set_id: Mapped[int] = mapped_column(sa.ForeignKey("question_sets.id"))

    question_set: Mapped[QuestionSet] = relationship()
