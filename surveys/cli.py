"""Command-line interface (`flask --app app …`, CONTRACT §3)."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask

from surveys import PROJECT_ROOT
from surveys.db import db


def alembic_config() -> AlembicConfig:
    config = AlembicConfig(str(Path(PROJECT_ROOT) / "migrations" / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_database() -> None:
    """Apply every migration to the app's database."""
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        alembic_command.upgrade(config, "head")


def register(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """The database schema."""

    @db_group.command("upgrade")
    def db_upgrade():
        """Apply the migrations (and seed the default question sets on an empty database)."""
        upgrade_database()
        click.echo("Database is up to date.")

    for module in _command_modules():
        module.register_commands(app)


def _command_modules():
    """Feature packages that add their own commands."""
    from surveys import data_commands, demo, people_commands
    from surveys.mail import commands as mail_commands

    return [people_commands, mail_commands, demo, data_commands]
