"""Throttling with Flask-Limiter: failed logins, and requests to the APIs per API key.

Only failed attempts count, per account (the email tried) and per client address:
- per account, 5 a minute and 30 an hour: room for a person fumbling their password, while a
  guesser gets 30 tries an hour, not thousands. Anyone can use up an account's allowance, so
  the windows stay short: the owner waits a minute, not a day.
- per address, 20 in 5 minutes: one address trying many accounts is stopped early, while an
  office behind one address has room for everyone's typos.
A successful login counts for nothing, and failures on one account never block another except
through the shared address limit.

The APIs (/api/v1 and the Delighted-compatible /v1) share one limit per API key,
API_RATE_LIMIT (200 requests per 10 seconds unless configured, as AskNicely allows): past
it, 429 with `Retry-After`, and every answer says where the caller stands in
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds).
Delighted's clients wait `Retry-After` and try again on their own. A request without a key
counts against its address.

Counts live in RATELIMIT_STORAGE_URI: memory by default (each process counts apart), Redis
when several web processes must share them.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_limiter import Limiter, RequestLimit

from surveys.auth import presented_api_key
from surveys.errors import ApiProblem, api_problem_response

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
    app.extensions["throttle_limiter"] = limiter
    return limiter


def limiter_of(app: Flask) -> Limiter:
    """The limiter init_app gave the app."""
    return app.extensions["throttle_limiter"]


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


def limit_api_requests(app: Flask, limiter: Limiter, blueprints: list[Blueprint]) -> None:
    """One limit per API key across these blueprints, with its headers on every answer."""
    api_limit = limiter.shared_limit(
        lambda: current_app.config["API_RATE_LIMIT"],
        scope="api",
        key_func=api_key_key,
        on_breach=_answer_rate_limited,
    )
    for blueprint in blueprints:
        api_limit(blueprint)
    names = {blueprint.name for blueprint in blueprints}

    @app.after_request
    def tell_where_the_caller_stands(response: Response) -> Response:
        limit = limiter.current_limit if request.blueprint in names else None
        if limit is not None:
            response.headers["X-RateLimit-Limit"] = str(limit.limit.amount)
            response.headers["X-RateLimit-Remaining"] = str(max(0, limit.remaining))
            response.headers["X-RateLimit-Reset"] = str(limit.reset_at)
        return response


def _answer_rate_limited(limit: RequestLimit) -> Response:
    """429 in the caller's API's own error shape, with `Retry-After`."""
    wait = retry_after_seconds(limit)
    response = api_problem_response(
        ApiProblem(
            429,
            "Too Many Requests",
            f"More than {limit.limit.amount} requests in {limit.limit.get_expiry()} seconds "
            f"with this API key. Send it again in {wait} seconds.",
            type_="rate-limited",
        )
    )
    response.headers["Retry-After"] = str(wait)
    return response


def api_key_key() -> str:
    # The key itself is never kept, only part of its hash (a fixed length, nothing to steal).
    raw = presented_api_key()
    if not raw:
        return address_key()
    return "api-key:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


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
