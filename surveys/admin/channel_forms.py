"""The form of /admin/channels (beside `surveys.admin.forms`, which is long enough)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget, RadioInput

from surveys.forms import AppForm, strip
from surveys.services.chat_channels.events import EVENT_NAMES, WEEKLY_SUMMARY
from surveys.services.chat_channels.events import EVENTS as CHAT_EVENTS
from surveys.services.chat_channels.events import KINDS as CHAT_KINDS


class ChatChannelForm(AppForm):
    """A new Slack or Teams channel; the service checks the URL, events and owner (`chat`)."""

    kind = SelectField(
        _l("Post to"),
        choices=[SelectChoice(kind, label) for kind, label in CHAT_KINDS.items()],
        default="slack",
        widget=ListWidget(prefix_label=False),
        option_widget=RadioInput(),
        validate_choice=False,
    )
    url = URLField(
        _l("Incoming-webhook URL"),
        filters=[strip],
        validators=[DataRequired(_l("Paste the incoming-webhook URL Slack or Teams gave you."))],
        render_kw={
            "placeholder": "https://hooks.slack.com/services/…",
            # A URL reads left to right, also on a right-to-left page.
            "dir": "ltr",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    name = StringField(
        _l("Name (optional)"),
        filters=[strip],
        validators=[Length(max=80)],
        render_kw={"placeholder": "#customer-care"},
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=[SelectChoice(event, label) for event, label in CHAT_EVENTS.items()],
        default=[event for event in CHAT_EVENTS if event != WEEKLY_SUMMARY],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    # "" is everyone's cases; the choices are set by the view (active people).
    owner_id = SelectField(_l("Cases of"), coerce=str, validate_choice=False)


def event_list(events: list[str]) -> str:
    """The events a channel posts, as its card lists them in the reader's words ("negative
    answers, cases opened"), the words a test message uses in the shop's."""
    return ", ".join(str(EVENT_NAMES.get(event, event)) for event in events)
