"""Forms of the admin pages. Each POST form carries a `csrf_token` (Flask-WTF)."""

from __future__ import annotations

import math
import re

from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.forms import AppForm, AppSubform, strip
from surveys.models.admin import ROUTING_FIELDS
from surveys.services.question_sets.assignments import MAX_CATEGORY
from surveys.services.question_sets.fields import (
    MAX_NAME,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    TEXT_RULE_PARTS,
)
from surveys.services.settings import SettingError, SettingSpec, clean_setting_value, page_specs
from surveys.services.users.accounts import MIN_PASSWORD_LENGTH
from surveys.services.webhooks_out.events import EVENTS as WEBHOOK_EVENTS
from surveys.validation.numbers import MAX_DATABASE_ID


class CsrfOnlyForm(AppForm):
    """A button that changes something: only the CSRF token (delete, move, deactivate…)."""


# --- the question-set editor -----------------------------------------------------------------

QUESTION_TYPE_CHOICES = [
    SelectChoice("choice", "Choice"),
    SelectChoice("scale", "Scale"),
    SelectChoice("text", "Text"),
]
BLANK_QUESTION = {"key": "", "type": "text", "text": "", "required": False, "negative": None}


class OptionForm(AppSubform):
    value = StringField(
        "Value", filters=[strip], render_kw={"autocapitalize": "none", "spellcheck": "false"}
    )
    label = StringField("Label the customer sees", filters=[strip])
    negative = BooleanField("Negative")


class QuestionForm(AppSubform):
    key = StringField(
        "Key", filters=[strip], render_kw={"autocapitalize": "none", "spellcheck": "false"}
    )
    type = SelectField("Type", choices=QUESTION_TYPE_CHOICES, default="text")
    text = TextAreaField("Question", filters=[strip], render_kw={"rows": 2})
    required = BooleanField("Required")
    # Kept as text so that whatever the admin typed survives a save; the
    # service's validation says what is wrong with it before publishing.
    min = StringField("From", filters=[strip], render_kw={"inputmode": "numeric"})
    max = StringField("To", filters=[strip], render_kw={"inputmode": "numeric"})
    at_most = StringField(
        "Negative at or below", filters=[strip], render_kw={"inputmode": "numeric"}
    )
    options = FieldList(FormField(OptionForm), max_entries=MAX_OPTIONS + 4)
    words = TextAreaField("Negative when it mentions", filters=[strip], render_kw={"rows": 3})
    sentiment_below = StringField(
        "Negative when its tone is below", filters=[strip], render_kw={"inputmode": "decimal"}
    )
    not_empty = BooleanField("Negative whenever it is answered")


class DraftForm(AppForm):
    """The whole draft, posted by every button of the editor."""

    # The draft's revision as the editor wrote it: never negative, and an `integer` column.
    revision = IntegerField(
        "Revision", validators=[InputRequired(), NumberRange(min=0, max=MAX_DATABASE_ID)]
    )
    name = StringField("Name", filters=[strip], validators=[Length(max=MAX_NAME)])
    questions = FieldList(FormField(QuestionForm), max_entries=MAX_QUESTIONS + 5)

    def to_document(self) -> list[dict]:
        """The questions as a document (the API's shape); blank option rows are dropped."""
        return [question_document(entry.form) for entry in self.questions]


def question_document(form: QuestionForm) -> dict:
    """One question of the form in the document's shape, with only its type's fields."""
    kind = form.type.data
    question = {
        "key": form.key.data or "",
        "type": kind,
        "text": form.text.data or "",
        "required": bool(form.required.data),
    }
    if kind == "choice":
        rows = [row.form for row in form.options if (row.form.value.data or row.form.label.data)]
        question["options"] = [
            {"value": row.value.data or "", "label": row.label.data or ""} for row in rows
        ]
        negative = [row.value.data for row in rows if row.negative.data and row.value.data]
        question["negative"] = {"values": negative} if negative else None
    elif kind == "scale":
        question["min"] = _number(form.min.data)
        question["max"] = _number(form.max.data)
        at_most = _number(form.at_most.data)
        question["negative"] = None if at_most in (None, "") else {"at_most": at_most}
    else:
        question["negative"] = _text_rule(form)
    return question


def _text_rule(form: QuestionForm) -> dict | None:
    rule: dict = {}
    words = [word.strip() for word in re.split(r"[,\n]", form.words.data or "") if word.strip()]
    if words:
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


def draft_form_data(document: list[dict], *, name: str, revision: int) -> dict:
    """The editor's form data for a document (plus empty option rows to type into)."""
    return {
        "revision": revision,
        "name": name,
        "questions": [question_form_data(question) for question in document],
    }


def question_form_data(question: dict) -> dict:
    """One question as the editor's form shows it."""
    rule = question.get("negative") or {}
    negative_values = set(rule.get("values") or ())
    options = [
        {
            "value": option.get("value", ""),
            "label": option.get("label", ""),
            "negative": option.get("value") in negative_values,
        }
        for option in question.get("options") or ()
    ]
    # Room for new options without JavaScript: empty rows are ignored on save.
    blanks = 2 if len(options) < 2 else 1
    options += [{"value": "", "label": "", "negative": False}] * blanks
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
        "words": ", ".join(rule.get("words") or ()),
        "sentiment_below": _text(rule.get("sentiment_below")),
        "not_empty": bool(rule.get("not_empty")),
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


QUESTION_FIELD_NAMES = ("key", "type", "text", "required", "min", "max", "options", "negative")


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
            messages = [f"Option {int(parts[3]) + 1}: {m}" for m in messages]
        if field not in QUESTION_FIELD_NAMES:
            field = "other"
        elif field == "negative" and len(parts) > 3 and parts[3] in TEXT_RULE_PARTS:
            # A text rule's part is shown at its own input: "negative.words".
            field = f"negative.{parts[3]}"
        bucket.setdefault(field, []).extend(messages)
    return general, per_question


class NewQuestionSetForm(AppForm):
    key = StringField(
        "Key",
        filters=[strip],
        validators=[DataRequired("Give the set a key, like after-repair.")],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "placeholder": "after-repair"},
    )
    name = StringField(
        "Name",
        filters=[strip],
        validators=[DataRequired("Give the set a name."), Length(max=MAX_NAME)],
    )


class DefaultQuestionSetForm(AppForm):
    # The page also has the category form's `question_set`: each box keeps an id of its own.
    question_set = SelectField(
        "Sent after a purchase", validators=[DataRequired()], id="default_question_set"
    )


class CategoryAssignmentForm(AppForm):
    category = StringField(
        "Item category",
        filters=[strip],
        validators=[DataRequired("Name the item category."), Length(max=MAX_CATEGORY)],
    )
    question_set = SelectField("Question set", validators=[DataRequired()])


class DiscardDraftForm(AppForm):
    revision = HiddenField()


# --- routing ---------------------------------------------------------------------------------

ROUTING_FIELD_LABELS = {
    "category": "Item category is",
    "sku": "SKU is",
    "total_at_least": "Order total is at least",
    "email_domain": "Customer's email domain is",
    "property": "Purchase property equals",
}


class RoutingRuleForm(AppForm):
    field = SelectField(
        "When", choices=[SelectChoice(f, ROUTING_FIELD_LABELS[f]) for f in ROUTING_FIELDS]
    )
    # Only for "Purchase property equals": the property's name, as the purchase gives it.
    property_key = StringField("Property name", filters=[strip], validators=[Length(max=64)])
    value = StringField(
        "Value",
        filters=[strip],
        validators=[DataRequired("Give the value the rule looks for."), Length(max=500)],
    )
    owner_id = SelectField("Cases go to", coerce=int)


class DefaultOwnerForm(AppForm):
    # Shown beside the rule form's `owner_id`: an id of its own ties the label to this box.
    owner_id = SelectField("Default owner", coerce=str, id="default_owner_id")


class RoutingTesterForm(AppForm):
    """A sample purchase; sent with GET, it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    email = EmailField(
        "Customer's email",
        filters=[strip],
        validators=[DataRequired("Give the customer's email."), Length(max=254)],
    )
    category = StringField("Item category", filters=[strip], validators=[Length(max=128)])
    sku = StringField("SKU", filters=[strip], validators=[Length(max=128)])
    total = StringField(
        "Order total",
        filters=[strip],
        validators=[Length(max=20)],
        render_kw={"inputmode": "decimal"},
    )
    property_name = StringField("Property name", filters=[strip], validators=[Length(max=64)])
    property_value = StringField("Property value", filters=[strip], validators=[Length(max=500)])


# --- users -----------------------------------------------------------------------------------


class NewUserForm(AppForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give their name.")])
    email = EmailField(
        "Email", filters=[strip], validators=[DataRequired("Give their email address.")]
    )
    role = SelectField(
        "Role",
        choices=[
            SelectChoice("owner", "Owner: answers the cases they own"),
            SelectChoice("admin", "Admin: also runs these admin pages"),
        ],
    )
    password = PasswordField(
        "First password",
        validators=[DataRequired("Give them a first password.")],
        description=f"At least {MIN_PASSWORD_LENGTH} characters; send it to them privately.",
        render_kw={"autocomplete": "new-password"},
    )


class ResetPasswordForm(AppForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Type the new password.")],
        render_kw={"autocomplete": "new-password"},
    )


# --- settings --------------------------------------------------------------------------------


def _setting_validator(spec: SettingSpec):
    def check(_form, field):
        try:
            clean_setting_value(spec.key, field.data)
        except SettingError as exc:
            raise ValidationError(str(exc)) from None

    return check


# Each kind of setting: the field that edits it, and what a phone's keyboard should offer.
_SETTING_FIELDS = {
    "paragraph": (TextAreaField, {"rows": 4}),
    "time": (
        StringField,
        {"inputmode": "numeric", "placeholder": "HH:MM", "pattern": "[0-2][0-9]:[0-5][0-9]"},
    ),
    "int": (StringField, {"inputmode": "numeric"}),
    "colour": (StringField, {"type": "color"}),
    "email": (
        StringField,
        {"type": "email", "autocapitalize": "none", "spellcheck": "false", "autocomplete": "email"},
    ),
    "time_zone": (
        StringField,
        {"autocapitalize": "none", "spellcheck": "false", "placeholder": "Europe/Madrid"},
    ),
}


def settings_form_class() -> type[AppForm]:
    """A form with one field per setting of the settings page, validated as the service does."""
    fields = {}
    for spec in page_specs():
        field_class, render_kw = _SETTING_FIELDS.get(spec.kind, (StringField, {}))
        fields[spec.key] = field_class(
            spec.label,
            filters=[strip],
            validators=[_setting_validator(spec)],
            description=spec.explanation,
            render_kw=dict(render_kw),
        )
    return type("SettingsForm", (AppForm,), fields)


# --- audit -----------------------------------------------------------------------------------


class AuditFilterForm(AppForm):
    """Filters of the audit log, sent with GET."""

    class Meta:
        csrf = False

    # Any value filters: an action or a person no longer in the log simply matches nothing.
    action = SelectField("Action", validators=[Optional()], validate_choice=False)
    actor = SelectField("Who", validators=[Optional()], validate_choice=False)


# --- webhooks out ----------------------------------------------------------------------------

WEBHOOK_EVENT_LABELS = {
    "response.created": "A customer answered a survey",
    "case.opened": "A negative answer opened a case",
    "case.resolved": "An owner resolved a case (the customer is asked whether the fix worked)",
    "case.closed": "A case closed (the customer confirmed the fix, or did not answer in time)",
    "case.customer_replied": "A customer answered an email about their case",
}


class WebhookEndpointForm(AppForm):
    """A new endpoint; the service checks the URL and the events (`webhook_endpoints`)."""

    url = URLField(
        "URL",
        filters=[strip],
        validators=[DataRequired("Give the URL we should post to.")],
        render_kw={
            "placeholder": "https://example.com/hooks/heart-to-heart",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    events = SelectMultipleField(
        "Events",
        choices=[SelectChoice(event, WEBHOOK_EVENT_LABELS[event]) for event in WEBHOOK_EVENTS],
        default=list(WEBHOOK_EVENTS),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        # Unknown values are the service's to refuse, with its own words.
        validate_choice=False,
    )


# --- API keys ---------------------------------------------------------------------------------


class NewApiKeyForm(AppForm):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            DataRequired("Give the key a name that says who uses it, e.g. “Helpdesk”."),
            Length(max=100, message="At most 100 characters."),
        ],
        description="Who or what uses it, e.g. “Shopify store” or “Helpdesk”.",
    )
    scope = SelectField(
        "Scope",
        choices=[
            SelectChoice("write", "Write (may also read)"),
            SelectChoice("read", "Read only"),
        ],
        default="write",
        description="A read key may only GET; anything that changes data answers 403.",
    )


# --- the words of customer emails ------------------------------------------------------------


class EmailWordsForm(AppForm):
    """The editable words of one customer email; each field checked by the service on save."""

    subject = StringField("Subject", filters=[strip])
    preheader = StringField("Preheader", filters=[strip])
    greeting = StringField("Greeting", filters=[strip])
    paragraphs = TextAreaField("Paragraphs", filters=[strip], render_kw={"rows": 6})
    closing = TextAreaField("After the links", filters=[strip], render_kw={"rows": 3})
