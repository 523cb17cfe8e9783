"""A small local HTTP server standing in for SendGrid's `POST /v3/mail/send`.

It checks the bearer key and the body's essentials the way SendGrid does,
records every request (parsed JSON body and headers), and answers from a
per-test script of statuses and delays (202 once the script is used up).

Use the `fake_sendgrid` fixture with `app` (it points the app at the server),
or `fake_sendgrid_server` with `committed_app` / subprocesses:

    def test_x(app, fake_sendgrid, runner):
        fake_sendgrid.respond_with(429, 500, Reply(202, delay=0.5))
        runner.invoke(args=["worker", "--once"])
        mail = fake_sendgrid.accepted[0]
        mail.to_email, mail.subject, mail.text, mail.html, mail.headers, mail.custom_args

    committed_app.config.update(fake_sendgrid_server.app_config)   # in-process
    env = {**os.environ, **fake_sendgrid_server.env}               # subprocesses
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from tests.fake_http import QuietHandler, Reply, ScriptedServer

API_KEY = "SG.fake-test-key"
# Roughly what SendGrid accepts as an address: something@domain.tld, no spaces.
VALID_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "The provided authorization grant is invalid, expired, or revoked",
    403: "The from address does not match a verified Sender Identity.",
    413: "The JSON payload you have included in your request is too large.",
    429: "too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    status: int = 0  # what the server answered

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class SentMail:
    """One recipient of one request (a personalization), flattened for assertions."""

    to_email: str
    to_name: str | None
    from_email: str
    from_name: str | None
    reply_to: str | None
    subject: str
    text: str | None
    html: str | None
    headers: dict[str, str]
    custom_args: dict[str, str]
    categories: list[str]
    request: RecordedRequest
    # This recipient's substitutions, already applied to subject, text and html.
    substitutions: dict[str, str] = field(default_factory=dict)

    @property
    def survey_id(self) -> int | None:
        value = self.custom_args.get("survey_id")
        return int(value) if value is not None else None


class FakeSendGrid(ScriptedServer):
    """The server: start(), respond_with(…), read requests / mails / accepted, close()."""

    thread_name = "fake-sendgrid"

    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__(default=Reply())
        self.api_key = api_key

    @property
    def app_config(self) -> dict:
        return {"SENDGRID_API_KEY": self.api_key, "SENDGRID_API_HOST": self.url}

    @property
    def env(self) -> dict[str, str]:
        return {"SENDGRID_API_KEY": self.api_key, "SENDGRID_API_HOST": self.url}

    @property
    def mails(self) -> list[SentMail]:
        """Every recipient of every well-formed request, whatever the answer was."""
        return [mail for request in self.recorded() if request.body for mail in _mails_of(request)]

    @property
    def accepted(self) -> list[SentMail]:
        """The recipients of requests answered 2xx: what SendGrid would deliver."""
        return [mail for mail in self.mails if mail.request.accepted]


class _Handler(QuietHandler):
    fake: FakeSendGrid

    def do_POST(self):
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        recorded = RecordedRequest("POST", self.path, dict(self.headers.items()), body)
        fake.record(recorded)
        if self.path != "/v3/mail/send":
            return self._answer(recorded, Reply(404, message="not found"))
        if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            return self._answer(recorded, Reply(401))
        problem = _validate(body)
        if problem:
            message, field_name = problem
            return self._answer(recorded, Reply(400, message=message, field=field_name))
        reply = fake.next_reply()
        if self.wait_as_scripted(reply):
            self._answer(recorded, reply)

    def _answer(self, recorded: RecordedRequest, reply: Reply) -> None:
        recorded.status = reply.status
        payload = b""
        if reply.status >= 400:
            message = reply.message or DEFAULT_MESSAGES.get(reply.status, "error")
            payload = json.dumps(
                {"errors": [{"message": message, "field": reply.field, "help": None}]}
            ).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status == 202:
                self.send_header("X-Message-Id", f"fake-{len(self.fake.requests)}")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting


def _validate(body) -> tuple[str, str | None] | None:
    """SendGrid's essential checks, so a malformed body fails here as it would there.

    Returns the error message and the field it is about, or None.
    """
    if not isinstance(body, dict):
        return "Bad Request: the body must be JSON", None
    personalizations = body.get("personalizations")
    if not personalizations:
        return (
            "The personalizations field is required and must have at least one personalization."
        ), "personalizations"
    if len(personalizations) > 1000:
        return (
            "The personalization block is limited to 1000 personalizations per API request."
        ), "personalizations"
    if not (body.get("from") or {}).get("email"):
        return "The from object must be provided for every email send.", "from"
    seen: set[str] = set()
    for position, personalization in enumerate(personalizations):
        where = f"personalizations.{position}"
        if not personalization.get("to"):
            return "The to array is required for all personalization objects.", f"{where}.to"
        for number, recipient in enumerate(personalization["to"]):
            address = str(recipient.get("email") or "")
            if not VALID_ADDRESS.match(address):
                return "Does not contain a valid address.", f"{where}.to.{number}.email"
            if address.lower() in seen:
                return (
                    "Each unique email address in the personalizations array should only "
                    "be included once."
                ), f"{where}.to.{number}.email"
            seen.add(address.lower())
        if not (personalization.get("subject") or body.get("subject")):
            return "The subject is required.", f"{where}.subject"
        for name, value in {
            **personalization.get("custom_args", {}),
            **personalization.get("headers", {}),
            **personalization.get("substitutions", {}),
        }.items():
            if not isinstance(value, str):
                return (
                    f"{name}: custom_args, header and substitution values must be strings."
                ), where
        substitutions = personalization.get("substitutions", {})
        if sum(len(k.encode()) + len(v.encode()) for k, v in substitutions.items()) > 10_000:
            return (
                "The total size of your substitutions may not exceed 10,000 bytes per "
                "personalization object."
            ), f"{where}.substitutions"
    contents = body.get("content") or []
    if not contents or any(not item.get("value") for item in contents):
        return (
            "Unless a valid template_id is provided, the content parameter is required.",
            "content",
        )
    return None


def _mails_of(request: RecordedRequest) -> list[SentMail]:
    body = request.body
    contents = {item["type"]: item["value"] for item in body.get("content", [])}
    sender = body.get("from") or {}
    reply_to = (body.get("reply_to") or {}).get("email")
    mails = []
    for personalization in body.get("personalizations", []):
        substitutions = personalization.get("substitutions", {})

        def filled(text, substitutions=substitutions):
            return _substitute(text, substitutions)

        for recipient in personalization.get("to", []):
            mails.append(
                SentMail(
                    to_email=recipient["email"],
                    to_name=recipient.get("name"),
                    from_email=sender.get("email"),
                    from_name=sender.get("name"),
                    reply_to=reply_to,
                    subject=filled(personalization.get("subject") or body.get("subject")),
                    text=filled(contents.get("text/plain")),
                    html=filled(contents.get("text/html")),
                    headers={**body.get("headers", {}), **personalization.get("headers", {})},
                    custom_args={
                        **body.get("custom_args", {}),
                        **personalization.get("custom_args", {}),
                    },
                    categories=list(body.get("categories", [])),
                    request=request,
                    substitutions=dict(substitutions),
                )
            )
    return mails


def _substitute(text: str | None, substitutions: dict[str, str]) -> str | None:
    """What SendGrid does with a personalization's substitutions: each tag by its value."""
    if text is None or not substitutions:
        return text
    pattern = re.compile(
        "|".join(re.escape(tag) for tag in sorted(substitutions, key=len, reverse=True))
    )
    return pattern.sub(lambda match: substitutions[match.group(0)], text)


FakeSendGrid.handler = _Handler


@pytest.fixture
def fake_sendgrid_server():
    """The fake SendGrid on 127.0.0.1 (a free port), for committed_app and subprocesses."""
    server = FakeSendGrid().start()
    yield server
    server.close()


@pytest.fixture
def fake_sendgrid(app, fake_sendgrid_server):
    """The fake SendGrid, with the test's app sending through it (restored after the test)."""
    app.config.update(fake_sendgrid_server.app_config)
    return fake_sendgrid_server
