"""Heart to Heart: post-purchase relationship surveys whose negative answers reach one owner."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from surveys.clock import SystemClock
from surveys.config import PROJECT_ROOT, config_from_environment, https_settings


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, commands."""
    app = Flask(
        __name__,
        instance_path=instance_path or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(config_from_environment(Path(app.instance_path)))
    app.config.update(overrides or {})
    app.config.update(https_settings(app.config["BASE_URL"]))

    register_proxy(app)
    register_logging(app)
    register_extensions(app)
    register_url_converters(app)
    register_rate_limiter(app)
    register_blueprints(app)
    register_throttles(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    # Compression's hook is registered first so that it runs last, after the static files'.
    register_compression(app)
    register_static_files(app)
    return app


def register_proxy(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    # Behind N reverse proxies the client's own address and scheme arrive in
    # X-Forwarded-For/-Proto; without TRUSTED_PROXIES those headers are ignored, so
    # nobody can dodge the login throttle by sending them.
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_logging(app: Flask) -> None:
    from surveys.log_masking import register

    register(app)


def register_extensions(app: Flask) -> None:
    from surveys.auth import csrf, login_manager
    from surveys.db import db

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.extensions.setdefault("clock", SystemClock())
    register_languages(app)


def register_languages(app: Flask) -> None:
    from surveys.i18n import register

    register(app)


def register_url_converters(app: Flask) -> None:
    # Before the blueprints: a rule takes its converters when it is added.
    from surveys.url_converters import register

    register(app)


def register_blueprints(app: Flask) -> None:
    from surveys.admin.routes import bp as admin_bp
    from surveys.api.routes import bp as api_bp
    from surveys.auth import csrf
    from surveys.brand.views import bp as brand_bp
    from surveys.delighted.routes import bp as delighted_bp
    from surveys.inbox.routes import bp as inbox_bp
    from surveys.public.views import bp as public_bp
    from surveys.webhooks.views import bp as webhooks_bp

    # The API authenticates with a bearer key and webhooks with signatures;
    # neither carries a session cookie, so CSRF does not apply to them.
    csrf.exempt(api_bp)
    csrf.exempt(webhooks_bp)
    csrf.exempt(delighted_bp)  # Basic auth, no cookie: like the API
    app.register_blueprint(public_bp)
    app.register_blueprint(brand_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(delighted_bp)


def register_rate_limiter(app: Flask) -> None:
    # Before the blueprints: its check runs before their request hooks, so a request past the
    # API's rate limit is refused before its key is even looked up.
    from surveys import throttle

    throttle.init_app(app)


def register_throttles(app: Flask) -> None:
    from surveys import throttle
    from surveys.api.routes import bp as api_bp
    from surveys.delighted.routes import bp as delighted_bp
    from surveys.inbox.account import show_login_throttled

    limiter = throttle.limiter_of(app)
    throttle.throttle_login_attempts(app, limiter, "inbox.login", on_breach=show_login_throttled)
    throttle.limit_api_requests(app, limiter, [api_bp, delighted_bp])


def register_errorhandlers(app: Flask) -> None:
    from surveys.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from surveys.cli import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from surveys.security_headers import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from surveys.templating import register

    register(app)


def register_static_files(app: Flask) -> None:
    from surveys.static_files import register

    register(app)


def register_compression(app: Flask) -> None:
    from flask_compress import Compress

    # Text answers travel compressed (gzip or Brotli, whichever the client accepts), so a
    # survey page and its stylesheet weigh a few kilobytes on a phone. Streamed answers (the
    # CSV exports) are left as they are: each chunk goes out as soon as it is read.
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        [
            "text/html",
            "text/css",
            "text/plain",
            "text/csv",
            "text/xml",
            "application/json",
            "application/problem+json",
            "image/svg+xml",
        ],
    )
    Compress(app)
