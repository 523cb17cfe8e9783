"""API keys: created with a scope, listed with their last use, revoked for good.

Every creation and revocation is written to the audit log in the same transaction,
by the admin who did it, or with no actor when it came from the command line.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from surveys.models import ApiKey, User
from surveys.models.users import API_KEY_SCOPES
from surveys.services.audit import record_admin_change

VALUE_PREFIX = "h2h_"
MAX_NAME_LENGTH = 100
# Keys are shown in lists by their first characters ("h2h_Ab3d9xQe…"); eight random
# characters identify a key to a person and reveal nothing useful about the other 250 bits.
PREFIX_LENGTH = 12
# "Last use" is for people ("is anything still using this key?"), so minute precision is
# plenty; writing it on every request would add a write to every read.
LAST_USE_PRECISION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """An API key could not be created, found or revoked; the message says why."""


def new_api_key_value() -> str:
    """A fresh key: a recognisable prefix and 256 random bits."""
    return VALUE_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(raw: str) -> str:
    # Keys are 256 random bits, so one SHA-256 is enough to make a stolen database
    # useless while keeping the lookup a single indexed query.
    return hashlib.sha256(raw.encode()).hexdigest()


def find_live_api_key(session: Session, raw: str) -> ApiKey | None:
    """The key with this raw value if it exists and is not revoked, else None."""
    if not raw or len(raw) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(raw)))
    return key if key is not None and key.revoked_at is None else None


def create_api_key(
    session: Session,
    name: str,
    *,
    scope: str = "write",
    now: datetime,
    actor: User | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which exists only in this moment."""
    name = (name or "").strip()
    if not name:
        raise ApiKeyError(_("Give the API key a name that says who uses it, e.g. “Helpdesk”."))
    if len(name) > MAX_NAME_LENGTH:
        raise ApiKeyError(_("The name is longer than %(num)d characters.", num=MAX_NAME_LENGTH))
    if scope not in API_KEY_SCOPES:
        raise ApiKeyError(_("The scope must be “read” or “write”, not “%(scope)s”.", scope=scope))
    raw = new_api_key_value()
    key = ApiKey(
        name=name,
        key_hash=hash_api_key(raw),
        prefix=raw[:PREFIX_LENGTH],
        scope=scope,
        created_at=now,
    )
    session.add(key)
    session.flush()
    _record_change(session, "api_key.created", key, actor=actor, before=None, now=now)
    return key, raw


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key: the live ones first, newest first within each group."""
    return list(
        session.scalars(
            select(ApiKey).order_by(
                ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc()
            )
        )
    )


def find_api_keys(session: Session, name_or_prefix: str) -> list[ApiKey]:
    """The keys this text names: by name (any case), by prefix, or by the whole key."""
    text = (name_or_prefix or "").strip().removesuffix("…").removesuffix("...")
    if not text:
        return []
    return list(
        session.scalars(
            select(ApiKey)
            .where(
                or_(
                    func.lower(ApiKey.name) == text.lower(),
                    ApiKey.prefix == text,
                    ApiKey.key_hash == hash_api_key(text),
                )
            )
            .order_by(ApiKey.created_at, ApiKey.id)
        )
    )


def find_one_api_key(session: Session, name_or_prefix: str) -> ApiKey:
    """The one key this text names; raises ApiKeyError when none or several match."""
    keys = find_api_keys(session, name_or_prefix)
    if not keys:
        raise ApiKeyError(
            f"No API key has the name or prefix “{name_or_prefix}”. "
            "`flask --app app api-keys list` shows them all."
        )
    if len(keys) > 1:
        listed = ", ".join(f"{describe(k)}{' (revoked)' if k.revoked_at else ''}" for k in keys)
        raise ApiKeyError(
            f"{len(keys)} API keys match “{name_or_prefix}”: {listed}. Give the prefix instead."
        )
    return keys[0]


def revoke_api_key(
    session: Session, key: ApiKey, *, now: datetime, actor: User | None = None
) -> bool:
    """Revoke the key for good (refused from the next request on); False if it already was."""
    if key.revoked_at is not None:
        return False
    before = _snapshot(key)
    key.revoked_at = now
    session.flush()
    _record_change(session, "api_key.revoked", key, actor=actor, before=before, now=now)
    return True


def note_use(session: Session, key: ApiKey, *, now: datetime) -> bool:
    """Record that the key was used, at most about once a minute; True when it wrote.

    The key row loaded for this request already says when it was last used, so most
    requests decide without a statement. When an update is due, its WHERE repeats the
    test, so web processes racing for the same minute write once between them.
    """
    if key.last_used_at is not None and now - key.last_used_at < LAST_USE_PRECISION:
        return False
    stale = or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USE_PRECISION)
    written = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, stale)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if written:
        # The row now says `now`; tell the loaded object so without another statement.
        set_committed_value(key, "last_used_at", now)
    return bool(written)


def describe(key: ApiKey) -> str:
    """How a key is named to people: its name and the first characters of the key."""
    return f"API key “{key.name}” ({key.prefix}…)"


def _snapshot(key: ApiKey) -> dict:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "scope": key.scope,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def _record_change(
    session: Session, action: str, key: ApiKey, *, actor: User, before: dict | None, now: datetime
) -> None:
    """The audit log's line for this change, with the key's state after it."""
    record_admin_change(
        session,
        actor_user=actor,
        action=action,
        target=describe(key),
        before=before,
        after=_snapshot(key),
        now=now,
    )
