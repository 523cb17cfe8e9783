"""Reading written answers: the default rules against labelled comments, and the rules' parts."""

import csv
from pathlib import Path

import pytest

from surveys.text_reading import (
    DEFAULT_COMPLAINT_WORDS,
    DEFAULT_SENTIMENT_THRESHOLD,
    TextRule,
    is_real_answer,
    matching_words,
    read_answer,
    sentiment_score,
)

COMMENTS = Path(__file__).parent / "data" / "comments.csv"
DEFAULT_RULE = TextRule(sentiment_below=DEFAULT_SENTIMENT_THRESHOLD, words=DEFAULT_COMPLAINT_WORDS)


def _labelled_comments() -> list[tuple[str, bool]]:
    with COMMENTS.open(encoding="utf-8") as handle:
        return [(row["text"], row["label"] == "complaint") for row in csv.DictReader(handle)]


def test_the_labelled_comments_are_enough_to_judge_by():
    comments = _labelled_comments()
    assert len(comments) >= 80
    assert sum(complaint for _, complaint in comments) >= 30
    assert sum(not complaint for _, complaint in comments) >= 30


def test_default_rules_find_nine_in_ten_complaints_and_few_false_alarms():
    comments = _labelled_comments()
    complaints = [text for text, complaint in comments if complaint]
    others = [text for text, complaint in comments if not complaint]
    found = [text for text in complaints if read_answer(text, DEFAULT_RULE).negative]
    false_alarms = [text for text in others if read_answer(text, DEFAULT_RULE).negative]
    assert len(found) / len(complaints) >= 0.9, sorted(set(complaints) - set(found))
    assert len(false_alarms) / len(others) <= 0.1, false_alarms


@pytest.mark.parametrize(
    "text", ["no", "None.", "nothing", "N/A", "n/a", "Nope", "  ", "Nothing, all good!", "-"]
)
def test_answers_that_say_nothing_are_not_real_answers(text):
    assert not is_real_answer(text)
    assert not read_answer(text, TextRule(not_empty=True)).negative


@pytest.mark.parametrize("text", ["The lid leaks", "No, the lid leaks", "Nothing works"])
def test_answers_with_something_to_say_are_real(text):
    assert is_real_answer(text)
    assert read_answer(text, TextRule(not_empty=True)).reasons == ["not_empty"]


def test_words_match_whole_words_without_case_or_accents():
    assert matching_words("Je veux être REMBOURSÉ", ["remboursé"]) == ["remboursé"]
    assert matching_words("I want a Refund!", ["refund", "broken"]) == ["refund"]
    assert matching_words("Stopwatch works fine", ["stop"]) == []
    assert matching_words("It never arrived.", ["never arrived"]) == ["never arrived"]


def test_long_words_survive_one_typo_but_short_ones_do_not():
    assert matching_words("very disapointed", ["disappointed"]) == ["disappointed"]
    assert matching_words("the form was filled", ["billed"]) == []


def test_a_leading_nothing_is_the_answer_not_a_negation():
    assert sentiment_score("Nothing, loved it!!") > 0.5
    assert sentiment_score("Terrible, the worst order I ever placed") < -0.5


def test_reading_says_which_parts_made_it_negative():
    reading = read_answer(
        "The courier was rude, the box arrived crushed and I want a refund", DEFAULT_RULE
    )
    assert reading.negative
    assert reading.words == ["refund", "crushed", "rude"]
    assert "words" in reading.reasons


def test_without_a_rule_an_answer_is_scored_but_never_negative():
    reading = read_answer("Worst shop ever", None)
    assert reading.score < 0
    assert not reading.negative
