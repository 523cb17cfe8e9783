"""Configuration from the environment and a `.env` file; README's *Configuration* lists it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import limits
from dotenv import load_dotenv

# The checkout's top folder: templates/, static/, migrations/ and the default instance/ live there.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Requests per API key, as AskNicely allows: room for a sync job, not for a flood.
DEFAULT_API_RATE_LIMIT = "200 per 10 seconds"


def load_secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY, generating it once into the instance folder when unset.

    Keeping it on disk means sessions and CSRF tokens survive a restart without
    anybody having to invent a key before the first `make run`.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: if two processes start at once, the first writer wins and the
    # other reads what it wrote, so both use the same key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def config_from_environment(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    load_dotenv(override=False)
    env = os.environ
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or load_secret_key(instance_path),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'surveys.db'}",
        "BASE_URL": (env.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_FROM": env.get("MAIL_FROM") or "surveys@localhost",
        "SENDGRID_API_KEY": env.get("SENDGRID_API_KEY") or None,
        "SENDGRID_API_HOST": (env.get("SENDGRID_API_HOST") or "https://api.sendgrid.com").rstrip(
            "/"
        ),
        "SENDGRID_TIMEOUT_SECONDS": float(env.get("SENDGRID_TIMEOUT_SECONDS") or 10),
        "MAIL_OUTBOX_DIR": env.get("MAIL_OUTBOX_DIR") or str(instance_path / "outbox"),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": env.get("SENDGRID_WEBHOOK_PUBLIC_KEY") or None,
        "SHOPIFY_WEBHOOK_SECRET": env.get("SHOPIFY_WEBHOOK_SECRET") or None,
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,
        # Replies by email (README's *Replies by email*): the domain whose MX is SendGrid's
        # Inbound Parse, and the Basic-auth password in the URL it posts to.
        "INBOUND_DOMAIN": inbound_domain(env.get("INBOUND_DOMAIN")),
        "INBOUND_PARSE_PASSWORD": env.get("INBOUND_PARSE_PASSWORD") or None,
        # Where the login throttle counts failed attempts (Flask-Limiter reads this key).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        # Requests per API key to /api/v1 and /v1 together (README's *Rate limits*).
        "API_RATE_LIMIT": api_rate_limit(env.get("API_RATE_LIMIT")),
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        # Slack and Teams channels may post to any http(s) URL, not only Slack's and
        # Microsoft's hosts: for tests and a local stand-in, never for a real installation.
        "CHAT_WEBHOOKS_ANY_HOST": env.get("CHAT_WEBHOOKS_ANY_HOST", "").lower()
        in ("1", "true", "yes"),
        # API bodies larger than 1 MiB answer 413.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }


def api_rate_limit(value: str | None) -> str:
    """API_RATE_LIMIT as Flask-Limiter reads it ("200 per 10 seconds"), checked at start."""
    value = (value or "").strip() or DEFAULT_API_RATE_LIMIT
    try:
        limits.parse(value)
    except ValueError:
        raise ValueError(f"API_RATE_LIMIT must read like '200 per 10 seconds': {value!r}") from None
    return value


def inbound_domain(value: str | None) -> str | None:
    """INBOUND_DOMAIN as addresses are compared: lower case, without a stray `@` or dot."""
    domain = (value or "").strip().strip("@.").lower()
    if not domain:
        return None
    if any(char.isspace() or char in "@/<>," for char in domain) or "." not in domain:
        raise ValueError(
            f"INBOUND_DOMAIN must be a domain name such as reply.shop.example: {value!r}"
        )
    return domain


def https_settings(base_url: str) -> dict:
    """Settings that follow from serving the site over HTTPS (BASE_URL's scheme).

    Cookies then travel over HTTPS only. Over plain http (`make run`) a Secure cookie
    would never come back, so nobody could log in.
    """
    https = base_url.startswith("https://")
    return {
        "SESSION_COOKIE_SECURE": https,
        # Flask-Login's "remember me" cookie: not offered today, secured all the same.
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
    }
