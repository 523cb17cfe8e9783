"""Personal link tokens: random, shown once in an email, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import SurveyToken


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def mint_token(session: Session, *, customer_id: int, survey_id: int | None = None) -> str:
    """Create a new 256-bit token for a customer (and survey); return its raw value."""
    raw = secrets.token_urlsafe(32)
    session.add(
        SurveyToken(token_hash=hash_token(raw), customer_id=customer_id, survey_id=survey_id)
    )
    session.flush()
    return raw


def find_token(session: Session, raw: str) -> SurveyToken | None:
    """The token row for a raw token from a link, or None."""
    if not raw or len(raw) > 200:
        return None
    return session.scalar(select(SurveyToken).where(SurveyToken.token_hash == hash_token(raw)))
