"""Why a survey was not sent, in the reader's language, for the customer page.

A survey's `status_reason` is stored in English, as the service wrote it ("already
surveyed in the last 90 days"); the API reads it as it is (`scheduling.survey_reason`).
The page words the reasons the service writes itself in the reader's language; any other
reason (a mail server's refusal, a refund's note from the shop) is data, and shows as it
was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from surveys.models import Survey
from surveys.models.surveys import SurveyStatus
from surveys.services.surveys.scheduling import survey_reason

# What a survey's status means, when nothing more particular was recorded.
_STATUS_SENTENCES = {
    SurveyStatus.SENT: _l("It was sent to the customer."),
    SurveyStatus.ANSWERED: _l("The customer answered it."),
    SurveyStatus.THROTTLED: _l("The customer was surveyed recently."),
    SurveyStatus.SUPPRESSED: _l("The address unsubscribed or bounced."),
    SurveyStatus.SKIPPED: _l("The purchase is too old to ask about."),
    SurveyStatus.HELD: _l("The customer has a case open; it waits until the case closes."),
    SurveyStatus.CANCELLED: _l("It was cancelled before it was sent."),
    SurveyStatus.FAILED: _l("The mail service refused it."),
}

# The reasons the services store (see where `status_reason` is set), exactly.
_FIXED_REASONS = {
    "the customer's data was erased": _l("The customer's data was erased."),
    "the customer left Autopilot": _l("The customer left Autopilot."),
    "answered elsewhere and recorded through the API": _l(
        "Answered elsewhere and recorded through the API."
    ),
    "the survey request was withdrawn through the API": _l(
        "The survey request was withdrawn through the API."
    ),
    "the case was resolved again since": _l("The case was resolved again since."),
    "the address is suppressed": _l("The address is suppressed."),
}


# The reasons with a number or a word of data in them, as the services write them.
_PATTERNS: tuple[tuple[re.Pattern, Callable[[re.Match], str]], ...] = (
    (
        re.compile(r"already surveyed in the last (?P<num>\d+) days"),
        lambda m: ngettext(
            "Already surveyed in the last %(num)d day.",
            "Already surveyed in the last %(num)d days.",
            int(m["num"]),
        ),
    ),
    (
        re.compile(r"the purchase was older than (?P<num>\d+) days when the case closed"),
        lambda m: ngettext(
            "The purchase was older than %(num)d day when the case closed.",
            "The purchase was older than %(num)d days when the case closed.",
            int(m["num"]),
        ),
    ),
    (
        re.compile(r"waiting until case #(?P<id>\d+) closes"),
        lambda m: _("Waiting until case #%(id)s closes.", id=m["id"]),
    ),
    (
        re.compile(r"the customer's address is suppressed \((?P<why>.*)\)", re.DOTALL),
        lambda m: _("The customer's address is suppressed (%(reason)s).", reason=m["why"]),
    ),
    (
        re.compile(r"cancelled by (?P<name>.+)", re.DOTALL),
        lambda m: _("Cancelled by %(name)s.", name=m["name"]),
    ),
)


def survey_reason_words(survey: Survey) -> str | None:
    """Why a survey is not scheduled, in a sentence in the reader's language; None while it
    is scheduled. A reason the services did not word themselves shows as it was stored."""
    if survey.status == SurveyStatus.SCHEDULED:
        return None
    reason = (survey.status_reason or "").strip().rstrip(".")
    if not reason:
        sentence = _STATUS_SENTENCES.get(survey.status)
        return str(sentence) if sentence is not None else survey_reason(survey)
    if reason in _FIXED_REASONS:
        return str(_FIXED_REASONS[reason])
    for pattern, words in _PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return words(match)
    if survey.status == SurveyStatus.SUPPRESSED and not reason.lower().startswith("the address"):
        # A suppression's reason is a word ("unsubscribed", "bounce"), not a sentence.
        return _("The address is suppressed (%(reason)s).", reason=reason)
    return survey_reason(survey)
