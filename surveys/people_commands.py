"""`flask users create`, `flask api-keys create|list|revoke`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask

from surveys import clock
from surveys.db import db
from surveys.models.users import API_KEY_SCOPES
from surveys.services.cases.queries import count_waiting_cases
from surveys.services.users import accounts as users
from surveys.services.users import api_keys
from surveys.services.users.accounts import UserError
from surveys.services.users.api_keys import ApiKeyError

# What to do about cases nobody could own: the same advice wherever it is shown.
WAITING_ADVICE = (
    "They go to the first admin you create (flask --app app users create EMAIL --role admin), "
    "or to the default owner an admin chooses on /admin/routing."
)


def warn_about_waiting_cases(count: int) -> None:
    """Say on stderr how many cases wait for an owner, and how they get one (nothing if none)."""
    if count:
        click.secho(
            f"Warning: {count} {_cases(count)} {_wait(count)} for an owner: customers answered "
            f"unhappily and nobody has been told yet. {WAITING_ADVICE}",
            fg="yellow",
            err=True,
        )


def _cases(count: int) -> str:
    return "case" if count == 1 else "cases"


def _wait(count: int) -> str:
    return "waits" if count == 1 else "wait"


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def register_commands(app: Flask) -> None:
    @app.cli.group("users")
    def users_group():
        """People who log in (admins and owners)."""

    @users_group.command("create")
    @click.argument("email")
    @click.option("--name", default="", help="The person's name, as customers see it.")
    @click.option(
        "--role",
        default="",
        metavar="admin|owner",
        help="admin: every case and the admin pages; owner: their own cases.",
    )
    # Prompted for when left out, so it need not end up in the shell's history.
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters.",
    )
    def create_user(email: str, name: str, role: str, password: str):
        """Create a login for EMAIL (cases waiting for an owner go to a new admin at once)."""
        session = db.session()
        waiting_before = count_waiting_cases(session)
        try:
            user = users.create_user(
                session, email=email, name=name, role=role, password=password, now=clock.now()
            )
        except UserError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"Created {user.role} {user.name} <{user.email}>.")
        still_waiting = count_waiting_cases(session)
        if waiting_before > still_waiting:
            given = waiting_before - still_waiting
            click.echo(
                f"{given} {_cases(given)} waiting for an owner now {_have(given)} one, "
                "who was emailed about each."
            )
        warn_about_waiting_cases(still_waiting)

    @app.cli.group("api-keys")
    def api_keys_group():
        """Keys for the HTTP API: create, list, revoke."""

    @api_keys_group.command("create")
    @click.argument("name")
    @click.option(
        "--scope",
        type=click.Choice(API_KEY_SCOPES),
        default="write",
        show_default=True,
        help="read: only GET requests; write: everything (includes read).",
    )
    def create_api_key(name: str, scope: str):
        """Create an API key called NAME and print it (the only time it is shown)."""
        session = db.session()
        try:
            key, raw = api_keys.create_api_key(session, name, scope=scope, now=clock.now())
        except ApiKeyError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(
            f"Created API key “{key.name}” ({key.scope}). Copy it now: it is stored only as a"
            " hash and cannot be shown again."
        )
        click.echo(raw)

    @api_keys_group.command("list")
    def list_api_keys():
        """List every API key: name, prefix, scope, created, last use, revoked."""
        keys = api_keys.list_api_keys(db.session())
        if not keys:
            click.echo("No API keys yet. Create one with `flask --app app api-keys create NAME`.")
            return
        rows = [("NAME", "PREFIX", "SCOPE", "CREATED", "LAST USE", "REVOKED")] + [
            (
                key.name,
                f"{key.prefix}…",
                key.scope,
                _when(key.created_at),
                _when(key.last_used_at, "never"),
                _when(key.revoked_at, "no"),
            )
            for key in keys
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            click.echo(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )

    @api_keys_group.command("revoke")
    @click.argument("name_or_prefix", metavar="NAME|PREFIX")
    def revoke_api_key(name_or_prefix: str):
        """Revoke the key with this name or prefix; it is refused from its next request on."""
        session = db.session()
        try:
            key = api_keys.find_one_api_key(session, name_or_prefix)
        except ApiKeyError as exc:
            raise click.ClickException(str(exc)) from None
        if not api_keys.revoke_api_key(session, key, now=clock.now()):
            click.echo(f"{api_keys.describe(key)} was already revoked on {_when(key.revoked_at)}.")
            return
        session.commit()
        click.echo(f"Revoked {api_keys.describe(key)}. Requests with it are refused from now on.")


def _when(moment: datetime | None, absent: str = "") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else absent
