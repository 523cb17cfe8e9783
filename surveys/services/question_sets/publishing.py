"""Creating, renaming and publishing question sets: the changes the editor and the API share.

The editor's draft is stored in the questions document's shape, the API's `PUT` sends it, and
both publish through `publish_questions`, so both are validated alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.models import ApiKey, QuestionSet, QuestionSetVersion, User
from surveys.services.audit import record_admin_change
from surveys.services.question_sets import document
from surveys.services.question_sets.document import QuestionSetInput, QuestionSetInvalid
from surveys.services.question_sets.fields import SET_KEY_PATTERN
from surveys.services.question_sets.versions import (
    latest_version,
    question_row,
    validate_questions,
    version_document,
)

# Sets whose whole purpose is to find what went wrong (the purchase survey, the fix-check,
# the relationship review): a version where no answer can be negative would stop opening and
# reopening cases without a word, so it is never published.
SETS_THAT_FIND_PROBLEMS = frozenset({"heart-to-heart", "fix-check", "relationship-review"})


class NothingCanBeNegative(QuestionSetInvalid):
    """No question of the version has a negative rule, so no response would open a case.

    `refused` is True for SETS_THAT_FIND_PROBLEMS; otherwise the publisher may confirm."""

    def __init__(self, question_set: QuestionSet) -> None:
        self.refused = question_set.key in SETS_THAT_FIND_PROBLEMS
        if self.refused:
            message = _(
                "No question here can make a response negative, so “%(set)s” would never open "
                "a case again. Give at least one question a negative rule.",
                set=question_set.name,
            )
        else:
            message = _(
                "No question here can make a response negative, so answers to this set will "
                "never open a case. Give a question a negative rule, or publish anyway if "
                "that is what you want."
            )
        super().__init__({"questions": [message]})


def can_be_negative(questions: list[dict]) -> bool:
    """Whether any question of a cleaned document has a negative rule."""
    return any(question.get("negative") for question in questions)


@dataclass
class PublishResult:
    version: QuestionSetVersion
    created: bool


class _Errors:
    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)


def audit_target(question_set: QuestionSet) -> str:
    """How the audit log names a set."""
    return f"question set {question_set.key}"


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
        errors.add("key", _("There is already a question set with the key “%(key)s”.", key=key))
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
            {"key": [_("There is already a question set with the key “%(key)s”.", key=key)]}
        ) from None
    record_admin_change(
        session,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
        action="question_set.created",
        target=audit_target(question_set),
        before=None,
        after={"key": key, "name": name},
        now=now,
    )
    return question_set


def _clean_set_key(key, errors: _Errors) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not SET_KEY_PATTERN.match(key):
        errors.add(
            "key",
            _("Use lower-case letters, digits and hyphens (at most 64), like heart-to-heart."),
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
    never_negative_confirmed: bool = False,
) -> PublishResult:
    """Publish the document as version N+1; when it equals version N, nothing is created.

    A version in which no answer can be negative raises NothingCanBeNegative, unless the
    publisher confirmed it (`never_negative_confirmed`) for a set outside
    SETS_THAT_FIND_PROBLEMS."""
    cleaned = validate_questions(questions)
    if not can_be_negative(cleaned):
        refusal = NothingCanBeNegative(question_set)
        if refusal.refused or not never_negative_confirmed:
            raise refusal
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
        row = question_row(item, position)
        row.version_id = version.id
        session.add(row)
    session.flush()
    session.refresh(version, ["questions"])
    record_admin_change(
        session,
        actor_user=actor_user,
        actor_api_key=actor_api_key,
        action="question_set.published",
        target=audit_target(question_set),
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
        errors.add(
            "key",
            _(
                "The body's key “%(key)s” does not match the address’s “%(address)s”.",
                key=body.key,
                address=key,
            ),
        )
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
        # A PUT is the integrator's whole document, sent on purpose; only the sets that find
        # problems are held to a negative rule.
        never_negative_confirmed=True,
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
        target=audit_target(question_set),
        before={"name": before},
        after={"name": name},
        now=now,
    )
