"""Forms of the admin pages. Each POST form carries a `csrf_token` (Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
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
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.forms import AppForm, strip
from surveys.languages import language_choices
from surveys.models.admin import ROUTING_FIELDS
from surveys.services.settings import SettingError, SettingSpec, clean_setting_value, page_specs
from surveys.services.users.accounts import MIN_PASSWORD_LENGTH
from surveys.services.webhooks_out.events import EVENTS as WEBHOOK_EVENTS


class CsrfOnlyForm(AppForm):
    """A button that changes something: only the CSRF token (delete, move, deactivate…)."""


# --- routing ---------------------------------------------------------------------------------

ROUTING_FIELD_LABELS = {
    "category": _l("Item category is"),
    "sku": _l("SKU is"),
    "total_at_least": _l("Order total is at least"),
    "email_domain": _l("Customer's email domain is"),
    "property": _l("Purchase property equals"),
}


class RoutingRuleForm(AppForm):
    field = SelectField(
        _l("When"), choices=[SelectChoice(f, ROUTING_FIELD_LABELS[f]) for f in ROUTING_FIELDS]
    )
    # Only for "Purchase property equals": the property's name, as the purchase gives it.
    property_key = StringField(_l("Property name"), filters=[strip], validators=[Length(max=64)])
    value = StringField(
        _l("Value"),
        filters=[strip],
        validators=[DataRequired(_l("Give the value the rule looks for.")), Length(max=500)],
    )
    owner_id = SelectField(_l("Cases go to"), coerce=int)


class DefaultOwnerForm(AppForm):
    # Shown beside the rule form's `owner_id`: an id of its own ties the label to this box.
    owner_id = SelectField(_l("Default owner"), coerce=str, id="default_owner_id")


class RoutingTesterForm(AppForm):
    """A sample purchase; sent with GET, it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    email = EmailField(
        _l("Customer's email"),
        filters=[strip],
        validators=[DataRequired(_l("Give the customer's email.")), Length(max=254)],
    )
    category = StringField(_l("Item category"), filters=[strip], validators=[Length(max=128)])
    sku = StringField(_l("SKU"), filters=[strip], validators=[Length(max=128)])
    total = StringField(
        _l("Order total"),
        filters=[strip],
        validators=[Length(max=20)],
        render_kw={"inputmode": "decimal"},
    )
    property_name = StringField(_l("Property name"), filters=[strip], validators=[Length(max=64)])
    property_value = StringField(
        _l("Property value"), filters=[strip], validators=[Length(max=500)]
    )


# --- users -----------------------------------------------------------------------------------


class NewUserForm(AppForm):
    name = StringField(
        _l("Name"), filters=[strip], validators=[DataRequired(_l("Give their name."))]
    )
    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Give their email address."))],
        render_kw={"dir": "ltr"},
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("owner", _l("Owner: answers the cases they own")),
            SelectChoice("admin", _l("Admin: also runs these admin pages")),
        ],
    )
    password = PasswordField(
        _l("First password"),
        validators=[DataRequired(_l("Give them a first password."))],
        description=_l(
            "At least %(num)d characters; send it to them privately.", num=MIN_PASSWORD_LENGTH
        ),
        render_kw={"autocomplete": "new-password"},
    )


class ResetPasswordForm(AppForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Type the new password."))],
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
    "https_url": (
        URLField,
        {
            "autocapitalize": "none",
            "spellcheck": "false",
            "placeholder": "https://www.trustpilot.com/review/shop.example",
        },
    ),
}


def settings_form_class() -> type[AppForm]:
    """A form with one field per setting of the settings page, validated as the service does."""
    fields = {}
    for spec in page_specs():
        if spec.kind == "language":
            fields[spec.key] = SelectField(
                spec.label,
                choices=[SelectChoice(code, name) for code, name in language_choices()],
                validators=[_setting_validator(spec)],
                validate_choice=False,
                description=spec.explanation,
            )
            continue
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
    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    actor = SelectField(_l("Who"), validators=[Optional()], validate_choice=False)


# --- webhooks out ----------------------------------------------------------------------------

WEBHOOK_EVENT_LABELS = {
    "response.created": _l("A customer answered a survey"),
    "case.opened": _l("A negative answer opened a case"),
    "case.resolved": _l("An owner resolved a case (the customer is asked whether the fix worked)"),
    "case.closed": _l("A case closed (the customer confirmed the fix, or did not answer in time)"),
    "case.customer_replied": _l("A customer answered an email about their case"),
}


class WebhookEndpointForm(AppForm):
    """A new endpoint; the service checks the URL and the events (`webhook_endpoints`)."""

    url = URLField(
        _l("URL"),
        filters=[strip],
        validators=[DataRequired(_l("Give the URL we should post to."))],
        render_kw={
            "placeholder": "https://example.com/hooks/heart-to-heart",
            # A URL reads left to right, also on a right-to-left page.
            "dir": "ltr",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    events = SelectMultipleField(
        _l("Events"),
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
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the key a name that says who uses it, e.g. “Helpdesk”.")),
            Length(max=100, message=_l("At most 100 characters.")),
        ],
        description=_l("Who or what uses it, e.g. “Shopify store” or “Helpdesk”."),
    )
    scope = SelectField(
        _l("Scope"),
        choices=[
            SelectChoice("write", _l("Write (may also read)")),
            SelectChoice("read", _l("Read only")),
        ],
        default="write",
        description=_l("A read key may only GET; anything that changes data answers 403."),
    )


# --- the words of customer emails ------------------------------------------------------------


class EmailWordsForm(AppForm):
    """The editable words of one customer email; each field checked by the service on save."""

    subject = StringField(_l("Subject"), filters=[strip])
    preheader = StringField(_l("Preheader"), filters=[strip])
    greeting = StringField(_l("Greeting"), filters=[strip])
    paragraphs = TextAreaField(_l("Paragraphs"), filters=[strip], render_kw={"rows": 6})
    closing = TextAreaField(_l("After the links"), filters=[strip], render_kw={"rows": 3})
