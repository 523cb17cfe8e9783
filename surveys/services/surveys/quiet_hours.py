"""Quiet hours: nobody is asked a survey question at night in their own time zone.

With a customer's time zone known (the API's `customer.timezone`), a survey or
reminder due between `quiet_hours_start` and `quiet_hours_end` local time
(21:00–08:00 by default) waits for the end of the quiet hours. Without a time
zone we cannot know their night, so nothing is held.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Setting
from surveys.services.settings import SPECS

QUIET_KEYS = ("quiet_hours_start", "quiet_hours_end")


def quiet_hours(session: Session) -> tuple[str, str]:
    """The configured ("HH:MM", "HH:MM") start and end, in one query."""
    stored = dict(
        session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(QUIET_KEYS))).all()
    )
    start, end = (stored.get(key, SPECS[key].default) for key in QUIET_KEYS)
    return str(start), str(end)


def customer_zone(name: str | None) -> ZoneInfo | None:
    """The customer's time zone, or None when unknown or not a zone we know."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def quiet_until(moment: datetime, timezone: str | None, *, start: str, end: str) -> datetime | None:
    """When the quiet hours around `moment` end (UTC), or None if `moment` is not in them."""
    zone = customer_zone(timezone)
    if zone is None or start == end:
        return None
    local = moment.astimezone(zone)
    start_at, end_at = _parse(start), _parse(end)
    now = local.time()
    if start_at < end_at:  # within one day, e.g. 00:00–07:00
        quiet = start_at <= now < end_at
        end_day = local.date()
    else:  # across midnight, e.g. 21:00–08:00
        quiet = now >= start_at or now < end_at
        end_day = local.date() + timedelta(days=1) if now >= start_at else local.date()
    if not quiet:
        return None
    # The local wall-clock end; on a DST change day zoneinfo settles a missing
    # or repeated hour, and we never go back before `moment`.
    ends = datetime.combine(end_day, end_at, tzinfo=zone).astimezone(moment.tzinfo)
    return max(ends, moment)


def outside_quiet_hours(
    moment: datetime, timezone: str | None, *, start: str, end: str
) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    return quiet_until(moment, timezone, start=start, end=end) or moment


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
