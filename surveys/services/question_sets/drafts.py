"""The editor's draft of a question set: reading it, saving it, publishing it, throwing it away.

The draft is the editor's working copy, stored in the questions document's shape and possibly
incomplete. Every change moves the set's `draft_revision` on, so a form loaded before someone
else's save is refused (`StaleDraft`) instead of saving over it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, QuestionSet, User
from surveys.services.audit import record_admin_change
from surveys.services.question_sets.document import QuestionSetInvalid
from surveys.services.question_sets.publishing import (
    PublishResult,
    audit_target,
    publish_questions,
    rename_question_set,
)
from surveys.services.question_sets.versions import (
    latest_version,
    validate_questions,
    version_document,
)


class StaleDraft(Exception):
    """Someone saved the draft after this form was loaded; nothing was changed."""

    def __init__(self, current_revision: int) -> None:
        super().__init__(f"the draft is at revision {current_revision}")
        self.current_revision = current_revision


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
            AuditEntry.target == audit_target(question_set),
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
        .where(
            AuditEntry.action.in_(DRAFT_ACTIONS), AuditEntry.target == audit_target(question_set)
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()


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
        target=audit_target(question_set),
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
    never_negative_confirmed: bool = False,
) -> PublishResult:
    """Publish the editor's form as the next version and clear the draft.

    Validates first (QuestionSetInvalid leaves everything as it was), then refuses a
    stale revision (StaleDraft), so a publish never discards another admin's save.
    """
    validate_questions(questions)
    _claim_draft(session, question_set, loaded_revision=loaded_revision, draft=None)
    if name is not None and name.strip() and name.strip() != question_set.name:
        rename_question_set(session, question_set, name, now=now, actor_user=actor)
    return publish_questions(
        session,
        question_set,
        questions,
        now=now,
        actor_user=actor,
        never_negative_confirmed=never_negative_confirmed,
    )


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
        target=audit_target(question_set),
        before={"questions": before},
        after=None,
        now=now,
    )
