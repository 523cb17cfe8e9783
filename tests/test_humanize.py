"""Durations in words: deadlines and waits on the owners' pages and the case timeline."""

from __future__ import annotations

import pytest

from surveys.humanize import MINUTES_TO_SECONDS, duration_words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "less than a minute"),
        (59.9, "less than a minute"),
        (60, "1 minute"),
        (119, "1 minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "1 hour"),
        (2 * 86400 - 1, "1 day"),
        (2 * 86400, "2 days"),
    ],
)
def test_a_duration_is_said_in_its_largest_whole_unit_rounded_down(seconds, words):
    assert duration_words(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (90, "2 minutes"),
        (3600, "60 minutes"),
    ],
)
def test_a_wait_is_said_to_the_second_and_never_shorter_than_it_is(seconds, words):
    assert duration_words(seconds, units=MINUTES_TO_SECONDS, round_up=True) == words
