"""Property: whatever a client posts to `POST /s/<token>`, the answer is a 2xx or a 4xx.

Hypothesis builds form bodies: known and random field names, repeated fields, unknown
choices, scale values out of range and past 2^63, NUL bytes, lone surrogates (sent as
the invalid UTF-8 a client would send), text around and far past the length limit,
file parts, urlencoded or multipart. A rejected submission changes no row of any
table, and a valid submission of the same survey still works afterwards; an accepted
one stores only answers the questions allow.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from surveys.models import Response, Survey
from surveys.services.surveys.responses import MAX_TEXT_LENGTH
from tests.database_state import all_rows
from tests.factories import make_customer, make_purchase, make_sent_survey, make_user
from tests.web import csrf_token_from

QUESTION_KEYS = ["expectations", "one_thing", "time_money", "recommend", "preferences"]
CHOICES = ["exceeding", "meeting", "short", "yes", "somewhat", "no"]
# NUL, which PostgreSQL cannot store, comes up more often than the others.
ODD_CHARACTERS = ["\x00"] * 4 + ["\ud800", "\udfff", "\r", "\n", "\x1b", "\x85", "\u2028", "🙂"]

field_names = st.one_of(
    st.sampled_from(QUESTION_KEYS),
    st.sampled_from(["csrf_token", "a", "submit", "expectations[]", ""]),
    st.text(st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=20),
)
odd_text = st.text(st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=60)
surely_odd_text = st.tuples(odd_text, st.sampled_from(ODD_CHARACTERS), odd_text).map("".join)
field_values = st.one_of(
    st.sampled_from([*CHOICES, "bogus", "", " meeting ", "MEETING", "meeting\x00", "\r\n"]),
    st.integers(-3, 13).map(str),
    st.integers(-(10**30), 10**30).map(str),
    odd_text,
    surely_odd_text,
    st.integers(MAX_TEXT_LENGTH - 5, MAX_TEXT_LENGTH + 5).map(lambda n: "ü" * n),
)


def mostly(valid, times: int = 3):
    # one_of draws its branches evenly: repeating one makes it the likelier draw.
    return st.one_of(*([valid] * times), field_values)


# Mostly what the form would send, so that odd text often rides on an otherwise
# valid submission; any answer may also be anything at all.
answers = st.fixed_dictionaries(
    {"expectations": mostly(st.sampled_from(["exceeding", "meeting", "short"]))},
    optional={
        "one_thing": mostly(surely_odd_text, times=2),
        "time_money": mostly(st.sampled_from(["yes", "somewhat", "no"])),
        "recommend": mostly(st.integers(0, 10).map(str)),
        "preferences": mostly(surely_odd_text, times=2),
    },
)
# (name, value, sent as a file part when the body is multipart)
extra_fields = st.lists(st.tuples(field_names, field_values, st.booleans()), max_size=6)
# Now and then a body past the 1 MiB limit, or a large one under it.
oversized = st.sampled_from([0] * 20 + [100_000, 1_100_000])


@st.composite
def form_bodies(draw) -> list[tuple[str, str, bool]]:
    """One submission: answers (some as files), extra or repeated fields, maybe a huge one."""
    as_files = draw(st.frozensets(st.sampled_from(QUESTION_KEYS)))
    fields = [(key, value, key in as_files) for key, value in draw(answers).items()]
    fields += draw(extra_fields)
    size = draw(oversized)
    if size:
        fields.append((draw(field_names), "x" * size, draw(st.booleans())))
    return fields


def _wire(text: str) -> bytes:
    # What a client sends for this text: a lone surrogate becomes invalid UTF-8.
    return text.encode("utf-8", "surrogatepass")


def urlencoded(fields) -> tuple[bytes, str]:
    body = "&".join(
        f"{quote_plus(_wire(name))}={quote_plus(_wire(value))}" for name, value, _file in fields
    )
    return body.encode("ascii"), "application/x-www-form-urlencoded"


def multipart(fields, boundary: str = "hypothesis-7f3a9c") -> tuple[bytes, str]:
    chunks = []
    for name, value, as_file in fields:
        # Browsers percent-encode quotes and line breaks in a part's name.
        disposition = f'form-data; name="{quote(_wire(name), safe="")}"'
        if as_file:
            disposition += '; filename="answer.txt"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if as_file:
            head += "Content-Type: text/plain\r\n"
        chunks.append(head.encode("ascii") + b"\r\n" + _wire(value) + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def survey_world(client, session, clock):
    """An owner whose customers get surveys, and a CSRF token of the client's session."""
    owner = make_user(session, role="owner", name="Olivia Moreno")
    session.commit()

    def new_survey() -> tuple[Survey, str]:
        customer = make_customer(session, owner=owner)
        purchase = make_purchase(session, customer)
        survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
        session.commit()
        return survey, token

    _survey, token = new_survey()
    csrf = csrf_token_from(client.get(f"/s/{token}").get_data(as_text=True))
    return new_survey, csrf


def _assert_stored_answers_are_allowed(session, survey_id: int) -> None:
    response = session.scalars(select(Response).where(Response.survey_id == survey_id)).one()
    for answer in response.answers:
        question = answer.question
        if question.type == "choice":
            assert answer.value in {option["value"] for option in question.options}
        elif question.type == "scale":
            assert question.min_value <= int(answer.value) <= question.max_value
        else:
            assert "\x00" not in answer.value and len(answer.value) <= MAX_TEXT_LENGTH
            answer.value.encode("utf-8")


# The defects this property first found, tried on every run besides the random bodies.
NUL_IN_AN_ANSWER = [("expectations", "meeting", False), ("one_thing", "Late\x00", False)]
SURROGATE_IN_AN_ANSWER = [("expectations", "short", False), ("preferences", "\ud800 at 6", False)]
FILE_FOR_AN_ANSWER = [("expectations", "meeting", False), ("one_thing", "a file", True)]
SCALE_PAST_2_63 = [("expectations", "meeting", False), ("recommend", "9" * 20, False)]


@settings(
    max_examples=60,
    deadline=None,
    database=None,  # nothing written into the work tree; failures print their example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(fields=NUL_IN_AN_ANSWER, with_csrf_token=True, as_multipart=False)
@example(fields=SURROGATE_IN_AN_ANSWER, with_csrf_token=True, as_multipart=False)
@example(fields=FILE_FOR_AN_ANSWER, with_csrf_token=True, as_multipart=True)
@example(fields=SCALE_PAST_2_63, with_csrf_token=True, as_multipart=False)
@given(
    fields=form_bodies(),
    with_csrf_token=st.sampled_from([True, True, True, False]),
    as_multipart=st.booleans(),
)
def test_any_form_body_gets_a_2xx_or_a_4xx_and_a_refusal_changes_nothing(
    client, session, survey_world, fields, with_csrf_token, as_multipart
):
    new_survey, csrf = survey_world
    survey, token = new_survey()
    if with_csrf_token:
        fields = [("csrf_token", csrf, False), *fields]
    body, content_type = multipart(fields) if as_multipart else urlencoded(fields)
    before = all_rows(session)

    answer = client.post(f"/s/{token}", data=body, content_type=content_type)

    assert answer.status_code < 500, answer.get_data(as_text=True)[:500]
    if answer.status_code < 300:
        assert "Thank you" in answer.get_data(as_text=True)
        _assert_stored_answers_are_allowed(session, survey.id)
        return
    assert all_rows(session) == before
    later = client.post(f"/s/{token}", data={"csrf_token": csrf, "expectations": "meeting"})
    assert later.status_code == 200 and "Thank you" in later.get_data(as_text=True)
    assert session.get(Survey, survey.id).status == "answered"
