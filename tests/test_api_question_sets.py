"""Question sets as code: GET and PUT /api/v1/question-sets."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from surveys.models import AuditEntry, QuestionSet, QuestionSetVersion
from surveys.text_reading import DEFAULT_COMPLAINT_WORDS, DEFAULT_SENTIMENT_THRESHOLD
from tests.factories import make_api_key, make_user

# The seeded heart-to-heart set's newest version: version 2 gave its written answer a rule,
# version 3 its texts in every shipped language.
SEEDED = 3


@pytest.fixture
def api_key(session):
    key, raw = make_api_key(session, name="questions-in-git")
    session.commit()
    return key, raw


@pytest.fixture
def auth(api_key):
    return {"Authorization": f"Bearer {api_key[1]}"}


def version_count(session, key: str) -> int:
    return session.scalar(
        select(func.count(QuestionSetVersion.id)).join(QuestionSet).where(QuestionSet.key == key)
    )


def fetch(client, auth, key="heart-to-heart") -> dict:
    response = client.get(f"/api/v1/question-sets/{key}", headers=auth)
    assert response.status_code == 200
    return response.get_json()


def test_get_shows_the_seeded_set_in_the_contract_shape(client, auth):
    body = fetch(client, auth)
    assert body["key"] == "heart-to-heart"
    assert body["name"] == "Heart to heart"
    assert body["version"] == SEEDED
    assert body["published_at"].endswith("Z")
    first = body["questions"][0]
    # Every text also in the other shipped languages (tests/test_translated_question_sets.py).
    assert first.pop("translations")["es"] == "¿Estamos superando tus expectativas?"
    assert [option.pop("translations")["fr"] for option in first["options"]] == [
        "Oui, et même largement",
        "Oui, vous y répondez",
        "Pas vraiment, j’attendais mieux",
    ]
    assert first == {
        "key": "expectations",
        "type": "choice",
        "required": True,
        "text": "Are we exceeding your expectations?",
        "options": [
            {"value": "exceeding", "label": "Yes, you are exceeding them"},
            {"value": "meeting", "label": "You are meeting them"},
            {"value": "short", "label": "You are falling short"},
        ],
        "negative": {"values": ["short"]},
    }
    recommend = next(q for q in body["questions"] if q["key"] == "recommend")
    assert (recommend["min"], recommend["max"], recommend["negative"]) == (0, 10, {"at_most": 6})
    one_thing = next(q for q in body["questions"] if q["key"] == "one_thing")
    assert one_thing["negative"]["sentiment_below"] == DEFAULT_SENTIMENT_THRESHOLD
    assert one_thing["negative"]["words"]["en"] == list(DEFAULT_COMPLAINT_WORDS)
    assert "options" not in one_thing


def test_list_shows_every_published_set(client, auth):
    response = client.get("/api/v1/question-sets", headers=auth)
    assert response.status_code == 200
    keys = [item["key"] for item in response.get_json()["items"]]
    assert keys == ["fix-check", "heart-to-heart", "relationship-review"]


def test_unknown_set_answers_404(client, auth):
    response = client.get("/api/v1/question-sets/nope", headers=auth)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}]
)
def test_missing_or_wrong_key_answers_401_and_publishes_nothing(client, session, headers):
    assert client.get("/api/v1/question-sets", headers=headers).status_code == 401
    response = client.put(
        "/api/v1/question-sets/heart-to-heart", headers=headers, json={"questions": []}
    )
    assert response.status_code == 401
    assert version_count(session, "heart-to-heart") == SEEDED


def test_a_logged_in_admin_without_a_key_gets_401(client, session):
    # The API is for integrators' keys; a browser session cookie does not open it.
    admin = make_user(session, role="admin")
    session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(admin.id)
        cookie["_fresh"] = True
    assert client.get("/api/v1/question-sets").status_code == 401


def test_putting_what_get_returned_changes_nothing(client, session, auth):
    body = fetch(client, auth)
    response = client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body)
    assert response.status_code == 200
    assert response.get_json()["version"] == SEEDED
    assert version_count(session, "heart-to-heart") == SEEDED
    assert session.scalar(select(func.count(AuditEntry.id))) == 0


def test_publishing_creates_version_n_plus_one(client, session, auth, clock):
    body = fetch(client, auth)
    body["questions"].append(
        {
            "key": "delivery",
            "type": "choice",
            "required": False,
            "text": "Did it arrive on time?",
            "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}],
            "negative": {"values": ["no"]},
        }
    )
    response = client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body)
    assert response.status_code == 201
    published = response.get_json()
    assert published["version"] == SEEDED + 1
    assert published["questions"][-1]["key"] == "delivery"
    location = f"/api/v1/question-sets/heart-to-heart?version={SEEDED + 1}"
    assert response.headers["Location"].endswith(location)
    assert version_count(session, "heart-to-heart") == SEEDED + 1
    # The version before is untouched and still readable.
    old = client.get(f"/api/v1/question-sets/heart-to-heart?version={SEEDED}", headers=auth)
    old = old.get_json()
    assert [q["key"] for q in old["questions"]] == [
        "expectations",
        "one_thing",
        "time_money",
        "recommend",
        "preferences",
    ]

    body["questions"][0]["text"] = "Are we exceeding what you expected?"
    again = client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body)
    assert again.status_code == 201 and again.get_json()["version"] == SEEDED + 2


def test_publishing_through_the_api_is_in_the_audit_log_as_the_key(
    client, session, auth, api_key, clock
):
    body = fetch(client, auth)
    body["questions"] = body["questions"][:2]
    assert (
        client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body).status_code
        == 201
    )
    entry = session.scalars(select(AuditEntry)).one()
    assert entry.action == "question_set.published"
    assert entry.target == "question set heart-to-heart"
    assert entry.actor_api_key_id == api_key[0].id and entry.actor_user_id is None
    assert entry.before["version"] == SEEDED and len(entry.before["questions"]) == 5
    assert entry.after["version"] == SEEDED + 1 and len(entry.after["questions"]) == 2
    assert entry.created_at == clock.now()


def test_the_order_of_negative_values_does_not_make_a_new_version(client, session, auth):
    body = fetch(client, auth, "fix-check")
    body["questions"][0]["negative"] = {"values": ["no", "partly"]}
    response = client.put("/api/v1/question-sets/fix-check", headers=auth, json=body)
    assert response.status_code == 200
    # Version 1 as seeded, version 2 its translations (migration 0024).
    assert version_count(session, "fix-check") == 2


def test_putting_an_unknown_key_creates_the_set_as_version_1(client, session, auth):
    body = {
        "name": "After a repair",
        "questions": [
            {
                "key": "happy",
                "type": "scale",
                "min": 1,
                "max": 5,
                "text": "How happy are you?",
                "negative": {"at_most": 2},
            },
        ],
    }
    response = client.put("/api/v1/question-sets/after-repair", headers=auth, json=body)
    assert response.status_code == 201
    created = response.get_json()
    assert (created["key"], created["name"], created["version"]) == (
        "after-repair",
        "After a repair",
        1,
    )
    assert created["questions"][0] == {
        "key": "happy",
        "type": "scale",
        "min": 1,
        "max": 5,
        "text": "How happy are you?",
        "required": False,
        "negative": {"at_most": 2},
    }
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["question_set.created", "question_set.published"]


def test_a_new_name_renames_without_a_new_version(client, session, auth):
    body = fetch(client, auth)
    body["name"] = "Our heart to heart"
    response = client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body)
    assert response.status_code == 200
    assert response.get_json()["name"] == "Our heart to heart"
    assert version_count(session, "heart-to-heart") == SEEDED
    assert session.scalars(select(AuditEntry.action)).all() == ["question_set.renamed"]


def _problem(response) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()["errors"]


def _put_questions(client, auth, questions, key="heart-to-heart"):
    return client.put(f"/api/v1/question-sets/{key}", headers=auth, json={"questions": questions})


def test_duplicate_question_keys_answer_422(client, session, auth):
    body = fetch(client, auth)
    body["questions"][2]["key"] = "expectations"
    errors = _problem(client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body))
    assert errors == {"questions.2.key": ["Another question already uses the key “expectations”."]}
    assert version_count(session, "heart-to-heart") == SEEDED


@pytest.mark.parametrize("options", [None, []])
def test_a_choice_without_options_answers_422(client, auth, options):
    errors = _problem(
        _put_questions(
            client, auth, [{"key": "ok", "type": "choice", "text": "All well?", "options": options}]
        )
    )
    assert list(errors) == ["questions.0.options"]


def test_a_text_rule_round_trips_with_duplicate_words_dropped(client, session, auth):
    rule = {"words": ["refund", "never arrived", " Refund "], "sentiment_below": -0.5}
    question = {"key": "said", "type": "text", "text": "Anything?", "negative": rule}
    response = _put_questions(client, auth, [question], key="written")
    assert response.status_code == 201, response.get_data(as_text=True)
    expected = {"sentiment_below": -0.5, "words": ["refund", "never arrived"]}
    assert response.get_json()["questions"][0]["negative"] == expected
    assert fetch(client, auth, "written")["questions"][0]["negative"] == expected
    # Sending back what GET returned is no change.
    again = _put_questions(client, auth, fetch(client, auth, "written")["questions"], key="written")
    assert again.status_code == 200 and version_count(session, "written") == 1
    # Any answer, and `{}` for never, are rules too.
    question["negative"] = {"not_empty": True}
    any_answer = _put_questions(client, auth, [question], key="written")
    assert any_answer.get_json()["questions"][0]["negative"] == {"not_empty": True}
    question["negative"] = {}
    never = _put_questions(client, auth, [question], key="written")
    assert never.get_json()["questions"][0]["negative"] is None


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ({"sentiment_below": -1.5}, "questions.0.negative.sentiment_below", "from -1"),
        ({"sentiment_below": "low"}, "questions.0.negative.sentiment_below", "like -0.4"),
        ({"words": ["refund", " "]}, "questions.0.negative.words", "Word 2 is empty"),
        ({"words": []}, "questions.0.negative.words", "List the words"),
        ({"words": ["x" * 81]}, "questions.0.negative.words", "80 characters"),
        ({"not_empty": "yes"}, "questions.0.negative.not_empty", "true or false"),
        ({"tone": "angry"}, "questions.0.negative", "Unknown part “tone”"),
        (["refund"], "questions.0.negative", "For a text, the rule is"),
    ],
)
def test_a_text_rule_that_does_not_fit_answers_422(client, session, auth, rule, path, words):
    question = {"key": "said", "type": "text", "text": "Anything?", "negative": rule}
    errors = _problem(_put_questions(client, auth, [question]))
    assert list(errors) == [path] and words in errors[path][0]
    assert version_count(session, "heart-to-heart") == SEEDED


@pytest.mark.parametrize(
    ("question", "path"),
    [
        (
            {
                "key": "n",
                "type": "scale",
                "min": 0,
                "max": 10,
                "text": "?",
                "negative": {"values": ["3"]},
            },
            "questions.0.negative",
        ),
        (
            {
                "key": "c",
                "type": "choice",
                "text": "?",
                "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
                "negative": {"at_most": 1},
            },
            "questions.0.negative",
        ),
        (
            {"key": "t", "type": "text", "text": "?", "negative": {"values": ["bad"]}},
            "questions.0.negative",
        ),
        (
            {
                "key": "c",
                "type": "choice",
                "text": "?",
                "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
                "negative": {"values": ["zzz"]},
            },
            "questions.0.negative",
        ),
        (
            {
                "key": "n",
                "type": "scale",
                "min": 0,
                "max": 10,
                "text": "?",
                "negative": {"at_most": 10},
            },
            "questions.0.negative",
        ),
    ],
)
def test_a_rule_that_does_not_fit_its_type_answers_422(client, session, auth, question, path):
    errors = _problem(_put_questions(client, auth, [question]))
    assert list(errors) == [path]
    assert version_count(session, "heart-to-heart") == SEEDED


def test_an_empty_set_answers_422(client, session, auth):
    errors = _problem(_put_questions(client, auth, []))
    assert errors == {"questions": ["A question set needs at least one question."]}
    assert version_count(session, "heart-to-heart") == SEEDED


def test_an_empty_new_set_is_not_created(client, session, auth):
    _problem(_put_questions(client, auth, [], key="brand-new"))
    assert session.scalar(select(QuestionSet).where(QuestionSet.key == "brand-new")) is None


def test_every_problem_is_named_at_once(client, auth):
    errors = _problem(
        client.put(
            "/api/v1/question-sets/heart-to-heart",
            headers=auth,
            json={
                "key": "other",
                "questions": [
                    {"key": "Bad Key", "type": "rating", "text": ""},
                    {"key": "s", "type": "scale", "min": 5, "max": 1, "text": "?"},
                    {"key": "csrf_token", "type": "text", "text": "?", "colour": "red"},
                ],
            },
        )
    )
    assert set(errors) == {
        "key",
        "questions.0.key",
        "questions.0.type",
        "questions.0.text",
        "questions.1.max",
        "questions.2.key",
        "questions.2.colour",
    }


def test_a_bad_key_for_a_new_set_answers_422(client, auth):
    errors = _problem(
        _put_questions(client, auth, [{"key": "a", "type": "text", "text": "?"}], key="Not_A_Key")
    )
    assert list(errors) == ["key"]


def test_a_body_that_is_not_json_answers_415_or_400(client, session, auth):
    as_text = client.put(
        "/api/v1/question-sets/heart-to-heart",
        headers=auth,
        data="questions",
        content_type="text/plain",
    )
    assert as_text.status_code == 415
    broken = client.put(
        "/api/v1/question-sets/heart-to-heart",
        headers=auth,
        data="{nope",
        content_type="application/json",
    )
    assert broken.status_code == 400
    assert version_count(session, "heart-to-heart") == SEEDED


def test_the_body_must_be_an_object(client, auth):
    errors = _problem(
        client.put(
            "/api/v1/question-sets/heart-to-heart",
            headers=auth,
            json=[{"key": "a", "type": "text", "text": "?"}],
        )
    )
    assert list(errors) == ["body"]


def test_responses_keep_the_version_they_answered(client, session, auth, clock):
    from surveys.services.surveys.responses import submit_response
    from tests.factories import make_customer, make_sent_survey

    customer = make_customer(session)
    survey, _token = make_sent_survey(session, customer)
    response = submit_response(session, survey, {"expectations": "meeting"}, now=clock.now())
    session.commit()
    version_1 = response.version_id

    body = fetch(client, auth)
    body["questions"] = copy.deepcopy(body["questions"][:1])
    assert (
        client.put("/api/v1/question-sets/heart-to-heart", headers=auth, json=body).status_code
        == 201
    )
    session.refresh(response)
    assert response.version_id == version_1
    assert response.version.number == SEEDED
    assert [a.question.key for a in response.answers] == ["expectations"]
    assert len(response.version.questions) == 5


def test_answers_are_as_the_openapi_document_says(client, auth):
    from tests.test_openapi import assert_documented

    document = client.get("/api/v1/openapi.json").get_json()
    item = "/api/v1/question-sets/{key}"
    assert_documented(
        document, "/api/v1/question-sets", "GET", client.get("/api/v1/question-sets", headers=auth)
    )
    body = fetch(client, auth)
    assert_documented(
        document, item, "GET", client.get("/api/v1/question-sets/heart-to-heart", headers=auth)
    )
    assert_documented(document, item, "GET", client.get("/api/v1/question-sets/x", headers=auth))
    put = "/api/v1/question-sets/heart-to-heart"
    assert_documented(document, item, "PUT", client.put(put, json=body, headers=auth))
    body["questions"] = body["questions"][:3]
    assert_documented(document, item, "PUT", client.put(put, json=body, headers=auth))
    assert_documented(document, item, "PUT", client.put(put, json={"questions": []}, headers=auth))
    assert_documented(
        document,
        item,
        "PUT",
        client.put(put, data="{", headers=auth, content_type="application/json"),
    )
    assert_documented(document, item, "PUT", client.put(put, data="x", headers=auth))
    assert_documented(document, item, "PUT", client.put(put, json=body))
