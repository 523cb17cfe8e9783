"""Changing question sets: validating a questions document, drafts, publishing, history.

A *questions document* is the API's JSON shape (CONTRACT §4): a list of
`{"key", "type", "text", "required", "options", "min", "max", "negative"}`.
The editor's draft is stored in the same shape, the API's `PUT` sends it, and
both publish through `publish_questions`, so both are validated alike.

Published versions are never changed: publishing adds version N+1, and surveys
and responses keep pointing at the version they were sent or answered with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.models import (
    ApiKey,
    AuditEntry,
    Question,
    QuestionSet,
    QuestionSetAssignment,
    QuestionSetVersion,
    Response,
    User,
)
from surveys.public.forms import RESERVED_FIELD_NAMES
from surveys.services.audit import record_admin_change
from surveys.services.settings import get_setting, set_setting

SET_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUESTION_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
OPTION_VALUE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_FIELDS = ("key", "type", "text", "required", "min", "max", "options", "negative")
TYPES = ("choice", "scale", "text")
MAX_QUESTIONS = 30
MAX_OPTIONS = 12
MAX_QUESTION_TEXT = 1000
MAX_LABEL = 200
MAX_NAME = 200
MAX_CATEGORY = 128
# Eleven points (0 to 10) still fit a phone's width in one row.
MAX_SCALE_POINTS = 11


class QuestionSetInvalid(ValueError):
    """The document does not make a publishable set; `errors` maps a field path to messages.

    Paths are dotted, as everywhere in the API: `questions.2.options`, `questions.0.negative`.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


class StaleDraft(Exception):
    """Someone saved the draft after this form was loaded; nothing was changed."""

    def __init__(self, current_revision: int) -> None:
        super().__init__(f"the draft is at revision {current_revision}")
        self.current_revision = current_revision


class EditorError(ValueError):
    """A change an admin asked for that cannot be made; the message says why."""


@dataclass
class PublishResult:
    version: QuestionSetVersion
    created: bool


# --- the document ------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)


def validate_questions(questions) -> list[dict]:
    """The document in canonical form, or QuestionSetInvalid naming every problem."""
    errors = _Errors()
    cleaned = _clean_document(questions, errors)
    if errors.by_path:
        raise QuestionSetInvalid(errors.by_path)
    return cleaned


def question_errors(questions) -> dict[str, list[str]]:
    """The problems of a document, by field path; empty when it can be published."""
    errors = _Errors()
    _clean_document(questions, errors)
    return errors.by_path


def _clean_document(questions, errors: _Errors) -> list[dict]:
    if not isinstance(questions, list):
        errors.add("questions", "Send the questions as a list.")
        return []
    if not questions:
        errors.add("questions", "A question set needs at least one question.")
        return []
    if len(questions) > MAX_QUESTIONS:
        errors.add(
            "questions",
            f"Keep it to {MAX_QUESTIONS} questions or fewer; short surveys get answered.",
        )
    cleaned = []
    seen_keys: set[str] = set()
    for index, question in enumerate(questions):
        path = f"questions.{index}"
        if not isinstance(question, dict):
            errors.add(path, "Each question is an object with a key, a type and a text.")
            continue
        result = _clean_question(question, path, errors)
        key = result.get("key")
        if isinstance(key, str) and key:
            if key in seen_keys:
                errors.add(f"{path}.key", f"Another question already uses the key “{key}”.")
            seen_keys.add(key)
        cleaned.append(result)
    return cleaned


def _clean_question(question: dict, path: str, errors: _Errors) -> dict:
    for name in question:
        if name not in QUESTION_FIELDS:
            errors.add(
                f"{path}.{name}",
                f"Unknown field “{name}”; a question has {', '.join(QUESTION_FIELDS)}.",
            )
    key = _clean_key(question.get("key"), f"{path}.key", errors)
    kind = question.get("type")
    if kind not in TYPES:
        errors.add(f"{path}.type", "The type must be “choice”, “scale” or “text”.")
    text = question.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.add(f"{path}.text", "Write the question as the customer will read it.")
        text = ""
    elif len(text.strip()) > MAX_QUESTION_TEXT:
        errors.add(f"{path}.text", f"Keep the question to {MAX_QUESTION_TEXT} characters.")
    required = question.get("required", False)
    if required is None:
        required = False
    if not isinstance(required, bool):
        errors.add(f"{path}.required", "“required” is true or false.")
    result = {"key": key, "type": kind, "text": text.strip(), "required": required is True}
    if kind == "choice":
        result["options"] = _clean_options(question.get("options"), path, errors)
        result["negative"] = _clean_choice_rule(
            question.get("negative"), result["options"], path, errors
        )
    elif kind == "scale":
        low, high = _clean_scale(question, path, errors)
        result["min"], result["max"] = low, high
        result["negative"] = _clean_scale_rule(question.get("negative"), low, high, path, errors)
    elif kind == "text":
        if question.get("negative") not in (None, {}):
            errors.add(
                f"{path}.negative",
                "A text answer is never negative on its own; leave the rule empty (null).",
            )
        result["negative"] = None
    if kind != "choice" and question.get("options") not in (None, []):
        errors.add(f"{path}.options", "Only choice questions have options.")
    if kind != "scale":
        for bound in ("min", "max"):
            if question.get(bound) is not None:
                errors.add(f"{path}.{bound}", "Only scale questions have a minimum and maximum.")
    return result


def _clean_key(key, path: str, errors: _Errors) -> str:
    if not isinstance(key, str) or not key.strip():
        errors.add(path, "Give the question a key: a short name for its answer, like one_thing.")
        return ""
    key = key.strip()
    if not QUESTION_KEY_PATTERN.match(key):
        errors.add(
            path,
            "Use lower-case letters, digits and underscores, starting with a letter (at most 64).",
        )
    elif key in RESERVED_FIELD_NAMES:
        errors.add(path, f"“{key}” is reserved by the survey form; choose another key.")
    return key


def _clean_options(options, path: str, errors: _Errors) -> list[dict]:
    if not isinstance(options, list) or not options:
        errors.add(f"{path}.options", "A choice question needs its options.")
        return []
    if len(options) < 2:
        errors.add(f"{path}.options", "Give at least two options to choose from.")
    if len(options) > MAX_OPTIONS:
        errors.add(f"{path}.options", f"Keep it to {MAX_OPTIONS} options or fewer.")
    cleaned = []
    seen: set[str] = set()
    for index, option in enumerate(options):
        option_path = f"{path}.options.{index}"
        if not isinstance(option, dict):
            errors.add(option_path, "Each option has a value and a label.")
            continue
        for name in option:
            if name not in ("value", "label"):
                errors.add(
                    f"{option_path}.{name}",
                    f"Unknown field “{name}”; an option has a value and a label.",
                )
        value = option.get("value")
        label = option.get("label")
        value = value.strip() if isinstance(value, str) else ""
        label = label.strip() if isinstance(label, str) else ""
        if not value:
            errors.add(f"{option_path}.value", "Give the option a value, like yes or short.")
        elif not OPTION_VALUE_PATTERN.match(value):
            errors.add(
                f"{option_path}.value",
                "Use lower-case letters, digits, - and _ (it appears in the email's links).",
            )
        elif value in seen:
            errors.add(f"{option_path}.value", f"Another option already has the value “{value}”.")
        seen.add(value)
        if not label:
            errors.add(f"{option_path}.label", "Write the words the customer sees.")
        elif len(label) > MAX_LABEL:
            errors.add(f"{option_path}.label", f"Keep the label to {MAX_LABEL} characters.")
        cleaned.append({"value": value, "label": label})
    return cleaned


def _clean_choice_rule(rule, options: list[dict], path: str, errors: _Errors) -> dict | None:
    if rule in (None, {}):
        return None
    if not isinstance(rule, dict) or set(rule) != {"values"}:
        errors.add(
            f"{path}.negative",
            "For a choice, the rule names the negative answers: "
            '{"values": [...]}, or null for never.',
        )
        return None
    values = rule["values"]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        errors.add(f"{path}.negative", "List the negative answers' values.")
        return None
    known = [option["value"] for option in options]
    unknown = [v for v in values if v not in known]
    if unknown:
        errors.add(
            f"{path}.negative",
            "These are not values of this question's options: " + ", ".join(unknown) + ".",
        )
        return None
    if not values:
        return None
    if options and set(values) >= set(known):
        errors.add(
            f"{path}.negative",
            "If every answer is negative, the question cannot tell "
            "anything; leave at least one answer out of the rule.",
        )
    # Stored in the options' order, so the same rule written twice compares equal.
    return {"values": [v for v in known if v in values]}


def _clean_scale(question: dict, path: str, errors: _Errors) -> tuple[int | None, int | None]:
    bounds = []
    for name in ("min", "max"):
        value = question.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            errors.add(f"{path}.{name}", "A scale needs a whole-number minimum and maximum.")
            bounds.append(None)
        else:
            bounds.append(value)
    low, high = bounds
    if low is not None and high is not None:
        if low >= high:
            errors.add(f"{path}.max", "The maximum must be above the minimum.")
        elif high - low + 1 > MAX_SCALE_POINTS:
            errors.add(
                f"{path}.max",
                f"A scale has at most {MAX_SCALE_POINTS} points (0 to 10), so it fits a phone.",
            )
    return low, high


def _clean_scale_rule(
    rule, low: int | None, high: int | None, path: str, errors: _Errors
) -> dict | None:
    if rule in (None, {}):
        return None
    if not isinstance(rule, dict) or set(rule) != {"at_most"}:
        errors.add(
            f"{path}.negative", 'For a scale, the rule is {"at_most": n}, or null for never.'
        )
        return None
    at_most = rule["at_most"]
    if isinstance(at_most, bool) or not isinstance(at_most, int):
        errors.add(f"{path}.negative", "“at most” is a whole number on the scale.")
        return None
    if low is not None and high is not None and not low <= at_most < high:
        errors.add(
            f"{path}.negative",
            f"“at most” must be from {low} to {high - 1}, so that some answers are not negative.",
        )
        return None
    return {"at_most": at_most}


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
    if question.type == "choice":
        result["options"] = [
            {"value": o["value"], "label": o["label"]} for o in question.options or ()
        ]
    if question.type == "scale":
        result["min"], result["max"] = question.min_value, question.max_value
    result["negative"] = question.negative or None
    return result


def transient_questions(document: list[dict]) -> list[Question]:
    """Unsaved Question objects for the questions of a document that are valid on their own.

    The preview renders these with the customer's own form; questions still being
    written are left out (the editor lists what is missing).
    """
    questions = []
    keys: set[str] = set()
    for position, raw in enumerate(document if isinstance(document, list) else []):
        errors = _Errors()
        if not isinstance(raw, dict):
            continue
        cleaned = _clean_question(raw, "q", errors)
        if errors.by_path or cleaned["key"] in keys:
            continue
        keys.add(cleaned["key"])
        questions.append(_question_row(cleaned, position))
    return questions


def _question_row(cleaned: dict, position: int) -> Question:
    return Question(
        position=position,
        key=cleaned["key"],
        type=cleaned["type"],
        text=cleaned["text"],
        required=cleaned["required"],
        min_value=cleaned.get("min"),
        max_value=cleaned.get("max"),
        options=cleaned.get("options"),
        negative=cleaned.get("negative"),
    )


# --- reading -------------------------------------------------------------------


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


def editor_document(session: Session, question_set: QuestionSet) -> list[dict]:
    """What the editor starts from: the saved draft, else the newest published version."""
    if question_set.draft is not None:
        return question_set.draft
    version = latest_version(session, question_set)
    return version_document(version) if version is not None else []


def draft_predates_latest_version(session: Session, question_set: QuestionSet) -> bool:
    """Whether a version was published (say, through the API) after the draft was last saved.

    Publishing such a draft would undo that version's changes, so the editor says so.
    """
    if question_set.draft is None:
        return False
    version = latest_version(session, question_set)
    saved = session.scalar(
        select(func.max(AuditEntry.created_at)).where(
            AuditEntry.action == "question_set.draft_saved",
            AuditEntry.target == _target(question_set),
        )
    )
    return version is not None and saved is not None and version.published_at > saved


def has_unpublished_changes(session: Session, question_set: QuestionSet) -> bool:
    """Whether a saved draft differs from the newest published version."""
    if question_set.draft is None:
        return False
    version = latest_version(session, question_set)
    if version is None:
        return True
    try:
        return validate_questions(question_set.draft) != version_document(version)
    except QuestionSetInvalid:
        return True


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


# Every change that moves a set's draft revision on.
DRAFT_ACTIONS = (
    "question_set.draft_saved",
    "question_set.draft_discarded",
    "question_set.published",
)


def last_draft_change(session: Session, question_set: QuestionSet) -> AuditEntry | None:
    """The audit entry of the latest change to this set's draft: who, what, and when."""
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(DRAFT_ACTIONS), AuditEntry.target == _target(question_set))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()


def _target(question_set: QuestionSet) -> str:
    return f"question set {question_set.key}"


# --- changing ------------------------------------------------------------------


def create_question_set(
    session: Session,
    *,
    key: str,
    name: str,
    now: datetime,
    actor_user: User | None = None,
    actor_api_key: ApiKey | None = None,
) -> QuestionSet:
    """A new, unpublished set with an empty draft; raises QuestionSetInvalid for a bad key/name."""
    errors = _Errors()
    key = _clean_set_key(key, errors)
    name = _clean_name(name, errors)
    if not errors.by_path and session.scalar(select(QuestionSet.id).where(QuestionSet.key == key)):
        errors.add("key", f"There is already a question set with the key “{key}”.")
    if errors.by_path:
        raise QuestionSetInvalid(errors.by_path)
    question_set = QuestionSet(key=key, name=name, draft=[], draft_revision=0, created_at=now)
    # Two creations racing past the check above meet the unique index here; the
    # savepoint keeps the caller's transaction usable after the refusal.
    try:
        with session.begin_nested():
            session.add(question_set)
    except IntegrityError:
        raise QuestionSetInvalid(
            {"key": [f"There is already a question set with the key “{key}”."]}
        ) from None
    record_admin_change(
        session,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
        action="question_set.created",
        target=_target(question_set),
        before=None,
        after={"key": key, "name": name},
        now=now,
    )
    return question_set


def _clean_set_key(key, errors: _Errors) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not SET_KEY_PATTERN.match(key):
        errors.add(
            "key", "Use lower-case letters, digits and hyphens (at most 64), like heart-to-heart."
        )
    return key


def _clean_name(name, errors: _Errors) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors.add("name", "Give the set a name people will recognise.")
    elif len(name) > MAX_NAME:
        errors.add("name", f"Keep the name to {MAX_NAME} characters.")
    return name


def _lock_set(session: Session, question_set: QuestionSet) -> QuestionSet:
    # Serialises publishes of one set (PostgreSQL row lock; SQLite holds the write lock),
    # so two at once make versions N+1 and N+2, never two N+1.
    return session.scalars(
        select(QuestionSet)
        .where(QuestionSet.id == question_set.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def publish_questions(
    session: Session,
    question_set: QuestionSet,
    questions,
    *,
    now: datetime,
    actor_user: User | None = None,
    actor_api_key: ApiKey | None = None,
) -> PublishResult:
    """Publish the document as version N+1; when it equals version N, nothing is created."""
    cleaned = validate_questions(questions)
    _lock_set(session, question_set)
    current = latest_version(session, question_set)
    before = version_document(current) if current is not None else None
    if before == cleaned:
        return PublishResult(current, created=False)
    version = QuestionSetVersion(
        question_set_id=question_set.id,
        number=(current.number if current else 0) + 1,
        published_at=now,
        published_by_id=actor_user.id if actor_user else None,
    )
    session.add(version)
    # An editor form opened before this publish must not save over it unawares:
    # moving the revision on makes that save a refused, stale one.
    question_set.draft_revision += 1
    session.flush()
    for position, item in enumerate(cleaned):
        row = _question_row(item, position)
        row.version_id = version.id
        session.add(row)
    session.flush()
    session.refresh(version, ["questions"])
    record_admin_change(
        session,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
        action="question_set.published",
        target=_target(question_set),
        before={"version": current.number, "questions": before} if current else None,
        after={"version": version.number, "questions": cleaned},
        now=now,
    )
    return PublishResult(version, created=True)


def put_question_set(
    session: Session,
    key: str,
    body,
    *,
    now: datetime,
    actor_api_key: ApiKey | None = None,
    actor_user: User | None = None,
) -> tuple[QuestionSet, PublishResult]:
    """The API's PUT: publish the body's questions as the set's next version.

    An unknown key creates the set and publishes version 1. `name`, when given,
    renames the set (names are not versioned); `key`, when given, must match the
    address; `version` and `published_at` are read-only and ignored, so a
    document fetched with GET can be sent back as it is.
    """
    errors = _Errors()
    if not isinstance(body, dict):
        raise QuestionSetInvalid({"body": ["Send a JSON object with a “questions” list."]})
    if "key" in body and body["key"] != key:
        errors.add("key", f"The body's key “{body['key']}” does not match the address’s “{key}”.")
    name = body.get("name")
    if name is not None:
        name = _clean_name(name, errors)
    for extra in set(body) - {"key", "name", "questions", "version", "published_at"}:
        errors.add(extra, f"Unknown field “{extra}”.")
    if "questions" not in body:
        errors.add("questions", "Send the questions as a list.")
    else:
        for path, messages in question_errors(body["questions"]).items():
            for message in messages:
                errors.add(path, message)
    question_set = session.scalar(select(QuestionSet).where(QuestionSet.key == key))
    if question_set is None:
        _clean_set_key(key, errors)
    if errors.by_path:
        raise QuestionSetInvalid(errors.by_path)
    if question_set is None:
        question_set = create_question_set(
            session,
            key=key,
            name=name or key.replace("-", " ").capitalize(),
            now=now,
            actor_user=actor_user,
            actor_api_key=actor_api_key,
        )
    elif name is not None and name != question_set.name:
        rename_question_set(
            session, question_set, name, now=now, actor_user=actor_user, actor_api_key=actor_api_key
        )
    result = publish_questions(
        session,
        question_set,
        body["questions"],
        now=now,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
    )
    return question_set, result


def rename_question_set(
    session: Session,
    question_set: QuestionSet,
    name: str,
    *,
    now: datetime,
    actor_user: User | None = None,
    actor_api_key: ApiKey | None = None,
) -> None:
    """Give a set a new name (names are not versioned: every version shows the new one)."""
    errors = _Errors()
    name = _clean_name(name, errors)
    if errors.by_path:
        raise QuestionSetInvalid(errors.by_path)
    if name == question_set.name:
        return
    before = question_set.name
    question_set.name = name
    session.flush()
    record_admin_change(
        session,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
        action="question_set.renamed",
        target=_target(question_set),
        before={"name": before},
        after={"name": name},
        now=now,
    )


def _claim_draft(
    session: Session, question_set: QuestionSet, *, loaded_revision: int, draft: list | None
) -> None:
    """Write the draft only if nobody saved it since `loaded_revision`; else StaleDraft.

    One conditional UPDATE does the check and the write, so two saves racing
    cannot both pass it.
    """
    result = session.execute(
        update(QuestionSet)
        .where(QuestionSet.id == question_set.id, QuestionSet.draft_revision == loaded_revision)
        .values(draft=draft, draft_revision=QuestionSet.draft_revision + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(question_set)
    if result.rowcount != 1:
        raise StaleDraft(question_set.draft_revision)


def save_draft(
    session: Session,
    question_set: QuestionSet,
    questions: list[dict],
    *,
    loaded_revision: int,
    actor: User,
    now: datetime,
    name: str | None = None,
) -> None:
    """Keep the editor's working copy (it may still be incomplete); refuses a stale revision."""
    before = question_set.draft
    _claim_draft(session, question_set, loaded_revision=loaded_revision, draft=questions)
    if name is not None and name.strip() and name.strip() != question_set.name:
        rename_question_set(session, question_set, name, now=now, actor_user=actor)
    record_admin_change(
        session,
        actor_user=actor,
        action="question_set.draft_saved",
        target=_target(question_set),
        before={"questions": before},
        after={"questions": questions},
        now=now,
    )


def publish_draft(
    session: Session,
    question_set: QuestionSet,
    questions: list[dict],
    *,
    loaded_revision: int,
    actor: User,
    now: datetime,
    name: str | None = None,
) -> PublishResult:
    """Publish the editor's form as the next version and clear the draft.

    Validates first (QuestionSetInvalid leaves everything as it was), then refuses a
    stale revision (StaleDraft), so a publish never discards another admin's save.
    """
    validate_questions(questions)
    _claim_draft(session, question_set, loaded_revision=loaded_revision, draft=None)
    if name is not None and name.strip() and name.strip() != question_set.name:
        rename_question_set(session, question_set, name, now=now, actor_user=actor)
    return publish_questions(session, question_set, questions, now=now, actor_user=actor)


def discard_draft(
    session: Session, question_set: QuestionSet, *, loaded_revision: int, actor: User, now: datetime
) -> None:
    """Throw the draft away; the editor starts again from the newest version."""
    before = question_set.draft
    _claim_draft(session, question_set, loaded_revision=loaded_revision, draft=None)
    record_admin_change(
        session,
        actor_user=actor,
        action="question_set.draft_discarded",
        target=_target(question_set),
        before={"questions": before},
        after=None,
        now=now,
    )


# --- which set follows a purchase ---------------------------------------------


def _require_published(session: Session, question_set: QuestionSet) -> None:
    if latest_version(session, question_set) is None:
        raise EditorError(
            f"“{question_set.name}” has no published version yet; "
            "publish it before sending it to customers."
        )


def set_purchase_question_set(
    session: Session, question_set: QuestionSet, *, actor: User, now: datetime
) -> None:
    """Make this set the one sent after a purchase (unless a category chooses another)."""
    _require_published(session, question_set)
    before = get_setting(session, "purchase_question_set")
    if before == question_set.key:
        return
    set_setting(session, "purchase_question_set", question_set.key)
    record_admin_change(
        session,
        actor_user=actor,
        action="setting.changed",
        target="setting purchase_question_set",
        before={"purchase_question_set": before},
        after={"purchase_question_set": question_set.key},
        now=now,
    )


def assign_category(
    session: Session, *, category: str, question_set: QuestionSet, actor: User, now: datetime
) -> QuestionSetAssignment:
    """Send this set after purchases of items in `category` (replaces that category's set)."""
    category = (category or "").strip()
    if not category:
        raise EditorError("Name the item category, exactly as your shop sends it.")
    if len(category) > MAX_CATEGORY:
        raise EditorError(f"Keep the category to {MAX_CATEGORY} characters.")
    _require_published(session, question_set)
    assignment = session.scalar(
        select(QuestionSetAssignment).where(QuestionSetAssignment.category == category)
    )
    before = (
        {"category": category, "question_set": assignment.question_set.key} if assignment else None
    )
    if assignment is None:
        assignment = QuestionSetAssignment(category=category, question_set_id=question_set.id)
        session.add(assignment)
    else:
        assignment.question_set_id = question_set.id
    session.flush()
    session.refresh(assignment, ["question_set"])
    record_admin_change(
        session,
        actor_user=actor,
        action="question_set.category_assigned",
        target=f"category {category}",
        before=before,
        after={"category": category, "question_set": question_set.key},
        now=now,
    )
    return assignment


def remove_category_assignment(
    session: Session, assignment: QuestionSetAssignment, *, actor: User, now: datetime
) -> None:
    """Purchases in this category get the default set again."""
    before = {"category": assignment.category, "question_set": assignment.question_set.key}
    session.execute(delete(QuestionSetAssignment).where(QuestionSetAssignment.id == assignment.id))
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="question_set.category_unassigned",
        target=f"category {before['category']}",
        before=before,
        after=None,
        now=now,
    )


# --- history -------------------------------------------------------------------


@dataclass
class QuestionChange:
    """What changed about one question between two versions, in words."""

    key: str
    kind: str  # added, removed, changed
    details: list[str] = field(default_factory=list)


@dataclass
class VersionDiff:
    changes: list[QuestionChange]
    order_before: list[str] | None = None
    order_after: list[str] | None = None

    @property
    def empty(self) -> bool:
        return not self.changes and self.order_before is None


def diff_documents(old: list[dict], new: list[dict]) -> VersionDiff:
    """What changed from one version's questions to the next's."""
    old_by_key = {q["key"]: q for q in old}
    new_by_key = {q["key"]: q for q in new}
    changes: list[QuestionChange] = []
    for question in new:
        key = question["key"]
        if key not in old_by_key:
            changes.append(QuestionChange(key, "added", [question["text"]]))
            continue
        details = _question_differences(old_by_key[key], question)
        if details:
            changes.append(QuestionChange(key, "changed", details))
    for question in old:
        if question["key"] not in new_by_key:
            changes.append(QuestionChange(question["key"], "removed", [question["text"]]))
    kept_before = [q["key"] for q in old if q["key"] in new_by_key]
    kept_after = [q["key"] for q in new if q["key"] in old_by_key]
    if kept_before != kept_after:
        return VersionDiff(changes, kept_before, kept_after)
    return VersionDiff(changes)


def _question_differences(old: dict, new: dict) -> list[str]:
    details = []
    if old["type"] != new["type"]:
        details.append(f"type: {old['type']} → {new['type']}")
    if old["text"] != new["text"]:
        details.append(f"text: “{old['text']}” → “{new['text']}”")
    if old["required"] != new["required"]:
        details.append("now required" if new["required"] else "no longer required")
    if (old.get("min"), old.get("max")) != (new.get("min"), new.get("max")) and new[
        "type"
    ] == "scale":
        details.append(
            f"scale: {old.get('min')}–{old.get('max')} → {new.get('min')}–{new.get('max')}"
        )
    details.extend(_option_differences(old.get("options") or [], new.get("options") or []))
    if old.get("negative") != new.get("negative"):
        details.append(f"negative when: {describe_rule(old)} → {describe_rule(new)}")
    return details


def _option_differences(old: list[dict], new: list[dict]) -> list[str]:
    old_labels = {o["value"]: o["label"] for o in old}
    new_labels = {o["value"]: o["label"] for o in new}
    details = []
    for value, label in new_labels.items():
        if value not in old_labels:
            details.append(f"option added: {value} (“{label}”)")
        elif old_labels[value] != label:
            details.append(f"option {value} relabelled: “{old_labels[value]}” → “{label}”")
    for value in old_labels:
        if value not in new_labels:
            details.append(f"option removed: {value}")
    kept_old = [v for v in old_labels if v in new_labels]
    kept_new = [v for v in new_labels if v in old_labels]
    if kept_old != kept_new:
        details.append(f"options reordered: {', '.join(kept_old)} → {', '.join(kept_new)}")
    return details


def describe_rule(question: dict) -> str:
    """A question's negative rule in words: "short", "at most 6", "never"."""
    rule = question.get("negative")
    if not rule:
        return "never"
    if "values" in rule:
        return " or ".join(rule["values"])
    return f"at most {rule['at_most']}"
