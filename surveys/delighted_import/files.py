"""Reading a file of Delighted survey responses: the JSON its API returned, or a CSV export.

JSON: a list of responses, pages of them (a list of lists, or several lists one after another,
as a script that saved each page writes them). The file is read as text once and walked value
by value, so memory holds the text and one page of responses, never the whole file's objects.

CSV: the first line names the columns; each is recognised by its name, whatever its case,
spaces or punctuation ("Response ID", "response_id" and "ResponseId" are one column). Columns
that are not Delighted's own become properties (or, when they read like a question, additional
answers); the report says which columns were used and which were ignored.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# A CSV header's meaning, by its name squeezed to lower-case letters and digits.
CSV_ROLES = {
    "id": ("responseid", "id", "surveyresponseid", "delightedid"),
    "email": ("email", "emailaddress", "personemail", "customeremail", "respondentemail"),
    "name": ("name", "personname", "customername", "fullname", "respondentname"),
    "score": ("score", "npsscore", "rating"),
    "comment": ("comment", "comments", "responsecomment", "feedback"),
    "time": (
        "responsetimestamp",
        "createdat",
        "responsecreatedat",
        "respondedat",
        "submittedat",
        "responsedate",
        "responsetime",
        "timestamp",
        "date",
    ),
    "survey_type": ("surveytype",),
}
REQUIRED_ROLES = ("id", "email", "score", "time")
# Delighted's own columns that hold nothing we keep.
IGNORED_COLUMNS = {
    "tags",
    "notes",
    "permalink",
    "updatedat",
    "personid",
    "phonenumber",
    "phone",
    "channel",
    "locale",
    "trend",
    "trendname",
    "lastsentat",
    "surveyid",
}
PROPERTY_PREFIXES = ("properties", "property", "personproperties", "personproperty")
QUESTION_PREFIXES = ("additionalquestion", "question")
# A header longer than any property name, or ending with "?", is taken for a question.
MAX_PROPERTY_HEADER = 64
DELIMITERS = (",", ";", "\t")
JSON_FIELDS_USED = (
    "id",
    "person.email",
    "person.name",
    "score",
    "comment",
    "created_at",
    "person_properties",
    "additional_answers",
    "survey_type",
)


class UnreadableFile(Exception):
    """The file cannot be imported at all; the message says why and what would work."""


@dataclass(frozen=True)
class Column:
    """A CSV column: its header as written, and what it holds."""

    header: str
    role: str  # one of CSV_ROLES, "property", "question" or "ignored"
    name: str | None = None  # a property's name, or a question's text


@dataclass(frozen=True)
class SourceRow:
    """One response as the file holds it: where it is, and its values (a dict from JSON, or the
    CSV cells by column)."""

    where: str  # "line 12" or "response 3"
    data: object


@dataclass(frozen=True)
class HistoryFile:
    """A readable file: its format, its columns (CSV) or fields (JSON), and how many responses."""

    path: Path
    kind: str  # "json" or "csv"
    row_count: int
    columns: tuple[Column, ...] = ()
    delimiter: str = ","
    json_fields_ignored: tuple[str, ...] = ()

    def used(self) -> list[str]:
        if self.kind == "json":
            return list(JSON_FIELDS_USED)
        return [_describe(column) for column in self.columns if column.role != "ignored"]

    def ignored(self) -> list[str]:
        if self.kind == "json":
            return list(self.json_fields_ignored)
        return [column.header or "(blank)" for column in self.columns if column.role == "ignored"]

    def rows(self) -> Iterator[SourceRow]:
        if self.kind == "json":
            for number, item in enumerate(_json_items(_read_text(self.path), self.path), start=1):
                yield SourceRow(f"response {number}", item)
            return
        yield from _csv_rows(self)


def open_history_file(path: Path) -> HistoryFile:
    """Check the file can be imported and count its responses (for the progress bar)."""
    text = _read_text(path)
    stripped = text.lstrip()
    if not stripped:
        raise UnreadableFile(f"{path} is empty.")
    if stripped[0] in "[{":
        ignored: set[str] = set()
        count = 0
        for item in _json_items(text, path):
            count += 1
            if isinstance(item, dict):
                ignored.update(key for key in item if key not in _JSON_TOP_FIELDS)
        return HistoryFile(path, "json", count, json_fields_ignored=tuple(sorted(ignored)))
    return _open_csv(path, text)


_JSON_TOP_FIELDS = {field.split(".")[0] for field in JSON_FIELDS_USED}


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFile(
            f"{path}, line {line}: the file is not UTF-8 text. Export it again as UTF-8."
        ) from None


# --- JSON ----------------------------------------------------------------------------------

_SPACE = re.compile(r"\s*")


def _json_items(text: str, path: Path) -> Iterator[object]:
    """Every response of the file: the items of each list, the items of lists inside lists."""
    try:
        for value in _json_values(text):
            if isinstance(value, list):
                yield from value  # a page inside the outer list
            else:
                yield value
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})."
        ) from None


def _json_values(text: str) -> Iterator[object]:
    """The items of the file's top-level lists (or the top-level values that are not lists),
    decoded one at a time."""
    decoder = json.JSONDecoder()
    end = len(text)
    position = _SPACE.match(text, 0).end()
    while position < end:
        if text[position] != "[":
            value, position = decoder.raw_decode(text, position)
            yield value
            position = _SPACE.match(text, position).end()
            continue
        position = _SPACE.match(text, position + 1).end()
        if text.startswith("]", position):
            position = _SPACE.match(text, position + 1).end()
            continue
        while True:
            value, position = decoder.raw_decode(text, position)
            yield value
            position = _SPACE.match(text, position).end()
            if text.startswith(",", position):
                position = _SPACE.match(text, position + 1).end()
            elif text.startswith("]", position):
                position = _SPACE.match(text, position + 1).end()
                break
            else:
                raise json.JSONDecodeError("Expecting ',' or ']'", text, position)


# --- CSV -----------------------------------------------------------------------------------


def squeeze(header: str) -> str:
    """A header as compared: lower-case letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def _role_of(header: str) -> Column:
    key = squeeze(header)
    for role, names in CSV_ROLES.items():
        if key in names:
            return Column(header, role)
    if not key or key in IGNORED_COLUMNS:
        return Column(header, "ignored")
    label = header.strip()
    for prefix in PROPERTY_PREFIXES:
        if key.startswith(prefix) and ":" in label:
            return Column(header, "property", label.split(":", 1)[1].strip())
    for prefix in QUESTION_PREFIXES:
        if key.startswith(prefix) and ":" in label:
            return Column(header, "question", label.split(":", 1)[1].strip())
    if label.endswith("?") or len(label) > MAX_PROPERTY_HEADER:
        return Column(header, "question", label)
    return Column(header, "property", label)


def _open_csv(path: Path, text: str) -> HistoryFile:
    lines = io.StringIO(text, newline="")  # line breaks inside quoted cells stay in their cell
    header_line = lines.readline()
    delimiter = max(DELIMITERS, key=lambda d: _known_headers(header_line, d))
    columns, twice = _one_column_per_role(
        [_role_of(cell) for cell in next(csv.reader([header_line], delimiter=delimiter))]
    )
    roles = [column.role for column in columns]
    missing = [role for role in REQUIRED_ROLES if role not in roles]
    problems = []
    if missing:
        problems.append(f"has no column for {', '.join(missing)}")
    if twice:
        problems.append(f"names {', '.join(twice)} twice")
    if problems:
        raise UnreadableFile(
            f"{path} cannot be imported: its header {'; '.join(problems)}. Delighted's export "
            'names them "Response ID", "Email", "Score" and "Response Timestamp" (or '
            '"Created At"); "Name", "Comment", properties and additional questions are optional.'
        )
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        count = sum(1 for cells in reader if any(cell.strip() for cell in cells))
    except csv.Error as exc:
        raise UnreadableFile(f"{path}, line {reader.line_num + 1}: {exc}.") from None
    return HistoryFile(path, "csv", count, columns=columns, delimiter=delimiter)


def _one_column_per_role(columns: list[Column]) -> tuple[tuple[Column, ...], list[str]]:
    """One column per field: where several could hold it ("Created At" and "Response
    Timestamp"), the most particular name is used and the others ignored. Also returns the
    headers written twice, which cannot be told apart."""
    chosen: dict[str, Column] = {}
    twice = []
    for column in columns:
        if column.role not in CSV_ROLES:
            continue
        rank = CSV_ROLES[column.role].index(squeeze(column.header))
        other = chosen.get(column.role)
        if other is None or rank < CSV_ROLES[column.role].index(squeeze(other.header)):
            chosen[column.role] = column
        elif squeeze(column.header) == squeeze(other.header):
            twice.append(column.header.strip())
    kept = tuple(
        column
        if column.role not in CSV_ROLES or chosen[column.role] is column
        else Column(column.header, "ignored")
        for column in columns
    )
    return kept, twice


def _known_headers(header_line: str, delimiter: str) -> int:
    cells = next(csv.reader([header_line], delimiter=delimiter))
    return sum(1 for cell in cells if _role_of(cell).role in CSV_ROLES)


def _csv_rows(history_file: HistoryFile) -> Iterator[SourceRow]:
    """The data rows with their line numbers; blank lines are passed over."""
    with history_file.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=history_file.delimiter, strict=True)
        next(reader)
        width = len(history_file.columns)
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise UnreadableFile(f"{history_file.path}, line {line}: {exc}.") from None
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width:
                yield SourceRow(f"line {line}", None)  # more cells than columns: refused
                continue
            yield SourceRow(f"line {line}", list(_padded(cells, width)))


def _padded(cells: list[str], width: int) -> Iterable[str]:
    # Spreadsheets drop a row's trailing empty cells.
    return [*cells, *[""] * (width - len(cells))]


def _describe(column: Column) -> str:
    if column.role == "property":
        return f"{column.header} (property {column.name})"
    if column.role == "question":
        return f"{column.header} (additional question)"
    return f"{column.header} ({column.role.replace('_', ' ')})"
