"""Parameters of the survey response and metrics endpoints.

`POST /v1/survey_responses` records a response given elsewhere; `PUT` is what
Delighted's clients send on `save()`: the whole response as they read it, so
the fields they cannot change (the score, the comment, the times…) come back
too. Those are accepted when unchanged; only notes and tags are written, and a
changed score or comment is a 422 naming it (a customer's answer is theirs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from surveys.api.schemas import validation_problem
from surveys.delighted.params import (
    MAX_UNIX_DIGITS,
    UNIX_TIME_RULE,
    UnixFilter,
    _digits,
    _problem,
    _read,
    read_filters,
)
from surveys.delighted.people_params import MAX_ID, TextProperties
from surveys.services.surveys.responses import MAX_TEXT_LENGTH
from surveys.validation.moments import EARLIEST_MOMENT
from surveys.validation.text import OptionalText, unstorable_text_reason

MAX_NOTE = 2000
# A response's notes come back with every save; past this many, something is wrong.
MAX_NOTES = 1000
MAX_TAG = 64
MAX_TAGS = 50


def _person_id(value: Any) -> int:
    if isinstance(value, dict):  # a person expanded by `expand[]=person`
        value = value.get("id")
    number = _digits(value)
    if number is None or not 0 < number <= MAX_ID:
        raise _problem("must be the id of a person")
    return number


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    seconds = _digits(value, MAX_UNIX_DIGITS)
    if seconds is None or not EARLIEST_MOMENT.timestamp() <= seconds < 2**40:
        raise _problem(UNIX_TIME_RULE)
    return datetime.fromtimestamp(seconds, UTC)


def _score(value: Any) -> int | None:
    if value is None or value == "":
        return None
    number = _digits(value)
    if number is None or not 0 <= number <= 10:
        raise _problem("must be a whole number from 0 to 10")
    return number


def _note_texts(value: Any) -> list[dict]:
    """Notes as given: text alone is a new note; a note with an id is one already kept."""
    if value is None or value == "":
        return []
    if not isinstance(value, list) or len(value) > MAX_NOTES:
        raise _problem(f"must be a list of at most {MAX_NOTES} notes")
    notes = []
    for item in value:
        note = {"text": item} if isinstance(item, str) else item
        if not isinstance(note, dict) or not isinstance(note.get("text"), str):
            raise _problem("each note must be a text, or an object with a text")
        text = note["text"].strip()
        reason = unstorable_text_reason(text, multiline=True)
        if not text or len(text) > MAX_NOTE or reason:
            raise _problem(reason or f"each note must have 1 to {MAX_NOTE} characters")
        notes.append({"id": note.get("id"), "text": text})
    return notes


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise _problem(f"must be a list of at most {MAX_TAGS} tags")
    tags: list[str] = []
    for item in value:
        tag = item.get("name") if isinstance(item, dict) else item
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > MAX_TAG:
            raise _problem(f"each tag must be a text of 1 to {MAX_TAG} characters")
        reason = unstorable_text_reason(tag.strip(), multiline=False)
        if reason:
            raise _problem(reason)
        if tag.strip() not in tags:
            tags.append(tag.strip())
    return tags


Score = Annotated[int | None, BeforeValidator(_score)]


class CreateResponseParams(BaseModel):
    """POST /v1/survey_responses: `person` (an id), `score`, `comment`, `created_at`…"""

    model_config = ConfigDict(extra="ignore")

    person: Annotated[int, BeforeValidator(_person_id)]
    score: Score
    comment: OptionalText(MAX_TEXT_LENGTH, multiline=True) = None
    created_at: Annotated[datetime | None, BeforeValidator(_moment)] = None
    person_properties: TextProperties = Field(default_factory=dict)


class UpdateResponseParams(BaseModel):
    """PUT /v1/survey_responses/:id: notes to add and the tags, with whatever else came back."""

    model_config = ConfigDict(extra="ignore")

    score: Score = None
    comment: OptionalText(MAX_TEXT_LENGTH, multiline=True) = None
    notes: Annotated[list[dict], BeforeValidator(_note_texts)] = Field(default_factory=list)
    tags: Annotated[list[str] | None, BeforeValidator(_tags)] = None


class MetricsQuery(BaseModel):
    """GET /v1/metrics: the window (`since` and `until`) and the question set (`trend`)."""

    model_config = ConfigDict(extra="forbid")

    since: UnixFilter = None
    until: UnixFilter = None
    trend: OptionalText(64) = None


def parse_new_response(params: dict) -> CreateResponseParams:
    """The response to record, or a 422 naming each bad field."""
    parsed = _read(CreateResponseParams, params)
    if parsed.score is None:
        raise validation_problem({"score": ["is required"]})
    return parsed


def parse_response_update(params: dict) -> UpdateResponseParams:
    return _read(UpdateResponseParams, params)


def parse_metrics_query(args) -> MetricsQuery:
    return read_filters(MetricsQuery, args.to_dict())
