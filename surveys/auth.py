"""Who is asking: logged-in people (Flask-Login) and API keys (bearer tokens)."""

from __future__ import annotations

import base64
import binascii
import functools

from flask import abort, g, request
from flask import session as flask_session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from surveys import clock
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models import ApiKey, User
from surveys.services.users import api_keys

login_manager = LoginManager()
login_manager.login_view = "inbox.login"
login_manager.login_message = "Please log in to see this page."
csrf = CSRFProtect()


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


# Methods that only read. Any other method changes something and needs a `write` key, so a
# route added later is covered without anyone remembering to mark it.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_KEY = "This API key may only read (scope “read”); use a key with scope “write”."


def admit_api_key(raw: str, *, unauthorized_detail: str) -> ApiKey:
    """Let the request in with this raw API key, or raise the ApiProblem that refuses it.

    The one place where API keys are checked, for /api/v1 and the Delighted routes alike:
    401 for a missing, wrong or revoked key; 403 for a `read` key on a method that writes.
    The key is read from the database on every request (one indexed query), so a
    revocation made by any process is obeyed from the next request on. Sets g.api_key.
    """
    session = db.session()
    key = api_keys.find_live_api_key(session, raw)
    if key is None:
        raise ApiProblem(401, "Unauthorized", unauthorized_detail)
    if api_keys.note_use(session, key, now=clock.now()):
        # Its own short transaction, so the view's work neither waits on it nor undoes it.
        session.commit()
    if request.method not in READ_METHODS and not key.can_write:
        raise ApiProblem(403, "Forbidden", READ_ONLY_KEY, type_="read-only-api-key")
    g.api_key = key
    return key


def basic_user_name() -> str:
    """The user name of `Authorization: Basic …`, or "" when there is none.

    Delighted's clients send the API key as the user name; some encoded the key
    alone, without the `:` and the empty password, so the colon is optional here.
    """
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0].strip()


def bearer_token() -> str:
    """The key of `Authorization: Bearer <key>`, or "" when there is none."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def presented_api_key() -> str:
    """Whichever key the request presents, as a bearer token or a Basic user name."""
    return bearer_token() or basic_user_name()


def api_key_required(view):
    """Let the view run only for a valid `Authorization: Bearer <key>`; sets g.api_key."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        admit_api_key(
            bearer_token(),
            unauthorized_detail="Send a valid API key as 'Authorization: Bearer <key>'.",
        )
        return view(*args, **kwargs)

    return wrapped


def acting_user() -> User:
    """The logged-in person who is acting, as the User itself rather than Flask-Login's proxy,
    so services can store, compare and audit it."""
    return current_user._get_current_object()


def require_admin():
    """Admins only: owners get 403, strangers go to the login page (remembering where to).

    Run before every admin view (the admin blueprint's before_request), so a page added
    there later is covered without anyone remembering to mark it.
    """
    if request.method == "OPTIONS":
        # Flask answers OPTIONS itself with the allowed methods and never calls the view;
        # that answer reveals nothing and needs no login.
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None
