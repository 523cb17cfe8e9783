"""The weekly digest to an admin or owner: how last week went, with links to see more.

Queued by `surveys.services.digests` with the person's local week and time zone in the
message's context; the figures are read when the email is built
(`surveys.services.insights.digest`), so they are as fresh as the email.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import get_month_names
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.mail.registry import CancelDelivery, email_template
from surveys.models import OutboxMessage, User
from surveys.services.digests import DigestWeeks, digest_weeks, wants_digest
from surveys.services.insights.digest import DigestFigures, digest_figures


@email_template("weekly_digest", to_customer=False)
def weekly_digest_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Last week's score and its change, responses, cases and themes, for one person."""
    context = message.context or {}
    user_id = context.get("user_id")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not wants_digest(user):
        raise CancelDelivery("the person left or turned the weekly digest off")
    try:
        sent_week = date.fromisoformat(context["week_start"])
        zone = str(context["time_zone"])
    except (KeyError, TypeError, ValueError):
        raise CancelDelivery("the digest does not say which week it is about") from None
    weeks = digest_weeks(sent_week, zone)
    figures = digest_figures(session, user, weeks.week, weeks.week_before, now=now)
    return digest_context(user, weeks, figures, zone=zone)


def digest_context(user: User, weeks: DigestWeeks, figures: DigestFigures, *, zone: str) -> dict:
    """The template's variables, from the figures (also what the email preview shows)."""
    admin = user.is_admin
    days = {"from": weeks.first_day.isoformat(), "to": weeks.last_day.isoformat()}
    dashboard = "admin.show_dashboard" if admin else "inbox.show_own_dashboard"
    feed = "admin.list_responses" if admin else "inbox.list_my_responses"
    inbox_args = {"owner": "all"} if admin else {}
    return {
        "admin": admin,
        "period": period_words(weeks.first_day, weeks.last_day),
        "time_zone": zone,
        "score": points(figures.score.score),
        "score_answers": figures.score.answers,
        "score_before": points(figures.score_before.score),
        "score_change": change_words(figures.score_change),
        "responses": figures.responses.whole,
        "negative_responses": figures.responses.part,
        "responses_before": figures.responses_before.whole,
        "cases": figures.cases,
        "themes": [
            {
                "label": theme.label,
                "count": theme.count,
                "negative": theme.negative,
                "url": external_url(feed, theme=theme.key, **days),
            }
            for theme in figures.themes
        ],
        "dashboard_url": external_url(dashboard, **days),
        "feed_url": external_url(feed, **days),
        "negative_url": external_url(feed, negative="1", **days),
        "cases_url": external_url("inbox.show_inbox", **inbox_args),
        "settings_url": external_url("inbox.edit_account_settings"),
    }


def points(score: float | None) -> str:
    """A net score as the dashboard shows it: "+40", "0", "-12", or "–" with no answers."""
    if score is None:
        return "–"
    whole = round(score)
    return "0" if whole == 0 else f"{whole:+d}"


def change_words(change: float | None) -> str | None:
    """ "up 10 points", "down 1 point", "unchanged", or None when there is nothing to compare."""
    if change is None:
        return None
    whole = round(change)
    if whole == 0:
        return _("unchanged")
    if whole > 0:
        return ngettext("up %(num)d point", "up %(num)d points", whole)
    return ngettext("down %(num)d point", "down %(num)d points", -whole)


def period_words(first: date, last: date) -> str:
    """ "Monday 16 to Sunday 22 November", or across months and years in full, in the
    reader's language."""
    months = get_month_names("wide", locale=get_locale())
    days = {"first_day": first.day, "last_day": last.day}
    if first.year != last.year:
        return _(
            "Monday %(first_day)s %(first_month)s %(first_year)s to Sunday %(last_day)s "
            "%(last_month)s %(last_year)s",
            first_month=months[first.month],
            first_year=first.year,
            last_month=months[last.month],
            last_year=last.year,
            **days,
        )
    if first.month != last.month:
        return _(
            "Monday %(first_day)s %(first_month)s to Sunday %(last_day)s %(last_month)s",
            first_month=months[first.month],
            last_month=months[last.month],
            **days,
        )
    return _(
        "Monday %(first_day)s to Sunday %(last_day)s %(month)s", month=months[last.month], **days
    )
