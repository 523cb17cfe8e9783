"""What the emails of one batch share: values read once, and tokens and pins written together.

A worker's session renders one batch; what its builders decide (the tokens
they mint, the versions they pin) goes to the database in a few statements.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from surveys.models import QuestionSetVersion, Survey, SurveyToken
from surveys.services.surveys.tokens import hash_token


def batch_memo(session: Session, key: str, compute: Callable[[], object]):
    """A value computed once per session: a worker's session renders one batch.

    Settings are read for every email; without this, a setting left at its
    default (no row to find in the identity map) would cost a query each time.
    """
    memo = session.info.setdefault("mail_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def mint(session: Session, *, customer_id: int, survey_id: int | None = None) -> str:
    """A new personal token for this email, inserted with the others of its batch."""
    raw = secrets.token_urlsafe(32)
    batch_memo(session, "minted_tokens", list).append(
        {
            "token_hash": hash_token(raw),
            "customer_id": customer_id,
            "survey_id": survey_id,
        }
    )
    return raw


def pin_version(session: Session, survey: Survey, version: QuestionSetVersion) -> None:
    """Pin the survey to the version its email shows, with the others of its batch."""
    batch_memo(session, "pins", dict).setdefault(version.id, []).append(survey.id)
    set_committed_value(survey, "version_id", version.id)


def write_batch(session: Session, *, now: datetime) -> None:
    """What building the batch decided, in a few statements: its tokens, its pinned versions."""
    memo = session.info.get("mail_memo", {})
    rows = memo.pop("minted_tokens", None)
    if rows:
        session.execute(
            SurveyToken.__table__.insert(), [{**row, "created_at": now} for row in rows]
        )
    for version_id, survey_ids in (memo.pop("pins", None) or {}).items():
        session.execute(
            update(Survey)
            .where(Survey.id.in_(survey_ids), Survey.version_id.is_(None))
            .values(version_id=version_id),
            execution_options={"synchronize_session": False},
        )
