"""Who gets what: every route of the app (`flask routes`) for four callers, in one table.

The callers are a stranger (no session), an owner, another owner (who does not own the
case or customer in the URL) and an admin, each with the session cookie the login form
gave them. Every route must have a row: a route added without one fails this test, and so
does a row whose route is gone. Routes with parameters get real ids and tokens: the case
and customer of the first owner, a sent survey's link, and one of everything else.

What is asserted is the access decision. So that CSRF does not hide it (CSRF has its own
tests), every POST carries the caller's valid CSRF token and nothing else: a caller who is
let in gets what the view answers to an empty form (422, or 302 for a button that needs no
fields). Each request runs in a savepoint that is rolled back afterwards, with the caller's
cookie as it was after logging in, so one row (a logout, a deactivation) cannot change the
next.

The API, the Delighted endpoints and the webhooks do not take sessions: the table states
what a logged-in person's browser gets there (401, asking for a key or a signature).
"""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from surveys.models import (
    BrandLogo,
    CaseAttachment,
    CaseEvent,
    OutboxMessage,
    QuestionSetAssignment,
    RememberedDate,
    RoutingRule,
    WebhookEndpoint,
)
from surveys.services.question_sets.versions import get_question_set
from tests.factories import (
    make_api_key,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)
from tests.pages import Page
from tests.web import csrf_token, log_in

LOGIN = "→login"  # 302 to /login (the login page, remembering where the caller was going)
CALLERS = ("anonymous", "owner", "other owner", "admin")
ADMIN_ONLY = (LOGIN, 403, 403)  # followed by what the admin gets
NEEDS_A_KEY = (401, 401, 401, 401)  # API and Delighted: a session is not a key
NEEDS_A_SIGNATURE = (401, 401, 401, 401)  # webhooks in: a session is not a signature

# (method, rule as `flask routes` shows it): status for anonymous, owner, other owner, admin.
ACCESS = {
    # --- customers' pages: the token in the link is the authority, whoever is logged in
    ("GET", "/s/<token>"): (200, 200, 200, 200),
    ("POST", "/s/<token>"): (422, 422, 422, 422),  # the required answer is missing
    ("POST", "/s/<token>/answer"): (422, 422, 422, 422),  # no answer chosen to send
    ("POST", "/s/<token>/more"): (303, 303, 303, 303),  # not answered yet: to the survey
    ("GET", "/s/<token>/review"): (404, 404, 404, 404),  # no public review site is set
    ("GET", "/u/<token>"): (200, 200, 200, 200),
    ("POST", "/u/<token>"): (200, 200, 200, 200),  # RFC 8058 one click
    ("POST", "/u/<token>/why"): (409, 409, 409, 409),  # not unsubscribed: nothing to explain
    ("POST", "/u/<token>/back"): (200, 200, 200, 200),  # subscribed already: welcome back
    ("GET", "/static/<path:filename>"): (200, 200, 200, 200),
    ("GET", "/brand/logo/<digest>"): (200, 200, 200, 200),  # on customers' pages and emails
    ("GET", "/brand/theme/<fingerprint>.css"): (200, 200, 200, 200),
    # --- logging in and out
    ("GET", "/"): (LOGIN, 302, 302, 302),  # to the inbox once logged in
    ("GET", "/login"): (200, 302, 302, 302),
    ("POST", "/login"): (422, 302, 302, 302),
    ("GET", "/logout"): (LOGIN, 200, 200, 200),  # asks with a button
    ("POST", "/logout"): (LOGIN, LOGIN, LOGIN, LOGIN),
    # --- one's own settings: everyone who logs in has them; an empty form chose no time zone
    ("GET", "/account/settings"): (LOGIN, 200, 200, 200),
    ("POST", "/account/settings"): (LOGIN, 422, 422, 422),
    # --- owners' pages: another owner's case or customer does not exist for them
    ("GET", "/inbox"): (LOGIN, 200, 200, 200),
    ("GET", "/dashboard"): (LOGIN, 200, 200, 200),  # each their own figures
    ("GET", "/dashboard/charts/<name>.svg"): (
        LOGIN,
        404,
        404,
        404,
    ),  # <name> is an email's: no such chart
    ("GET", "/cases/<int:case_id>"): (LOGIN, 200, 404, 200),
    ("POST", "/cases/<int:case_id>/acknowledge"): (LOGIN, 302, 404, 302),
    ("POST", "/cases/<int:case_id>/notes"): (LOGIN, 422, 404, 422),
    ("POST", "/cases/<int:case_id>/replies"): (LOGIN, 422, 404, 422),
    ("POST", "/cases/<int:case_id>/reassign"): (LOGIN, 422, 404, 422),
    ("POST", "/cases/<int:case_id>/resolve"): (LOGIN, 422, 404, 422),
    ("GET", "/cases/<int:case_id>/attachments/<int:attachment_id>"): (LOGIN, 200, 404, 200),
    ("GET", "/customers/<int:customer_id>"): (LOGIN, 200, 404, 200),
    ("POST", "/customers/<int:customer_id>/notes"): (LOGIN, 422, 404, 422),
    ("POST", "/customers/<int:customer_id>/goodbye"): (LOGIN, 422, 404, 422),  # no letter
    ("POST", "/customers/<int:customer_id>/contacts"): (LOGIN, 422, 404, 422),  # no kind
    ("POST", "/customers/<int:customer_id>/dates"): (LOGIN, 422, 404, 422),
    ("POST", "/customers/<int:customer_id>/dates/<int:date_id>/delete"): (LOGIN, 302, 404, 302),
    # a suggestion the page no longer offers: back to the profile, saying so
    ("POST", "/customers/<int:customer_id>/date-suggestions/<suggestion>/confirm"): (
        LOGIN,
        302,
        404,
        302,
    ),
    ("POST", "/customers/<int:customer_id>/date-suggestions/<suggestion>/refuse"): (
        LOGIN,
        302,
        404,
        302,
    ),
    ("POST", "/customers/<int:customer_id>/gestures"): (LOGIN, 422, 404, 422),
    ("POST", "/cases/<int:case_id>/gestures"): (LOGIN, 422, 404, 422),
    # everyone's own feed: the responses of the customers they look after
    ("GET", "/dashboard/responses"): (LOGIN, 200, 200, 200),
    # --- admin pages
    ("GET", "/admin/"): (*ADMIN_ONLY, 302),  # to the dashboard
    ("GET", "/admin/dashboard"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/dashboard/charts/<name>.svg"): (
        *ADMIN_ONLY,
        404,
    ),  # <name> is an email's: no such chart
    ("GET", "/admin/question-sets"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/question-sets"): (*ADMIN_ONLY, 422),
    ("GET", "/admin/question-sets/<key>"): (*ADMIN_ONLY, 200),
    # 400: a form the editor did not produce (no draft revision); the CSRF token is valid.
    ("POST", "/admin/question-sets/<key>"): (*ADMIN_ONLY, 400),
    ("POST", "/admin/question-sets/<key>/discard"): (*ADMIN_ONLY, 400),
    ("GET", "/admin/question-sets/<key>/preview"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/question-sets/<key>/versions"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/question-sets/after-purchase/default"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/question-sets/after-purchase/categories"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/question-sets/after-purchase/categories/<int:assignment_id>/remove"): (
        *ADMIN_ONLY,
        302,
    ),
    ("GET", "/admin/routing"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/routing/test"): (*ADMIN_ONLY, 422),  # no sample purchase given
    ("POST", "/admin/routing/default-owner"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/routing/rules"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/routing/rules/<int:rule_id>/delete"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/routing/rules/<int:rule_id>/<any(up, down):direction>"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/users"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/users"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/users/<int:user_id>/password"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/users/<int:user_id>/deactivate"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/users/<int:user_id>/reactivate"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/users/<int:user_id>/gesture-allowance"): (*ADMIN_ONLY, 302),  # empty: none
    ("GET", "/admin/settings"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/settings"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/settings/logo"): (*ADMIN_ONLY, 422),  # no file
    ("POST", "/admin/settings/logo/remove"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/neglected"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/responses"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/neglected/invite"): (*ADMIN_ONLY, 422),  # nobody chosen
    ("GET", "/admin/outbox"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/outbox/<int:message_id>/retry"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/outbox/<int:message_id>/cancel"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/emails"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/emails/<name>"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/emails/<name>/html"): (*ADMIN_ONLY, 200),  # the preview frame's document
    ("GET", "/admin/emails/words"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/emails/words/<email_key>"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/emails/words/<email_key>"): (*ADMIN_ONLY, 422),  # an empty subject
    ("POST", "/admin/emails/words/<email_key>/preview"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/emails/words/<email_key>/restore"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/emails/words/<email_key>/html"): (*ADMIN_ONLY, 404),  # no draft to show
    ("GET", "/admin/webhooks"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/webhooks"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/webhooks/<int:endpoint_id>/pause"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/webhooks/<int:endpoint_id>/resume"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/webhooks/<int:endpoint_id>/ping"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/webhooks/<int:endpoint_id>/secret"): (*ADMIN_ONLY, 200),  # shown once
    ("POST", "/admin/webhooks/<int:endpoint_id>/delete"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/channels"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/channels"): (*ADMIN_ONLY, 422),  # no URL given
    ("POST", "/admin/channels/<int:channel_id>/test"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/channels/<int:channel_id>/pause"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/channels/<int:channel_id>/resume"): (*ADMIN_ONLY, 302),
    ("POST", "/admin/channels/<int:channel_id>/delete"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/api-keys"): (*ADMIN_ONLY, 200),
    ("POST", "/admin/api-keys"): (*ADMIN_ONLY, 422),
    ("POST", "/admin/api-keys/<int:key_id>/revoke"): (*ADMIN_ONLY, 302),
    ("GET", "/admin/audit"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/export/responses.csv"): (*ADMIN_ONLY, 200),
    ("GET", "/admin/export/cases.csv"): (*ADMIN_ONLY, 200),
    # --- the API: a bearer key, never a session (its description is public)
    ("GET", "/api/v1/openapi.json"): (200, 200, 200, 200),
    ("POST", "/api/v1/purchases"): NEEDS_A_KEY,
    ("POST", "/api/v1/purchases/<path:order_id>/cancel"): NEEDS_A_KEY,
    ("GET", "/api/v1/cases"): NEEDS_A_KEY,
    ("GET", "/api/v1/cases/<int:case_id>"): NEEDS_A_KEY,
    ("POST", "/api/v1/cases/<int:case_id>/acknowledge"): NEEDS_A_KEY,
    ("POST", "/api/v1/cases/<int:case_id>/comments"): NEEDS_A_KEY,
    ("POST", "/api/v1/cases/<int:case_id>/reassign"): NEEDS_A_KEY,
    ("POST", "/api/v1/cases/<int:case_id>/replies"): NEEDS_A_KEY,
    ("POST", "/api/v1/cases/<int:case_id>/resolve"): NEEDS_A_KEY,
    ("GET", "/api/v1/customers"): NEEDS_A_KEY,
    ("GET", "/api/v1/customers/<int:customer_id>/dates"): NEEDS_A_KEY,
    ("POST", "/api/v1/customers/<int:customer_id>/dates"): NEEDS_A_KEY,
    ("DELETE", "/api/v1/customers/<int:customer_id>/dates/<int:date_id>"): NEEDS_A_KEY,
    ("POST", "/api/v1/touchpoints"): NEEDS_A_KEY,
    ("GET", "/api/v1/responses"): NEEDS_A_KEY,
    ("GET", "/api/v1/question-sets"): NEEDS_A_KEY,
    ("GET", "/api/v1/question-sets/<key>"): NEEDS_A_KEY,
    ("PUT", "/api/v1/question-sets/<key>"): NEEDS_A_KEY,
    # --- Delighted-compatible: an API key as the Basic user name
    # Each at its path with and without `.json`, as Delighted's clients send both.
    ("POST", "/v1/people"): NEEDS_A_KEY,
    ("POST", "/v1/people.json"): NEEDS_A_KEY,
    ("GET", "/v1/people"): NEEDS_A_KEY,
    ("GET", "/v1/people.json"): NEEDS_A_KEY,
    ("DELETE", "/v1/people/<person_id>"): NEEDS_A_KEY,
    ("DELETE", "/v1/people/<person_id>.json"): NEEDS_A_KEY,
    ("DELETE", "/v1/people/<person_email>/survey_requests/pending"): NEEDS_A_KEY,
    ("DELETE", "/v1/people/<person_email>/survey_requests/pending.json"): NEEDS_A_KEY,
    ("GET", "/v1/survey_responses"): NEEDS_A_KEY,
    ("GET", "/v1/survey_responses.json"): NEEDS_A_KEY,
    ("POST", "/v1/survey_responses"): NEEDS_A_KEY,
    ("POST", "/v1/survey_responses.json"): NEEDS_A_KEY,
    ("GET", "/v1/survey_responses/<int:response_id>"): NEEDS_A_KEY,
    ("GET", "/v1/survey_responses/<int:response_id>.json"): NEEDS_A_KEY,
    ("PUT", "/v1/survey_responses/<int:response_id>"): NEEDS_A_KEY,
    ("PUT", "/v1/survey_responses/<int:response_id>.json"): NEEDS_A_KEY,
    ("GET", "/v1/metrics"): NEEDS_A_KEY,
    ("GET", "/v1/metrics.json"): NEEDS_A_KEY,
    ("GET", "/v1/unsubscribes"): NEEDS_A_KEY,
    ("GET", "/v1/unsubscribes.json"): NEEDS_A_KEY,
    ("POST", "/v1/unsubscribes"): NEEDS_A_KEY,
    ("POST", "/v1/unsubscribes.json"): NEEDS_A_KEY,
    ("GET", "/v1/bounces"): NEEDS_A_KEY,
    ("GET", "/v1/bounces.json"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/email"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/email.json"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/email/memberships"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/email/memberships.json"): NEEDS_A_KEY,
    ("POST", "/v1/autopilot/email/memberships"): NEEDS_A_KEY,
    ("POST", "/v1/autopilot/email/memberships.json"): NEEDS_A_KEY,
    ("DELETE", "/v1/autopilot/email/memberships"): NEEDS_A_KEY,
    ("DELETE", "/v1/autopilot/email/memberships.json"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/sms"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/sms.json"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/sms/memberships"): NEEDS_A_KEY,
    ("GET", "/v1/autopilot/sms/memberships.json"): NEEDS_A_KEY,
    ("POST", "/v1/autopilot/sms/memberships"): NEEDS_A_KEY,
    ("POST", "/v1/autopilot/sms/memberships.json"): NEEDS_A_KEY,
    ("DELETE", "/v1/autopilot/sms/memberships"): NEEDS_A_KEY,
    ("DELETE", "/v1/autopilot/sms/memberships.json"): NEEDS_A_KEY,
    # --- webhooks in (each one switched on by its secret): a signature, never a session
    ("POST", "/webhooks/sendgrid"): NEEDS_A_SIGNATURE,
    ("POST", "/webhooks/shopify"): NEEDS_A_SIGNATURE,
    ("POST", "/webhooks/stripe"): NEEDS_A_SIGNATURE,
    ("POST", "/webhooks/inbound"): NEEDS_A_SIGNATURE,  # Basic auth with INBOUND_PARSE_PASSWORD
}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, rule) of every route, as `flask routes` lists them (HEAD and OPTIONS aside)."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row_and_every_row_a_route(app):
    routes = app_routes(app)

    assert sorted(routes - ACCESS.keys()) == [], "add these routes to ACCESS"
    assert sorted(ACCESS.keys() - routes) == [], "these rows name routes that are gone"


def sendgrid_public_key() -> str:
    """A real public key, so the SendGrid endpoint is on and checks signatures."""
    der = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def url_arguments(session, clock, *, owner, other_owner) -> dict[str, object]:
    """A real value for each URL parameter: the first owner's case and customer, and so on."""
    now = clock.now()
    customer = make_customer(session, owner=owner, email="ana@example.com")
    case = make_case(session, owner=owner, customer=customer, now=now)
    purchase = make_purchase(session, customer, purchased_at=now - timedelta(days=1))
    _survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=now)
    rules = [RoutingRule(position=n, field="sku", value=f"SKU-{n}", owner=owner) for n in (1, 2)]
    message = OutboxMessage(
        template="survey", to_email=customer.email, status="failed", next_attempt_at=now
    )
    endpoint = WebhookEndpoint(
        url="https://hooks.example/h2h", events=["case.opened"], secret="whsec_x" * 6
    )
    channel = WebhookEndpoint(
        kind="slack",
        url="https://hooks.slack.com/services/T0/B0/x",
        events=["case_opened"],
        secret="whsec_x" * 6,
    )
    assignment = QuestionSetAssignment(
        category="hardware", question_set_id=get_question_set(session, "fix-check").id
    )
    session.add_all([*rules, message, endpoint, channel, assignment])
    key, _raw = make_api_key(session, "shop")
    event = CaseEvent(case_id=case.id, kind="customer_replied", body="Photo attached.")
    session.add(event)
    session.flush()
    attachment = CaseAttachment(
        case_id=case.id,
        case_event_id=event.id,
        filename="key.png",
        content_type="image/png",
        size=3,
        content=b"png",
    )
    session.add(attachment)
    remembered = RememberedDate(customer_id=customer.id, label="Birthday", day=12, month=6)
    session.add(remembered)
    logo = BrandLogo(
        digest="a" * 64, media_type="image/png", width=1, height=1, size=3, content=b"png"
    )
    session.add(logo)
    session.flush()
    return {
        "case_id": case.id,
        "customer_id": customer.id,
        "person_id": str(customer.id),
        "person_email": customer.email,
        "response_id": 1,
        "token": token,
        "key": "heart-to-heart",
        "assignment_id": assignment.id,
        "rule_id": rules[1].id,
        "direction": "up",
        "user_id": other_owner.id,
        "message_id": message.id,
        "name": "survey",
        "endpoint_id": endpoint.id,
        "channel_id": channel.id,
        "key_id": key.id,
        "filename": "app.css",
        "email_key": "survey.purchase",
        "digest": logo.digest,
        "fingerprint": "0123456789abcdef",
        "attachment_id": attachment.id,
        "date_id": remembered.id,
        "suggestion": "note-1-6-12",
        "order_id": purchase.order_id,
    }


def browsers(app, users) -> list[tuple[str, str]]:
    """Each caller's session cookie and CSRF token: a stranger's, then each user's after login."""
    held = []
    for user in [None, *users]:
        client = app.test_client()
        if user is None:
            token = csrf_token(client, "/login")
        else:
            log_in(client, user)
            token = csrf_token(client, "/inbox")
        held.append((client.get_cookie("session").value, token))
    return held


def repeated_ids(response) -> list[str]:
    """The element ids an HTML page carries more than once (a label or an error list tied to
    a repeated id reaches the wrong box)."""
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    ids = [element["id"] for element in Page(response.get_data(as_text=True)).all("[id]")]
    return sorted({element_id for element_id in ids if ids.count(element_id) > 1})


def answer(
    app, connection, browser: tuple[str, str], method: str, path: str, page_defects: list[str]
) -> object:
    """The status one caller gets, in a savepoint rolled back afterwards; LOGIN for the login.
    An HTML page whose ids repeat is added to page_defects."""
    cookie, token = browser
    client = app.test_client()
    client.set_cookie("session", cookie)
    savepoint = connection.begin_nested()
    try:
        response = client.open(
            path, method=method, data={"csrf_token": token} if method == "POST" else None
        )
    finally:
        savepoint.rollback()
    if repeated := repeated_ids(response):
        page_defects.append(f"{method} {path} repeats the ids {repeated}")
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/login"):
        return LOGIN
    return response.status_code


def test_each_caller_gets_what_the_table_says_on_every_route(app, session, clock):
    owner = make_user(session, role="owner", name="Olivia Owner")
    other_owner = make_user(session, role="owner", name="Otto Other")
    admin = make_user(session, role="admin", name="Ada Admin")
    arguments = url_arguments(session, clock, owner=owner, other_owner=other_owner)
    session.commit()
    callers = browsers(app, [owner, other_owner, admin])
    app.config.update(
        SHOPIFY_WEBHOOK_SECRET="shpss_access_table",
        STRIPE_WEBHOOK_SECRET="whsec_access_table",
        SENDGRID_WEBHOOK_PUBLIC_KEY=sendgrid_public_key(),
        INBOUND_PARSE_PASSWORD="inbound-access-table",
        # Every row's requests come from one address without a key, far past the API's rate
        # limit in a few seconds; the limit has its own tests (test_api_rate_limit.py).
        API_RATE_LIMIT="100000 per 10 seconds",
    )
    connection = app.extensions["db"]["sessionmaker"].kw["bind"]
    adapter = app.url_map.bind("localhost")
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}

    wrong = []
    page_defects: list[str] = []
    for (method, rule_text), expected in sorted(ACCESS.items(), key=lambda row: row[0][1]):
        rule = rules[rule_text]
        unknown = rule.arguments - arguments.keys()
        assert not unknown, f"give {sorted(unknown)} of {rule_text} a value in url_arguments"
        path = adapter.build(rule.endpoint, {name: arguments[name] for name in rule.arguments})
        got = tuple(
            answer(app, connection, browser, method, path, page_defects) for browser in callers
        )
        if got != expected:
            wrong.append(f"{method} {rule_text}: expected {expected}, got {got}")

    assert wrong == [], f"callers {CALLERS}:\n" + "\n".join(wrong)
    assert page_defects == []
