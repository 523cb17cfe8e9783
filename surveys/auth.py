"""Who is asking: logged-in people (Flask-Login) and API keys (bearer tokens)."""

from __future__ import annotations

import functools
import hashlib
import secrets

from flask import abort, g, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
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
def load_user(user_id: str) -> User | None:
    return db.session().get(User, int(user_id))


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_api_key_value() -> str:
    """A fresh key: a recognisable prefix and 256 random bits."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def find_api_key(raw: str) -> ApiKey | None:
    if not raw or len(raw) > 200:
        return None
    key = db.session().scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(raw)))
    if key is None or key.revoked_at is not None:
        return None
    return key


def api_key_required(view):
    """Let the view run only for a valid `Authorization: Bearer <key>`; sets g.api_key."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        key = find_api_key(raw.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise ApiProblem(401, "Unauthorized",
                             "Send a valid API key as 'Authorization: Bearer <key>'.")
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
