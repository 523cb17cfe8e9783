"""Reading question sets and their published versions, and each version as a questions document.

A *questions document* is the API's JSON shape (README's *Keep your questions in git*): a list of
`{"key", "type", "text", "translations", "required", "options", "min", "max", "negative"}`
(`translations`, on a question or an option, only when it has some). Published versions
are never changed: publishing adds version N+1, and surveys and responses keep pointing at the
version they were sent or answered with.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Question, QuestionSet, QuestionSetVersion, Response
from surveys.services.question_sets import document


def get_question_set(session: Session, key: str) -> QuestionSet | None:
    return session.scalar(select(QuestionSet).where(QuestionSet.key == key))


def current_version(session: Session, question_set: QuestionSet) -> QuestionSetVersion:
    """The newest published version of a set."""
    return session.scalars(
        select(QuestionSetVersion)
        .where(QuestionSetVersion.question_set_id == question_set.id)
        .order_by(QuestionSetVersion.number.desc())
        .limit(1)
    ).one()


def latest_version(session: Session, question_set: QuestionSet) -> QuestionSetVersion | None:
    """The newest published version, or None for a set not published yet."""
    return session.scalars(
        select(QuestionSetVersion)
        .where(QuestionSetVersion.question_set_id == question_set.id)
        .order_by(QuestionSetVersion.number.desc())
        .limit(1)
    ).first()


def get_version(
    session: Session, question_set: QuestionSet, number: int
) -> QuestionSetVersion | None:
    return session.scalar(
        select(QuestionSetVersion).where(
            QuestionSetVersion.question_set_id == question_set.id,
            QuestionSetVersion.number == number,
        )
    )


def answer_counts_by_set(session: Session) -> dict[int, int]:
    """How many responses each question set has received, over all its versions."""
    rows = session.execute(
        select(QuestionSetVersion.question_set_id, func.count(Response.id))
        .join(Response, Response.version_id == QuestionSetVersion.id)
        .group_by(QuestionSetVersion.question_set_id)
    ).all()
    return dict(rows)


def answer_counts_by_version(session: Session, question_set: QuestionSet) -> dict[int, int]:
    """How many responses each version of one set has received, by version id."""
    rows = session.execute(
        select(Response.version_id, func.count(Response.id))
        .join(QuestionSetVersion, Response.version_id == QuestionSetVersion.id)
        .where(QuestionSetVersion.question_set_id == question_set.id)
        .group_by(Response.version_id)
    ).all()
    return dict(rows)


def validate_questions(questions) -> list[dict]:
    """The document in canonical form, or QuestionSetInvalid naming every problem."""
    return document.canonical_questions(questions)


def question_errors(questions) -> dict[str, list[str]]:
    """The problems of a document, by field path; empty when it can be published."""
    return document.questions_errors(questions)


def version_document(version: QuestionSetVersion) -> list[dict]:
    """A published version's questions in the document's canonical form."""
    return [question_document(question) for question in version.questions]


def question_document(question: Question) -> dict:
    """One question in the document's canonical form (only its type's fields)."""
    result = {
        "key": question.key,
        "type": question.type,
        "text": question.text,
        "required": bool(question.required),
    }
    if question.translations:
        result["translations"] = dict(question.translations)
    if question.type == "choice":
        result["options"] = [_option_document(o) for o in question.options or ()]
    if question.type == "scale":
        result["min"], result["max"] = question.min_value, question.max_value
    result["negative"] = question.negative or None
    return result


def _option_document(option: dict) -> dict:
    result = {"value": option["value"], "label": option["label"]}
    if option.get("translations"):
        result["translations"] = dict(option["translations"])
    return result


def transient_questions(questions: list[dict]) -> list[Question]:
    """Unsaved Question objects for the questions of a document that are valid on their own.

    The preview renders these with the customer's own form; questions still being
    written are left out (the editor lists what is missing).
    """
    rows = []
    keys: set[str] = set()
    for position, raw in enumerate(questions if isinstance(questions, list) else []):
        cleaned = document.valid_question(raw)
        if cleaned is None or cleaned["key"] in keys:
            continue
        keys.add(cleaned["key"])
        rows.append(question_row(cleaned, position))
    return rows


def question_row(cleaned: dict, position: int) -> Question:
    """An unsaved Question row for one question of a validated document."""
    return Question(
        position=position,
        key=cleaned["key"],
        type=cleaned["type"],
        text=cleaned["text"],
        translations=cleaned.get("translations") or None,
        required=cleaned["required"],
        min_value=cleaned.get("min"),
        max_value=cleaned.get("max"),
        options=cleaned.get("options"),
        negative=cleaned.get("negative"),
    )
