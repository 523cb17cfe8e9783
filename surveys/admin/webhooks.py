"""Admin: webhooks out: endpoints, their events and secrets, test pings, recent deliveries."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import WEBHOOK_EVENT_LABELS, WebhookEndpointForm
from surveys.auth import acting_user
from surveys.db import db
from surveys.models import WebhookEndpoint
from surveys.services.webhooks_out import endpoints as webhook_endpoints
from surveys.services.webhooks_out.endpoints import WebhookEndpointError
from surveys.services.webhooks_out.events import WEBHOOK_KIND


def _webhooks_page(
    *,
    form: WebhookEndpointForm | None = None,
    new_secret: tuple[WebhookEndpoint, str] | None = None,
    status: int = 200,
):
    return render_template(
        "admin/list_webhook_endpoints.html",
        endpoints=webhook_endpoints.list_endpoints(db.session()),
        form=form or WebhookEndpointForm(formdata=None),
        event_labels=WEBHOOK_EVENT_LABELS,
        new_secret=new_secret,
        now=clock.now(),
    ), status


@bp.get("/webhooks")
def list_webhook_endpoints():
    """The endpoints with their latest deliveries, and the form to add one."""
    return _webhooks_page()


@bp.post("/webhooks")
def create_webhook_endpoint():
    """Register a URL for the chosen events; its signing secret is shown this once."""
    form = WebhookEndpointForm()
    if not form.validate():
        return _webhooks_page(form=form, status=422)
    session = db.session()
    try:
        endpoint = webhook_endpoints.create_endpoint(
            session,
            url=form.url.data,
            events=form.events.data,
            actor=acting_user(),
            now=clock.now(),
        )
    except WebhookEndpointError as exc:
        session.rollback()
        getattr(form, exc.field or "url").errors = [str(exc)]
        return _webhooks_page(form=form, status=422)
    session.commit()
    # Rendered, not redirected: the secret must not travel in a flash cookie.
    return _webhooks_page(new_secret=(endpoint, endpoint.secret))


@bp.post("/webhooks/<int:endpoint_id>/pause")
def pause_webhook_endpoint(endpoint_id: int):
    """Stop sending events to the endpoint; what is queued waits until it is resumed."""
    return _switch_endpoint(
        endpoint_id,
        webhook_endpoints.pause_endpoint,
        _l("Paused %(url)s. Nothing is sent to it until you resume it."),
    )


@bp.post("/webhooks/<int:endpoint_id>/resume")
def resume_webhook_endpoint(endpoint_id: int):
    """Send events to the endpoint again, starting with what waited."""
    return _switch_endpoint(
        endpoint_id,
        webhook_endpoints.resume_endpoint,
        _l("Resumed %(url)s. What waited goes on the worker's next pass."),
    )


def _switch_endpoint(endpoint_id: int, switch, done):
    session = db.session()
    endpoint = _endpoint_or_404(endpoint_id)
    switch(session, endpoint, actor=acting_user(), now=clock.now())
    session.commit()
    flash(done % {"url": endpoint.url})
    return _back_to(endpoint)


@bp.post("/webhooks/<int:endpoint_id>/ping")
def ping_webhook_endpoint(endpoint_id: int):
    """Queue a signed test `ping` to the endpoint."""
    session = db.session()
    endpoint = _endpoint_or_404(endpoint_id)
    try:
        message = webhook_endpoints.send_ping(
            session, endpoint, actor=acting_user(), now=clock.now()
        )
    except WebhookEndpointError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _back_to(endpoint)
    session.commit()
    flash(
        _(
            "Ping %(id)s is on its way: the worker sends it within seconds. Reload this "
            "page to see how the endpoint answered.",
            id=message.id,
        )
    )
    return _back_to(endpoint)


@bp.post("/webhooks/<int:endpoint_id>/secret")
def rotate_webhook_secret(endpoint_id: int):
    """Give the endpoint a new signing secret, shown this once; the old one stops at once."""
    session = db.session()
    endpoint = _endpoint_or_404(endpoint_id)
    secret = webhook_endpoints.rotate_secret(
        session, endpoint, actor=acting_user(), now=clock.now()
    )
    session.commit()
    return _webhooks_page(new_secret=(endpoint, secret))


@bp.post("/webhooks/<int:endpoint_id>/delete")
def delete_webhook_endpoint(endpoint_id: int):
    """Remove the endpoint; what it has not received yet is cancelled."""
    session = db.session()
    endpoint = _endpoint_or_404(endpoint_id)
    url = endpoint.url
    cancelled = webhook_endpoints.delete_endpoint(
        session, endpoint, actor=acting_user(), now=clock.now()
    )
    session.commit()
    if cancelled:
        flash(
            ngettext(
                "Deleted %(url)s. %(num)d undelivered event was cancelled.",
                "Deleted %(url)s. %(num)d undelivered events were cancelled.",
                cancelled,
                url=url,
            )
        )
    else:
        flash(_("Deleted %(url)s.", url=url))
    return redirect(url_for(".list_webhook_endpoints"))


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session().get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.kind != WEBHOOK_KIND:
        abort(404)  # Slack and Teams channels are changed on their own page
    return endpoint


def _back_to(endpoint: WebhookEndpoint):
    return redirect(url_for(".list_webhook_endpoints") + f"#endpoint-{endpoint.id}")
