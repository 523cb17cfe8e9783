"""Crafted input in the forms of the people's pages: every form is shown again, nothing changes.

A NUL byte (PostgreSQL cannot store one), control characters, a line break in a
single-line field, a lone surrogate, a file part or a JSON body where a text field
belongs: each is refused next to its field by the forms' common base
(surveys/forms.py), before any service sees it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from werkzeug.datastructures import MultiDict

from surveys.admin.forms import NewUserForm, settings_form_class
from surveys.admin.question_set_forms import DraftForm
from surveys.forms import AppForm, AppSubform
from surveys.inbox.forms import LoginForm, NoteForm
from surveys.models import CaseEvent, CustomerNote
from surveys.public.forms import survey_form_class
from surveys.services.question_sets.versions import current_version, get_question_set
from surveys.services.settings import all_settings, page_specs
from tests.database_state import all_rows
from tests.pages import page
from tests.routes import make_world
from tests.web import csrf_token, editor_form_data, log_in

NUL_TEXT = "Bring it on Monday\x00"
TWO_LINES = "Ana\r\nBcc: eve@evil.example"
ESCAPE_TEXT = "Fine\x1b[2J thanks"


@pytest.fixture
def world(session, clock, admin):
    """An admin (logged in by the tests that need it), an owner, an open case, a sent survey."""
    return make_world(session, admin=admin, now=clock.now())


def _settings_data(session) -> dict[str, str]:
    values = all_settings(session)
    return {spec.key: str(values[spec.key]) for spec in page_specs()}


@dataclass(frozen=True)
class FormCase:
    """One text field of one form: where its page is, where it posts, and good data for it."""

    name: str
    page: Callable  # (world) -> path of the page holding the form (and its CSRF token)
    data: Callable  # (world, session) -> a submission that would be accepted
    field: str  # the field under test, as posted
    action: Callable | None = None  # (world) -> where the form posts; the page itself if None
    single_line: bool = True
    anonymous: bool = False
    method: str = "POST"
    tags: tuple[str, ...] = field(default=())


def _case_form(action: str, field_name: str, **kwargs) -> FormCase:
    def data(w, _s):
        return {
            # A reply has two parts; the one under test is replaced below.
            "understood": "Your order reached you later than we promised.",
            "will_do": "We are sending a new one today.",
            field_name: "We are sending a new one today.",
            "owner_id": str(w.owner.id),
        }

    return FormCase(
        f"case-{action}-{field_name}",
        page=lambda w: f"/cases/{w.case.id}",
        action=lambda w: f"/cases/{w.case.id}/{action}",
        data=data,
        field=field_name,
        single_line=False,
        **kwargs,
    )


def _new_user(_w, _s):
    return {
        "name": "Nina Park",
        "email": "nina@shop.test",
        "role": "owner",
        "password": "a long first password",
    }


def _survey_data(_w, _s):
    return {"expectations": "meeting", "one_thing": "Nothing", "preferences": "Mornings"}


FORM_CASES = [
    FormCase(
        "login-email",
        page=lambda w: "/login",
        data=lambda w, s: {"email": w.admin.email, "password": "correct horse battery"},
        field="email",
        anonymous=True,
    ),
    FormCase(
        "login-password",
        page=lambda w: "/login",
        data=lambda w, s: {"email": w.admin.email, "password": "correct horse battery"},
        field="password",
        anonymous=True,
    ),
    *(
        FormCase(
            f"survey-{key}",
            page=lambda w: f"/s/{w.token}",
            data=_survey_data,
            field=key,
            single_line=key == "expectations",
            anonymous=True,
        )
        for key in ("one_thing", "preferences", "expectations")
    ),
    _case_form("notes", "body"),
    _case_form("replies", "understood"),
    _case_form("replies", "will_do"),
    _case_form("resolve", "resolution"),
    _case_form("reassign", "reason"),
    FormCase(
        "customer-note",
        page=lambda w: f"/customers/{w.customer.id}",
        action=lambda w: f"/customers/{w.customer.id}/notes",
        data=lambda w, s: {"body": "Loves fountain pens."},
        field="body",
        single_line=False,
    ),
    *(
        FormCase(f"new-user-{name}", page=lambda w: "/admin/users", data=_new_user, field=name)
        for name in ("name", "email", "password")
    ),
    FormCase(
        "reset-password",
        page=lambda w: "/admin/users",
        action=lambda w: f"/admin/users/{w.owner.id}/password",
        data=lambda w, s: {f"u{w.owner.id}-password": "another long password"},
        field="{owner}-password",
    ),
    FormCase(
        "settings-sender-name",
        page=lambda w: "/admin/settings",
        data=lambda w, s: {**_settings_data(s), "sender_name": "Corner Shop"},
        field="sender_name",
    ),
    FormCase(
        "settings-thank-you",
        page=lambda w: "/admin/settings",
        data=lambda w, s: {**_settings_data(s), "thank_you_message": "Thanks!"},
        field="thank_you_message",
        single_line=False,
    ),
    FormCase(
        "routing-rule-value",
        page=lambda w: "/admin/routing",
        action=lambda w: "/admin/routing/rules",
        data=lambda w, s: {"field": "category", "value": "pens", "owner_id": str(w.owner.id)},
        field="value",
    ),
    FormCase(
        "routing-tester-email",
        page=lambda w: "/admin/routing",
        action=lambda w: "/admin/routing/test",
        data=lambda w, s: {"email": "bea@example.com", "category": "pens"},
        field="email",
        method="GET",
    ),
    *(
        FormCase(
            f"new-question-set-{name}",
            page=lambda w: "/admin/question-sets",
            data=lambda w, s: {"key": "after-repair", "name": "After a repair"},
            field=name,
        )
        for name in ("key", "name")
    ),
    FormCase(
        "category-assignment",
        page=lambda w: "/admin/question-sets",
        action=lambda w: "/admin/question-sets/after-purchase/categories",
        data=lambda w, s: {"category": "pens", "question_set": "heart-to-heart"},
        field="category",
    ),
    *(
        FormCase(
            f"question-editor-{name}",
            page=lambda w: "/admin/question-sets/heart-to-heart",
            data=lambda w, s: editor_form_data(s, "heart-to-heart"),
            field=name,
            single_line=name != "questions-0-text",
        )
        for name in ("name", "questions-0-text", "questions-0-key", "questions-0-options-0-label")
    ),
    FormCase(
        "webhook-url",
        page=lambda w: "/admin/webhooks",
        data=lambda w, s: {"url": "https://hooks.example/h2h", "events": "case.opened"},
        field="url",
    ),
]
SINGLE_LINE_CASES = [case for case in FORM_CASES if case.single_line]
TEXT_AREA_CASES = [case for case in FORM_CASES if not case.single_line]


def _by_name(cases):
    return pytest.mark.parametrize("form_case", cases, ids=[case.name for case in cases])


def _field_name(form_case: FormCase, world) -> str:
    return form_case.field.replace("{owner}", f"u{world.owner.id}")


def _prepare(client, session, world, form_case: FormCase) -> tuple[str, dict]:
    """Log in when the form needs it; the form's action and good data with its CSRF token."""
    if not form_case.anonymous:
        log_in(client, world.admin)
    page = form_case.page(world)
    data = {key: str(value) for key, value in form_case.data(world, session).items()}
    if form_case.method == "POST":
        data["csrf_token"] = csrf_token(client, page)
    action = form_case.action(world) if form_case.action else page
    return action, data


def _send(client, form_case: FormCase, action: str, data: dict):
    if form_case.method == "GET":
        return client.get(action, query_string=data)
    return client.post(action, data=data)


def _assert_marked(html: str, name: str, message: str, action: str | None = None) -> None:
    """The message is in the error list that belongs to this field (of the form that posts
    to `action`, when the page has more than one field of that name)."""
    shown = page(html)
    within = shown.form(action) if action else None
    assert message in shown.field_errors(name, within), f"no {message!r} next to {name}"


def _refused_and_unchanged(client, session, world, form_case: FormCase, value, message: str):
    action, data = _prepare(client, session, world, form_case)
    name = _field_name(form_case, world)
    before = all_rows(session)
    response = _send(client, form_case, action, {**data, name: value})
    assert response.status_code == 422, response.get_data(as_text=True)[:2000]
    _assert_marked(response.get_data(as_text=True), name, message, action)
    assert all_rows(session) == before


@_by_name(FORM_CASES)
def test_a_nul_byte_in_any_text_field_shows_the_form_again_and_changes_nothing(
    client, session, world, form_case
):
    _refused_and_unchanged(
        client,
        session,
        world,
        form_case,
        NUL_TEXT,
        "This field must not contain NUL characters.",
    )


@_by_name(SINGLE_LINE_CASES)
def test_a_line_break_in_a_single_line_field_shows_the_form_again_and_changes_nothing(
    client, session, world, form_case
):
    _refused_and_unchanged(
        client, session, world, form_case, TWO_LINES, "This field must be a single line."
    )


@_by_name(TEXT_AREA_CASES)
def test_a_control_character_in_a_text_area_shows_the_form_again_and_changes_nothing(
    client, session, world, form_case
):
    _refused_and_unchanged(
        client,
        session,
        world,
        form_case,
        ESCAPE_TEXT,
        "This field must not contain control characters.",
    )


@_by_name([case for case in FORM_CASES if case.method == "POST"])
def test_a_file_where_a_text_field_belongs_shows_the_form_again_and_changes_nothing(
    client, session, world, form_case
):
    action, data = _prepare(client, session, world, form_case)
    name = _field_name(form_case, world)
    data.pop(name, None)
    before = all_rows(session)
    response = client.post(
        action,
        data={**data, name: (io.BytesIO(b"%PDF-1.7 not text"), "invoice.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:2000]
    _assert_marked(
        response.get_data(as_text=True),
        name,
        "This field must be text, not a file.",
        action,
    )
    assert all_rows(session) == before


def test_a_note_over_several_lines_is_kept_with_its_line_breaks(client, session, world):
    log_in(client, world.admin)
    token = csrf_token(client, f"/cases/{world.case.id}")
    note = "Called her.\r\nShe prefers email.\tThanks!"
    response = client.post(
        f"/cases/{world.case.id}/notes", data={"body": note, "csrf_token": token}
    )
    assert response.status_code == 302
    bodies = [event.body for event in session.query(CaseEvent).filter_by(kind="note")]
    assert bodies == ["Called her.\nShe prefers email.\tThanks!"]


def test_a_percent_encoded_surrogate_reaches_the_form_as_storable_text(client, session, world):
    # Werkzeug never hands a form a lone surrogate: an invalid UTF-8 sequence is
    # kept percent-encoded, which any database stores.
    log_in(client, world.admin)
    token = csrf_token(client, f"/customers/{world.customer.id}")
    response = client.post(
        f"/customers/{world.customer.id}/notes",
        data=f"csrf_token={token}&body=caf%ED%A0%80".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    (note,) = session.query(CustomerNote).all()
    assert note.body.encode("utf-8")


def test_a_json_body_is_not_a_form(client, session, world):
    token = csrf_token(client, "/login")
    before = all_rows(session)
    response = client.post(
        "/login",
        json={"email": {"$ne": ""}, "password": ["x", "y"]},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    _assert_marked(html, "email", "Enter your email address.")
    assert all_rows(session) == before


def _submitted(form_class, data: dict, **kwargs):
    form = form_class(formdata=MultiDict(data), meta={"csrf": False}, **kwargs)
    form.validate()
    return form


@pytest.mark.parametrize(
    ("form_class", "name"),
    [(LoginForm, "email"), (LoginForm, "password"), (NoteForm, "body"), (NewUserForm, "name")],
)
def test_a_lone_surrogate_in_a_field_is_refused_next_to_it(app, form_class, name):
    with app.test_request_context(method="POST"):
        form = _submitted(form_class, {name: "caf\udce9"})
    assert "This field must be valid Unicode text (it contains a lone surrogate)." in (
        form[name].errors
    )


def test_the_survey_and_settings_forms_refuse_a_lone_surrogate(app, session, world):
    questions = current_version(session, get_question_set(session, "heart-to-heart")).questions
    with app.test_request_context(method="POST"):
        survey = _submitted(survey_form_class(questions), {"one_thing": "\ud800"})
        settings = _submitted(settings_form_class(), {"sender_name": "\udfff Shop"})
        draft = _submitted(DraftForm, {"revision": "0", "questions-0-options-0-label": "\ud800"})
    assert survey.one_thing.errors and settings.sender_name.errors
    assert draft.questions[0].form.options[0].form.label.errors


def _form_classes(base) -> set[type]:
    found = set()
    for subclass in base.__subclasses__():
        found.add(subclass)
        found |= _form_classes(subclass)
    return found


def test_every_form_of_the_app_inherits_the_common_base(app, session):
    # Import every module that defines forms, including the ones built at run time.
    import surveys.admin.routes  # noqa: F401
    import surveys.inbox.routes  # noqa: F401
    import surveys.public.views  # noqa: F401

    questions = current_version(session, get_question_set(session, "heart-to-heart")).questions
    survey_form_class(questions)
    settings_form_class()
    from flask_wtf import FlaskForm
    from wtforms import Form

    ours = {cls for cls in _form_classes(Form) if cls.__module__.startswith("surveys.")}
    assert len(ours) > 20
    strays = {cls.__qualname__ for cls in ours if not issubclass(cls, AppForm | AppSubform)} - {
        "AppForm",
        "AppSubform",
    }
    assert strays == set()
    assert all(issubclass(cls, AppForm) for cls in ours if issubclass(cls, FlaskForm))


@pytest.mark.parametrize(
    "body",
    [
        lambda: {"List-Unsubscribe": "One-Click\x00"},
        lambda: {"List-Unsubscribe": (io.BytesIO(b"One-Click"), "click.txt")},
    ],
    ids=["nul", "file"],
)
def test_the_one_click_unsubscribe_reads_no_field_and_still_works(client, session, world, body):
    # RFC 8058: the token in the address is the authority; whatever the body holds is ignored.
    response = client.post(f"/u/{world.token}", data=body())
    assert response.status_code == 200
    session.refresh(world.customer)
    assert world.customer.suppressed_at is not None
