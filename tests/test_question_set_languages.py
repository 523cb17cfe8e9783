"""The question sets, their history and the routing page in the admin's own language: every
sentence, label, flash and validation message, dates in their locale, right to left in Arabic;
an admin who chose English (or nothing) still reads English, and so does the API."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from surveys.i18n import local_datetime
from surveys.models import QuestionSet, RoutingRule
from surveys.services.question_sets import versions
from surveys.services.settings import set_setting
from tests.factories import make_api_key, make_user
from tests.journey import bearer
from tests.pages import page, text_of
from tests.test_admin_question_sets import editor_form, press
from tests.web import csrf_token, log_in


def _admin_reading(client, session, locale: str | None, **fields):
    admin = make_user(session, role="admin", name="Ada Admin", **fields)
    admin.locale = locale
    session.commit()
    log_in(client, admin)
    return admin


@pytest.fixture
def german(client, session):
    _admin_reading(client, session, "de")
    return client


def _published_at(app, session, key: str = "heart-to-heart", language: str = "de") -> str:
    """The set's newest version's date as the page writes it for a reader of `language`."""
    question_set = session.scalar(select(QuestionSet).where(QuestionSet.key == key))
    version = versions.latest_version(session, question_set)
    with app.test_request_context(), force_locale(language):
        return local_datetime(version.published_at)


def test_a_german_admin_reads_the_question_set_list_in_german(german, session, app):
    shown = page(german.get("/admin/question-sets"))

    assert '<html lang="de" dir="ltr">' in shown.html
    assert text_of(shown.soup.h1) == "Fragensätze"
    assert "Welcher Satz auf einen Kauf folgt" in shown.text
    assert "Neuen Satz anlegen" in shown.text
    row = {r["id"]: r for r in shown.table_rows()}["set-heart-to-heart"]
    assert row["Aktuelle Version"].startswith("Version 3")
    # The date as German writes it, not in the English house style.
    german_date = _published_at(app, session)
    assert german_date in row["Aktuelle Version"]
    assert _published_at(app, session, language="en") not in row["Aktuelle Version"]
    assert "jeder Kauf" in row["Gesendet nach"]


def test_a_german_admin_gets_german_validation_on_the_list(german, session):
    token = csrf_token(german, "/admin/question-sets")
    empty = {"csrf_token": token, "key": "", "name": ""}
    response = german.post("/admin/question-sets", data=empty)

    assert response.status_code == 422
    text = page(response).text
    assert "Geben Sie dem Satz einen Schlüssel, etwa after-repair." in text
    assert "Geben Sie dem Satz einen Namen." in text


def test_a_german_admin_writes_questions_in_a_german_editor(german, session):
    shown = page(german.get("/admin/question-sets/heart-to-heart"))

    assert "Frage 1" in shown.text
    assert "Entwurf speichern" in shown.text
    assert "Als Version 4 veröffentlichen" in shown.text
    assert "Pflicht: Die Kundschaft muss sie beantworten" in shown.text
    # The other languages are named in German, tabs and sentences alike.
    assert "Spanisch" in shown.text
    spanish = page(german.get("/admin/question-sets/heart-to-heart?lang=es"))
    assert "Frage auf Spanisch" in spanish.text
    assert "Auf dem Handy der Kundschaft, auf Spanisch" in spanish.text

    data = editor_form(german)
    data["questions-0-text"] = ""
    refused = press(german, data, "publish")

    assert refused.status_code == 422
    text = page(refused).text
    assert "Noch nicht veröffentlicht: Korrigieren Sie zuerst, was unten markiert ist." in text
    assert "Schreiben Sie die Frage so, wie die Kundschaft sie lesen wird." in text
    assert "Write the question" not in text


def test_a_saved_draft_and_an_option_error_are_told_in_german(german, session):
    data = editor_form(german)
    saved = press(german, data, "save")
    assert saved.status_code == 302
    assert "Entwurf gespeichert." in page(german.get(saved.headers["Location"])).text

    # The seeded first question is a choice: two options with one value are one mistake.
    data["questions-0-options-1-value"] = data["questions-0-options-0-value"]
    refused = press(german, data, "publish")
    assert refused.status_code == 422
    value = data["questions-0-options-0-value"]
    assert f"Option 2: Eine andere Option hat schon den Wert „{value}“." in page(refused).text


def test_a_german_admin_reads_the_history_in_german(german, session, app):
    shown = page(german.get("/admin/question-sets/heart-to-heart/versions"))

    assert "Versionsverlauf: Heart to heart" in shown.text
    assert "So ansehen, wie die Kundschaft sie sah" in shown.text
    assert f"Veröffentlicht am {_published_at(app, session)}" in shown.text


def test_a_german_admin_routes_cases_in_german(german, session):
    hugo = make_user(session, role="owner", name="Hugo Hardware")
    session.commit()
    shown = page(german.get("/admin/routing"))
    assert text_of(shown.soup.h1) == "Wer für neue Fälle zuständig ist"
    assert "Noch keine Regeln" in shown.text

    token = csrf_token(german, "/admin/routing")
    rule = {"csrf_token": token, "field": "category", "value": "hardware", "owner_id": hugo.id}
    added = german.post("/admin/routing/rules", data=rule)
    assert added.status_code == 302
    shown = page(german.get("/admin/routing"))
    assert "Hinzugefügt: Wenn gilt „Kategorie ist hardware“" in shown.text
    [listed] = shown.all("ol.rule-list > li")
    assert text_of(listed).startswith(
        "1. Wenn gilt: Kategorie ist hardware, gehen die Fälle an Hugo Hardware"
    )
    # What the case will say it was routed by stays as stored, in English.
    assert session.scalar(select(RoutingRule.value)) == "hardware"

    bad = {**rule, "field": "total_at_least", "value": "lots"}
    refused = german.post("/admin/routing/rules", data=bad)
    assert refused.status_code == 422
    assert "Geben Sie einen Betrag an, etwa 500 oder 99.90." in page(refused).text

    tested = page(
        german.get("/admin/routing/test", query_string={"email": "a@b.de", "category": "hardware"})
    )
    says = text_of(tested.by_id("tester-result"))
    assert "Warum: Regel 1 (Kategorie ist hardware) ist die erste, die passt." in says


def test_an_arabic_admin_reads_these_pages_right_to_left(client, session):
    _admin_reading(client, session, "ar")

    for path in ("/admin/question-sets", "/admin/question-sets/heart-to-heart", "/admin/routing"):
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in html, path
    assert "مجموعات الأسئلة" in client.get("/admin/question-sets").get_data(as_text=True)
    assert "من يتولى الحالات الجديدة" in client.get("/admin/routing").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", None])
def test_an_english_admin_still_reads_english(client, session, locale):
    _admin_reading(client, session, locale)

    listed = page(client.get("/admin/question-sets"))
    assert '<html lang="en" dir="ltr">' in listed.html
    assert text_of(listed.soup.h1) == "Question sets"
    assert "Which set follows a purchase" in listed.text
    assert "Save draft" in page(client.get("/admin/question-sets/heart-to-heart")).text
    assert text_of(page(client.get("/admin/routing")).soup.h1) == "Who owns new cases"


def test_the_api_explains_in_the_language_its_client_asks_for_english_by_default(client, session):
    make_user(session, role="admin")
    _key, raw = make_api_key(session)
    # The shop's own language is not the integration's: a program reads English unless it asks.
    set_setting(session, "default_language", "es")
    session.commit()
    body = {"questions": [{"key": "said", "type": "text", "text": ""}]}

    response = client.put("/api/v1/question-sets/written", headers=bearer(raw), json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "questions.0.text": ["Write the question as the customer will read it."]
    }

    in_spanish = {**bearer(raw), "Accept-Language": "es-MX, en;q=0.5"}
    response = client.put("/api/v1/question-sets/written", headers=in_spanish, json=body)
    assert response.get_json()["errors"] == {
        "questions.0.text": ["Escribe la pregunta tal como la leerá el cliente."]
    }
    control = {"questions": [{"key": "said", "type": "text", "text": "Hola\x07"}]}
    response = client.put("/api/v1/question-sets/written", headers=in_spanish, json=control)
    assert response.get_json()["errors"] == {
        "questions.0.text": ["La pregunta no puede contener caracteres de control."]
    }

    # A language we do not ship, or a header that names none, reads English.
    for header in ("tlh, x-klingon;q=0.9", "*", ";;;"):
        unknown = {**bearer(raw), "Accept-Language": header}
        response = client.put("/api/v1/question-sets/written", headers=unknown, json=body)
        assert response.get_json()["errors"] == {
            "questions.0.text": ["Write the question as the customer will read it."]
        }
