"""The parts of a question-set document: its limits, a reader for each of its fields, and
the words an admin reads when one does not fit.

`document` builds the questions and the document from these parts.
Each reader refuses with a sentence that says what to do (“Give the option a value,
like yes or short.”), and `document_errors` puts pydantic's own errors (a missing
field, an unknown one, a list too short) in the same voice.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_serializer,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from surveys.validation.languages import TAG_PATTERN, UnknownLanguage, language_tag
from surveys.validation.numbers import as_whole_number
from surveys.validation.text import text_pattern, unstorable_text_reason

# Question keys become the survey form's field names, so they must not shadow the form's own
# attributes: these are the names a Flask-WTF form has besides its fields (public/forms.py
# builds the survey form on `AppForm`; a test checks this list still covers it).
RESERVED_FIELD_NAMES = frozenset(
    {
        "Meta",
        "_parent_form",
        "_unbound_fields",
        "_wtforms_meta",
        "csrf_token",
        "data",
        "errors",
        "hidden_tag",
        "is_submitted",
        "populate_obj",
        "post_process",
        "process",
        "validate",
        "validate_on_submit",
    }
)
SET_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUESTION_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
OPTION_VALUE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_FIELDS = (
    "key",
    "type",
    "text",
    "translations",
    "required",
    "min",
    "max",
    "options",
    "negative",
)
TYPES = ("choice", "scale", "text")
MAX_QUESTIONS = 30
MAX_OPTIONS = 12
MAX_QUESTION_TEXT = 1000
MAX_LABEL = 200
MAX_NAME = 200
# Room for a business's own complaint words (the default list has about sixty).
MAX_RULE_WORDS = 200
MAX_RULE_WORD = 80
# Eleven points (0 to 10) still fit a phone's width in one row.
MAX_SCALE_POINTS = 11
# Wide enough for any scale people answer, narrow enough for every integer column.
SCALE_BOUND = 100
# Languages one text may be written in besides the default (every shipped one, with room).
MAX_LANGUAGES = 50

# In the reader's language (the admin's in the editor, the shop's in the API): lazy, so each
# validation says them in the language of the request it runs in.
TYPE_MESSAGE = _l("The type must be “choice”, “scale” or “text”.")
QUESTION_SHAPE = _l("Each question is an object with a key, a type and a text.")
OPTION_SHAPE = _l("Each option has a value and a label.")
NO_OPTIONS = _l("A choice question needs its options.")
SCALE_BOUNDS = _l("A scale needs a whole-number minimum and maximum.")
QUESTIONS_LIST = _l("Send the questions as a list.")
# What a missing field means, by its name.
MISSING = {
    "key": _l("Give the question a key: a short name for its answer, like one_thing."),
    "text": _l("Write the question as the customer will read it."),
    "options": NO_OPTIONS,
    "min": SCALE_BOUNDS,
    "max": SCALE_BOUNDS,
    "value": _l("Give the option a value, like yes or short."),
    "label": _l("Write the words the customer sees."),
    "questions": QUESTIONS_LIST,
}


def refusal(message: str) -> PydanticCustomError:
    # str(): a lazy message is said now, in the language of the request validating.
    return PydanticCustomError("invalid", str(message))


def error_at(loc: tuple, message: str, value: Any) -> ValidationError:
    """A validation error at a path of its own below the field being validated."""
    details = InitErrorDetails(type=refusal(message), loc=loc, input=value)
    return ValidationError.from_exception_data("question set", [details])


def error_details(exc: ValidationError) -> list[InitErrorDetails]:
    """The errors of a validation, to raise again together with others."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"], error.get("ctx")),
            loc=error["loc"],
            input=error.get("input"),
        )
        for error in exc.errors(include_url=False)
    ]


# Why a text cannot be stored (surveys.validation.text), as a whole sentence about what the admin
# wrote, in their language: by what was written, the reason, and whether it is a translation.
_NUL = "must not contain NUL characters"
_SURROGATE = "must be valid Unicode text (it contains a lone surrogate)"
_CONTROL = "must not contain control characters"
_ONE_LINE = "must be a single line"
_UNSTORABLE = {
    ("question", _NUL): _l("The question must not contain NUL characters."),
    ("question", _SURROGATE): _l(
        "The question must be valid Unicode text (it contains a lone surrogate)."
    ),
    ("question", _CONTROL): _l("The question must not contain control characters."),
    ("label", _NUL): _l("The label must not contain NUL characters."),
    ("label", _SURROGATE): _l(
        "The label must be valid Unicode text (it contains a lone surrogate)."
    ),
    ("label", _ONE_LINE): _l("The label must be a single line."),
    ("name", _NUL): _l("The name must not contain NUL characters."),
    ("name", _SURROGATE): _l("The name must be valid Unicode text (it contains a lone surrogate)."),
    ("name", _ONE_LINE): _l("The name must be a single line."),
}
_UNSTORABLE_TRANSLATION = {
    ("question", _NUL): _l("The question in %(language)s must not contain NUL characters."),
    ("question", _SURROGATE): _l(
        "The question in %(language)s must be valid Unicode text (it contains a lone surrogate)."
    ),
    ("question", _CONTROL): _l("The question in %(language)s must not contain control characters."),
    ("label", _NUL): _l("The label in %(language)s must not contain NUL characters."),
    ("label", _SURROGATE): _l(
        "The label in %(language)s must be valid Unicode text (it contains a lone surrogate)."
    ),
    ("label", _ONE_LINE): _l("The label in %(language)s must be a single line."),
}


def unstorable_message(what: str, reason: str, *, language: str | None = None) -> str:
    """The sentence saying why the `what` (in `language`, for a translation) cannot be stored."""
    if language is None:
        message = _UNSTORABLE.get((what, reason))
        return str(message) if message is not None else f"The {what} {reason}."
    message = _UNSTORABLE_TRANSLATION.get((what, reason))
    if message is None:
        return f"The {what} in {language} {reason}."
    return message % {"language": language}


# --- the parts of a question ----------------------------------------------------------------


def _written(what: str, max_length: int, *, multiline: bool, missing: str, too_long: str):
    """A reader of text an admin writes: trimmed, not blank, storable, not too long."""

    def read(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise refusal(missing)
        reason = unstorable_text_reason(value, multiline=multiline)
        if reason:
            raise refusal(unstorable_message(what, reason))
        value = value.strip()
        if len(value) > max_length:
            raise refusal(too_long)
        return value

    schema = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": text_pattern(multiline=multiline, required=True),
    }
    return Annotated[str, BeforeValidator(read), WithJsonSchema(schema)]


def _translations(what: str, max_length: int, *, multiline: bool):
    """A reader of a text's other languages: `{"es": "…", "pt-BR": "…"}` by BCP 47 tag.

    Each text follows the default text's rules (storable, not blank, as long at most);
    tags are written back as BCP 47 writes them (`pt_br` → `pt-BR`), each once.
    """

    def read(value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise refusal(
                _(
                    'Give the question in other languages as {"es": "…", "fr": "…"}, by language '
                    "code."
                )
                if what == "question"
                else _(
                    'Give the label in other languages as {"es": "…", "fr": "…"}, by language code.'
                )
            )
        if len(value) > MAX_LANGUAGES:
            raise refusal(_("Keep it to %(num)s languages.", num=MAX_LANGUAGES))
        texts: dict[str, str] = {}
        for raw_tag, text in value.items():
            try:
                tag = language_tag(raw_tag)
            except UnknownLanguage as exc:
                raise refusal(str(exc)) from None
            if tag in texts:
                raise refusal(_("%(language)s is given twice; keep one.", language=tag))
            if not isinstance(text, str) or not text.strip():
                raise refusal(
                    _(
                        "The question in %(language)s is empty; write it, or leave the language "
                        "out.",
                        language=tag,
                    )
                    if what == "question"
                    else _(
                        "The label in %(language)s is empty; write it, or leave the language out.",
                        language=tag,
                    )
                )
            reason = unstorable_text_reason(text, multiline=multiline)
            if reason:
                raise refusal(unstorable_message(what, reason, language=tag))
            text = text.strip()
            if len(text) > max_length:
                raise refusal(
                    _(
                        "Keep the question in %(language)s to %(num)s characters.",
                        language=tag,
                        num=max_length,
                    )
                    if what == "question"
                    else _(
                        "Keep the label in %(language)s to %(num)s characters.",
                        language=tag,
                        num=max_length,
                    )
                )
            texts[tag] = text
        return texts

    schema = {
        "type": ["object", "null"],
        "maxProperties": MAX_LANGUAGES,
        "propertyNames": {"pattern": TAG_PATTERN},
        "additionalProperties": {
            "type": "string",
            "minLength": 1,
            "maxLength": max_length,
            "pattern": text_pattern(multiline=multiline, required=True),
        },
        "description": f"The {what} in other languages, by BCP 47 language code (es, fr, "
        "pt-BR): each a language Babel knows, given once. A reader whose language is "
        "missing gets the default text.",
    }
    return Annotated[dict[str, str], BeforeValidator(read), WithJsonSchema(schema)]


def _question_key(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refusal(MISSING["key"])
    value = value.strip()
    if not QUESTION_KEY_PATTERN.match(value):
        raise refusal(
            _(
                "Use lower-case letters, digits and underscores, starting with a letter (at most 64)."  # noqa: E501
            )
        )
    if value in RESERVED_FIELD_NAMES:
        raise refusal(_("“%(key)s” is reserved by the survey form; choose another key.", key=value))
    return value


QuestionKey = Annotated[
    str,
    BeforeValidator(_question_key),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": QUESTION_KEY_PATTERN.pattern,
            "not": {"enum": sorted(name for name in RESERVED_FIELD_NAMES if name[0].islower())},
            "description": "The answer's name in responses and exports; unique in the set.",
        }
    ),
]
QuestionText = _written(
    "question",
    MAX_QUESTION_TEXT,
    multiline=True,
    missing=MISSING["text"],
    too_long=_l("Keep the question to %(num)s characters.", num=MAX_QUESTION_TEXT),
)
QuestionTranslations = _translations("question", MAX_QUESTION_TEXT, multiline=True)
LabelTranslations = _translations("label", MAX_LABEL, multiline=False)


def _required(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise refusal(_("“required” is true or false."))
    return value


Required = Annotated[
    bool,
    BeforeValidator(_required),
    WithJsonSchema({"type": ["boolean", "null"], "default": False}),
]


def _only_for(kind: str, message: str, empty: tuple = (None,)):
    """A field another type of question has: absent, null (or empty) here."""

    def read(value: Any) -> None:
        if value not in empty:
            raise refusal(message)
        return None

    schema: dict = {"type": "null"} if empty == (None,) else {"type": ["array", "null"]}
    if empty != (None,):
        schema["maxItems"] = 0
    schema["description"] = f"Only {kind} questions have it."
    return Annotated[None, BeforeValidator(read), WithJsonSchema(schema), Field(exclude=True)]


NoOptions = _only_for("choice", _l("Only choice questions have options."), empty=(None, []))
NoBound = _only_for("scale", _l("Only scale questions have a minimum and maximum."))


def _option_value(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refusal(MISSING["value"])
    value = value.strip()
    if not OPTION_VALUE_PATTERN.match(value):
        raise refusal(
            _("Use lower-case letters, digits, - and _ (it appears in the email's links).")
        )
    return value


class DocumentModel(BaseModel):
    """A part of the document: a field it does not know is a mistake worth naming."""

    model_config = ConfigDict(extra="forbid")


def without_empty_translations(dumped: dict) -> dict:
    """A part as stored and compared: `translations` only when there are some, so a set
    nobody translated reads exactly as it did before translations existed."""
    if not dumped.get("translations"):
        dumped.pop("translations", None)
    return dumped


class Option(DocumentModel):
    """One answer of a choice question: the value in links and exports, the label shown."""

    value: Annotated[
        str,
        BeforeValidator(_option_value),
        WithJsonSchema({"type": "string", "pattern": OPTION_VALUE_PATTERN.pattern}),
    ]
    label: _written(
        "label",
        MAX_LABEL,
        multiline=False,
        missing=MISSING["label"],
        too_long=_l("Keep the label to %(num)s characters.", num=MAX_LABEL),
    )
    translations: LabelTranslations = Field(default_factory=dict)

    @model_serializer(mode="wrap")
    def _translated_only(self, handler) -> dict:
        return without_empty_translations(handler(self))


def empty_rule(value: Any) -> Any:
    # `{}` is how the editor writes "never negative", as null is.
    return None if value == {} else value


def read_choice_rule(value: Any) -> Any:
    value = empty_rule(value)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"values"}:
        raise refusal(
            _(
                'For a choice, the rule names the negative answers: {"values": [...]}, or null for never.'  # noqa: E501
            )
        )
    values = value["values"]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise refusal(_("List the negative answers' values."))
    return value


def read_scale_rule(value: Any) -> Any:
    value = empty_rule(value)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"at_most"}:
        raise refusal(_('For a scale, the rule is {"at_most": n}, or null for never.'))
    at_most = as_whole_number(value["at_most"])
    if at_most is None:
        raise refusal(_("“at most” is a whole number on the scale."))
    return {"at_most": at_most}


class ChoiceRule(DocumentModel):
    """The choices that are negative: some of the options' values, never all of them."""

    values: list[str]


class ScaleRule(DocumentModel):
    """Answers at most this are negative; from the minimum to one below the maximum."""

    at_most: int


def _scale_bound(value: Any) -> int:
    number = as_whole_number(value)
    if number is None:
        raise refusal(SCALE_BOUNDS)
    if not -SCALE_BOUND <= number <= SCALE_BOUND:
        raise refusal(
            _("Keep the scale between %(low)s and %(high)s.", low=-SCALE_BOUND, high=SCALE_BOUND)
        )
    return number


ScaleBound = Annotated[
    int,
    BeforeValidator(_scale_bound),
    WithJsonSchema({"type": "integer", "minimum": -SCALE_BOUND, "maximum": SCALE_BOUND}),
]


# --- errors in words -----------------------------------------------------------------------


def document_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as the editor and the API show them: by dotted path, in words."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        # A question's errors carry its type as a step of the path (questions.0.text.key);
        # the document has no such step.
        if len(loc) > 3 and loc[0] == "questions" and isinstance(loc[1], int) and loc[2] in TYPES:
            del loc[2]
        loc, message = _in_words(error, loc)
        message = str(message)
        path = ".".join(str(part) for part in loc) or "body"
        if message not in errors.setdefault(path, []):
            errors[path].append(message)
    return errors


def _in_words(error: dict, loc: list) -> tuple[list, str]:
    kind, name = error["type"], (loc[-1] if loc else "")
    in_options = len(loc) > 1 and loc[-2] == "options"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return [*loc, "type"], TYPE_MESSAGE
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return loc, OPTION_SHAPE if in_options else QUESTION_SHAPE
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return loc, _("Unknown field “%(name)s”.", name=name)
        if len(loc) > 2 and loc[-3] == "options":
            return loc, _("Unknown field “%(name)s”; an option has a value and a label.", name=name)
        return loc, _(
            "Unknown field “%(name)s”; a question has %(fields)s.",
            name=name,
            fields=", ".join(QUESTION_FIELDS),
        )
    if kind == "missing":
        return loc, MISSING.get(name, _("is required"))
    if kind == "list_type":
        return loc, NO_OPTIONS if name == "options" else QUESTIONS_LIST
    if kind == "too_short":
        if name == "options":
            empty = (error.get("ctx") or {}).get("actual_length") == 0
            return loc, NO_OPTIONS if empty else _("Give at least two options to choose from.")
        return loc, _("A question set needs at least one question.")
    if kind == "too_long":
        if name == "options":
            return loc, _("Keep it to %(num)s options or fewer.", num=MAX_OPTIONS)
        return loc, _(
            "Keep it to %(num)s questions or fewer; short surveys get answered.", num=MAX_QUESTIONS
        )
    return loc, error["msg"]
