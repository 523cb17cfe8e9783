"""The weekly digest: once a week, on Monday morning in each person's own time zone, every active
admin and owner who has not turned it off is emailed how last week went.

When it goes. A person's week runs from Monday 00:00 to Sunday 24:00 in their time zone (their
own, else the business time zone setting). The digest is due from Monday `SEND_FROM` (08:00) on,
and stays due until that week ends: if the worker was down on Monday morning it goes later that
week, as soon as the worker is back; once the week is over it is never sent late (a Saturday
email about the week before last would only confuse). Someone created after their week's Monday
08:00 gets their first digest the Monday after: there was no "last week" with us to tell them
about. Turning the digest back on mid-week sends that week's one if it has not gone yet.

Never twice. Each digest queued is a `WeeklyDigest` row, unique per (person, week), inserted in
the same transaction as its outbox email: a second worker inserting the same row waits for the
first and then inserts nothing, so it queues no email. A person who moves to a time zone where it
is still the week before is not sent that week's digest again: only a week later than the last
one sent is ever due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.models import User, WeeklyDigest
from surveys.outbox.enqueue import enqueue_email_to_user
from surveys.services.insights.filters import InsightFilters
from surveys.services.settings import get_setting
from surveys.validation.codes import known_timezones

TEMPLATE = "weekly_digest"
SEND_FROM = time(8, 0)


def zone_name(session: Session, user: User) -> str:
    """The person's time zone: their own choice, else the business's."""
    if user.time_zone and user.time_zone in known_timezones():
        return user.time_zone
    return business_zone_name(session)


def business_zone_name(session: Session) -> str:
    name = get_setting(session, "business_time_zone")
    return name if name in known_timezones() else "UTC"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_midnight(day: date, zone_name: str) -> datetime:
    """The moment `day` begins in the zone, as an aware datetime (compares with UTC ones)."""
    return datetime.combine(day, time(0), tzinfo=_zone(zone_name))


def week_start(now: datetime, zone_name: str) -> date:
    """The Monday of the week `now` falls in, in the zone."""
    local_day = now.astimezone(_zone(zone_name)).date()
    return local_day - timedelta(days=local_day.weekday())


def send_from(monday: date, zone_name: str) -> datetime:
    """When the digest of the week beginning `monday` is first due: Monday 08:00 there."""
    return datetime.combine(monday, SEND_FROM, tzinfo=_zone(zone_name))


@dataclass(frozen=True)
class DigestWeeks:
    """The week a digest tells about and the one before it, as UTC ranges of local weeks."""

    week: InsightFilters
    week_before: InsightFilters
    first_day: date
    last_day: date


def digest_weeks(sent_week: date, zone_name: str) -> DigestWeeks:
    """For a digest sent in the week beginning `sent_week`: the whole local week before, and the
    one before that (each Monday to Monday, so a week with a clock change has its true length)."""
    mondays = [sent_week - timedelta(days=7 * n) for n in (2, 1, 0)]
    starts = [local_midnight(day, zone_name) for day in mondays]
    return DigestWeeks(
        week=InsightFilters(starts[1], starts[2]),
        week_before=InsightFilters(starts[0], starts[1]),
        first_day=mondays[1],
        last_day=mondays[2] - timedelta(days=1),
    )


def wants_digest(user: User) -> bool:
    return user.active and user.weekly_digest


def queue_weekly_digests(session: Session, now: datetime) -> int:
    """Queue the digest of everyone whose Monday morning has come this week and who has not had
    this week's yet; returns how many were queued (a timed job: idempotent)."""
    last_sent = (
        select(WeeklyDigest.user_id, func.max(WeeklyDigest.week_start).label("last_week"))
        .group_by(WeeklyDigest.user_id)
        .subquery()
    )
    people = session.execute(
        select(User, last_sent.c.last_week)
        .outerjoin(last_sent, last_sent.c.user_id == User.id)
        .where(User.active.is_(True), User.weekly_digest.is_(True))
        .order_by(User.id)
    ).all()
    business_zone = business_zone_name(session)
    queued = 0
    for user, last_week in people:
        zone = user.time_zone if user.time_zone in known_timezones() else business_zone
        monday = week_start(now, zone)
        due_at = send_from(monday, zone)
        if now < due_at or user.created_at > due_at:
            continue
        if last_week is not None and last_week >= monday:
            continue
        if _record(session, user, monday, zone, now):
            enqueue_email_to_user(
                session,
                user,
                template=TEMPLATE,
                now=now,
                context={"week_start": monday.isoformat(), "time_zone": zone},
            )
            queued += 1
    session.flush()
    return queued


def _record(session: Session, user: User, monday: date, zone: str, now: datetime) -> bool:
    """Insert this person's digest of the week; False when another worker already did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WeeklyDigest)
        .values(user_id=user.id, week_start=monday, time_zone=zone, queued_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "week_start"])
        .returning(WeeklyDigest.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None
