"""Alembic environment: runs the migrations on the app's database."""

import os
from logging.config import fileConfig

from alembic import context

from surveys.cli import check_foreign_keys, foreign_keys_off_on_sqlite
from surveys.db import Base, make_engine
from surveys.models import *  # noqa: F403 (every model must be known for autogenerate)

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("DATABASE_URL") or "sqlite:///instance/surveys.db"
    engine = make_engine(url)
    with engine.connect() as connection, foreign_keys_off_on_sqlite(connection):
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `flask --app app db upgrade`.")
run_migrations_online()
