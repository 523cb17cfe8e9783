"""One Delighted response, from the file's JSON object or CSV cells, checked as any text is.

The rules are those of the API (surveys.validation): an address we could send to, storable
text, properties within their limits. A bad response is refused field by field and keeps
nothing; a good one becomes a `HistoricAnswer`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from surveys.delighted_import.files import Column, HistoryFile, SourceRow
from surveys.services.history import HistoricAnswer
from surveys.validation.addresses import EmailAddress
from surveys.validation.errors import field_errors, problem
from surveys.validation.moments import read_timestamp, read_unix_seconds, within_accepted_range
from surveys.validation.properties import Properties
from surveys.validation.text import OptionalText, Text, unstorable_text_reason

MAX_ID = 64
MAX_NAME = 200
MAX_COMMENT = 10_000
MAX_QUESTION = 500
# A clock a little ahead is fine; an answer from next week is a wrong field.
FUTURE_TOLERANCE = timedelta(days=1)
UNREADABLE_TIME = "is not a time we can read: give Unix seconds or like 2024-05-01T12:30:00Z"
# What export tools write besides RFC 3339, read as UTC when they name no zone.
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


class RowRefused(Exception):
    """The response cannot be kept; `errors` names each field at fault."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _read_id(value: Any) -> Any:
    # Delighted's ids are strings of digits; a JSON writer may have made them numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _read_score(value: Any) -> int:
    message = "must be a whole number from 0 to 10 (a Net Promoter Score)"
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise problem(message)
    return value


def read_moment(value: Any) -> datetime:
    """Unix seconds (Delighted's API), RFC 3339, or an export's "2024-05-01 12:30:00 UTC"."""
    if isinstance(value, float) and value.is_integer():  # also refuses NaN and infinities
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return read_unix_seconds(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise problem("is required: when the response was given")
    if not isinstance(value, str):
        raise problem(UNREADABLE_TIME)
    text = value.strip()
    if re.fullmatch(r"\d{9,11}", text):
        return read_unix_seconds(text)
    text = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", text, flags=re.IGNORECASE)
    try:
        return read_timestamp(text.replace(" +", "+").replace(" -", "-"))
    except ValueError:
        pass
    for layout in _TIME_FORMATS:
        try:
            moment = datetime.strptime(text.replace("+00:00", " +0000"), layout)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return within_accepted_range(moment.astimezone(UTC))
        except OverflowError:  # 0001-01-01 00:00:00 +0100 is in year 0 in UTC
            raise problem("is out of range (the year must be between 1900 and 8999)") from None
    raise problem(UNREADABLE_TIME)


class ResponseFields(BaseModel):
    """A response's fields, named as Delighted's API names them."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[Text(MAX_ID), BeforeValidator(_read_id)]
    email: EmailAddress
    name: OptionalText(MAX_NAME) = None
    score: Annotated[int, BeforeValidator(_read_score)]
    comment: OptionalText(MAX_COMMENT, multiline=True) = None
    created_at: Annotated[datetime, BeforeValidator(read_moment)]
    person_properties: Properties = None


def historic_answer(row: SourceRow, history_file: HistoryFile, *, now: datetime) -> HistoricAnswer:
    """The response the row holds, or RowRefused naming each field at fault."""
    if history_file.kind == "json":
        fields, additional = _from_json(row.data)
    else:
        fields, additional = _from_csv(row.data, history_file.columns)
    errors: dict[str, list[str]] = {}
    try:
        checked = ResponseFields.model_validate(fields)
    except ValidationError as exc:
        errors = field_errors(exc)
    else:
        if checked.created_at > now + FUTURE_TOLERANCE:
            errors = {"created_at": ["is in the future"]}
    if errors:
        if history_file.kind == "csv":
            errors = _by_header(errors, history_file.columns)
        raise RowRefused(errors)
    return HistoricAnswer(
        delighted_id=checked.id,
        email=checked.email,
        answered_at=checked.created_at,
        score=checked.score,
        name=checked.name,
        comment=checked.comment,
        properties=dict(checked.person_properties or {}),
        additional=additional,
    )


_ROLE_OF_FIELD = {"created_at": "time"}


def _by_header(errors: dict[str, list[str]], columns: tuple[Column, ...]) -> dict:
    """Field errors named by the CSV's own headers ("Response Timestamp", not created_at)."""
    header_of = {column.role: column.header for column in columns if column.role != "property"}
    header_of.update(
        {f"person_properties.{c.name}": c.header for c in columns if c.role == "property"}
    )
    named = {}
    for path, messages in errors.items():
        role = _ROLE_OF_FIELD.get(path, path)
        named[header_of.get(role, header_of.get(path, path))] = messages
    return named


def _from_json(item: object) -> tuple[dict, tuple[tuple[str, str], ...]]:
    if not isinstance(item, dict):
        raise RowRefused({"response": ["is not a JSON object"]})
    _check_survey_type(item.get("survey_type"))
    person = item.get("person")
    if isinstance(person, str | int) and not isinstance(person, bool):
        raise RowRefused(
            {
                "person": [
                    f"is only an id ({person}): list the responses with expand[]=person so "
                    "that each carries the person's email and name"
                ]
            }
        )
    if not isinstance(person, dict):
        raise RowRefused({"person": ["is required: an object with the person's email"]})
    fields = {
        "id": item.get("id"),
        "email": person.get("email"),
        "name": person.get("name"),
        "score": item.get("score"),
        "comment": item.get("comment"),
        "created_at": item.get("created_at"),
        "person_properties": item.get("person_properties") or None,
    }
    return fields, _json_additional(item.get("additional_answers"))


def _json_additional(answers: object) -> tuple[tuple[str, str], ...]:
    """Each additional answer as (question, the words chosen or written), where it has them."""
    if not isinstance(answers, list):
        return ()
    kept = []
    for number, answer in enumerate(answers):
        if not isinstance(answer, dict):
            continue
        question = answer.get("question") if isinstance(answer.get("question"), dict) else {}
        value = answer.get("value") if isinstance(answer.get("value"), dict) else {}
        text = _answer_words(value)
        if text:
            asked = question.get("text") if isinstance(question.get("text"), str) else None
            kept.append(
                (
                    _checked_text(asked or f"Question {number + 1}", "additional_answers"),
                    _checked_text(text, "additional_answers"),
                )
            )
    return tuple(kept)


def _answer_words(value: dict) -> str | None:
    if isinstance(value.get("free_response"), str) and value["free_response"].strip():
        return value["free_response"].strip()
    scale = value.get("scale")
    if isinstance(scale, int | float) and not isinstance(scale, bool):
        return str(scale)
    one = value.get("select_one")
    if isinstance(one, dict) and isinstance(one.get("text"), str):
        return one["text"]
    many = value.get("select_many")
    if isinstance(many, list):
        chosen = [
            choice["text"]
            for choice in many
            if isinstance(choice, dict) and isinstance(choice.get("text"), str)
        ]
        return ", ".join(chosen) or None
    return None


def _checked_text(value: str, field: str) -> str:
    reason = unstorable_text_reason(value, multiline=True)
    if reason:
        raise RowRefused({field: [reason]})
    return value.strip()[:MAX_QUESTION]


def _check_survey_type(survey_type: object) -> None:
    if survey_type in (None, "", "nps") or (
        isinstance(survey_type, str) and survey_type.strip().lower() in ("nps", "")
    ):
        return
    raise RowRefused(
        {"survey_type": [f"is {survey_type!s:.40}: only NPS responses (0 to 10) are imported"]}
    )


def _from_csv(
    cells: list[str] | None, columns: tuple[Column, ...]
) -> tuple[dict, tuple[tuple[str, str], ...]]:
    if cells is None:
        raise RowRefused({"row": ["has more cells than the header names columns"]})
    fields: dict[str, Any] = {}
    properties: dict[str, str] = {}
    additional = []
    for column, cell in zip(columns, cells, strict=True):
        value = cell.strip()
        if column.role == "property":
            if value:
                properties[column.name] = value
        elif column.role == "question":
            if value:
                additional.append(
                    (
                        _checked_text(column.name, "additional_answers"),
                        _checked_text(value, column.header),
                    )
                )
        elif column.role == "survey_type":
            _check_survey_type(value)
        elif column.role != "ignored":
            fields[column.role] = value or None
    return {
        "id": fields.get("id"),
        "email": fields.get("email"),
        "name": fields.get("name"),
        "score": fields.get("score"),
        "comment": fields.get("comment"),
        "created_at": fields.get("time"),
        "person_properties": properties or None,
    }, tuple(additional)
