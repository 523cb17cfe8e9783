"""Links that leave the app (emails, API permalinks): built from the routes and BASE_URL."""

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` with `values`: BASE_URL, then the route's path.

    Works with or without a request (the worker has none), and never follows
    the host a request came in on: a link in an email must point at BASE_URL.
    BASE_URL is kept as written, a path in it too (`https://x.example/feedback`,
    the app behind a proxy under a prefix).
    """
    # The path alone, from the URL map: url_for outside a request needs
    # SERVER_NAME (which would also change how requests are matched), and an
    # external build would rewrite BASE_URL's host (lower case, IDNA).
    path = current_app.url_map.bind("localhost", script_name="/").build(endpoint, values)
    return current_app.config["BASE_URL"] + path
