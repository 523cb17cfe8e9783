"""A question set as a document: the one description of what may be published.

The API's `PUT /api/v1/question-sets/<key>` reads its body with `read_question_set`,
the admin editor checks its drafts with `questions_errors` and publishes through
`canonical_questions`, and /api/v1/openapi.json describes the same pydantic models, so
the rules are written once. A question is a choice, a scale or a text question, each
with only its own fields; errors name the field by its dotted path
(`questions.2.options`, `questions.0.negative`) in words an admin can act on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from surveys.services.question_sets.fields import (
    MAX_NAME,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_SCALE_POINTS,
    QUESTION_SHAPE,
    QUESTIONS_LIST,
    SET_KEY_PATTERN,
    TYPE_MESSAGE,
    TYPES,
    ChoiceRule,
    DocumentModel,
    NoBound,
    NoOptions,
    Option,
    QuestionKey,
    QuestionText,
    QuestionTranslations,
    Required,
    ScaleBound,
    ScaleRule,
    document_errors,
    error_at,
    error_details,
    read_choice_rule,
    read_scale_rule,
    refusal,
    unstorable_message,
    without_empty_translations,
)
from surveys.services.question_sets.text_rules import TextRule, read_text_rule
from surveys.validation.text import text_pattern, unstorable_text_reason


class QuestionSetInvalid(ValueError):
    """The document does not make a publishable set; `errors` maps a field path to messages.

    Paths are dotted, as everywhere in the API: `questions.2.options`, `questions.0.negative`.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


# --- the three kinds of question ------------------------------------------------------------


class _Question(DocumentModel):
    key: QuestionKey
    text: QuestionText = Field(
        description="The question as the customer reads it, in the shop's default language."
    )
    translations: QuestionTranslations = Field(default_factory=dict)
    required: Required = False

    @model_serializer(mode="wrap")
    def _translated_only(self, handler) -> dict:
        return without_empty_translations(handler(self))


class ChoiceQuestion(_Question):
    """One answer out of two to twelve options."""

    type: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=MAX_OPTIONS)
    negative: Annotated[ChoiceRule | None, BeforeValidator(read_choice_rule)] = Field(
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
                raise error_at(
                    (index, "value"),
                    _("Another option already has the value “%(value)s”.", value=option.value),
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
            raise error_at(
                ("negative",),
                _(
                    "These are not values of this question's options: %(values)s.",
                    values=", ".join(unknown),
                ),
                self.negative.values,
            )
        if set(self.negative.values) >= set(known):
            raise error_at(
                ("negative",),
                _(
                    "If every answer is negative, the question cannot tell anything; leave at "
                    "least one answer out of the rule."
                ),
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
    negative: Annotated[ScaleRule | None, BeforeValidator(read_scale_rule)] = Field(
        None, description="Answers at most this are negative; null for never."
    )
    options: NoOptions = None

    @model_validator(mode="after")
    def _a_scale_that_fits(self) -> ScaleQuestion:
        if self.min >= self.max:
            raise error_at(("max",), _("The maximum must be above the minimum."), self.max)
        if self.max - self.min + 1 > MAX_SCALE_POINTS:
            raise error_at(
                ("max",),
                _(
                    "A scale has at most %(num)s points (0 to 10), so it fits a phone.",
                    num=MAX_SCALE_POINTS,
                ),
                self.max,
            )
        if self.negative is not None and not self.min <= self.negative.at_most < self.max:
            raise error_at(
                ("negative",),
                _(
                    "“at most” must be from %(low)s to %(high)s, so that some answers are not "
                    "negative.",
                    low=self.min,
                    high=self.max - 1,
                ),
                self.negative.at_most,
            )
        return self


class TextQuestion(_Question):
    """Free text, negative when its words say so (a sentiment, listed words, any answer)."""

    type: Literal["text"]
    negative: Annotated[TextRule | None, BeforeValidator(read_text_rule)] = Field(
        None,
        description="When a written answer is negative (any part that matches is enough), "
        "or null for never.",
    )
    options: NoOptions = None
    min: NoBound = None
    max: NoBound = None


class _AnyTypeOfQuestion(_Question):
    """The fields every question has, to name their problems when its type is unknown."""

    model_config = ConfigDict(extra="ignore")


def _a_question(value: Any) -> Any:
    if not isinstance(value, dict):
        raise refusal(QUESTION_SHAPE)
    if value.get("type") not in TYPES:
        errors = [InitErrorDetails(type=refusal(TYPE_MESSAGE), loc=("type",), input=None)]
        try:
            _AnyTypeOfQuestion.model_validate(value)
        except ValidationError as exc:
            errors += error_details(exc)
        raise ValidationError.from_exception_data("question", errors)
    return value


Question = Annotated[
    ChoiceQuestion | ScaleQuestion | TextQuestion,
    Field(discriminator="type"),
    BeforeValidator(_a_question),
]


def _questions_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise refusal(QUESTIONS_LIST)
    return value


def _distinct_keys(value: Any, handler) -> list:
    """Every question's own errors, and each key used a second time, in one refusal."""
    errors: list[InitErrorDetails] = []
    questions = None
    try:
        questions = handler(value)
    except ValidationError as exc:
        errors = error_details(exc)
    seen: set[str] = set()
    for index, question in enumerate(value if isinstance(value, list) else ()):
        key = question.get("key") if isinstance(question, dict) else None
        key = key.strip() if isinstance(key, str) else None
        if not key:
            continue
        if key in seen:
            errors.append(
                InitErrorDetails(
                    type=refusal(_("Another question already uses the key “%(key)s”.", key=key)),
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
        raise refusal(_("Give the set a name people will recognise."))
    reason = unstorable_text_reason(value, multiline=False)
    if reason:
        raise refusal(unstorable_message("name", reason))
    value = value.strip()
    if len(value) > MAX_NAME:
        raise refusal(_("Keep the name to %(num)s characters.", num=MAX_NAME))
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
            raise refusal(
                _(
                    "The body's key “%(key)s” does not match the address’s “%(address)s”.",
                    key=key,
                    address=address,
                )
            )
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
        raise QuestionSetInvalid({"body": [_("Send a JSON object with a “questions” list.")]})
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
