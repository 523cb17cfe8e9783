"""On PostgreSQL the responses CSV is written by the database (COPY … TO STDOUT); it must be
byte for byte what the Python writer makes of the same rows, awkward values and all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from surveys.models import Answer
from surveys.services import exports
from surveys.services.surveys.responses import submit_response
from tests.factories import make_customer, make_purchase, make_sent_survey

pytestmark = pytest.mark.postgresql

# Written answers the Python rule and the SQL rule must treat alike.
AWKWARD_TEXT = [
    '=HYPERLINK("http://evil.example","Open")',
    "+1 for the box",
    "-",
    "@channel",
    "\tindented",
    "\r\nstarts with a line break",
    'She said "fine", then left',
    "two\nlines",
    "carriage\rreturn only",
    "back\\slash \\. and \\n written out",
    "tab\tinside",
    "vertical\x0btab, form\x0cfeed and back\x08space",
    "Très bien — 日本語 🎉",
    " leading and trailing spaces ",
    "",
    "'already quoted",
    ",starts with a comma",
    "a" * 2000,
    # Longer than a piece the export passes on at once (64 KB): it waits for the line's end.
    "b" * 70_000 + ", end",
]
# Purchases' properties: names that sort differently by code point and by length (jsonb's
# order), quotes, backslashes, a comma, line breaks and control characters, other scripts.
AWKWARD_PROPERTIES = [
    {},
    {"plan": "gold"},
    {"zz": "1", "a": "2", "ä": "3", "B": "4", "aa": "5"},
    {"quote": 'say "hi"', "slash": "a\\b/c", "comma": "x,y"},
    {"lines": "one\ntwo\r\nthree\ttab", "bell": "ding\x07", "del": "x\x7f"},
    {"日本": "語", "emoji": "🎉", "=formula": "=1+1"},
]
# Stored 0–10 answers, including ones the form never writes.
SCORES = ["10", "9", "7", "3", "0", "", " 9", "+8", "07", "abc", "11", "-1", "8 "]
# Tones whose mean sits on a rounding edge, or rounds to "-0.0", or is a whole number.
TONES = [
    (None, None),
    (0.1235, None),
    (0.1, 0.2),
    (-0.0004, None),
    (1.0, 1.0),
    (-0.5, None),
    (0.30000000000000004, 0.0),
    (0.0005, 0.0005),
    (-0.9995, None),
]


def answered(session, clock, n: int):
    customer = make_customer(session, email=f'r{n}+"x,y"@example.com' if n % 4 == 0 else None)
    order_id = AWKWARD_TEXT[n % len(AWKWARD_TEXT)][:100] if n % 3 == 0 else f"A-{n}"
    purchase = make_purchase(session, customer, order_id=f"{order_id} #{n}") if n % 5 else None
    if purchase is not None:
        purchase.properties = AWKWARD_PROPERTIES[n % len(AWKWARD_PROPERTIES)]
    survey, _token = make_sent_survey(
        session, customer, purchase=purchase, sent_at=clock.now() - timedelta(hours=1)
    )
    # Every other response has microseconds in its moment.
    moment = clock.now() + timedelta(minutes=n, microseconds=(n * 7919) % 1_000_000 * (n % 2))
    return submit_response(
        session,
        survey,
        {"expectations": "meeting", "recommend": "5", "one_thing": "x", "preferences": "y"},
        now=moment,
    )


def test_the_database_writes_the_same_bytes_as_the_python_writer(app, session, clock):
    responses = [answered(session, clock, n) for n in range(40)]
    for n, response in enumerate(responses):
        by_key = {answer.question.key: answer for answer in response.answers}
        by_key["one_thing"].value = AWKWARD_TEXT[n % len(AWKWARD_TEXT)]
        by_key["preferences"].value = AWKWARD_TEXT[(n * 7 + 3) % len(AWKWARD_TEXT)]
        by_key["recommend"].value = SCORES[n % len(SCORES)]
        first, second = TONES[n % len(TONES)]
        by_key["one_thing"].sentiment, by_key["preferences"].sentiment = first, second
    # Unanswered questions, and a response whose answers are all gone.
    session.delete({a.question.key: a for a in responses[1].answers}["expectations"])
    session.execute(delete(Answer).where(Answer.response_id == responses[2].id))
    session.commit()

    in_python = b"".join(exports.responses_csv_read_in_python(app_session(app)))
    in_database = b"".join(exports.responses_csv_from_postgresql(app_session(app)))

    assert in_python.count(b"\r\n") > len(responses)  # the awkward values made it in
    assert in_database == in_python


def test_an_export_with_no_responses_is_its_header_on_both_paths(app):
    in_python = b"".join(exports.responses_csv_read_in_python(app_session(app)))
    in_database = b"".join(exports.responses_csv_from_postgresql(app_session(app)))

    assert in_database == in_python == ",".join(exports.RESPONSE_COLUMNS).encode() + b"\r\n"


def app_session(app):
    return app.extensions["db"]["sessionmaker"]()
