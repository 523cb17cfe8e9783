"""Fixtures: every database test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

How the databases are laid out
- Per backend and test session, one *template* database is migrated once
  (`flask db upgrade`, the real migrations, default question sets included).
- `app` (the usual fixture) works on a copy of the template and wraps each test
  in one outer transaction that is rolled back afterwards; the code under test
  commits into savepoints and never notices.
- `committed_app` gives a test its own fresh copy of the template with real
  commits, for what needs several connections or processes: concurrent posts,
  worker processes, a live server driven by a browser.

On SQLite a test under `app` must do all its database work through the app's
sessions (or `session`): they share the test's one connection, and a second
connection would wait for that connection's write lock until it times out.

Time: the `clock` fixture installs a FrozenClock on the app; move it with
`clock.advance(hours=5)`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from surveys import create_app
from surveys.catalogs import compile_catalogs
from surveys.cli import upgrade_database
from surveys.clock import FrozenClock

# Fixtures of the fake outside world, available to every test module.
pytest_plugins = [
    "tests.fake_sendgrid",
    "tests.fake_webhook_receiver",
    "tests.browser",
    "tests.gunicorn_server",
]

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _postgres_url() -> str | None:
    if not TEST_DATABASE_URL:
        return None
    url = make_url(TEST_DATABASE_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def pytest_configure(config):
    # The compiled catalogs are not in git: make them, as `make test` does, for a bare pytest.
    compile_catalogs()
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")
    config.addinivalue_line(
        "markers", "postgresql: runs on PostgreSQL only (a fault SQLite cannot have)"
    )
    # A warning from SQLAlchemy is a bug in our mapping or queries: fail on it.
    config.addinivalue_line("filterwarnings", "error::sqlalchemy.exc.SAWarning")
    if REQUIRE_POSTGRES and not TEST_DATABASE_URL:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")


def pytest_generate_tests(metafunc):
    # Every test that touches the database runs once per backend.
    if "backend" in metafunc.fixturenames:
        only_postgresql = metafunc.definition.get_closest_marker("postgresql") is not None
        backends = ["postgresql"] if only_postgresql else ["sqlite", "postgresql"]
        metafunc.parametrize("backend", backends, scope="session")


# --- databases ---------------------------------------------------------------


class PostgresServer:
    """Creates and drops throw-away databases on the test PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)

    def _admin_connection(self):
        return psycopg.connect(
            host=self.url.host or "127.0.0.1",
            port=self.url.port or 5432,
            user=self.url.username or "postgres",
            password=self.url.password,
            dbname=self.url.database or "postgres",
            autocommit=True,
        )

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self._admin_connection() as conn:
            if template:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TemplateDatabase:
    """A migrated database from which each test's database is copied."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.prefix = f"h2h_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        if backend == "postgresql":
            url = _postgres_url()
            if url is None:
                pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
            self.server = PostgresServer(url)
            try:
                self.template_url = self._create_postgres(f"{self.prefix}_template")
            except psycopg.OperationalError as exc:
                if REQUIRE_POSTGRES:
                    pytest.exit(f"PostgreSQL is required but unreachable: {exc}", returncode=3)
                pytest.skip(f"PostgreSQL unreachable: {exc}")
        else:
            self.template_path = workdir / "template.db"
            self.template_url = f"sqlite:///{self.template_path}"
        self._migrate(self.template_url)

    def _create_postgres(self, name: str, template: str | None = None) -> str:
        url = self.server.create(name, template)
        self.created.append(name)
        return url

    def _migrate(self, url: str) -> None:
        app = create_app({"DATABASE_URL": url}, instance_path=str(self.workdir / "migrate"))
        with app.app_context():
            upgrade_database()
            app.extensions["db"]["engine"].dispose()

    def copy(self) -> str:
        """A new database with the template's content; returns its URL."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        if self.backend == "postgresql":
            return self._create_postgres(name, f"{self.prefix}_template")
        path = self.workdir / f"{name}.db"
        shutil.copyfile(self.template_path, path)
        return f"sqlite:///{path}"

    def renew(self, url: str) -> None:
        """Make the database at `url` (one `copy` made) the template's content again."""
        if self.backend == "postgresql":
            name = make_url(url).database
            self.server.drop(name)
            self.server.create(name, f"{self.prefix}_template")
            return
        path = Path(make_url(url).database)
        for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(self.template_path, path)

    def drop_all(self) -> None:
        if self.backend == "postgresql":
            for name in reversed(self.created):
                self.server.drop(name)


@pytest.fixture(scope="session")
def template_database(backend, tmp_path_factory) -> Iterator[TemplateDatabase]:
    template = TemplateDatabase(backend, tmp_path_factory.mktemp(f"db-{backend}"))
    yield template
    template.drop_all()


def make_test_app(database_url: str, instance_path: Path, **overrides):
    """An app on the given database, mail written to files under the instance folder."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://surveys.test",
        "MAIL_FROM": "Heart to Heart <surveys@shop.test>",
        "SENDGRID_API_KEY": None,
        "MAIL_OUTBOX_DIR": str(instance_path / "outbox"),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": None,
        "SHOPIFY_WEBHOOK_SECRET": None,
        "STRIPE_WEBHOOK_SECRET": None,
        # Each test has its own answers: themes read them afresh (test_themes turns it on).
        "THEMES_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return create_app(config, instance_path=str(instance_path))


# --- apps --------------------------------------------------------------------


@pytest.fixture(scope="session")
def _session_app(template_database, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = make_test_app(template_database.copy(), instance)
    yield app
    app.extensions["db"]["engine"].dispose()


@contextmanager
def _restored_afterwards(app):
    """What a test may change on a shared app (its configuration, clock, the failed logins
    counted in memory, the mail written) is as it was when the test ends."""
    saved_config = dict(app.config)
    saved_clock = app.extensions["clock"]
    try:
        yield app
    finally:
        shutil.rmtree(app.config["MAIL_OUTBOX_DIR"], ignore_errors=True)
        app.config.clear()
        app.config.update(saved_config)
        app.extensions["clock"] = saved_clock
        for limiter in app.extensions.get("limiter", ()):
            limiter.reset()


@pytest.fixture
def app(_session_app):
    """The app, with this test's database work rolled back when it ends."""
    app = _session_app
    engine = app.extensions["db"]["engine"]
    factory = app.extensions["db"]["sessionmaker"]
    connection = engine.connect()
    outer = connection.begin()
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    with _restored_afterwards(app):
        try:
            yield app
        finally:
            factory.configure(bind=engine, join_transaction_mode="conservative_savepoint")
            outer.rollback()
            connection.close()


@pytest.fixture(scope="session")
def _committed_session_app(template_database, tmp_path_factory):
    # Building an app costs a third of a second (werkzeug compiles every route), so the tests
    # with real commits share one, and each gets the template's content afresh instead.
    instance = tmp_path_factory.mktemp("committed-instance")
    app = make_test_app(template_database.copy(), instance)
    yield app
    app.extensions["db"]["engine"].dispose()


@pytest.fixture
def committed_app(_committed_session_app, template_database, tmp_path):
    """An app on a database of its own where commits are real (several connections see them):
    the database is a fresh copy of the template, and the mail goes under this test's tmp_path."""
    app = _committed_session_app
    engine = app.extensions["db"]["engine"]
    engine.dispose()
    template_database.renew(app.config["DATABASE_URL"])
    with _restored_afterwards(app):
        app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "instance" / "outbox")
        try:
            yield app
        finally:
            engine.dispose()


@pytest.fixture
def session(app):
    """A session of the test's own, on the same transaction as the app's code.

    It is not the session a request uses (each request opens and closes its
    own, so a view that forgets to commit is caught). `client` and `runner`
    expire it after every call, so what the test reads next is fresh.
    """
    test_session = app.extensions["db"]["sessionmaker"]()
    yield test_session
    test_session.close()


class _ExpiringClient(FlaskClient):
    """A test client that makes the test's session re-read rows after each request."""

    test_session = None

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if self.test_session is not None:
            self.test_session.expire_all()
        return response


@pytest.fixture
def client(app, session):
    app.test_client_class = _ExpiringClient
    test_client = app.test_client()
    test_client.test_session = session
    return test_client


@pytest.fixture
def runner(app, session):
    cli_runner = app.test_cli_runner()
    original_invoke = cli_runner.invoke

    def invoke(*args, **kwargs):
        result = original_invoke(*args, **kwargs)
        session.expire_all()
        return result

    cli_runner.invoke = invoke
    return cli_runner


@pytest.fixture
def admin(session):
    """An admin, committed, for tests of admin pages."""
    from tests.factories import make_user

    user = make_user(session, role="admin", name="Ada Admin")
    session.commit()
    return user


@pytest.fixture
def admin_client(client, admin):
    """The test client, logged in as `admin` through the login form."""
    from tests.web import log_in

    log_in(client, admin)
    return client


TEST_START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(app) -> FrozenClock:
    """Freeze the app's time at Monday 2026-11-23 09:00 UTC; move it by hand."""
    frozen = FrozenClock(TEST_START)
    app.extensions["clock"] = frozen
    return frozen


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests keep screenshots and other artifacts (kept after the run)."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
