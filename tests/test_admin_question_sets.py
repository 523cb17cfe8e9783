"""The question-set editor: drafts, add/remove/reorder without JavaScript, preview, publishing,
history, concurrent edits, and which set follows a purchase."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from surveys.forms import AppForm
from surveys.models import AuditEntry, QuestionSet, QuestionSetAssignment, Response
from surveys.services.question_sets import drafts, history, publishing, versions
from surveys.services.question_sets.assignments import question_set_for_purchase
from surveys.services.question_sets.fields import RESERVED_FIELD_NAMES
from surveys.services.question_sets.versions import current_version, get_question_set
from tests.factories import (
    PASSWORD,
    make_api_key,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)
from tests.journey import bearer
from tests.pages import page, text_of
from tests.web import csrf_token, log_in

# The seeded heart-to-heart set's newest version: version 2 gave its written answer a rule,
# version 3 its texts in every shipped language.
SEEDED = 3


class _FormReader(HTMLParser):
    """What a browser would submit from one form: inputs, checked boxes, textareas, selects."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text = ""
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox", "radio"):
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "input" and name and "checked" in attrs:
            self.fields.append((name, attrs.get("value") or "on"))
        elif tag == "textarea":
            self._textarea, self._text = name, ""
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value"), "selected" in attrs))

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the newline right after <textarea>.
            text = (
                self._text.removeprefix("\r\n")
                if self._text.startswith("\r\n")
                else self._text.removeprefix("\n")
            )
            self.fields.append((self._textarea, text))
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.fields.append((self._select, chosen[0]))
            self._select = None


def editor_form(client, key: str = "heart-to-heart") -> dict[str, str]:
    """The editor's form as a browser would submit it, as a dict (the fields are unique)."""
    response = client.get(f"/admin/question-sets/{key}")
    assert response.status_code == 200
    return form_from(response.get_data(as_text=True))


def form_from(html: str) -> dict[str, str]:
    reader = _FormReader("draft-form")
    reader.feed(html)
    return dict(reader.fields)


def press(client, data: dict, action: str, key: str = "heart-to-heart"):
    return client.post(f"/admin/question-sets/{key}", data={**data, "action": action})


def the_set(session, key="heart-to-heart") -> QuestionSet:
    question_set = get_question_set(session, key)
    session.refresh(question_set)
    return question_set


def draft_keys(session, key="heart-to-heart") -> list[str]:
    return [q["key"] for q in the_set(session, key).draft]


def test_the_list_shows_versions_answers_and_the_default(admin_client, session, clock):
    from surveys.services.surveys.responses import submit_response

    survey, _ = make_sent_survey(session, make_customer(session))
    submit_response(session, survey, {"expectations": "meeting"}, now=clock.now())
    session.commit()
    rows = {row["id"]: row for row in page(admin_client.get("/admin/question-sets")).table_rows()}
    assert list(rows) == ["set-fix-check", "set-heart-to-heart", "set-relationship-review"]
    row = rows["set-heart-to-heart"]
    assert row["Set"].startswith("Heart to heart")
    assert row["Current version"].startswith(f"Version {SEEDED}")
    assert "every purchase" in row["Sent after"]
    assert row["Answers"] == "1"


def test_adding_a_question_saves_a_draft_and_customers_still_get_version_1(admin_client, session):
    response = press(admin_client, editor_form(admin_client), "add")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/question-sets/heart-to-heart#question-5")
    assert draft_keys(session) == [
        "expectations",
        "one_thing",
        "time_money",
        "recommend",
        "preferences",
        "",
    ]
    assert current_version(session, the_set(session)).number == SEEDED
    page = admin_client.get("/admin/question-sets/heart-to-heart").get_data(as_text=True)
    assert "Question 6" in page and "changes customers do not see yet" in page


def test_an_admin_writes_a_question_moves_it_up_and_publishes_version_2(admin_client, session):
    press(admin_client, editor_form(admin_client), "add")
    data = editor_form(admin_client)
    data.update(
        {
            "questions-5-text": "Did it arrive on time?",
            "questions-5-key": "on_time",
            "questions-5-type": "choice",
            "questions-5-options-0-value": "yes",
            "questions-5-options-0-label": "Right on time",
            "questions-5-options-1-value": "late",
            "questions-5-options-1-label": "It was late",
            "questions-5-options-1-negative": "y",
        }
    )
    assert press(admin_client, data, "save").status_code == 302
    assert press(admin_client, editor_form(admin_client), "up-5").status_code == 302
    assert draft_keys(session)[3:] == ["recommend", "on_time", "preferences"]

    response = press(admin_client, editor_form(admin_client), "publish")
    assert response.status_code == 302
    question_set = the_set(session)
    version = current_version(session, question_set)
    assert version.number == SEEDED + 1
    assert question_set.draft is None
    on_time = next(q for q in version.questions if q.key == "on_time")
    assert on_time.position == 4
    assert on_time.options == [
        {"value": "yes", "label": "Right on time"},
        {"value": "late", "label": "It was late"},
    ]
    assert on_time.negative == {"values": ["late"]}
    assert on_time.is_negative("late") and not on_time.is_negative("yes")
    page = admin_client.get("/admin/question-sets/heart-to-heart").get_data(as_text=True)
    new = SEEDED + 1
    assert f"Published version {new}" in page and f"customers get version {new}" in page


def test_moving_down_and_removing_questions(admin_client, session):
    press(admin_client, editor_form(admin_client), "down-0")
    assert draft_keys(session)[:2] == ["one_thing", "expectations"]
    press(admin_client, editor_form(admin_client), "remove-1")
    assert draft_keys(session) == ["one_thing", "time_money", "recommend", "preferences"]
    # Moving the last question down changes nothing.
    press(admin_client, editor_form(admin_client), "down-3")
    assert draft_keys(session) == ["one_thing", "time_money", "recommend", "preferences"]


def test_a_scale_and_its_rule_are_edited_in_the_form(admin_client, session):
    data = editor_form(admin_client)
    assert data["questions-3-min"] == "0" and data["questions-3-at_most"] == "6"
    data.update({"questions-3-min": "1", "questions-3-max": "5", "questions-3-at_most": "2"})
    press(admin_client, data, "publish")
    recommend = current_version(session, the_set(session)).questions[3]
    assert (recommend.min_value, recommend.max_value, recommend.negative) == (1, 5, {"at_most": 2})


def test_a_written_answers_rule_is_edited_in_the_form(admin_client, session):
    data = editor_form(admin_client)
    # The seeded rule, as the form shows it.
    assert data["questions-1-sentiment_below"] == "-0.4"
    assert data["questions-1-words"].startswith("refund, money back, broken, ")
    assert "questions-1-not_empty" not in data
    data.update(
        {
            "questions-1-words": "refund,\n never arrived, ,Refund",
            "questions-1-sentiment_below": "−0,5",
            "questions-4-not_empty": "y",
        }
    )
    assert press(admin_client, data, "publish").status_code == 302
    questions = current_version(session, the_set(session)).questions
    # The default field is the English list; the other languages' lists are kept as they were.
    assert questions[1].negative["sentiment_below"] == -0.5
    assert questions[1].negative["words"]["en"] == ["refund", "never arrived"]
    assert questions[1].negative["words"]["es"][:2] == ["reembolso", "devolución del dinero"]
    assert questions[4].negative == {"not_empty": True}
    shown = editor_form(admin_client)
    assert shown["questions-1-words"] == "refund, never arrived"
    assert shown["questions-4-not_empty"] == "y"
    history_page = page(admin_client.get("/admin/question-sets/heart-to-heart/versions"))
    assert "words removed (en): money back" in history_page.text
    assert "negative when: never → any answer" in history_page.text


def test_a_written_answers_rule_that_does_not_fit_is_refused_at_its_field(admin_client, session):
    data = editor_form(admin_client)
    # A draft keeps what was typed, even what JSON cannot hold as a number.
    data["questions-1-sentiment_below"] = "nan"
    assert press(admin_client, data, "save").status_code == 302
    assert the_set(session).draft[1]["negative"]["sentiment_below"] == "nan"
    data = editor_form(admin_client)
    data.update({"questions-1-sentiment_below": "quite low", "questions-1-words": ""})
    response = press(admin_client, data, "publish")
    assert response.status_code == 422
    shown = page(response)
    assert "The sentiment threshold is a number from -1" in text_of(
        shown.by_id("questions-1-sentiment_below-errors")
    )
    assert form_from(response.get_data(as_text=True))["questions-1-sentiment_below"] == "quite low"
    assert current_version(session, the_set(session)).number == SEEDED


def test_publishing_an_invalid_draft_is_refused_and_names_each_problem(admin_client, session):
    press(admin_client, editor_form(admin_client), "add")
    data = editor_form(admin_client)
    data.update(
        {
            "questions-5-type": "choice",
            "questions-5-key": "expectations",
            "questions-5-text": "Anything else?",
        }
    )
    response = press(admin_client, data, "publish")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not published yet" in page
    assert "Another question already uses the key “expectations”." in page
    assert "A choice question needs its options." in page
    # What the admin typed is shown back, and nothing was published.
    assert form_from(page)["questions-5-text"] == "Anything else?"
    assert current_version(session, the_set(session)).number == SEEDED


def test_a_half_written_draft_can_be_saved_and_keeps_what_was_typed(admin_client, session):
    press(admin_client, editor_form(admin_client), "add")
    data = editor_form(admin_client)
    data.update(
        {
            "questions-5-type": "scale",
            "questions-5-min": "one",
            "questions-5-max": "10",
            "questions-5-text": "How was delivery?",
        }
    )
    assert press(admin_client, data, "save").status_code == 302
    assert the_set(session).draft[5] == {
        "key": "",
        "type": "scale",
        "text": "How was delivery?",
        "required": False,
        "min": "one",
        "max": 10,
        "negative": None,
    }
    page = admin_client.get("/admin/question-sets/heart-to-heart").get_data(as_text=True)
    assert form_from(page)["questions-5-min"] == "one"
    assert "A scale needs a whole-number minimum and maximum." in page
    assert "not in the preview until complete" in page


def test_publishing_an_unchanged_draft_creates_no_version(admin_client, session):
    response = press(admin_client, editor_form(admin_client), "publish")
    assert response.status_code == 302
    assert current_version(session, the_set(session)).number == SEEDED
    page = admin_client.get("/admin/question-sets/heart-to-heart").get_data(as_text=True)
    assert f"Nothing changed since version {SEEDED}" in page


def test_the_second_of_two_concurrent_saves_is_refused_and_loses_nothing(
    client, app, session, admin
):
    other_admin = make_user(session, role="admin", name="Bea Boss")
    session.commit()
    bea = app.test_client()
    log_in(client, admin)
    log_in(bea, other_admin)
    ada_form = editor_form(client)
    bea_form = editor_form(bea)

    bea_form["questions-0-text"] = "Bea: are we beating your expectations?"
    assert press(bea, bea_form, "save").status_code == 302

    ada_form["questions-1-text"] = "Ada: what one thing would you change?"
    refused = press(client, ada_form, "save")
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Bea Boss saved this draft" in page and "Your changes were not saved" in page
    shown = form_from(page)
    assert shown["questions-1-text"] == "Ada: what one thing would you change?"
    assert shown["questions-0-text"] == "Are we exceeding your expectations?"
    # Bea's save stands.
    draft = the_set(session).draft
    assert draft[0]["text"] == "Bea: are we beating your expectations?"
    assert draft[1]["text"] == (
        "If there was one thing we could be doing better, what would that be?"
    )

    # Having read the warning, Ada saves deliberately with the form she was shown.
    assert press(client, shown, "save").status_code == 302
    assert the_set(session).draft[1]["text"] == "Ada: what one thing would you change?"
    # Both saves are in the audit log, so Bea's text can still be found.
    saves = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "question_set.draft_saved")
        .order_by(AuditEntry.id)
    ).all()
    assert [e.actor_user_id for e in saves] == [other_admin.id, admin.id]
    assert saves[0].after["questions"][0]["text"] == "Bea: are we beating your expectations?"


def test_a_stale_publish_is_refused_too(client, app, session, admin):
    other_admin = make_user(session, role="admin")
    session.commit()
    bea = app.test_client()
    log_in(client, admin)
    log_in(bea, other_admin)
    stale = editor_form(client)
    press(bea, editor_form(bea), "add")
    stale["questions-0-text"] = "Are we doing well?"
    response = press(client, stale, "publish")
    assert response.status_code == 409
    assert current_version(session, the_set(session)).number == SEEDED
    assert len(the_set(session).draft) == 6


def test_the_stale_revision_check_is_in_the_service(session, admin, clock):
    question_set = get_question_set(session, "heart-to-heart")
    document = drafts.editor_document(session, question_set)
    drafts.save_draft(
        session, question_set, document[:2], loaded_revision=0, actor=admin, now=clock.now()
    )
    with pytest.raises(drafts.StaleDraft) as refused:
        drafts.save_draft(
            session, question_set, document[:3], loaded_revision=0, actor=admin, now=clock.now()
        )
    assert refused.value.current_revision == 1
    assert len(the_set(session).draft) == 2


def test_discarding_the_draft_goes_back_to_the_published_version(admin_client, session):
    press(admin_client, editor_form(admin_client), "remove-0")
    page = admin_client.get("/admin/question-sets/heart-to-heart").get_data(as_text=True)
    assert "Discard the draft" in page
    token = csrf_token(admin_client, "/admin/question-sets/heart-to-heart")
    response = admin_client.post(
        "/admin/question-sets/heart-to-heart/discard", data={"csrf_token": token, "revision": "1"}
    )
    assert response.status_code == 302
    assert the_set(session).draft is None
    assert editor_form(admin_client)["questions-0-key"] == "expectations"


def test_the_preview_is_the_customers_survey_page_with_the_draft(admin_client, session):
    press(admin_client, editor_form(admin_client), "add")
    data = editor_form(admin_client)
    data.update({"questions-5-text": "What should we call you?", "questions-5-key": "nickname"})
    press(admin_client, data, "save")
    response = admin_client.get("/admin/question-sets/heart-to-heart/preview")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    preview = page(response)
    assert preview.one("main")["class"] == ["page", "public"]
    assert "What should we call you?" in preview.text
    assert preview.field("nickname").name == "textarea"
    short = preview.one('input[name="expectations"][value="short"]')
    assert short["type"] == "radio" and short.has_attr("required")
    assert preview.button("Send my answers")
    frame = page(admin_client.get("/admin/question-sets/heart-to-heart")).one("iframe")
    assert urlsplit(frame["src"]).path == "/admin/question-sets/heart-to-heart/preview"
    assert frame["width"] == "360"


def test_the_preview_of_an_old_version_shows_that_version(admin_client, session, clock):
    question_set = get_question_set(session, "heart-to-heart")
    publishing.publish_questions(
        session, question_set, drafts.editor_document(session, question_set)[:1], now=clock.now()
    )
    session.commit()
    old = admin_client.get("/admin/question-sets/heart-to-heart/preview?version=1")
    assert "How likely are you to recommend us" in old.get_data(as_text=True)
    new = admin_client.get("/admin/question-sets/heart-to-heart/preview")
    assert "How likely are you to recommend us" not in new.get_data(as_text=True)
    assert (
        admin_client.get("/admin/question-sets/heart-to-heart/preview?version=9").status_code == 404
    )


def test_the_history_shows_what_changed_between_versions(admin_client, session, admin, clock):
    question_set = get_question_set(session, "heart-to-heart")
    document = drafts.editor_document(session, question_set)
    document[0] = {**document[0], "text": "Are we beating your expectations?"}
    document = [document[1], document[0], *document[2:4]]
    document.append(
        {
            "key": "speed",
            "type": "scale",
            "min": 1,
            "max": 5,
            "text": "How fast?",
            "negative": {"at_most": 2},
        }
    )
    publishing.publish_questions(session, question_set, document, now=clock.now(), actor_user=admin)
    session.commit()
    shown = page(admin_client.get("/admin/question-sets/heart-to-heart/versions"))
    version_2 = shown.by_id(f"version-{SEEDED + 1}")
    assert text_of(version_2.h2) == f"Version {SEEDED + 1} current"
    assert shown.has_id(f"version-{SEEDED}")
    assert "by Ada Admin" in text_of(version_2)
    changes = version_2.select("ul.changes > li")
    assert [text_of(change.strong) for change in changes] == [
        "Changed",
        "Added",
        "Removed",
        "Reordered",
    ]
    assert [text_of(change.code) for change in changes[:3]] == [
        "expectations",
        "speed",
        "preferences",
    ]
    assert shown.items(changes[0]) == [
        "text: “Are we exceeding your expectations?” → “Are we beating your expectations?”"
    ]


def test_diff_names_option_and_rule_changes():
    old = [
        {
            "key": "q",
            "type": "choice",
            "text": "?",
            "required": False,
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
            "negative": {"values": ["b"]},
        }
    ]
    new = [
        {
            "key": "q",
            "type": "choice",
            "text": "?",
            "required": True,
            "options": [{"value": "a", "label": "Aye"}, {"value": "c", "label": "C"}],
            "negative": {"values": ["c"]},
        }
    ]
    diff = history.diff_documents(old, new)
    assert [c.kind for c in diff.changes] == ["changed"]
    assert diff.changes[0].details == [
        "now required",
        "option a relabelled: “A” → “Aye”",
        "option added: c (“C”)",
        "option removed: b",
        "negative when: b → c",
    ]
    assert history.diff_documents(old, old).empty


def test_a_new_set_is_created_then_published_as_version_1(admin_client, session):
    token = csrf_token(admin_client, "/admin/question-sets")
    response = admin_client.post(
        "/admin/question-sets",
        data={"csrf_token": token, "name": "After a repair", "key": "after-repair"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/question-sets/after-repair")
    press(admin_client, editor_form(admin_client, "after-repair"), "add", "after-repair")
    data = editor_form(admin_client, "after-repair")
    data.update({"questions-0-key": "fixed", "questions-0-text": "Is it fixed?"})
    # No question can be negative yet: the editor asks before publishing (tested below).
    assert press(admin_client, data, "publish-anyway", "after-repair").status_code == 302
    version = current_version(session, the_set(session, "after-repair"))
    assert version.number == 1 and [q.key for q in version.questions] == ["fixed"]


def without_negative_rules(data: dict[str, str]) -> dict[str, str]:
    """The editor's form with every negative rule cleared: no answer could open a case."""
    cleared = {
        key: value for key, value in data.items() if not key.endswith(("-negative", "-not_empty"))
    }
    for key in cleared:
        if key.endswith(("-at_most", "-words", "-sentiment_below")):
            cleared[key] = ""
    return cleared


def test_a_set_where_no_answer_can_be_negative_is_published_only_when_confirmed(
    admin_client, session
):
    token = csrf_token(admin_client, "/admin/question-sets")
    admin_client.post(
        "/admin/question-sets",
        data={"csrf_token": token, "name": "Just listening", "key": "listening"},
    )
    press(admin_client, editor_form(admin_client, "listening"), "add", "listening")
    data = editor_form(admin_client, "listening")
    data.update({"questions-0-key": "thoughts", "questions-0-text": "Any thoughts?"})
    data = without_negative_rules(data)

    asked = press(admin_client, data, "publish", "listening")

    assert asked.status_code == 422
    shown = page(asked)
    assert "no answer to this set will ever open a case" in shown.text
    assert shown.one('button[value="publish-anyway"]')
    assert versions.latest_version(session, the_set(session, "listening")) is None

    confirmed = press(
        admin_client, form_from(asked.get_data(as_text=True)), "publish-anyway", "listening"
    )

    assert confirmed.status_code == 302
    assert current_version(session, the_set(session, "listening")).number == 1


@pytest.mark.parametrize("key", ["heart-to-heart", "fix-check", "relationship-review"])
def test_a_set_that_finds_problems_is_never_published_without_a_negative_rule(
    admin_client, session, key
):
    before = current_version(session, the_set(session, key)).number
    data = without_negative_rules(editor_form(admin_client, key))

    shown = page(press(admin_client, data, "publish", key))
    anyway = press(admin_client, data, "publish-anyway", key)

    assert "would never open a case again" in shown.text
    assert not shown.find('button[value="publish-anyway"]')
    assert anyway.status_code == 422
    assert current_version(session, the_set(session, key)).number == before


def test_the_api_refuses_a_version_of_a_set_that_finds_problems_with_no_negative_rule(
    client, session
):
    _key, raw = make_api_key(session)
    session.commit()
    questions = [{"key": "thoughts", "type": "text", "text": "Any thoughts?"}]

    refused = client.put(
        "/api/v1/question-sets/fix-check", json={"questions": questions}, headers=bearer(raw)
    )
    listening = client.put(
        "/api/v1/question-sets/listening", json={"questions": questions}, headers=bearer(raw)
    )

    assert refused.status_code == 422
    assert "would never open a case again" in str(refused.get_json())
    assert listening.status_code in (200, 201)


def test_a_new_set_with_a_taken_or_bad_key_is_refused(admin_client, session):
    token = csrf_token(admin_client, "/admin/question-sets")
    taken = admin_client.post(
        "/admin/question-sets", data={"csrf_token": token, "name": "Again", "key": "fix-check"}
    )
    assert taken.status_code == 422
    assert "There is already a question set with the key “fix-check”." in taken.get_data(
        as_text=True
    )
    bad = admin_client.post(
        "/admin/question-sets", data={"csrf_token": token, "name": "Bad", "key": "Bad Key"}
    )
    assert bad.status_code == 422
    assert session.scalar(select(QuestionSet).where(QuestionSet.name == "Bad")) is None


def test_the_category_override_chooses_the_right_set(admin_client, session):
    token = csrf_token(admin_client, "/admin/question-sets")
    response = admin_client.post(
        "/admin/question-sets/after-purchase/categories",
        data={"csrf_token": token, "category": "repairs", "question_set": "relationship-review"},
    )
    assert response.status_code == 302
    customer = make_customer(session)
    repair = make_purchase(
        session, customer, items=[{"sku": "R-1", "name": "Screen repair", "category": "repairs"}]
    )
    keyboard = make_purchase(session, customer)
    assert question_set_for_purchase(session, repair).key == "relationship-review"
    assert question_set_for_purchase(session, keyboard).key == "heart-to-heart"

    # A new default applies to every other category; the override stays.
    response = admin_client.post(
        "/admin/question-sets/after-purchase/default",
        data={"csrf_token": token, "question_set": "fix-check"},
    )
    assert response.status_code == 302
    assert question_set_for_purchase(session, keyboard).key == "fix-check"
    assert question_set_for_purchase(session, repair).key == "relationship-review"

    assert (
        "Purchases in repairs get “Relationship review”"
        in page(admin_client.get("/admin/question-sets")).text
    )
    assignment_id = session.scalar(select(QuestionSetAssignment.id))
    response = admin_client.post(
        f"/admin/question-sets/after-purchase/categories/{assignment_id}/remove",
        data={"csrf_token": token},
    )
    assert response.status_code == 302
    assert question_set_for_purchase(session, repair).key == "fix-check"
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "question_set.category_assigned",
        "setting.changed",
        "question_set.category_unassigned",
    ]


def test_an_unpublished_set_cannot_follow_a_purchase(admin_client, session, admin, clock):
    publishing.create_question_set(
        session, key="empty", name="Empty", now=clock.now(), actor_user=admin
    )
    session.commit()
    token = csrf_token(admin_client, "/admin/question-sets")
    response = admin_client.post(
        "/admin/question-sets/after-purchase/categories",
        data={"csrf_token": token, "category": "x", "question_set": "empty"},
    )
    assert response.status_code == 422
    assert session.scalar(select(QuestionSetAssignment)) is None


def test_a_survey_sent_before_a_publish_still_shows_and_accepts_its_version(
    admin_client, client, session, clock
):
    customer = make_customer(session, name="Ana Diaz")
    survey, token = make_sent_survey(session, customer, sent_at=clock.now())
    session.commit()

    data = editor_form(admin_client)
    data.update({"questions-2-key": "saved_time", "questions-2-text": "Was it quick?"})
    assert press(admin_client, data, "publish").status_code == 302
    assert current_version(session, the_set(session)).number == SEEDED + 1

    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Did we save you time and money?" in page and 'name="time_money"' in page
    assert "Was it quick?" not in page
    answered = client.post(
        f"/s/{token}",
        data={
            "csrf_token": csrf_token(client, f"/s/{token}"),
            "expectations": "exceeding",
            "time_money": "yes",
            "recommend": "9",
        },
    )
    assert answered.status_code == 200
    response = session.scalar(select(Response).where(Response.survey_id == survey.id))
    assert response.version.number == SEEDED
    assert {a.question.key: a.value for a in response.answers} == {
        "expectations": "exceeding",
        "time_money": "yes",
        "recommend": "9",
    }

    # A survey sent after the publish asks the new version.
    _, new_token = make_sent_survey(session, make_customer(session), sent_at=clock.now())
    session.commit()
    new_page = client.get(f"/s/{new_token}").get_data(as_text=True)
    assert "Was it quick?" in new_page and 'name="saved_time"' in new_page


def test_every_editor_change_is_in_the_audit_log(admin_client, session, admin):
    press(admin_client, editor_form(admin_client), "add")
    data = editor_form(admin_client)
    data.update(
        {
            "questions-5-key": "extra",
            "questions-5-text": "Anything more?",
            "name": "Our heart to heart",
        }
    )
    press(admin_client, data, "publish")
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "question_set.draft_saved",
        "question_set.renamed",
        "question_set.published",
    ]
    assert {e.actor_user_id for e in entries} == {admin.id}
    assert entries[1].before == {"name": "Heart to heart"}
    assert entries[2].after["version"] == SEEDED + 1


def test_an_owner_cannot_log_in_to_the_editor(client, session):
    owner = make_user(session, role="owner", password=PASSWORD)
    session.commit()
    log_in(client, owner)
    assert client.get("/admin/question-sets/heart-to-heart").status_code == 403
    assert (
        client.post(
            "/admin/question-sets/heart-to-heart",
            data={"csrf_token": csrf_token(client, "/inbox"), "revision": "0", "action": "add"},
        ).status_code
        == 403
    )
    assert the_set(session).draft is None


def test_a_publish_through_the_api_refuses_an_editor_form_opened_before_it(
    admin_client, app, session, clock
):
    from tests.factories import make_api_key

    _key, raw = make_api_key(session, name="git sync")
    session.commit()
    stale = editor_form(admin_client)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {raw}"}
    body = api.get("/api/v1/question-sets/heart-to-heart", headers=auth).get_json()
    body["questions"] = body["questions"][:2]
    assert (
        api.put("/api/v1/question-sets/heart-to-heart", json=body, headers=auth).status_code == 201
    )

    stale["questions-0-text"] = "Are we doing well?"
    refused = press(admin_client, stale, "publish")
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "API key “git sync” published this set" in page
    assert form_from(page)["questions-0-text"] == "Are we doing well?"
    assert current_version(session, the_set(session)).number == SEEDED + 1


def test_the_editor_warns_when_a_version_was_published_after_the_draft(
    admin_client, session, clock
):
    press(admin_client, editor_form(admin_client), "remove-4")
    clock.advance(minutes=5)
    question_set = get_question_set(session, "heart-to-heart")
    publishing.publish_questions(
        session,
        question_set,
        versions.version_document(current_version(session, question_set))[:1],
        now=clock.now(),
    )
    session.commit()
    page = admin_client.get("/admin/question-sets/heart-to-heart").get_data(as_text=True)
    assert "after this draft was last saved" in page
    assert f"would undo what changed in version {SEEDED + 1}" in page


@pytest.mark.parametrize("key", ["default", "categories", "after-purchase"])
def test_no_set_key_is_shadowed_by_another_admin_route(admin_client, session, key):
    token = csrf_token(admin_client, "/admin/question-sets")
    admin_client.post(
        "/admin/question-sets", data={"csrf_token": token, "key": key, "name": f"Set {key}"}
    )
    assert press(admin_client, editor_form(admin_client, key), "add", key).status_code == 302
    assert len(the_set(session, key).draft) == 1


def test_the_reserved_question_keys_cover_every_attribute_of_the_survey_form():
    """A question key becomes a field of the survey form, so none may shadow the form's own
    names; the list lives with the question-set rules and must follow the form's base."""
    own = {name for name in dir(AppForm) if not name.startswith("__")} | {"csrf_token"}
    assert own <= RESERVED_FIELD_NAMES
    assert "validate" in own and "data" in own
