"""Static files at fingerprinted addresses (`/static/app.css?v=<content hash>`), kept a year.

`url_for("static", …)` adds the hash of the file's content, so a changed stylesheet is a new
address: browsers keep each version for a year without asking again (`immutable`) and still
never show an old one. A request without the current hash (an old page, a hand-typed address)
gets the file with the usual revalidation instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, Response, current_app, request

ONE_YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


def _fingerprint(folder: str, filename: str, cache: dict) -> str | None:
    path = Path(folder) / filename
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (filename, stat.st_mtime_ns, stat.st_size)
    if key not in cache:
        cache[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return cache[key]


def static_fingerprint(filename: str) -> str | None:
    """The short content hash of a static file, or None when there is no such file."""
    app = current_app
    cache = app.extensions.setdefault("static_fingerprints", {})
    return _fingerprint(app.static_folder, filename, cache)


def register(app: Flask) -> None:
    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            fingerprint = static_fingerprint(values["filename"])
            if fingerprint:
                values["v"] = fingerprint

    @app.after_request
    def cache_fingerprinted_files(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200:
            # Our files are small: read them into the response, so that it can be compressed
            # (a file passed through is streamed as it is on disk).
            response.direct_passthrough = False
            response.set_data(response.get_data())
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == static_fingerprint(filename):
                response.headers["Cache-Control"] = ONE_YEAR_IMMUTABLE
        return response
