"""`flask users create`, `flask api-keys create` (CONTRACT §3)."""

from __future__ import annotations

import click
from flask import Flask

from surveys import clock
from surveys.db import db
from surveys.services import users
from surveys.services.cases import count_waiting_cases
from surveys.services.users import UserError

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
        """Keys for the HTTP API."""

    @api_keys_group.command("create")
    @click.argument("name")
    def create_api_key(name: str):
        """Create an API key called NAME and print it (the only time it is shown)."""
        session = db.session()
        try:
            key, raw = users.create_api_key(session, name)
        except UserError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(
            f"Created API key “{key.name}”. Copy it now: it is stored only as a hash"
            " and cannot be shown again."
        )
        click.echo(raw)
