"""How well the default rules for written answers tell complaints apart: a confusion table.

    .venv/bin/python bench/comment_rules.py

Reads tests/data/comments.csv (each answer labelled complaint or fine) and prints, for the word
list alone, for sentiment alone at several thresholds, and for both together, how many complaints
were found and how many other answers were flagged by mistake. Not timed: these are counts.
"""

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveys.text_reading import (  # noqa: E402
    DEFAULT_COMPLAINT_WORDS,
    DEFAULT_SENTIMENT_THRESHOLD,
    TextRule,
    read_answer,
)

COMMENTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "comments.csv"


def confusion(rule: TextRule, comments: list[tuple[str, bool]]) -> tuple[int, int, int, int]:
    found = missed = false_alarms = quiet = 0
    for text, complaint in comments:
        negative = read_answer(text, rule).negative
        if complaint:
            found += negative
            missed += not negative
        else:
            false_alarms += negative
            quiet += not negative
    return found, missed, false_alarms, quiet


def main() -> None:
    with COMMENTS.open(encoding="utf-8") as handle:
        comments = [(row["text"], row["label"] == "complaint") for row in csv.DictReader(handle)]
    complaints = sum(complaint for _, complaint in comments)
    print(f"{len(comments)} answers: {complaints} complaints, {len(comments) - complaints} others")
    headings = ("found", "missed", "false", "quiet", "recall", "alarms")
    print(f"{'rule':<34} " + " ".join(f"{heading:>6}" for heading in headings))
    rules = [("words only", TextRule(words=DEFAULT_COMPLAINT_WORDS))]
    for threshold in (-0.05, -0.2, -0.3, -0.4, -0.6):
        rules.append((f"sentiment below {threshold}", TextRule(sentiment_below=threshold)))
    for threshold in (-0.05, -0.2, -0.3, -0.4, -0.6):
        label = f"words + sentiment below {threshold}"
        if threshold == DEFAULT_SENTIMENT_THRESHOLD:
            label += " *"
        rules.append((label, TextRule(sentiment_below=threshold, words=DEFAULT_COMPLAINT_WORDS)))
    for label, rule in rules:
        found, missed, false_alarms, quiet = confusion(rule, comments)
        recall = found / (found + missed)
        alarms = false_alarms / (false_alarms + quiet)
        print(
            f"{label:<34} {found:>6} {missed:>7} {false_alarms:>6} {quiet:>6}"
            f" {recall:>7.1%} {alarms:>7.1%}"
        )
    print("* the default")


if __name__ == "__main__":
    main()
