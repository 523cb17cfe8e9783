"""Themes in the written answers: the words and two- and three-word phrases customers use most,
stemmed ("deliveries" counts as "delivery") with stop words left out, each with its trend and its
share of negative responses.

Stemming is NLTK's Snowball stemmer (pure code, no downloaded data); the stop words are the
English list YAKE ships inside its package. Nothing is downloaded at run time.

Cost: one query reads the written answers of the period and of the one before it; the rest is
Python, about 0.4 s of CPU per 10,000 answers of 15 words (measured with time.process_time on
this 2-core machine, random words from a 40-word vocabulary, the stemmer's cache warm), the
database read on top. Linear in the answers: pages that show themes cache them
(surveys.feed_pages.themes_section).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path

from nltk.stem.snowball import SnowballStemmer
from sqlalchemy import ColumnElement, func, insert, select, union_all
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerTheme, Question
from surveys.models.surveys import Response
from surveys.services.insights import day_counts, tallies
from surveys.services.insights.feed_scope import response_conditions
from surveys.services.insights.filters import InsightFilters
from surveys.text_reading import fold, is_real_answer

# A theme must come from at least this many responses: one customer's phrase is not a theme.
MIN_RESPONSES = 2
TOP = 20
LONGEST_PHRASE = 3
# Words, with an inner apostrophe ("didn't"); digits alone and single letters say nothing.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# A phrase never runs across these: "fast, cheap" is not the phrase "fast cheap".
_BREAK = re.compile(r"[.,;:!?()\[\]\"/\n\r\t]+|\s[-–—]+\s")


@cache
def stop_words() -> frozenset[str]:
    """YAKE's English stop words, read from its package data (the file, without importing YAKE
    and the numeric libraries it pulls in)."""
    spec = importlib.util.find_spec("yake")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The yake package (its stop-word list) is not installed.")
    path = Path(next(iter(spec.submodule_search_locations))) / "core/StopwordsList/stopwords_en.txt"
    words = {fold(line.strip()) for line in path.read_text(encoding="utf-8").splitlines()}
    # Answers also spell "don't" with a typographic apostrophe; both spellings are stop words.
    return frozenset(words | {w.replace("'", "") for w in words if "'" in w}) - {""}


_stemmer = SnowballStemmer("english")


@cache
def stem(word: str) -> str:
    # Cached: customers use a few thousand distinct words, the stemmer is the slow part.
    return _stemmer.stem(word)


def _chunks(text: str) -> Iterator[list[str]]:
    """Runs of content words (lower case, no accents), split at punctuation and stop words."""
    stops = stop_words()
    for part in _BREAK.split(fold(text).replace("\u2019", "'")):
        run: list[str] = []
        for word in _WORD.findall(part):
            if word in stops or len(word) < 2 or word.isdigit():
                if run:
                    yield run
                run = []
            else:
                run.append(word)
        if run:
            yield run


def mentions(text: str) -> dict[str, str]:
    """Every theme key in the text (a stem, or stems joined by spaces) → its words as written."""
    found: dict[str, str] = {}
    for run in _chunks(text):
        stems = [stem(word) for word in run]
        for size in range(1, LONGEST_PHRASE + 1):
            for i in range(len(run) - size + 1):
                found.setdefault(" ".join(stems[i : i + size]), " ".join(run[i : i + size]))
    return found


def theme_key(text: str) -> str | None:
    """The key a theme given as words ("Deliveries", "late delivery" or a key itself) stands
    for, or None when it holds no content word or more than a phrase's words."""
    runs = list(_chunks(text))
    if len(runs) != 1 or len(runs[0]) > LONGEST_PHRASE:
        return None
    return " ".join(stem(word) for word in runs[0])


# --- each written answer's themes, read when it is recorded -----------------------------------

BATCH = 5000


def record_answer_themes(session: Session, answers: Iterable[Answer]) -> int:
    """Write the themes of these (flushed) answers that are written ones; returns the rows."""
    rows = []
    for answer in answers:
        if answer.question.type != "text" or not answer.value or not is_real_answer(answer.value):
            continue
        for key, spelling in mentions(answer.value).items():
            rows.append(
                {
                    "answer_id": answer.id,
                    "response_id": answer.response_id,
                    "key": key[:200],
                    "spelling": spelling[:300],
                }
            )
    if rows:
        session.execute(insert(AnswerTheme), rows)
    return len(rows)


def record_all_themes(session: Session) -> int:
    """Read the themes of every written answer into the empty `answer_themes` (the backfill of
    migration 0013, and of the benchmark's seed); returns the rows written. Answers are read a
    batch at a time in id order, and a text seen before is not read again."""
    written = (
        select(Answer.id, Answer.response_id, Answer.value)
        .join(Question, Question.id == Answer.question_id)
        .where(Question.type == "text", Answer.value.is_not(None))
        .order_by(Answer.id)
    )
    seen: dict[str, dict[str, str]] = {}
    total, after = 0, 0
    while True:
        batch = session.execute(written.where(Answer.id > after).limit(BATCH)).all()
        if not batch:
            return total
        after = batch[-1][0]
        rows = []
        for answer_id, response_id, text in batch:
            if not is_real_answer(text):
                continue
            if text not in seen:
                if len(seen) > 50_000:
                    seen.clear()
                seen[text] = mentions(text)
            rows += [
                {"answer_id": answer_id, "response_id": response_id, "key": k, "spelling": s}
                for k, s in seen[text].items()
            ]
        if rows:
            session.execute(insert(AnswerTheme), rows)
            total += len(rows)


@dataclass(frozen=True)
class Theme:
    key: str  # stems joined by spaces: what the feed's `theme` filter takes
    label: str  # the words customers wrote most often for it
    count: int  # responses that mention it in the period
    previous: int  # ...in the period before
    negative: int  # of `count`, the negative responses

    @property
    def words(self) -> int:
        return self.key.count(" ") + 1

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


@dataclass
class _Tally:
    responses: set[int]
    previous: set[int]
    negative: set[int]
    spellings: Counter


def written_answers(
    session: Session,
    filters: InsightFilters,
    *,
    since: datetime | None = None,
    conditions: list[ColumnElement] | None = None,
) -> list[tuple[int, bool, datetime, str]]:
    """(response id, negative, submitted at, text) of every written answer in scope, from
    `since` (default: the filters' start) to the filters' end, or of the responses meeting
    `conditions` instead (the comment feed's): one query."""
    if conditions is None:
        conditions = [
            Response.submitted_at >= (since or filters.start),
            Response.submitted_at < filters.end,
            *response_conditions(filters, dated=False),
        ]
    rows = session.execute(
        select(Response.id, Response.negative, Response.submitted_at, Answer.value)
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .where(
            Question.type == "text",
            Answer.value.is_not(None),
            func.length(Answer.value) > 0,
            *conditions,
        )
    )
    return [tuple(row) for row in rows]


def themes(session: Session, filters: InsightFilters, *, top: int = TOP) -> list[Theme]:
    """The `top` themes of the period, most mentioned first, with the period before for trend.

    Counted in the database from each answer's themes (`answer_themes`, written when the answer
    was recorded) and, for the whole days the worker has counted, from the day and month
    tallies: a few statements whatever the number of answers."""
    day_counts.small_reads(session)
    wanted = top * 4
    while True:
        counts = _top_counts(session, filters, wanted)
        found = [
            Theme(key=key, label=key, count=count, previous=0, negative=negative)
            for key, (count, negative) in counts.items()
        ]
        kept = _without_fragments(found)
        if len(kept) >= top or len(counts) < wanted:
            break
        wanted *= 4
    # Labels and the period before only for the themes shown (and those tied with the last
    # shown, whose labels decide which of them is).
    kept.sort(key=lambda theme: (-theme.count, -theme.words))
    if len(kept) > top:
        last = (kept[top - 1].count, kept[top - 1].words)
        kept = kept[:top] + [t for t in kept[top:] if (t.count, t.words) == last]
    keys = [theme.key for theme in kept]
    labels = _labels(session, filters, keys)
    previous = _counts_of(session, filters.previous(), keys)
    kept = [
        replace(theme, label=labels.get(theme.key, theme.key), previous=previous.get(theme.key, 0))
        for theme in kept
    ]
    # Most mentioned first; a longer phrase before a word it holds, as it says more.
    kept.sort(key=lambda theme: (-theme.count, -theme.words, theme.label))
    return kept[:top]


def _key_rows(session: Session, filters: InsightFilters, keys: list[str] | None = None):
    """(key, responses, negative) pieces of the period: tallies where they reach, rows else
    (an owner's corrections signed: what joined added, what left taken away)."""
    cut = tallies.theme_split(session, filters)
    parts = []
    if cut is not None:
        for piece in cut.pieces:
            tally = piece.selected_columns
            piece = piece.where(tally.spelling == "")
            if keys is not None:
                piece = piece.where(tally.key.in_(keys))
            parts.append(piece.with_only_columns(tally.key, tally.responses, tally.negative))
    for part, sign in _raw_parts(cut, filters):
        query = (
            select(
                AnswerTheme.key,
                _signed(sign, func.count(AnswerTheme.response_id.distinct())),
                _signed(sign, day_counts.negative_responses()),
            )
            .join(Response, Response.id == AnswerTheme.response_id)
            .where(*response_conditions(part))
            .group_by(AnswerTheme.key)
        )
        if keys is not None:
            query = query.where(AnswerTheme.key.in_(keys))
        parts.append(query)
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    key, responses, negative = rows.c
    return key, responses, negative, rows


def _signed(sign: int, count):
    return count if sign > 0 else -count


def _raw_parts(cut, filters: InsightFilters) -> list[tuple[InsightFilters, int]]:
    """What is read from the answers' themes: all of the period when no tallies serve it."""
    if cut is None:
        return [(filters, 1)]
    return [(edge, 1) for edge in cut.edges] + cut.corrections


def _top_counts(session: Session, filters: InsightFilters, limit: int):
    """key → (responses, negative responses) of the `limit` most mentioned keys (at least
    MIN_RESPONSES), more words first among equals."""
    key, responses, negative, _rows = _key_rows(session, filters)
    count = func.sum(responses)
    words = func.length(key) - func.length(func.replace(key, " ", ""))
    query = (
        select(key, count, func.sum(negative))
        .group_by(key)
        .having(count >= MIN_RESPONSES)
        .order_by(count.desc(), words.desc(), key)
        .limit(limit)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in session.execute(query)}


def _counts_of(session: Session, filters: InsightFilters, keys: list[str]) -> dict[str, int]:
    if not keys:
        return {}
    key, responses, _negative, _rows = _key_rows(session, filters, keys)
    return {
        row[0]: int(row[1])
        for row in session.execute(select(key, func.sum(responses)).group_by(key))
    }


def _labels(session: Session, filters: InsightFilters, keys: list[str]) -> dict[str, str]:
    """Each key's most written spelling in the period (among equals the first alphabetically)."""
    if not keys:
        return {}
    cut = tallies.theme_split(session, filters)
    parts = []
    if cut is not None:
        for piece in cut.pieces:
            tally = piece.selected_columns
            parts.append(
                piece.where(tally.spelling != "", tally.key.in_(keys)).with_only_columns(
                    tally.key, tally.spelling, tally.responses
                )
            )
    for part, sign in _raw_parts(cut, filters):
        parts.append(
            select(AnswerTheme.key, AnswerTheme.spelling, _signed(sign, func.count(AnswerTheme.id)))
            .join(Response, Response.id == AnswerTheme.response_id)
            .where(AnswerTheme.key.in_(keys), *response_conditions(part))
            .group_by(AnswerTheme.key, AnswerTheme.spelling)
        )
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    key, spelling, answers = rows.c
    best: dict[str, tuple[int, str]] = {}
    for row_key, row_spelling, count in session.execute(
        select(key, spelling, func.sum(answers)).group_by(key, spelling)
    ):
        candidate = (-int(count), row_spelling)
        if row_key not in best or candidate < best[row_key]:
            best[row_key] = candidate
    return {row_key: spelling for row_key, (_count, spelling) in best.items()}


def themes_of(
    answers: Iterable[tuple[int, bool, datetime, str]], filters: InsightFilters, *, top: int = TOP
) -> list[Theme]:
    tallies: dict[str, _Tally] = defaultdict(lambda: _Tally(set(), set(), set(), Counter()))
    for response_id, negative, submitted_at, text in answers:
        if not is_real_answer(text):
            continue
        current = submitted_at >= filters.start
        for key, spelling in mentions(text).items():
            tally = tallies[key]
            if not current:
                tally.previous.add(response_id)
                continue
            tally.responses.add(response_id)
            tally.spellings[spelling] += 1
            if negative:
                tally.negative.add(response_id)
    found = [
        Theme(
            key=key,
            # Most used spelling; among equals the first alphabetically, so the label is stable.
            label=min(t.spellings.items(), key=lambda item: (-item[1], item[0]))[0],
            count=len(t.responses),
            previous=len(t.previous),
            negative=len(t.negative),
        )
        for key, t in tallies.items()
        if len(t.responses) >= MIN_RESPONSES
    ]
    found = _without_fragments(found)
    # Most mentioned first; a longer phrase before a word it holds, as it says more.
    found.sort(key=lambda theme: (-theme.count, -theme.words, theme.label))
    return found[:top]


def _without_fragments(found: list[Theme]) -> list[Theme]:
    """Leave out a phrase inside a longer theme with the same count ("box arrived" when every
    one of its responses says "box arrived crushed"): it adds nothing. Single words stay."""
    # (inner phrase, count) of every phrase one word shorter inside a longer theme: one pass.
    shadowed = set()
    for theme in found:
        stems = theme.key.split(" ")
        for size in range(2, len(stems)):
            for i in range(len(stems) - size + 1):
                shadowed.add((" ".join(stems[i : i + size]), theme.count))
    return [
        theme for theme in found if theme.words == 1 or (theme.key, theme.count) not in shadowed
    ]


def response_ids_mentioning(
    answers: Iterable[tuple[int, bool, datetime, str]], key: str
) -> dict[int, datetime]:
    """Responses whose written answers mention the theme `key` → when they were submitted."""
    matched: dict[int, datetime] = {}
    for response_id, _negative, submitted_at, text in answers:
        if response_id not in matched and key in mentions(text):
            matched[response_id] = submitted_at
    return matched
