"""The database: declarative base, one engine per app, one session per app context."""

from __future__ import annotations

import functools
import sqlite3
import time
from datetime import UTC, datetime

import psycopg
import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone and PostgreSQL's `timestamptz` returns the session's
    zone; normalising here means every comparison in the services is between
    aware UTC datetimes on both databases.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """Create the engine, with SQLite set up to behave under several processes."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    # A server that does not answer at all (a dropped route, a firewall) would
    # otherwise hold each request for minutes before it could say so.
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 5}
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
    )


# Connection exceptions (class 08) and the server shutting down or starting up.
UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_unreachable(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached, not that it refused a statement.

    A connection that broke mid-request (closed, reset, the server shut down)
    is one SQLAlchemy invalidated; a connection that could not be made at all
    (refused, unknown host, timed out) is psycopg's OperationalError with no
    SQLSTATE, since no server answered. Deadlocks, timeouts of a statement or
    constraint violations carry a SQLSTATE of their own and are not outages.
    """
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None:
        return isinstance(original, psycopg.OperationalError)
    return sqlstate.startswith(UNREACHABLE_SQLSTATES)


def database_error_summary(error: BaseException) -> str:
    """The driver's own first line ("connection failed: … Connection refused"), for one log line."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _configure_sqlite(engine: Engine) -> None:
    # The web app and the worker share one file. WAL lets readers go on while
    # one writes, and BEGIN IMMEDIATE takes the write lock up front, so a
    # transaction that reads and then writes waits its turn instead of failing
    # with "database is locked" halfway through.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        _begin_immediate(connection.connection.driver_connection)


SQLITE_LOCK_TIMEOUT_SECONDS = 30.0
SQLITE_LOCK_POLL_SECONDS = 0.0005


def _begin_immediate(raw_connection) -> None:
    """Take SQLite's write lock, waiting in short steps while another process holds it.

    SQLite's own busy handler sleeps longer and longer (up to 100 ms a try) while
    the lock is taken, so under steady contention processes doze while the lock
    sits free. Polling in half-millisecond steps hands the lock on promptly.
    """
    deadline = time.monotonic() + SQLITE_LOCK_TIMEOUT_SECONDS
    raw_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(SQLITE_LOCK_POLL_SECONDS)
    finally:
        raw_connection.execute("PRAGMA busy_timeout=30000")


def insert_row(session: Session, model, values: dict, *, unless_exists: str | None = None):
    """Insert one row in one plain statement; return it as a persistent ORM object.

    For the paths every purchase takes: the unit of work, and the ORM reading
    a RETURNING row back, cost several times the INSERT itself. `values` must
    give every column without a scalar default; the object is built from them
    and the new id, so reading its columns needs no query (relationships still
    load when touched) and later changes to it flush as usual. With
    `unless_exists` (a unique column), a row already holding that value makes
    this insert nothing and return None; under concurrency the database makes
    the second inserter wait for the first and then skip, so neither fails.
    """
    table = model.__table__
    statement = _insert_statement(session.get_bind().dialect.name, table, unless_exists)
    new_id = session.execute(statement, values).scalar_one_or_none()
    if new_id is None:
        return None
    row = model(id=new_id, **_with_column_defaults(table, values))
    make_transient_to_detached(row)  # as if just loaded: no pending changes
    session.add(row)
    return row


@functools.cache
def _insert_statement(dialect_name: str, table: sa.Table, unless_exists: str | None):
    # Built once per table: the values travel as parameters.
    if unless_exists is None:
        statement = table.insert()
    else:
        dialect_insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
        statement = dialect_insert(table).on_conflict_do_nothing(index_elements=[unless_exists])
    return statement.returning(table.c.id)


def _with_column_defaults(table: sa.Table, values: dict) -> dict:
    """Every column's value as the INSERT stored it: given, else its scalar default, else NULL."""
    complete = dict(values)
    for column in table.columns:
        if column.key in complete or column.primary_key:
            continue
        default = column.default
        if default is not None and not default.is_scalar:
            raise ValueError(f"insert_row needs a value for {table.name}.{column.key}")
        complete[column.key] = default.arg if default is not None else None
    return complete


class Database:
    """Holds the app's engine and session factory; `db.session()` is per app context."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["db"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
        }
        app.teardown_appcontext(_close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db"]["engine"]

    @property
    def sessionmaker(self) -> sessionmaker:
        return current_app.extensions["db"]["sessionmaker"]

    def session(self) -> Session:
        """The session of the current app context (a request, a CLI command)."""
        if "db_session" not in g:
            g.db_session = self.sessionmaker()
        return g.db_session


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


db = Database()
