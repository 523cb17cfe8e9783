"""Who is asking: logged-in people (Flask-Login) and API keys (bearer tokens)."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time

from flask import abort, current_app, g, request
from flask import session as flask_session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.security import check_password_hash, generate_password_hash

from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models import ApiKey, User

login_manager = LoginManager()
login_manager.login_view = "inbox.login"
login_manager.login_message = "Please log in to see this page."
csrf = CSRFProtect()

MIN_PASSWORD_LENGTH = 10
API_KEY_PREFIX = "h2h_"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The person a session belongs to, while that session is still theirs.

    The session holds "<user id>:<session version>" (User.get_id). Logging out, a new
    password and deactivation bump the version, so every older session, on any device
    or in a copied cookie, is refused here on its next request.
    """
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        user_id, version = None, None  # a session from before versions existed
    user = db.session().get(User, user_id) if user_id is not None else None
    if user is None or not user.active or user.session_version != version:
        # It can never become valid again (versions only grow): drop it from the cookie.
        for key in ("_user_id", "_fresh", "_id"):
            flask_session.pop(key, None)
        return None
    return user


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_api_key_value() -> str:
    """A fresh key: a recognisable prefix and 256 random bits."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


# An integration posts every purchase with the same key; remembering a verified
# key for a minute saves a query on each request. Keys are never edited, only
# revoked, and a revocation takes effect within this time.
API_KEY_CACHE_SECONDS = 60.0
_CACHE_LIMIT = 1000
_KEY_COLUMNS = ("id", "name", "key_hash", "prefix", "created_at", "revoked_at")


def find_api_key(raw: str) -> ApiKey | None:
    """The live API key with this raw value, or None."""
    if not raw or len(raw) > 200:
        return None
    digest = hash_api_key(raw)
    cache = current_app.extensions.setdefault("verified_api_keys", {})
    session = db.session()
    cached = cache.get(digest)
    if cached is not None and cached[0] > time.monotonic():
        # Attach the remembered row to this request's session without a query.
        remembered = ApiKey(**cached[1])
        make_transient_to_detached(remembered)
        return session.merge(remembered, load=False)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or key.revoked_at is not None:
        cache.pop(digest, None)
        return None
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    columns = {name: getattr(key, name) for name in _KEY_COLUMNS}
    cache[digest] = (time.monotonic() + API_KEY_CACHE_SECONDS, columns)
    return key


def api_key_required(view):
    """Let the view run only for a valid `Authorization: Bearer <key>`; sets g.api_key."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        key = find_api_key(raw.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise ApiProblem(
                401, "Unauthorized", "Send a valid API key as 'Authorization: Bearer <key>'."
            )
        g.api_key = key
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Pages for admins only: owners get 403, strangers go to the login page."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
