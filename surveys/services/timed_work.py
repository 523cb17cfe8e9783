"""The worker's timed work besides delivering the outbox.

Each job takes (session, now), does what is due, flushes, and returns how many
things it did; the worker commits after each job. Jobs must be idempotent:
several workers may run them at once, and a job run twice in a row does
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from surveys.outbox import retention
from surveys.services import digests
from surveys.services.cases import deadlines, fix_check, opening
from surveys.services.chat_channels import notify as chat_notify
from surveys.services.customers import autopilot
from surveys.services.insights import rollups
from surveys.services.occasions.reminders import queue_date_reminders
from surveys.services.surveys import held, reminders

TimedJob = Callable[[Session, datetime], int]


def timed_jobs() -> list[tuple[str, TimedJob]]:
    """The jobs the worker runs on every pass, by name."""
    return [
        # A safety net: cases are given an owner as soon as someone can take them (a new
        # admin, a default owner), but a case that opened while that change committed waits.
        ("cases given an owner", opening.assign_waiting_cases),
        ("escalated", deadlines.escalate_overdue_cases),
        ("closed unconfirmed", fix_check.close_unconfirmed_cases),
        # A safety net too: a case's close decides its held surveys in the same commit, but a
        # purchase that raced the close holds one the close could not see yet.
        ("held surveys decided", held.release_surveys_held_for_closed_cases),
        ("reminders queued", reminders.queue_reminders),
        # Monday morning in each person's time zone; the digest's own row keeps it to one a week.
        ("weekly digests queued", digests.queue_weekly_digests),
        # Monday morning in the business's time zone; each channel's `summary_week` keeps it
        # to one a week.
        ("weekly chat summaries queued", chat_notify.queue_weekly_summaries),
        ("autopilot members invited", autopilot.invite_due_members),
        # The dashboard's day tallies up to yesterday; at most once an hour (rollups.py).
        ("insight days counted", rollups.refresh_insight_rollups),
        ("old outbox rows deleted", retention.delete_old_delivered_messages),
        ("date reminders queued", queue_date_reminders),
    ]
