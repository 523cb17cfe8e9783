"""Throttling with Flask-Limiter: failed logins today; the API's limits will join them here.

Only failed attempts count, per account (the email tried) and per client address:
- per account, 5 a minute and 30 an hour: room for a person fumbling their password, while a
  guesser gets 30 tries an hour, not thousands. Anyone can use up an account's allowance, so
  the windows stay short: the owner waits a minute, not a day.
- per address, 20 in 5 minutes: one address trying many accounts is stopped early, while an
  office behind one address has room for everyone's typos.
A successful login counts for nothing, and failures on one account never block another except
through the shared address limit. Counts live in RATELIMIT_STORAGE_URI: memory by default
(each process counts apart), Redis when several web processes must share them.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RequestLimit

ACCOUNT_LIMITS = "5 per minute; 30 per hour"
ADDRESS_LIMITS = "20 per 5 minutes"


def init_app(app: Flask) -> Limiter:
    """Give the app its own limiter (its storage lives on the instance, one per app)."""
    limiter = Limiter(
        key_func=client_address,
        # Nothing is limited unless a view says so; API limits will be declared per route.
        default_limits=[],
        application_limits=[],
        # Counts the attempts of the last minute, hour…, not since the clock's last full minute:
        # a fixed window would allow twice the limit across a boundary.
        strategy="moving-window",
        # If Redis goes away, keep counting in this process rather than refuse every login.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)
    return limiter


def throttle_login_attempts(app: Flask, limiter: Limiter, view_endpoint: str, on_breach) -> None:
    """Wrap the login view with the per-account and per-address limits on failed attempts.

    `on_breach(limit)` answers a throttled attempt (the login form again, with 429).
    """

    def answer_throttled(limit: RequestLimit) -> Response:
        current_app.logger.warning(
            "Login throttled for %r from %s (%s)",
            submitted_email(),
            client_address(),
            limit.limit,
        )
        return on_breach(limit)

    common = {
        "methods": ["POST"],
        "deduct_when": _attempt_failed,
        "on_breach": answer_throttled,
    }
    view = app.view_functions[view_endpoint]
    view = limiter.limit(ADDRESS_LIMITS, key_func=address_key, **common)(view)
    view = limiter.limit(ACCOUNT_LIMITS, key_func=account_key, **common)(view)
    app.view_functions[view_endpoint] = view


def record_failed_login(email: str | None) -> None:
    """Count this request against the account and the address, and log it (never the password)."""
    g.failed_login = True
    current_app.logger.warning("Failed login for %r from %s", email, client_address())


def retry_after_seconds(limit: RequestLimit) -> int:
    """Whole seconds until the oldest counted failure leaves the window (at least 1)."""
    return max(1, math.ceil(limit.window.reset_time - time.time()))


def client_address() -> str:
    # With TRUSTED_PROXIES set, ProxyFix has already put the client's own address here.
    return request.remote_addr or "unknown"


def submitted_email() -> str:
    return request.form.get("email", "")


def address_key() -> str:
    return f"address:{client_address()}"


def account_key() -> str:
    # The address as typed, normalised like the lookup in users.authenticate, then hashed:
    # a fixed-length key, and no addresses in Redis.
    email = submitted_email().strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _attempt_failed(response: Response) -> bool:
    return bool(g.get("failed_login"))
