"""The survey form, built from the questions of the version a survey pinned."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import Field, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from surveys.forms import AppForm, strip
from surveys.models import Question
from surveys.services.customers.goodbyes import MAX_WORDS_LENGTH, REASONS
from surveys.services.question_sets.fields import RESERVED_FIELD_NAMES
from surveys.services.surveys.responses import MAX_TEXT_LENGTH

# Lazy: each is read in the language of the page that shows it (the customer's).
REQUIRED_MESSAGE = lazy_gettext("We would love your answer to this one.")
INVALID_CHOICE_MESSAGE = lazy_gettext("Please choose one of the answers shown.")
TOO_LONG_MESSAGE = lazy_gettext(
    "Thank you for writing so much! Please keep it to %(max)d characters (this is %(length)d)."
)
CHOOSE_MESSAGE = lazy_gettext("Please choose an answer to send.")
# The goodbye reasons as the customer reads them (the service keeps its English for owners).
REASON_LABELS = {
    "too_often": lazy_gettext("You wrote to me too often"),
    "not_relevant": lazy_gettext("The questions were not for me"),
    "bad_experience": lazy_gettext("I had a bad experience"),
    "not_buying": lazy_gettext("I no longer buy from you"),
    "other": lazy_gettext("Something else"),
}


def _presence(question: Question, required: bool | None = None) -> list:
    """Required as the question says, unless the page decides (`required` True or False)."""
    if required is None:
        required = question.required
    if not required:
        return [Optional()]
    return [InputRequired(REQUIRED_MESSAGE if question.required else CHOOSE_MESSAGE)]


def choices_for(question: Question) -> list[SelectChoice]:
    """The answers a choice or scale question offers; none for text."""
    if question.type == "choice":
        return [SelectChoice(option["value"], option["label"]) for option in question.options or ()]
    if question.type == "scale":
        return [SelectChoice(str(n)) for n in range(question.min_value, question.max_value + 1)]
    return []


def field_for(question: Question, required: bool | None = None) -> Field:
    """The unbound form field that asks one question (`required`: see `survey_form_class`)."""
    if question.type in ("choice", "scale"):
        return RadioField(
            question.text,
            validators=_presence(question, required),
            choices=choices_for(question),
            invalid_choice_message=INVALID_CHOICE_MESSAGE,
        )
    return TextAreaField(
        question.text,
        filters=[strip],
        validators=[
            *_presence(question, required),
            Length(max=MAX_TEXT_LENGTH, message=TOO_LONG_MESSAGE),
        ],
    )


def survey_form_class(questions: list[Question], *, required: bool | None = None) -> type[AppForm]:
    """A form class with one field per question, named by the question's key.

    Each field is required as its question says; `required=True` makes every one
    required (the one tapped answer must be there), `False` none (answers added later).
    """
    fields = {}
    for question in questions:
        if question.key in RESERVED_FIELD_NAMES:
            raise ValueError(f"question key {question.key!r} cannot be a form field name")
        fields[question.key] = field_for(question, required)
    return type("SurveyForm", (AppForm,), fields)


def preselectable(question: Question, value: str | None) -> bool:
    """Whether a one-click answer from an email link fits this question."""
    return bool(value) and value in {choice.value for choice in choices_for(question)}


def answers_from(form: AppForm, questions: list[Question]) -> dict[str, str]:
    """The validated answers by question key; unanswered questions are left out."""
    answers = {}
    for question in questions:
        value = form[question.key].data
        if value not in (None, ""):
            answers[question.key] = str(value)
    return answers


class GoodbyeReasonForm(AppForm):
    """What a customer may tell us after unsubscribing; all of it optional. No CSRF token:
    the secret token in the address is the authority (see surveys/public/views.py)."""

    class Meta:
        csrf = False

    reason = RadioField(
        lazy_gettext("What made you unsubscribe?"),
        validators=[Optional()],
        choices=[
            SelectChoice(key, REASON_LABELS.get(key, words)) for key, words in REASONS.items()
        ],
        invalid_choice_message=INVALID_CHOICE_MESSAGE,
    )
    words = TextAreaField(
        lazy_gettext("Anything you would like us to know?"),
        filters=[strip],
        validators=[Optional(), Length(max=MAX_WORDS_LENGTH, message=TOO_LONG_MESSAGE)],
        render_kw={"rows": 3},
    )
