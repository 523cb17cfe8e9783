"""Admin: a question set's published versions, newest first, with what changed in each."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from surveys.admin.blueprint import bp
from surveys.admin.question_sets import question_set_or_404
from surveys.db import db
from surveys.models import AuditEntry, QuestionSet
from surveys.services.question_sets import history, versions

# How the page names a change and a question's type, in the reader's language.
CHANGE_KINDS = {"added": _l("Added"), "removed": _l("Removed"), "changed": _l("Changed")}
QUESTION_TYPES = {"choice": _l("choice"), "scale": _l("scale"), "text": _l("text")}


@bp.get("/question-sets/<key>/versions")
def show_question_set_history(key: str):
    """Every published version, newest first, with what changed from the one before."""
    session = db.session()
    question_set = question_set_or_404(key)
    published = list(question_set.versions)
    counts = versions.answer_counts_by_version(session, question_set)
    publishers = _publishers(question_set)
    entries = []
    previous = None
    for version in published:
        document = versions.version_document(version)
        entries.append(
            {
                "version": version,
                "answers": counts.get(version.id, 0),
                "by": publishers.get(version.number),
                "diff": history.diff_documents(previous, document)
                if previous is not None
                else None,
                "questions": document,
            }
        )
        previous = document
    return render_template(
        "admin/show_question_set_history.html",
        question_set=question_set,
        entries=list(reversed(entries)),
        change_kinds=CHANGE_KINDS,
        question_types=QUESTION_TYPES,
        describe_negative=history.describe_rule,
    )


def _publishers(question_set: QuestionSet) -> dict[int, str]:
    """Who published each version (a person or an API key), from the audit log."""
    entries = (
        db.session()
        .scalars(
            select(AuditEntry).where(
                AuditEntry.action == "question_set.published",
                AuditEntry.target == f"question set {question_set.key}",
            )
        )
        .all()
    )
    return {
        entry.after["version"]: entry.actor_label
        for entry in entries
        if isinstance(entry.after, dict) and "version" in entry.after
    }
