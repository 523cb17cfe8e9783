"""People who log in: admins and owners (API keys are in services.users.api_keys)."""

from __future__ import annotations

import functools
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from surveys.languages import SHIPPED
from surveys.models import Case, User
from surveys.models.cases import CaseStatus
from surveys.models.users import ROLES
from surveys.services.cases.opening import assign_waiting_cases
from surveys.validation.codes import known_timezones

MAX_NAME_LENGTH = 200
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


class UserError(ValueError):
    """A person could not be created or changed; the message says why."""


def normalise_email(email: str) -> str:
    """The address as we store it: valid syntax, lower case. Raises UserError."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserError(
            _("“%(email)s” is not a valid email address: %(reason)s", email=email, reason=exc)
        ) from None
    return result.normalized.lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this address, whatever its case, or None."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    session: Session, *, email: str, name: str, role: str, password: str, now: datetime
) -> User:
    """Create a login; every problem with the input raises a UserError that names it.

    A new admin is someone the cases waiting for an owner can go to: they are
    routed at once (to this admin, or to whom the rules now name).
    """
    email = normalise_email(email)
    name = (name or "").strip()
    if not name:
        raise UserError(_("Give the person's name."))
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(_("The name is longer than %(num)d characters.", num=MAX_NAME_LENGTH))
    if role not in ROLES:
        raise UserError(_("The role must be “admin” or “owner”, not “%(role)s”.", role=role or ""))
    _check_password(password)
    if find_user_by_email(session, email) is not None:
        raise UserError(_("There is already a user with the email %(email)s.", email=email))
    user = User(
        email=email, name=name, role=role, password_hash=hash_password(password), active=True
    )
    # Two creations racing past the check above meet the unique index here;
    # the savepoint keeps the caller's transaction usable after the refusal.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise UserError(
            _("There is already a user with the email %(email)s.", email=email)
        ) from None
    assign_waiting_cases(session, now)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Replace a user's password (at least ten characters) and end all their sessions."""
    _check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(session, user)


def end_sessions(session: Session, user: User) -> None:
    """End every session of this person, on every device: each is refused at its next request.

    The one place that does it, for logout, a new password and deactivation. The
    increment runs in SQL so that two at once both move the version on.
    """
    user.session_version = User.session_version + 1
    session.flush()
    session.refresh(user, ["session_version"])


def set_digest_preferences(
    session: Session, user: User, *, weekly_digest: bool, time_zone: str | None
) -> None:
    """Whether the person gets the weekly digest, and their time zone (None: the business's).
    Raises UserError for a name that is not an IANA time zone."""
    if time_zone is not None and time_zone not in known_timezones():
        raise UserError(
            _(
                "“%(zone)s” is not a time zone we know; choose one from the list.",
                zone=time_zone,
            )
        )
    user.weekly_digest = weekly_digest
    user.time_zone = time_zone
    session.flush()


def set_own_language(session: Session, user: User, language: str | None) -> None:
    """The language of the person's own pages and emails (None: the shop's default).
    Raises UserError for one we do not ship."""
    if language is not None and language not in SHIPPED:
        raise UserError(
            _(
                "“%(language)s” is not a language we ship; choose one from the list.",
                language=language,
            )
        )
    user.locale = language
    session.flush()


def _check_password(password: str | None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(
            _("The password must be at least %(num)d characters long.", num=MIN_PASSWORD_LENGTH)
        )


def deactivate_user(session: Session, user: User, *, now: datetime) -> None:
    """Stop a user from logging in; refused while they still own cases that are not closed.

    Refused too for the last active admin, so that nobody is locked out of the admin pages.
    `now` is the moment of the change, for callers that keep an audit trail.
    """
    if not user.active:
        return
    unfinished = session.scalar(
        select(func.count(Case.id)).where(
            Case.owner_id == user.id, Case.status != CaseStatus.CLOSED
        )
    )
    if unfinished:
        raise UserError(
            ngettext(
                "%(name)s still owns %(num)d case that is not closed. Reassign it to someone "
                "else first.",
                "%(name)s still owns %(num)d cases that are not closed. Reassign them to someone "
                "else first.",
                unfinished,
                name=user.name,
            )
        )
    if user.is_admin and _active_admin_count(session) <= 1:
        raise UserError(
            _(
                "%(name)s is the only active admin; make someone else an admin first.",
                name=user.name,
            )
        )
    user.active = False
    end_sessions(session, user)


def reactivate_user(session: Session, user: User, *, now: datetime) -> None:
    """Let a deactivated user log in again; cases waiting for an owner may now go to them."""
    user.active = True
    session.flush()
    assign_waiting_cases(session, now)


def _active_admin_count(session: Session) -> int:
    return session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    )


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    A password hash is checked even when no user has the address, so the time
    taken does not tell an attacker which addresses have accounts.
    """
    user = find_user_by_email(session, email or "") if email else None
    if user is None:
        check_password_hash(_dummy_password_hash(), password or "")
        return None
    if not password_matches(user, password or ""):
        return None
    return user if user.active else None


@functools.cache
def _dummy_password_hash() -> str:
    # Hashed with today's default method and cost, like every real password.
    return hash_password("a password nobody has, to spend the time of a real check")
