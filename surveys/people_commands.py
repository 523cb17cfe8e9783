"""`flask users create`, `flask api-keys create` (CONTRACT §3)."""

from __future__ import annotations

import click
from flask import Flask

from surveys.db import db
from surveys.services import users
from surveys.services.users import UserError


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
        """Create a login for EMAIL."""
        session = db.session()
        try:
            user = users.create_user(session, email=email, name=name, role=role, password=password)
        except UserError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"Created {user.role} {user.name} <{user.email}>.")

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
