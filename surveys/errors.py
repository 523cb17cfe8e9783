"""Errors: RFC 9457 problem documents for the API, friendly pages for people."""

from __future__ import annotations

import flask_babel
from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from surveys.db import database_error_summary, database_unreachable
from surveys.languages import FALLBACK

PROBLEM_TYPE_BASE = "https://hearttoheart.dev/problems/"
# While the database cannot be reached, clients are asked to come back after this
# long: most outages are a restart or a fail-over, over in well under a minute.
DATABASE_RETRY_AFTER_SECONDS = 30


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
    extensions: dict | None = None,
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
    body.update(extensions or {})
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


def is_delighted_path() -> bool:
    """Whether the request is for the Delighted-compatible endpoints (/v1), routed or not."""
    return request.path == "/v1" or request.path.startswith("/v1/")


def delighted_error_response(
    status: int, detail: str | None = None, errors: dict[str, list[str]] | None = None
) -> Response:
    """An error in Delighted's shape: status, message (the reason phrase), errors by field.

    Served as `application/json`, so an integration's existing error handling keeps
    working; `detail` adds a sentence for people.
    """
    message = HTTP_STATUS_CODES.get(status, "Error")
    body: dict = {"status": status, "message": message, "detail": detail or message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Heart to Heart"'
    return response


def api_problem_response(problem: ApiProblem) -> Response:
    """The problem document that answers an ApiProblem (in Delighted's shape under /v1)."""
    if is_delighted_path():
        return delighted_error_response(problem.status, problem.detail, problem.errors)
    return problem_response(
        problem.status, problem.title, problem.detail, errors=problem.errors, type_=problem.type
    )


def register(app: Flask) -> None:
    app.register_error_handler(ApiProblem, api_problem_response)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        if wants_problem_json():
            return problem_response(400, "Missing or invalid CSRF token", exc.description)
        return render_error_page(
            400,
            gettext("This form has expired"),
            gettext("Please go back, reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        if exc.response is not None:
            return exc.response  # answered in full where it was raised (the login throttle)
        if wants_problem_json():
            detail = {
                404: "There is nothing at this address.",
                405: "This method is not allowed here.",
                413: "The request body is larger than 1 MiB.",
                415: "Send the body as JSON with Content-Type: application/json.",
            }.get(exc.code, exc.description)
            if is_delighted_path():
                response = delighted_error_response(exc.code or 500, detail)
            else:
                response = problem_response(exc.code or 500, exc.name, detail)
        else:
            response = make_response(
                render_error_page(exc.code or 500, _friendly_title(exc), _friendly_message(exc))
            )
        return with_exception_headers(response, exc)

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError):
        if not database_unreachable(exc):
            return handle_unexpected(exc)
        # One line, no traceback: during an outage every request says the same.
        app.logger.warning(
            "Database unreachable on %s %s: %s",
            request.method,
            request.path,
            database_error_summary(exc),
        )
        return database_unavailable_response()

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        _roll_back_request_session()
        if is_delighted_path():
            return delighted_error_response(
                500, "Something went wrong on our side; nothing was changed."
            )
        if wants_problem_json():
            return problem_response(
                500,
                "Internal Server Error",
                "Something went wrong on our side; nothing was changed.",
            )
        message = gettext("Something went wrong on our side. Please try again in a moment.")
        return render_error_page(500, gettext("Something went wrong"), message)


def _roll_back_request_session() -> None:
    """End the failed request's transaction, so the error page can read what it shows."""
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except SQLAlchemyError:
        current_app.logger.warning("Could not roll back after an error", exc_info=True)


def render_error_page(code: int, title: str, message: str):
    """The error page for people; 503 when the page itself cannot reach the database."""
    try:
        return render_template(
            "errors/error.html", code=code, title=title, message=message, shop_name=_shop_name()
        ), code
    except DBAPIError as exc:
        # Its layout shows who is logged in, and some blueprints add the shop's
        # settings: with the database gone, say that rather than fail again.
        if not database_unreachable(exc):
            raise
        return database_unavailable_response()


def _shop_name() -> str | None:
    """The shop's name for an error page a customer may land on; None if it cannot be read."""
    from surveys.db import db
    from surveys.services.settings import get_setting

    try:
        return str(get_setting(db.session(), "shop_name"))
    except SQLAlchemyError:
        _roll_back_request_session()
        return None


def database_unavailable_response() -> Response:
    """503 with Retry-After: a problem document for machines, a page for people."""
    if wants_problem_json():
        # Delighted's clients read the `message` of its errors.
        delighted = {"message": "Service Unavailable"} if request.path.startswith("/v1/") else {}
        response = problem_response(
            503,
            "Service Unavailable",
            "Our database cannot be reached at the moment. "
            "Please send the same request again in a little while.",
            type_="database-unavailable",
            extensions=delighted,
        )
    else:
        # Rendered without the context processors: Flask-Login's would load the
        # logged-in user, from the database this page is about. For the same reason it speaks
        # the language already chosen for this request (a customer's page) or English.
        g.setdefault("reader_locale", FALLBACK)
        flask_babel.refresh()
        page = current_app.jinja_env.get_template("errors/unavailable.html")
        response = Response(page.render(retry=request.method == "GET"), status=503)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


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


def _friendly_title(exc: HTTPException) -> str:
    """The page's heading: werkzeug's name for the status, in the reader's language."""
    return {
        400: gettext("Bad Request"),
        403: gettext("Forbidden"),
        404: gettext("Not Found"),
        405: gettext("Method Not Allowed"),
        410: gettext("Gone"),
        413: gettext("Request Entity Too Large"),
        429: gettext("Too Many Requests"),
    }.get(exc.code, exc.name)


def _friendly_message(exc: HTTPException) -> str:
    return {
        400: gettext("Nothing was changed. Please go back and try again."),
        403: gettext("You do not have access to this page."),
        404: gettext("We could not find this page. The link may be mistyped."),
        405: gettext("Nothing was changed. Please go back and try again."),
        410: gettext("This link has expired."),
        413: gettext("What you sent is too large. Nothing was changed."),
        429: gettext("Please wait a moment, then try again."),
    }.get(exc.code, exc.description or "")
