"""Forms of the question-set pages: the draft editor (with each text in other languages), a new
set, and which set follows a purchase. Each POST form carries a `csrf_token` (Flask-WTF)."""

from __future__ import annotations

import math
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
)

from surveys.forms import AppForm, AppSubform, strip
from surveys.services.question_sets.assignments import MAX_CATEGORY
from surveys.services.question_sets.fields import (
    MAX_NAME,
    MAX_OPTIONS,
    MAX_QUESTIONS,
)
from surveys.services.question_sets.text_rules import TEXT_RULE_PARTS
from surveys.validation.numbers import MAX_DATABASE_ID

# --- the question-set editor -----------------------------------------------------------------

QUESTION_TYPE_CHOICES = [
    SelectChoice("choice", _l("Choice")),
    SelectChoice("scale", _l("Scale")),
    SelectChoice("text", _l("Text")),
]
BLANK_QUESTION = {"key": "", "type": "text", "text": "", "required": False, "negative": None}


class LabelTranslationForm(AppSubform):
    """An option's label in one other language."""

    language = HiddenField()
    label = StringField(_l("Label"), filters=[strip], render_kw={"dir": "auto"})


class TextTranslationForm(AppSubform):
    """A question's text, and a written answer's words, in one other language."""

    language = HiddenField()
    text = TextAreaField(_l("Question"), filters=[strip], render_kw={"rows": 2})
    words = TextAreaField(_l("Negative when it mentions"), filters=[strip], render_kw={"rows": 2})


# Every language the editor offers, with room (see translations.editor_languages).
MAX_EDITOR_LANGUAGES = 60


class OptionForm(AppSubform):
    value = StringField(
        _l("Value"),
        filters=[strip],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "dir": "ltr"},
    )
    # Written in the shop's language, whichever way the admin's page reads: "auto" keeps an
    # English text left to right on an Arabic page (and an Arabic one right to left).
    label = StringField(_l("Label the customer sees"), filters=[strip], render_kw={"dir": "auto"})
    negative = BooleanField(_l("Negative"))
    translations = FieldList(FormField(LabelTranslationForm), max_entries=MAX_EDITOR_LANGUAGES)


class QuestionForm(AppSubform):
    key = StringField(
        _l("Key"),
        filters=[strip],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "dir": "ltr"},
    )
    type = SelectField(_l("Type"), choices=QUESTION_TYPE_CHOICES, default="text")
    text = TextAreaField(_l("Question"), filters=[strip], render_kw={"rows": 2, "dir": "auto"})
    required = BooleanField(_l("Required"))
    # Kept as text so that whatever the admin typed survives a save; the
    # service's validation says what is wrong with it before publishing.
    min = StringField(_l("From"), filters=[strip], render_kw={"inputmode": "numeric"})
    max = StringField(_l("To"), filters=[strip], render_kw={"inputmode": "numeric"})
    at_most = StringField(
        _l("Negative at or below"), filters=[strip], render_kw={"inputmode": "numeric"}
    )
    options = FieldList(FormField(OptionForm), max_entries=MAX_OPTIONS + 4)
    words = TextAreaField(
        _l("Negative when it mentions"), filters=[strip], render_kw={"rows": 3, "dir": "auto"}
    )
    sentiment_below = StringField(
        _l("Negative when its tone is below"), filters=[strip], render_kw={"inputmode": "decimal"}
    )
    not_empty = BooleanField(_l("Negative whenever it is answered"))
    translations = FieldList(FormField(TextTranslationForm), max_entries=MAX_EDITOR_LANGUAGES)


class DraftForm(AppForm):
    """The whole draft, posted by every button of the editor."""

    # The draft's revision as the editor wrote it: never negative, and an `integer` column.
    revision = IntegerField(
        _l("Revision"), validators=[InputRequired(), NumberRange(min=0, max=MAX_DATABASE_ID)]
    )
    name = StringField(_l("Name"), filters=[strip], validators=[Length(max=MAX_NAME)])
    questions = FieldList(FormField(QuestionForm), max_entries=MAX_QUESTIONS + 5)

    def to_document(self, default_language: str = "en") -> list[dict]:
        """The questions as a document (the API's shape); blank option rows are dropped, and so
        are blank translations (a language left empty reads the default text)."""
        return [question_document(entry.form, default_language) for entry in self.questions]


def _translations(entries, field: str) -> dict[str, str]:
    texts = {}
    for entry in entries:
        language, text = entry.form.language.data, entry.form[field].data
        if language and text:
            texts[language] = text
    return texts


def question_document(form: QuestionForm, default_language: str = "en") -> dict:
    """One question of the form in the document's shape, with only its type's fields."""
    kind = form.type.data
    question = {
        "key": form.key.data or "",
        "type": kind,
        "text": form.text.data or "",
        "required": bool(form.required.data),
    }
    translations = _translations(form.translations, "text")
    if translations:
        question["translations"] = translations
    if kind == "choice":
        rows = [row.form for row in form.options if (row.form.value.data or row.form.label.data)]
        question["options"] = []
        for row in rows:
            option = {"value": row.value.data or "", "label": row.label.data or ""}
            labels = _translations(row.translations, "label")
            if labels:
                option["translations"] = labels
            question["options"].append(option)
        negative = [row.value.data for row in rows if row.negative.data and row.value.data]
        question["negative"] = {"values": negative} if negative else None
    elif kind == "scale":
        question["min"] = _number(form.min.data)
        question["max"] = _number(form.max.data)
        at_most = _number(form.at_most.data)
        question["negative"] = None if at_most in (None, "") else {"at_most": at_most}
    else:
        question["negative"] = _text_rule(form, default_language)
    return question


def _word_list(text: str | None) -> list[str]:
    return [word.strip() for word in re.split(r"[,\n]", text or "") if word.strip()]


def _text_rule(form: QuestionForm, default_language: str) -> dict | None:
    rule: dict = {}
    words = _word_list(form.words.data)
    per_language = {
        entry.form.language.data: _word_list(entry.form.words.data)
        for entry in form.translations
        if entry.form.language.data and _word_list(entry.form.words.data)
    }
    if per_language:
        # Lists per language; the default field is the default language's list.
        rule["words"] = ({default_language: words} if words else {}) | per_language
    elif words:
        rule["words"] = words
    threshold = _decimal(form.sentiment_below.data)
    if threshold is not None:
        rule["sentiment_below"] = threshold
    if form.not_empty.data:
        rule["not_empty"] = True
    return rule or None


def _decimal(text: str | None) -> float | str | None:
    """A number when the text is one ("-0,4", "−0.4"); else the text, kept (JSON has no NaN)."""
    try:
        number = float(text.replace("−", "-").replace(",", ".")) if text else None
    except ValueError:
        return text
    return text if number is not None and not math.isfinite(number) else number


def _number(text: str | None) -> int | str | None:
    """A whole number when the text is one; otherwise the text itself, kept for the admin."""
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        return text


def draft_form_data(
    document: list[dict],
    *,
    name: str,
    revision: int,
    languages: list[str] = (),
    default_language: str = "en",
) -> dict:
    """The editor's form data for a document (plus empty option rows to type into), with a
    text per language of `languages` for each question and option."""
    return {
        "revision": revision,
        "name": name,
        "questions": [
            question_form_data(question, languages, default_language) for question in document
        ],
    }


def _texts(item: dict) -> dict:
    texts = item.get("translations")
    return texts if isinstance(texts, dict) else {}


def _words_in(rule: dict) -> tuple[list, dict]:
    """A rule's words as (the default field's list, lists by other language)."""
    words = rule.get("words") or []
    if isinstance(words, dict):
        return [], words
    return (words if isinstance(words, list) else []), {}


def question_form_data(
    question: dict, languages: list[str] = (), default_language: str = "en"
) -> dict:
    """One question as the editor's form shows it."""
    rule = question.get("negative") or {}
    negative_values = set(rule.get("values") or ())
    default_words, words_by_language = _words_in(rule)
    if words_by_language:
        default_words = words_by_language.get(default_language) or []
    options = [
        {
            "value": option.get("value", ""),
            "label": option.get("label", ""),
            "negative": option.get("value") in negative_values,
            "translations": [
                {"language": tag, "label": _texts(option).get(tag, "")} for tag in languages
            ],
        }
        for option in question.get("options") or ()
    ]
    # Room for new options without JavaScript: empty rows are ignored on save.
    blanks = 2 if len(options) < 2 else 1
    blank_translations = [{"language": tag, "label": ""} for tag in languages]
    options += [
        {"value": "", "label": "", "negative": False, "translations": blank_translations}
    ] * blanks
    is_scale = question.get("type") == "scale"
    return {
        "key": question.get("key", ""),
        "type": question.get("type") or "text",
        "text": question.get("text", ""),
        "required": bool(question.get("required")),
        "min": _text(question.get("min")) if is_scale else "0",
        "max": _text(question.get("max")) if is_scale else "10",
        "at_most": _text(rule.get("at_most")),
        "options": options,
        "words": ", ".join(default_words),
        "sentiment_below": _text(rule.get("sentiment_below")),
        "not_empty": bool(rule.get("not_empty")),
        "translations": [
            {
                "language": tag,
                "text": _texts(question).get(tag, ""),
                "words": ", ".join(words_by_language.get(tag) or ()),
            }
            for tag in languages
        ],
    }


def _text(value) -> str:
    return "" if value is None else str(value)


def apply_editor_action(document: list[dict], action: str) -> list[dict]:
    """The document after the editor's button: add, remove, or move a question up or down."""
    document = list(document)
    verb, _, index_text = action.partition("-")
    if verb == "add":
        return [*document, dict(BLANK_QUESTION)]
    # str.isdigit() would take "²", which int() refuses.
    if not index_text.isascii() or not index_text.isdigit() or len(index_text) > 4:
        return document
    index = int(index_text)
    if index >= len(document):
        return document
    if verb == "remove":
        del document[index]
    elif verb == "up" and index > 0:
        document[index - 1], document[index] = document[index], document[index - 1]
    elif verb == "down" and index < len(document) - 1:
        document[index + 1], document[index] = document[index], document[index + 1]
    return document


QUESTION_FIELD_NAMES = (
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


def group_question_errors(
    errors: dict[str, list[str]], count: int
) -> tuple[list[str], list[dict[str, list[str]]]]:
    """Split the service's errors by dotted path into the set's own and each question's.

    Option errors (`questions.0.options.1.label`) are shown with their question's options,
    as "Option 2: …".
    """
    general: list[str] = []
    per_question: list[dict[str, list[str]]] = [{} for _ in range(count)]
    for path, messages in errors.items():
        parts = path.split(".")
        if (
            parts[0] != "questions"
            or len(parts) < 2
            or not parts[1].isdigit()
            or int(parts[1]) >= count
        ):
            general.extend(messages)
            continue
        bucket = per_question[int(parts[1])]
        field = parts[2] if len(parts) > 2 else "other"
        if field == "options" and len(parts) > 3 and parts[3].isdigit():
            messages = [
                _("Option %(number)s: %(message)s", number=int(parts[3]) + 1, message=m)
                for m in messages
            ]
        if field not in QUESTION_FIELD_NAMES:
            field = "other"
        elif field == "negative" and len(parts) > 3 and parts[3] in TEXT_RULE_PARTS:
            # A text rule's part is shown at its own input: "negative.words".
            field = f"negative.{parts[3]}"
        bucket.setdefault(field, []).extend(messages)
    return general, per_question


class NewQuestionSetForm(AppForm):
    key = StringField(
        _l("Key"),
        filters=[strip],
        validators=[DataRequired(_l("Give the set a key, like after-repair."))],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "placeholder": "after-repair"},
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Give the set a name.")), Length(max=MAX_NAME)],
    )


class DefaultQuestionSetForm(AppForm):
    # The page also has the category form's `question_set`: each box keeps an id of its own.
    question_set = SelectField(
        _l("Sent after a purchase"), validators=[DataRequired()], id="default_question_set"
    )


class CategoryAssignmentForm(AppForm):
    category = StringField(
        _l("Item category"),
        filters=[strip],
        validators=[DataRequired(_l("Name the item category.")), Length(max=MAX_CATEGORY)],
    )
    question_set = SelectField(_l("Question set"), validators=[DataRequired()])


class DiscardDraftForm(AppForm):
    revision = HiddenField()
