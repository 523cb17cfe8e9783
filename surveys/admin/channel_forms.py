"""The form of /admin/channels (beside `surveys.admin.forms`, which is long enough)."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget, RadioInput

from surveys.forms import AppForm, strip
from surveys.services.chat_channels.events import EVENTS as CHAT_EVENTS
from surveys.services.chat_channels.events import KINDS as CHAT_KINDS
from surveys.services.chat_channels.events import WEEKLY_SUMMARY


class ChatChannelForm(AppForm):
    """A new Slack or Teams channel; the service checks the URL, events and owner (`chat`)."""

    kind = SelectField(
        "Post to",
        choices=[SelectChoice(kind, label) for kind, label in CHAT_KINDS.items()],
        default="slack",
        widget=ListWidget(prefix_label=False),
        option_widget=RadioInput(),
        validate_choice=False,
    )
    url = URLField(
        "Incoming-webhook URL",
        filters=[strip],
        validators=[DataRequired("Paste the incoming-webhook URL Slack or Teams gave you.")],
        render_kw={
            "placeholder": "https://hooks.slack.com/services/…",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    name = StringField(
        "Name (optional)",
        filters=[strip],
        validators=[Length(max=80)],
        render_kw={"placeholder": "#customer-care"},
    )
    events = SelectMultipleField(
        "Events",
        choices=[SelectChoice(event, label) for event, label in CHAT_EVENTS.items()],
        default=[event for event in CHAT_EVENTS if event != WEEKLY_SUMMARY],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    # "" is everyone's cases; the choices are set by the view (active people).
    owner_id = SelectField("Cases of", coerce=str, validate_choice=False)
