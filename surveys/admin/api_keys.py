"""Admin: API keys: create one (shown once), see each key's scope and last use, revoke."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import NewApiKeyForm
from surveys.auth import acting_user
from surveys.db import db
from surveys.models import ApiKey
from surveys.services.users import api_keys
from surveys.services.users.api_keys import ApiKeyError


def _api_keys_page(
    *, form: NewApiKeyForm | None = None, new_key: tuple[ApiKey, str] | None = None, status=200
):
    response = make_response(
        render_template(
            "admin/list_api_keys.html",
            keys=api_keys.list_api_keys(db.session()),
            form=form or NewApiKeyForm(formdata=None),
            new_key=new_key,
            now=clock.now(),
        ),
        status,
    )
    # The page that shows a new key must not be kept by the browser or any proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api-keys")
def list_api_keys():
    """Every API key with its scope and last use, and the form to create one."""
    return _api_keys_page()


@bp.post("/api-keys")
def create_api_key():
    """Create a key; the raw key is on this response only (never in the session or a flash)."""
    form = NewApiKeyForm()
    if not form.validate():
        return _api_keys_page(form=form, status=422)
    session = db.session()
    try:
        key, raw = api_keys.create_api_key(
            session,
            form.name.data,
            scope=form.scope.data,
            now=clock.now(),
            actor=acting_user(),
        )
    except ApiKeyError as exc:
        session.rollback()
        form.name.errors = [str(exc)]
        return _api_keys_page(form=form, status=422)
    session.commit()
    # Rendered, not redirected: a redirect would have to carry the key in the session.
    return _api_keys_page(new_key=(key, raw))


@bp.post("/api-keys/<int:key_id>/revoke")
def revoke_api_key(key_id: int):
    """Revoke a key: every request with it is refused (401) from the next one on."""
    session = db.session()
    key = session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    if api_keys.revoke_api_key(session, key, now=clock.now(), actor=acting_user()):
        session.commit()
        flash(
            _(
                "Revoked API key “%(name)s” (%(prefix)s…). Requests with it are refused from "
                "now on.",
                name=key.name,
                prefix=key.prefix,
            )
        )
    else:
        flash(
            _(
                "API key “%(name)s” (%(prefix)s…) was already revoked.",
                name=key.name,
                prefix=key.prefix,
            )
        )
    return redirect(url_for(".list_api_keys") + f"#api-key-{key.id}")
