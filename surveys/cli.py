"""Command-line interface (`flask --app app …`; README's *Command line*)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask
from sqlalchemy.engine import Connection

from surveys.config import PROJECT_ROOT
from surveys.db import db


def alembic_config() -> AlembicConfig:
    config = AlembicConfig(str(Path(PROJECT_ROOT) / "migrations" / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_database() -> None:
    """Apply every migration to the app's database."""
    config = alembic_config()
    with db.engine.connect() as connection, foreign_keys_off_on_sqlite(connection):
        with connection.begin():
            config.attributes["connection"] = connection
            alembic_command.upgrade(config, "head")


@contextmanager
def foreign_keys_off_on_sqlite(connection: Connection) -> Iterator[None]:
    """Run migrations on SQLite with its foreign keys off, then check them; elsewhere, just run.

    SQLite alters a column by copying the table and dropping the old one
    (Alembic's batch mode), and with foreign keys on, dropping a table that
    other rows point at fails. SQLite's own procedure for schema changes: turn
    them off outside the transaction, and check them before the transaction
    commits. Use with a connection that has not begun a transaction.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection  # autocommit: the pragma applies at once
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def check_foreign_keys(connection: Connection) -> None:
    """On SQLite, refuse to commit a migration that left a row pointing at nothing."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


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
    from surveys.delighted_import import commands as delighted_commands
    from surveys.mail import commands as mail_commands

    return [people_commands, mail_commands, demo, data_commands, delighted_commands]
