"""A question set as a document: the one description of what may be published.

The API's `PUT /api/v1/question-sets/<key>` reads its body with `read_question_set`,
the admin editor checks its drafts with `questions_errors` and publishes through
`canonical_questions`, and /api/v1/openapi.json describes the same pydantic models, so
the rules are written once. A question is a choice, a scale or a text question, each
with only its own fields; errors name the field by its dotted path
(`questions.2.options`, `questions.0.negative`) in words an admin can act on.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from surveys.public.forms import RESERVED_FIELD_NAMES
from surveys.validation import as_whole_number, text_pattern, unstorable_text_reason

SET_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUESTION_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
OPTION_VALUE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_FIELDS = ("key", "type", "text", "required", "min", "max", "options", "negative")
TYPES = ("choice", "scale", "text")
MAX_QUESTIONS = 30
MAX_OPTIONS = 12
MAX_QUESTION_TEXT = 1000
MAX_LABEL = 200
MAX_NAME = 200
# Eleven points (0 to 10) still fit a phone's width in one row.
MAX_SCALE_POINTS = 11
# Wide enough for any scale people answer, narrow enough for every integer column.
SCALE_BOUND = 100

TYPE_MESSAGE = "The type must be “choice”, “scale” or “text”."
QUESTION_SHAPE = "Each question is an object with a key, a type and a text."
OPTION_SHAPE = "Each option has a value and a label."
NO_OPTIONS = "A choice question needs its options."
SCALE_BOUNDS = "A scale needs a whole-number minimum and maximum."
QUESTIONS_LIST = "Send the questions as a list."
# What a missing field means, by its name.
MISSING = {
    "key": "Give the question a key: a short name for its answer, like one_thing.",
    "text": "Write the question as the customer will read it.",
    "options": NO_OPTIONS,
    "min": SCALE_BOUNDS,
    "max": SCALE_BOUNDS,
    "value": "Give the option a value, like yes or short.",
    "label": "Write the words the customer sees.",
    "questions": QUESTIONS_LIST,
}


class QuestionSetInvalid(ValueError):
    """The document does not make a publishable set; `errors` maps a field path to messages.

    Paths are dotted, as everywhere in the API: `questions.2.options`, `questions.0.negative`.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def _error_at(loc: tuple, message: str, value: Any) -> ValidationError:
    """A validation error at a path of its own below the field being validated."""
    details = InitErrorDetails(type=_problem(message), loc=loc, input=value)
    return ValidationError.from_exception_data("question set", [details])


def _details(exc: ValidationError) -> list[InitErrorDetails]:
    """The errors of a validation, to raise again together with others."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"], error.get("ctx")),
            loc=error["loc"],
            input=error.get("input"),
        )
        for error in exc.errors(include_url=False)
    ]


# --- the parts of a question ----------------------------------------------------------------


def _written(what: str, max_length: int, *, multiline: bool, missing: str, too_long: str):
    """A reader of text an admin writes: trimmed, not blank, storable, not too long."""

    def read(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _problem(missing)
        reason = unstorable_text_reason(value, multiline=multiline)
        if reason:
            raise _problem(f"The {what} {reason}.")
        value = value.strip()
        if len(value) > max_length:
            raise _problem(too_long)
        return value

    schema = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": text_pattern(multiline=multiline, required=True),
    }
    return Annotated[str, BeforeValidator(read), WithJsonSchema(schema)]


def _question_key(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(MISSING["key"])
    value = value.strip()
    if not QUESTION_KEY_PATTERN.match(value):
        raise _problem(
            "Use lower-case letters, digits and underscores, starting with a letter (at most 64)."
        )
    if value in RESERVED_FIELD_NAMES:
        raise _problem(f"“{value}” is reserved by the survey form; choose another key.")
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
    too_long=f"Keep the question to {MAX_QUESTION_TEXT} characters.",
)


def _required(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _problem("“required” is true or false.")
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
            raise _problem(message)
        return None

    schema: dict = {"type": "null"} if empty == (None,) else {"type": ["array", "null"]}
    if empty != (None,):
        schema["maxItems"] = 0
    schema["description"] = f"Only {kind} questions have it."
    return Annotated[None, BeforeValidator(read), WithJsonSchema(schema), Field(exclude=True)]


NoOptions = _only_for("choice", "Only choice questions have options.", empty=(None, []))
NoBound = _only_for("scale", "Only scale questions have a minimum and maximum.")


def _option_value(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(MISSING["value"])
    value = value.strip()
    if not OPTION_VALUE_PATTERN.match(value):
        raise _problem("Use lower-case letters, digits, - and _ (it appears in the email's links).")
    return value


class DocumentModel(BaseModel):
    """A part of the document: a field it does not know is a mistake worth naming."""

    model_config = ConfigDict(extra="forbid")


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
        too_long=f"Keep the label to {MAX_LABEL} characters.",
    )


def _empty_rule(value: Any) -> Any:
    # `{}` is how the editor writes "never negative", as null is.
    return None if value == {} else value


def _choice_rule(value: Any) -> Any:
    value = _empty_rule(value)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"values"}:
        raise _problem(
            "For a choice, the rule names the negative answers: "
            '{"values": [...]}, or null for never.'
        )
    values = value["values"]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _problem("List the negative answers' values.")
    return value


def _scale_rule(value: Any) -> Any:
    value = _empty_rule(value)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"at_most"}:
        raise _problem('For a scale, the rule is {"at_most": n}, or null for never.')
    at_most = as_whole_number(value["at_most"])
    if at_most is None:
        raise _problem("“at most” is a whole number on the scale.")
    return {"at_most": at_most}


def _text_rule(value: Any) -> None:
    if _empty_rule(value) is not None:
        raise _problem("A text answer is never negative on its own; leave the rule empty (null).")
    return None


class ChoiceRule(DocumentModel):
    """The choices that are negative: some of the options' values, never all of them."""

    values: list[str]


class ScaleRule(DocumentModel):
    """Answers at most this are negative; from the minimum to one below the maximum."""

    at_most: int


def _scale_bound(value: Any) -> int:
    number = as_whole_number(value)
    if number is None:
        raise _problem(SCALE_BOUNDS)
    if not -SCALE_BOUND <= number <= SCALE_BOUND:
        raise _problem(f"Keep the scale between {-SCALE_BOUND} and {SCALE_BOUND}.")
    return number


ScaleBound = Annotated[
    int,
    BeforeValidator(_scale_bound),
    WithJsonSchema({"type": "integer", "minimum": -SCALE_BOUND, "maximum": SCALE_BOUND}),
]


# --- the three kinds of question ------------------------------------------------------------


class _Question(DocumentModel):
    key: QuestionKey
    text: QuestionText = Field(description="The question as the customer reads it.")
    required: Required = False


class ChoiceQuestion(_Question):
    """One answer out of two to twelve options."""

    type: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=MAX_OPTIONS)
    negative: Annotated[ChoiceRule | None, BeforeValidator(_choice_rule)] = Field(
        None, description="The negative answers' values, or null for never."
    )
    min: NoBound = None
    max: NoBound = None

    @field_validator("options")
    @classmethod
    def _distinct_values(cls, options: list[Option]) -> list[Option]:
        seen: set[str] = set()
        for index, option in enumerate(options):
            if option.value in seen:
                raise _error_at(
                    (index, "value"),
                    f"Another option already has the value “{option.value}”.",
                    option.value,
                )
            seen.add(option.value)
        return options

    @model_validator(mode="after")
    def _rule_names_some_options(self) -> ChoiceQuestion:
        if self.negative is None:
            return self
        known = [option.value for option in self.options]
        unknown = [value for value in self.negative.values if value not in known]
        if unknown:
            raise _error_at(
                ("negative",),
                "These are not values of this question's options: " + ", ".join(unknown) + ".",
                self.negative.values,
            )
        if set(self.negative.values) >= set(known):
            raise _error_at(
                ("negative",),
                "If every answer is negative, the question cannot tell anything; leave at "
                "least one answer out of the rule.",
                self.negative.values,
            )
        # Kept in the options' order, so the same rule written twice compares equal.
        values = [value for value in known if value in self.negative.values]
        self.negative = ChoiceRule(values=values) if values else None
        return self


class ScaleQuestion(_Question):
    """A number from `min` to `max` (at most eleven points)."""

    type: Literal["scale"]
    min: ScaleBound
    max: ScaleBound
    negative: Annotated[ScaleRule | None, BeforeValidator(_scale_rule)] = Field(
        None, description="Answers at most this are negative; null for never."
    )
    options: NoOptions = None

    @model_validator(mode="after")
    def _a_scale_that_fits(self) -> ScaleQuestion:
        if self.min >= self.max:
            raise _error_at(("max",), "The maximum must be above the minimum.", self.max)
        if self.max - self.min + 1 > MAX_SCALE_POINTS:
            raise _error_at(
                ("max",),
                f"A scale has at most {MAX_SCALE_POINTS} points (0 to 10), so it fits a phone.",
                self.max,
            )
        if self.negative is not None and not self.min <= self.negative.at_most < self.max:
            raise _error_at(
                ("negative",),
                f"“at most” must be from {self.min} to {self.max - 1}, so that some answers "
                "are not negative.",
                self.negative.at_most,
            )
        return self


class TextQuestion(_Question):
    """Free text; never negative on its own (it travels with a case)."""

    type: Literal["text"]
    negative: Annotated[None, BeforeValidator(_text_rule)] = Field(
        None, description="Always null: a text answer is never negative on its own."
    )
    options: NoOptions = None
    min: NoBound = None
    max: NoBound = None


class _AnyTypeOfQuestion(_Question):
    """The fields every question has, to name their problems when its type is unknown."""

    model_config = ConfigDict(extra="ignore")


def _a_question(value: Any) -> Any:
    if not isinstance(value, dict):
        raise _problem(QUESTION_SHAPE)
    if value.get("type") not in TYPES:
        errors = [InitErrorDetails(type=_problem(TYPE_MESSAGE), loc=("type",), input=None)]
        try:
            _AnyTypeOfQuestion.model_validate(value)
        except ValidationError as exc:
            errors += _details(exc)
        raise ValidationError.from_exception_data("question", errors)
    return value


Question = Annotated[
    ChoiceQuestion | ScaleQuestion | TextQuestion,
    Field(discriminator="type"),
    BeforeValidator(_a_question),
]


def _questions_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise _problem(QUESTIONS_LIST)
    return value


def _distinct_keys(value: Any, handler) -> list:
    """Every question's own errors, and each key used a second time, in one refusal."""
    errors: list[InitErrorDetails] = []
    questions = None
    try:
        questions = handler(value)
    except ValidationError as exc:
        errors = _details(exc)
    seen: set[str] = set()
    for index, question in enumerate(value if isinstance(value, list) else ()):
        key = question.get("key") if isinstance(question, dict) else None
        key = key.strip() if isinstance(key, str) else None
        if not key:
            continue
        if key in seen:
            errors.append(
                InitErrorDetails(
                    type=_problem(f"Another question already uses the key “{key}”."),
                    loc=(index, "key"),
                    input=key,
                )
            )
        seen.add(key)
    if errors:
        raise ValidationError.from_exception_data("questions", errors)
    return questions


Questions = Annotated[
    list[Question],
    Field(min_length=1, max_length=MAX_QUESTIONS),
    BeforeValidator(_questions_list),
]


# --- the whole document ----------------------------------------------------------------------


def read_set_name(value: Any) -> str | None:
    """A set's name, trimmed; None when absent (PydanticCustomError saying what is wrong)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _problem("Give the set a name people will recognise.")
    reason = unstorable_text_reason(value, multiline=False)
    if reason:
        raise _problem(f"The name {reason}.")
    value = value.strip()
    if len(value) > MAX_NAME:
        raise _problem(f"Keep the name to {MAX_NAME} characters.")
    return value


class QuestionSetInput(DocumentModel):
    """The questions to publish as the set's next version.

    `version` and `published_at` may be present (as GET returns them) and are ignored;
    `key`, when present, must match the address; `name` renames the set without a new
    version.
    """

    key: Annotated[
        Any, WithJsonSchema({"type": ["string", "null"], "pattern": SET_KEY_PATTERN.pattern})
    ] = None
    name: Annotated[
        str | None,
        BeforeValidator(read_set_name),
        WithJsonSchema(
            {
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": MAX_NAME,
                "pattern": text_pattern(multiline=False, required=True),
            }
        ),
    ] = None
    version: Annotated[Any, WithJsonSchema({"type": ["integer", "null"]})] = None
    published_at: Annotated[Any, WithJsonSchema({"type": ["string", "null"]})] = None
    questions: Questions

    @field_validator("key")
    @classmethod
    def _key_of_the_address(cls, key: Any, info: ValidationInfo) -> Any:
        address = (info.context or {}).get("key")
        if key is not None and address is not None and key != address:
            raise _problem(f"The body's key “{key}” does not match the address’s “{address}”.")
        return key

    @field_validator("questions", mode="wrap")
    @classmethod
    def _keys_are_distinct(cls, value: Any, handler) -> list:
        return _distinct_keys(value, handler)

    def canonical_questions(self) -> list[dict]:
        """The questions as they are stored and compared: each with its type's fields only."""
        return [question.model_dump() for question in self.questions]


# --- reading -------------------------------------------------------------------------------


def read_question_set(data: object, *, key: str | None = None) -> QuestionSetInput:
    """The PUT body for the set `key` as a document, or QuestionSetInvalid naming every problem.

    A body that names its key must name the set it is sent to.
    """
    if not isinstance(data, dict):
        raise QuestionSetInvalid({"body": ["Send a JSON object with a “questions” list."]})
    try:
        return QuestionSetInput.model_validate(data, context={"key": key})
    except ValidationError as exc:
        raise QuestionSetInvalid(document_errors(exc)) from None


def canonical_questions(questions: object) -> list[dict]:
    """A questions list in canonical form, or QuestionSetInvalid naming every problem."""
    return read_question_set({"questions": questions}).canonical_questions()


def questions_errors(questions: object) -> dict[str, list[str]]:
    """The problems of a questions list by field path; empty when it can be published."""
    try:
        canonical_questions(questions)
    except QuestionSetInvalid as exc:
        return exc.errors
    return {}


_ONE_QUESTION = TypeAdapter(Question)


def valid_question(question: object) -> dict | None:
    """One question in canonical form when it is complete and valid on its own, else None."""
    try:
        return _ONE_QUESTION.validate_python(question).model_dump()
    except ValidationError:
        return None


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
            return loc, f"Unknown field “{name}”."
        if len(loc) > 2 and loc[-3] == "options":
            return loc, f"Unknown field “{name}”; an option has a value and a label."
        return loc, f"Unknown field “{name}”; a question has {', '.join(QUESTION_FIELDS)}."
    if kind == "missing":
        return loc, MISSING.get(name, "is required")
    if kind == "list_type":
        return loc, NO_OPTIONS if name == "options" else QUESTIONS_LIST
    if kind == "too_short":
        if name == "options":
            empty = (error.get("ctx") or {}).get("actual_length") == 0
            return loc, NO_OPTIONS if empty else "Give at least two options to choose from."
        return loc, "A question set needs at least one question."
    if kind == "too_long":
        if name == "options":
            return loc, f"Keep it to {MAX_OPTIONS} options or fewer."
        return loc, f"Keep it to {MAX_QUESTIONS} questions or fewer; short surveys get answered."
    return loc, error["msg"]
