"""Changing question sets: validating a questions document, drafts, publishing, history.

A *questions document* is the API's JSON shape (README's *Keep your questions in git*): a list of
`{"key", "type", "text", "required", "options", "min", "max", "negative"}`.
The editor's draft is stored in the same shape, the API's `PUT` sends it, and
both publish through `publish_questions`, so both are validated alike.

Published versions are never changed: publishing adds version N+1, and surveys
and responses keep pointing at the version they were sent or answered with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic_core import PydanticCustomError
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
from surveys.services import question_set_document as document
from surveys.services.audit import record_admin_change
from surveys.services.question_set_document import QuestionSetInput, QuestionSetInvalid
from surveys.services.question_set_fields import (  # noqa: F401 (the editor's vocabulary)
    MAX_LABEL,
    MAX_NAME,
    MAX_OPTIONS,
    MAX_QUESTION_TEXT,
    MAX_QUESTIONS,
    MAX_SCALE_POINTS,
    OPTION_VALUE_PATTERN,
    QUESTION_KEY_PATTERN,
    SET_KEY_PATTERN,
    TYPES,
)
from surveys.services.settings import get_setting, set_setting

MAX_CATEGORY = 128


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
    if question.type == "choice":
        result["options"] = [
            {"value": o["value"], "label": o["label"]} for o in question.options or ()
        ]
    if question.type == "scale":
        result["min"], result["max"] = question.min_value, question.max_value
    result["negative"] = question.negative or None
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
        rows.append(_question_row(cleaned, position))
    return rows


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
    try:
        return document.read_set_name(name if name is not None else "")
    except PydanticCustomError as exc:
        errors.add("name", exc.message())
        return ""


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
    body: QuestionSetInput,
    *,
    now: datetime,
    actor_api_key: ApiKey | None = None,
    actor_user: User | None = None,
) -> tuple[QuestionSet, PublishResult]:
    """The API's PUT: publish the document's questions as the set's next version.

    An unknown key creates the set and publishes version 1. `name`, when given,
    renames the set (names are not versioned); `key`, when given, must match the
    address; `version` and `published_at` are read-only and ignored, so a
    document fetched with GET can be sent back as it is.
    """
    errors = _Errors()
    if body.key is not None and body.key != key:  # read_question_set(…, key=key) says so too
        errors.add("key", f"The body's key “{body.key}” does not match the address’s “{key}”.")
    _clean_set_key(key, errors)  # before any query: no set has a key that does not fit
    if errors.by_path:
        raise QuestionSetInvalid(errors.by_path)
    question_set = session.scalar(select(QuestionSet).where(QuestionSet.key == key))
    if question_set is None:
        question_set = create_question_set(
            session,
            key=key,
            name=body.name or key.replace("-", " ").capitalize(),
            now=now,
            actor_user=actor_user,
            actor_api_key=actor_api_key,
        )
    elif body.name is not None and body.name != question_set.name:
        rename_question_set(
            session,
            question_set,
            body.name,
            now=now,
            actor_user=actor_user,
            actor_api_key=actor_api_key,
        )
    result = publish_questions(
        session,
        question_set,
        body.canonical_questions(),
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
