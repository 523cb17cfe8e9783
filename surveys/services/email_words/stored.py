"""An admin's words, stored per email and language; each change a version in the audit log."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, gettext
from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import languages
from surveys.models import AuditEntry, EmailWording, User
from surveys.services.audit import record_admin_change
from surveys.services.email_words.catalogue import WordedEmail
from surveys.services.email_words.checking import (
    WordsInvalid,
    check_words,
    render_words,
    sample_values,
)

AUDIT_ACTION_CHANGED = "email_words.changed"
AUDIT_ACTION_RESTORED = "email_words.restored"


def default_words(email: WordedEmail, locale: str) -> dict[str, str]:
    """The words an email has until an admin changes them, translated into `locale` (the
    nearest shipped language; the catalogs hold each default, placeholders and all)."""
    with force_locale(languages.shipped_or_default(locale)):
        return {field: gettext(text) if text else text for field, text in email.defaults.items()}


def stored_words(session: Session, email: WordedEmail, locale: str) -> dict[str, str] | None:
    """An admin's words for this email and language, or None."""
    row = _row(session, email, locale)
    return dict(row.words) if row is not None else None


def words_for(session: Session, email: WordedEmail, locale: str) -> dict[str, str]:
    """The words an email goes out with in a language: an admin's, else the defaults."""
    words = stored_words(session, email, locale)
    if words is None:
        return default_words(email, locale)
    # A field added after the words were saved takes its default.
    defaults = default_words(email, locale)
    return {field: words.get(field, defaults[field]) for field in email.fields}


def _row(session: Session, email: WordedEmail, locale: str) -> EmailWording | None:
    return session.scalar(
        select(EmailWording).where(
            EmailWording.email_key == email.key, EmailWording.locale == locale
        )
    )


def select_all_wordings():
    """Every stored wording: which emails have an admin's words, in which languages."""
    return select(EmailWording).order_by(EmailWording.email_key, EmailWording.locale)


def _target(email: WordedEmail, locale: str) -> str:
    return f"email words {email.key} ({locale})"


def save_words(
    session: Session,
    email: WordedEmail,
    locale: str,
    words: dict[str, str],
    *,
    actor: User,
    now: datetime,
) -> bool:
    """Check and store the words (WordsInvalid, nothing stored, when they cannot be used).

    Returns whether anything changed; each change is one audit entry, a version of the words.
    """
    cleaned = check_words(email, words)
    for field in cleaned:
        try:
            render_words({field: cleaned[field]}, sample_values(email), html=True)
        except TemplateError as exc:  # the sandbox's refusal, or a value it cannot use
            raise WordsInvalid(
                {field: [gettext("These words cannot be filled in: %(problem)s.", problem=exc)]}
            ) from None
    before = words_for(session, email, locale)
    if cleaned == before:
        return False
    row = _row(session, email, locale)
    if row is None:
        session.add(EmailWording(email_key=email.key, locale=locale, words=cleaned, updated_at=now))
    else:
        row.words, row.updated_at = cleaned, now
    record_admin_change(
        session,
        actor_user=actor,
        action=AUDIT_ACTION_CHANGED,
        target=_target(email, locale),
        before=before,
        after=cleaned,
        now=now,
    )
    return True


def restore_default(
    session: Session, email: WordedEmail, locale: str, *, actor: User, now: datetime
) -> bool:
    """Go back to the default words; False when they were the defaults already."""
    row = _row(session, email, locale)
    if row is None:
        return False
    before = dict(row.words)
    session.delete(row)
    record_admin_change(
        session,
        actor_user=actor,
        action=AUDIT_ACTION_RESTORED,
        target=_target(email, locale),
        before=before,
        after=default_words(email, locale),
        now=now,
    )
    session.flush()
    return True


def versions(session: Session, email: WordedEmail, locale: str) -> list[AuditEntry]:
    """Every change of these words, newest first: who, when, before and after."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action.in_((AUDIT_ACTION_CHANGED, AUDIT_ACTION_RESTORED)),
                AuditEntry.target == _target(email, locale),
            )
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        )
    )
