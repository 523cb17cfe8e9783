"""Admin: Slack and Microsoft Teams channels: add, test message, pause, resume, delete."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from wtforms import SelectChoice

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.channel_forms import ChatChannelForm, event_list
from surveys.auth import acting_user
from surveys.db import db
from surveys.models import User, WebhookEndpoint
from surveys.services.chat_channels import channels as chat
from surveys.services.webhooks_out.endpoints import WebhookEndpointError


def _form(*, submitted: bool) -> ChatChannelForm:
    form = ChatChannelForm() if submitted else ChatChannelForm(formdata=None)
    people = db.session().scalars(
        select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    )
    form.owner_id.choices = [SelectChoice("", _("Everyone's cases"))] + [
        SelectChoice(str(person.id), _("%(name)s's cases", name=person.name)) for person in people
    ]
    return form


def _channels_page(*, form: ChatChannelForm | None = None, status: int = 200):
    return render_template(
        "admin/list_chat_channels.html",
        channels=chat.list_channels(db.session()),
        form=form or _form(submitted=False),
        kinds=chat.KINDS,
        event_labels=chat.EVENTS,
        event_list=event_list,
        masked_url=chat.masked_url,
        now=clock.now(),
    ), status


@bp.get("/channels")
def list_chat_channels():
    """The Slack and Teams channels with their latest messages, and the form to add one."""
    return _channels_page()


@bp.post("/channels")
def create_chat_channel():
    """Add a channel by its incoming-webhook URL, for the chosen events and owner."""
    form = _form(submitted=True)
    if not form.validate():
        return _channels_page(form=form, status=422)
    session = db.session()
    owner_id = form.owner_id.data or ""
    try:
        channel = chat.create_channel(
            session,
            kind=form.kind.data,
            url=form.url.data,
            events=form.events.data,
            name=form.name.data,
            owner_id=owner_id,
            actor=acting_user(),
            now=clock.now(),
            any_host=bool(current_app.config.get("CHAT_WEBHOOKS_ANY_HOST")),
        )
    except WebhookEndpointError as exc:
        session.rollback()
        getattr(form, exc.field or "url").errors = [str(exc)]
        return _channels_page(form=form, status=422)
    session.commit()
    flash(
        _(
            "Added the %(service)s channel %(name)s. Send it a test message to see that it "
            "arrives.",
            **_named(channel),
        )
    )
    return _back_to(channel)


@bp.post("/channels/<int:channel_id>/test")
def test_chat_channel(channel_id: int):
    """Queue a test message to the channel."""
    session = db.session()
    channel = _channel_or_404(channel_id)
    try:
        message = chat.send_test_message(session, channel, actor=acting_user(), now=clock.now())
    except WebhookEndpointError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _back_to(channel)
    session.commit()
    flash(
        _(
            "Test message %(id)s is on its way: the worker sends it within seconds. "
            "Reload this page to see how the channel answered.",
            id=message.id,
        )
    )
    return _back_to(channel)


@bp.post("/channels/<int:channel_id>/pause")
def pause_chat_channel(channel_id: int):
    """Post nothing to the channel until it is resumed."""
    return _switch(channel_id, chat.pause_channel, PAUSED)


@bp.post("/channels/<int:channel_id>/resume")
def resume_chat_channel(channel_id: int):
    """Post to the channel again, starting with what waited."""
    return _switch(channel_id, chat.resume_channel, RESUMED)


PAUSED = _l("Paused the %(service)s channel %(name)s.")
RESUMED = _l(
    "Resumed the %(service)s channel %(name)s. What waited goes on the worker's next pass."
)


def _switch(channel_id: int, switch, done):
    session = db.session()
    channel = _channel_or_404(channel_id)
    switch(session, channel, actor=acting_user(), now=clock.now())
    session.commit()
    flash(done % _named(channel))
    return _back_to(channel)


@bp.post("/channels/<int:channel_id>/delete")
def delete_chat_channel(channel_id: int):
    """Remove the channel; what it has not received is cancelled."""
    session = db.session()
    channel = _channel_or_404(channel_id)
    named = _named(channel)
    cancelled = chat.delete_channel(session, channel, actor=acting_user(), now=clock.now())
    session.commit()
    if cancelled:
        flash(
            ngettext(
                "Deleted the %(service)s channel %(name)s. %(num)d unsent message was cancelled.",
                "Deleted the %(service)s channel %(name)s. %(num)d unsent messages were cancelled.",
                cancelled,
                **named,
            )
        )
    else:
        flash(_("Deleted the %(service)s channel %(name)s.", **named))
    return redirect(url_for(".list_chat_channels"))


def _named(channel: WebhookEndpoint) -> dict[str, str]:
    """How a flash names the channel, "the Slack channel #care", as the audit log does
    (`chat.label`), with its parts apart so that each language orders them its own way."""
    return {
        "service": chat.KINDS.get(channel.kind, channel.kind),
        "name": channel.name or str(channel.id),
    }


def _channel_or_404(channel_id: int) -> WebhookEndpoint:
    channel = db.session().get(WebhookEndpoint, channel_id)
    if channel is None or not chat.is_chat(channel):
        abort(404)
    return channel


def _back_to(channel: WebhookEndpoint):
    return redirect(url_for(".list_chat_channels") + f"#channel-{channel.id}")
