"""The words of every customer email, per language: their defaults, an admin's edits, the checks.

Each customer email (and each kind of survey) has words an admin may change: its subject,
the preheader a mail app shows beside the subject, the greeting, the paragraphs before the
links and the one after them. The words may name the email's placeholders, a fixed list per
email (`{{ first_name }}`, `{{ purchase }}`…), and choose between two wordings with
`{% if first_name %}…{% else %}…{% endif %}`; nothing else. They are checked when saved (an
unknown placeholder or broken syntax is refused with a message, and nothing is stored) and
rendered in Jinja's sandbox. Each save and each return to the default is an audit entry
holding the words before and after: the versions of those words.

Words are stored per shipped language ("en", "es", "pt_BR"); a language without an admin's
words reads the defaults, translated by the catalogs (their English is the msgid, placeholders
and all: `make catalog` extracts them).
"""

from surveys.services.email_words.catalogue import (
    DEFAULT_LOCALE,
    FIELD_LABELS,
    FIELDS,
    PLACEHOLDERS,
    WORDED_EMAILS,
    WordedEmail,
    worded_email_for,
)
from surveys.services.email_words.checking import (
    WordsInvalid,
    check_words,
    render_words,
    sample_values,
    sandbox,
)
from surveys.services.email_words.stored import (
    AUDIT_ACTION_CHANGED,
    AUDIT_ACTION_RESTORED,
    default_words,
    restore_default,
    save_words,
    select_all_wordings,
    stored_words,
    versions,
    words_for,
)

__all__ = [
    "AUDIT_ACTION_CHANGED",
    "AUDIT_ACTION_RESTORED",
    "DEFAULT_LOCALE",
    "FIELDS",
    "FIELD_LABELS",
    "PLACEHOLDERS",
    "WORDED_EMAILS",
    "WordedEmail",
    "WordsInvalid",
    "check_words",
    "default_words",
    "render_words",
    "restore_default",
    "sample_values",
    "sandbox",
    "save_words",
    "select_all_wordings",
    "stored_words",
    "versions",
    "words_for",
    "worded_email_for",
]
