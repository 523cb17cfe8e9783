"""Errors: RFC 9457 problem documents for the API, friendly pages for people."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE_BASE = "https://hearttoheart.dev/problems/"


class ApiProblem(Exception):
    """Raised anywhere under an API view to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        type_: str | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.type = type_


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: dict[str, list[str]] | None = None,
    type_: str | None = None,
) -> Response:
    """A problem document (application/problem+json) with the given status."""
    body: dict = {
        "type": PROBLEM_TYPE_BASE + (type_ or _slug(title)),
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _slug(title: str) -> str:
    return "-".join(title.lower().replace("'", "").split())


def wants_problem_json() -> bool:
    """API and machine-facing paths answer JSON; people's pages answer HTML."""
    path = request.path
    return path.startswith(("/api/", "/v1/", "/webhooks/"))


def register(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def handle_api_problem(exc: ApiProblem):
        return problem_response(
            exc.status, exc.title, exc.detail, errors=exc.errors, type_=exc.type
        )

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        if wants_problem_json():
            return problem_response(400, "Missing or invalid CSRF token", exc.description)
        return render_template(
            "errors/error.html",
            code=400,
            title="This form has expired",
            message="Please go back, reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        if wants_problem_json():
            detail = {
                404: "There is nothing at this address.",
                405: "This method is not allowed here.",
                413: "The request body is larger than 1 MiB.",
                415: "Send the body as JSON with Content-Type: application/json.",
            }.get(exc.code, exc.description)
            response = problem_response(exc.code or 500, exc.name, detail)
        else:
            page = render_template(
                "errors/error.html", code=exc.code, title=exc.name, message=_friendly_message(exc)
            )
            response = make_response(page, exc.code)
        return with_exception_headers(response, exc)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if wants_problem_json():
            return problem_response(
                500,
                "Internal Server Error",
                "Something went wrong on our side; nothing was changed.",
            )
        message = "Something went wrong on our side. Please try again in a moment."
        return render_template(
            "errors/error.html", code=500, title="Something went wrong", message=message
        ), 500


def with_exception_headers(response: Response, exc: HTTPException) -> Response:
    """The response with the headers werkzeug gave the exception (its Content-Type aside).

    They are part of the answer: `Allow` on 405 (RFC 9110 requires it), `Retry-After`
    on 429 and 503, `WWW-Authenticate` on 401 when the exception carries one.
    """
    headers = [
        (name, value)
        for name, value in exc.get_headers(request.environ)
        if name.lower() != "content-type"
    ]
    for name in dict.fromkeys(name for name, _value in headers):
        response.headers.setlist(name, [value for other, value in headers if other == name])
    return response


def _friendly_message(exc: HTTPException) -> str:
    return {
        403: "You do not have access to this page.",
        404: "We could not find this page. The link may be mistyped.",
        410: "This link has expired.",
    }.get(exc.code, exc.description or "")
