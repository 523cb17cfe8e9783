"""Question sets in the customer's language: translations through the API and the editor, the
seeded sets in every shipped language, the fallback to the default text, and written answers
read with their own language's words."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import insert, select

from surveys.db import db
from surveys.mail.survey_emails import answer_links
from surveys.models import Question, QuestionSet, QuestionSetVersion
from surveys.services.question_sets.translations import (
    SHIPPED_LANGUAGES,
    localized_question,
    option_label,
    question_text,
)
from surveys.services.question_sets.versions import current_version, get_question_set
from surveys.services.surveys.responses import submit_response
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_customer, make_purchase, make_sent_survey
from tests.test_admin_question_sets import editor_form, form_from, press
from tests.test_database import _migrate
from tests.test_mail_rendering import html_links, parts, schedule, send_and_read
from tests.web import csrf_token_from

OTHER_LANGUAGES = [tag for tag in SHIPPED_LANGUAGES if tag != "en"]
SEEDED_SETS = ("heart-to-heart", "fix-check", "relationship-review")

WITH_TRANSLATIONS = {
    "name": "After a repair",
    "questions": [
        {
            "key": "fixed",
            "type": "choice",
            "text": "Is it working again?",
            "translations": {"es": "¿Vuelve a funcionar?", "pt_br": "Voltou a funcionar?"},
            "options": [
                {"value": "yes", "label": "Yes", "translations": {"es": "Sí", "fr": "Oui"}},
                {"value": "no", "label": "Not yet", "translations": {"es": "Todavía no"}},
            ],
            "negative": {"values": ["no"]},
        },
        {
            "key": "words",
            "type": "text",
            "text": "Anything else?",
            "translations": {"es": "¿Algo más?"},
            "negative": {"words": {"en": ["broken"], "es": ["roto", "no funciona"]}},
        },
    ],
}


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session, name="translations")
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def current(session, key: str):
    question_set = session.scalar(select(QuestionSet).where(QuestionSet.key == key))
    session.refresh(question_set)
    return current_version(session, question_set)


# --- the API -----------------------------------------------------------------------------------


def test_a_set_is_published_with_translations_and_read_back(client, session, auth):
    response = client.put(
        "/api/v1/question-sets/after-repair", headers=auth, json=WITH_TRANSLATIONS
    )
    assert response.status_code == 201, response.get_json()

    body = client.get("/api/v1/question-sets/after-repair", headers=auth).get_json()
    fixed, words = body["questions"]
    # Codes come back as BCP 47 writes them.
    assert fixed["translations"] == {"es": "¿Vuelve a funcionar?", "pt-BR": "Voltou a funcionar?"}
    assert fixed["options"][0] == {
        "value": "yes",
        "label": "Yes",
        "translations": {"es": "Sí", "fr": "Oui"},
    }
    assert words["negative"] == {"words": {"en": ["broken"], "es": ["roto", "no funciona"]}}
    # The document read back is the document: sending it again publishes nothing.
    again = client.put("/api/v1/question-sets/after-repair", headers=auth, json=body)
    assert again.status_code == 200 and again.get_json()["version"] == 1


def test_a_document_without_translations_reads_as_before(client, auth):
    plain = {
        "questions": [
            {"key": "fine", "type": "text", "text": "All fine?", "negative": {"words": ["bad"]}}
        ]
    }
    response = client.put("/api/v1/question-sets/plain", headers=auth, json=plain)
    assert response.status_code == 201
    [question] = response.get_json()["questions"]
    assert "translations" not in question
    assert question["negative"] == {"words": ["bad"]}


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda q: q[0]["translations"].update({"xx": "?"}), "questions.0.translations", "xx"),
        (
            lambda q: q[0]["translations"].update({"en-XX": "?"}),
            "questions.0.translations",
            "en-XX",
        ),
        (
            lambda q: q[0]["options"][1]["translations"].update({"klingon": "?"}),
            "questions.0.options.1.translations",
            "klingon",
        ),
        (lambda q: q[0]["translations"].update({"fr": "  "}), "questions.0.translations", "empty"),
        (
            lambda q: q[0]["translations"].update({"fr": "x" * 1001}),
            "questions.0.translations",
            "1000 characters",
        ),
        (
            lambda q: q[0]["options"][0]["translations"].update({"de": "Ja\nbitte"}),
            "questions.0.options.0.translations",
            "single line",
        ),
        (
            lambda q: q[1]["negative"]["words"].update({"zz": ["x"]}),
            "questions.1.negative.words",
            "zz",
        ),
    ],
)
def test_a_bad_translation_is_refused_naming_its_field(client, session, auth, change, path, words):
    body = copy.deepcopy(WITH_TRANSLATIONS)
    change(body["questions"])
    response = client.put("/api/v1/question-sets/after-repair", headers=auth, json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert path in errors and words in " ".join(errors[path])
    assert get_question_set(session, "after-repair") is None


def test_the_openapi_document_describes_translations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    text = str(schemas)
    assert "translations" in str(schemas["ChoiceQuestion"]) and "BCP 47" in text


# --- the seeded sets ---------------------------------------------------------------------------


def test_the_seeded_sets_are_complete_in_every_shipped_language(session):
    for key in SEEDED_SETS:
        for question in current(session, key).questions:
            where = f"{key}.{question.key}"
            assert sorted(question.translations or {}) == sorted(OTHER_LANGUAGES), where
            assert all(text.strip() for text in question.translations.values()), where
            for option in question.options or ():
                labels = option.get("translations") or {}
                assert sorted(labels) == sorted(OTHER_LANGUAGES), f"{where}.{option['value']}"
                assert all(label.strip() for label in labels.values())
            words = (question.negative or {}).get("words")
            if words is not None:
                assert sorted(words) == sorted(SHIPPED_LANGUAGES), where


def test_the_seeded_sets_read_naturally_in_spanish_and_arabic(session):
    first = current(session, "heart-to-heart").questions[0]
    assert question_text(first, "es") == "¿Estamos superando tus expectativas?"
    assert question_text(first, "es-MX") == "¿Estamos superando tus expectativas?"
    assert question_text(first, "ar") == "هل نتجاوز توقعاتكم؟"
    assert question_text(first, "pt") == "Estamos superando as suas expectativas?"
    assert [option_label(o, "de") for o in first.options] == [
        "Ja, sogar deutlich",
        "Sie erfüllen sie",
        "Nicht ganz – ich hatte mehr erwartet",
    ]
    # A language the set does not have, or none, reads the default text.
    assert question_text(first, "pl") == question_text(first, None) == first.text


# --- the editor --------------------------------------------------------------------------------


def test_the_editor_saves_a_language_beside_the_default_texts(admin_client, session):
    shown = admin_client.get("/admin/question-sets/fix-check?lang=es")
    data = form_from(shown.get_data(as_text=True))
    languages = {key: value for key, value in data.items() if key.endswith("-language")}
    assert "es" in languages.values() and "ar" in languages.values()
    spanish = next(
        key.removesuffix("-language")
        for key, value in languages.items()
        if value == "es" and key.startswith("questions-0-translations")
    )
    assert data[f"{spanish}-text"].startswith("Nos contaste un problema")
    data[f"{spanish}-text"] = "¿Lo hemos arreglado?"
    data["lang"] = "es"

    response = press(admin_client, data, "save", key="fix-check")
    assert response.status_code == 302 and response.headers["Location"].endswith("lang=es")
    draft = get_question_set(session, "fix-check")
    session.refresh(draft)
    assert draft.draft[0]["translations"]["es"] == "¿Lo hemos arreglado?"
    # The other languages travelled with the save, untouched.
    assert draft.draft[0]["translations"]["fr"].startswith("Vous nous avez signalé")
    assert draft.draft[0]["options"][0]["translations"]["ar"] == "نعم، تم حلّها"

    preview = admin_client.get("/admin/question-sets/fix-check/preview?lang=es")
    assert "¿Lo hemos arreglado?" in preview.get_data(as_text=True)
    assert "Sí, ya está resuelto" in preview.get_data(as_text=True)


def test_the_editor_says_which_languages_the_tone_is_not_read_in(admin_client):
    html = admin_client.get("/admin/question-sets/heart-to-heart?lang=es").get_data(as_text=True)
    assert "VADER, which knows English only" in html
    assert "Negative when an answer in Spanish mentions" in html


def test_the_preview_speaks_arabic_right_to_left_where_the_editor_writes_it(admin_client):
    preview = admin_client.get("/admin/question-sets/heart-to-heart/preview?lang=ar")
    page = preview.get_data(as_text=True)
    assert "هل نتجاوز توقعاتكم؟" in page
    # The page around the questions speaks Arabic too, right to left.
    assert '<html lang="ar" dir="rtl">' in page
    editor = admin_client.get("/admin/question-sets/heart-to-heart?lang=ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in editor


def test_publishing_with_missing_texts_warns_and_sends_the_default_text(admin_client, session):
    data = editor_form(admin_client, "fix-check")
    french = next(
        key.removesuffix("-language")
        for key, value in data.items()
        if value == "fr" and key.startswith("questions-0-options-1-translations")
    )
    data[f"{french}-label"] = ""  # the French "Partly" goes missing
    data["questions-0-text"] = "Did our fix work for you?"

    response = press(admin_client, data, "publish", key="fix-check")
    assert response.status_code == 302
    shown = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Some texts are not translated yet" in shown
    assert "French: question 1, option “partly”" in shown
    assert "get them in English until you add them" in shown

    # At send time, a reader of French gets the default label where French is missing.
    first = current(session, "fix-check").questions[0]
    in_french = localized_question(first, "fr")
    links = answer_links(in_french, "http://surveys.test/s/token")
    assert [link["label"] for link in links] == ["Oui, c’est réglé", "Partly", "Non, pas encore"]
    assert in_french.text.startswith("Vous nous avez signalé")


def test_an_unknown_language_in_the_address_shows_the_default_texts(admin_client):
    response = admin_client.get("/admin/question-sets/heart-to-heart/preview?lang=xx%00")
    assert response.status_code == 200
    assert "Are we exceeding your expectations?" in response.get_data(as_text=True)


# --- written answers, read in the customer's language ------------------------------------------


def _answer_in(session, clock, locale: str | None, written: str):
    customer = make_customer(session)
    # customers.locale comes with the work on languages; a plain attribute before it.
    customer.locale = locale
    purchase = make_purchase(session, customer, purchased_at=clock.now())
    survey, _token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    response = submit_response(
        session, survey, {"expectations": "meeting", "one_thing": written}, now=clock.now()
    )
    return next(answer for answer in response.answers if answer.question.key == "one_thing")


def test_a_spanish_answer_is_read_with_the_spanish_words(session, clock):
    answer = _answer_in(session, clock, "es", "Llegó roto y nadie me contesta.")
    assert answer.negative and answer.negative_words == ["roto", "nadie"]


def test_english_words_do_not_fire_on_another_languages_answer(session, clock):
    # "late" is an English complaint word; in Spanish "el corazón late" is a heartbeat.
    answer = _answer_in(session, clock, "es", "Todo perfecto, el corazón me late de alegría.")
    assert not answer.negative


def test_a_language_without_its_own_list_reads_the_default_list(session, clock):
    answer = _answer_in(session, clock, "pl", "The parcel was damaged.")
    assert answer.negative and answer.negative_words == ["damaged"]


def test_the_tone_is_not_read_in_a_language_the_library_does_not_know():
    # VADER scores this happy Spanish sentence ("arrived perfect, without any damage") as
    # unhappy: it knows English words only. The tone rule is left out for Spanish answers.
    question = Question(key="one_thing", type="text", text="?", negative={"sentiment_below": -0.25})
    happy = "El paquete llegó perfecto, sin ningún daño."
    assert question.read_text(happy, "en").score < -0.25
    assert question.is_negative(happy, "en")
    assert not question.is_negative(happy, "es")


def test_the_customers_stored_locale_picks_the_language(session):
    customer = make_customer(session)
    customer.locale = "pt-BR"
    session.commit()
    session.refresh(customer)
    first = current(session, "heart-to-heart").questions[0]
    assert localized_question(first, customer.locale).text.startswith("Estamos superando")


# --- the migration -----------------------------------------------------------------------------


def test_the_migration_translates_only_the_sets_nobody_edited(committed_app):
    _migrate(committed_app, "downgrade", "0016")
    with committed_app.app_context():
        session = db.session()
        fix_check = session.scalar(select(QuestionSet.id).where(QuestionSet.key == "fix-check"))
        # An admin's own version of the fix-check, written as the app of that day wrote it.
        version_id = session.execute(
            insert(QuestionSetVersion.__table__)
            .values(question_set_id=fix_check, number=3, published_at=TEST_START)
            .returning(QuestionSetVersion.__table__.c.id)
        ).scalar_one()
        session.execute(
            insert(Question.__table__).values(
                version_id=version_id,
                position=0,
                key="fix_worked",
                type="choice",
                text="Is it sorted?",
                required=True,
                options=[{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}],
                negative={"values": ["no"]},
            )
        )
        session.commit()
        session.close()

    _migrate(committed_app, "upgrade", "head")

    with committed_app.app_context():
        session = db.session()
        mine = current(session, "fix-check")
        assert mine.number == 3 and mine.questions[0].text == "Is it sorted?"
        assert mine.questions[0].translations is None
        # The untouched sets are translated again, in a version of their own.
        heart = current(session, "heart-to-heart")
        assert heart.number == 4 and heart.questions[0].translations["nl"]
        session.close()


def test_a_spanish_customers_survey_email_asks_in_spanish(app, session, runner, clock):
    customer = make_customer(session, name="Ana Díaz")
    customer.locale = "es"
    session.commit()
    schedule(session, clock, customer=customer)

    text, html = parts(send_and_read(app, runner))

    assert "¿Estamos superando tus expectativas?" in text
    labels = [label for href, label in html_links(html) if "?a=" in href]
    assert labels == ["Sí, y con creces", "Justo lo que esperaba", "Esperaba algo más"]


def test_a_spanish_customers_survey_page_asks_in_spanish_and_records_the_values(
    client, session, clock
):
    customer = make_customer(session)
    customer.locale = "es-ES"
    purchase = make_purchase(session, customer, purchased_at=clock.now())
    survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    session.commit()

    shown = client.get(f"/s/{token}?a=short").get_data(as_text=True)
    assert "¿Estamos superando tus expectativas?" in shown and "Esperaba algo más" in shown
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "¿Con qué probabilidad nos recomendarías" in html
    response = client.post(
        f"/s/{token}",
        data={
            "csrf_token": csrf_token_from(html),
            "expectations": "short",
            "one_thing": "El envío llegó tarde.",
        },
    )
    assert response.status_code == 200
    session.refresh(survey)
    answers = {answer.question.key: answer for answer in survey.response.answers}
    assert answers["expectations"].value == "short"
    assert answers["one_thing"].negative_words == ["tarde"]
