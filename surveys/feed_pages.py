"""The comment feed's page, shared by /admin/responses (everyone's) and /dashboard/responses (an
owner's own customers), and the dashboard's themes section that links into it.

The query string: `from`, `to` (a date, to inclusive, or an ISO timestamp, to exclusive),
`category`, `owner` (admins), `set` (a question set's key), `negative=1`, `comment=1`,
`theme` (words or a theme key), `q` (a search) and `before` (the page's cursor). Anything
that cannot be read is a 400 naming the field, with the form to correct it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from surveys import clock
from surveys.db import db
from surveys.models import QuestionSet, User
from surveys.services.insights import themes
from surveys.services.insights.feed import NET_SCORE_GROUPS, FeedError, FeedQuery, feed_page
from surveys.services.insights.filters import DEFAULT_RANGE_DAYS, InsightFilters
from surveys.web_input import database_id

MAX_TEXT = 200
_TRUE = ("1", "on", "true", "yes")
_FALSE = ("", "0", "off", "false", "no")


class BadFilter(ValueError):
    """A query-string value the feed cannot use; the message names it."""


def _moment(text: str, field: str, *, end: bool) -> datetime:
    """A date (midnight UTC; for `to`, the midnight after it) or an ISO timestamp."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadFilter(_("“%(field)s” must be a date like 2026-11-30.", field=field)) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# What each text field is called in its errors, by its name in the query string.
_TEXT_FIELDS = {
    "category": _l("category"),
    "set": _l("question set"),
    "property": _l("property name"),
    "property_value": _l("property value"),
    "theme": _l("theme"),
    "q": _l("search"),
}


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = (args.get(name) or "").strip()
    label = _TEXT_FIELDS[name]
    if len(value) > MAX_TEXT:
        raise BadFilter(
            _("The %(field)s is too long (at most %(max)d characters).", field=label, max=MAX_TEXT)
        )
    if any(ord(char) < 32 for char in value):
        raise BadFilter(
            _("The %(field)s holds characters that cannot be searched for.", field=label)
        )
    return value or None


def _group(args: Mapping[str, str]) -> str | None:
    value = (args.get("group") or "").strip().lower()
    if not value:
        return None
    if value not in NET_SCORE_GROUPS:
        raise BadFilter(_("“group” must be promoter, passive or detractor, or left out."))
    return value


def _flag(args: Mapping[str, str], name: str) -> bool:
    value = (args.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadFilter(_("“%(field)s” must be 1 or left out.", field=name))


def read_filters(args: Mapping[str, str], *, now: datetime, owner_id: int | None) -> InsightFilters:
    """The range and filters from the query string; `owner_id` set scopes to that owner
    whatever `owner` says (an owner's own pages)."""
    start_text, end_text = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    end = _moment(end_text, "to", end=True) if end_text else now
    start = (
        _moment(start_text, "from", end=False)
        if start_text
        else end - timedelta(days=DEFAULT_RANGE_DAYS)
    )
    if start >= end:
        raise BadFilter(_("“from” must come before “to”."))
    if owner_id is None and (args.get("owner") or "").strip():
        owner_id = database_id(args.get("owner", "").strip())
        if owner_id is None:
            raise BadFilter(_("“owner” must be one of the owners listed."))
    return InsightFilters(
        start=start,
        end=end,
        category=_text(args, "category"),
        owner_id=owner_id,
        question_set_key=_text(args, "set"),
        property_name=_text(args, "property"),
        property_value=_text(args, "property_value"),
    )


def read_feed_query(
    args: Mapping[str, str], *, now: datetime, owner_id: int | None = None
) -> FeedQuery:
    filters = read_filters(args, now=now, owner_id=owner_id)
    theme_text = _text(args, "theme")
    theme = None
    if theme_text is not None:
        theme = themes.theme_key(theme_text)
        if theme is None:
            raise BadFilter(
                _("A theme is one to three words that are not all common words like “the”.")
            )
    before = None
    if (args.get("before") or "").strip():
        before = database_id(args["before"].strip())
        if before is None:
            raise BadFilter(_("“before” must be the number of a response."))
    return FeedQuery(
        filters=filters,
        negative=_flag(args, "negative"),
        with_comment=_flag(args, "comment"),
        theme=theme,
        group=_group(args),
        search=_text(args, "q"),
        before=before,
    )


def filter_args(filters: InsightFilters) -> dict[str, str]:
    """The query string that names these filters (for links into the feed)."""
    args = {"from": filters.start.isoformat(), "to": filters.end.isoformat()}
    if filters.category:
        args["category"] = filters.category
    if filters.owner_id is not None:
        args["owner"] = str(filters.owner_id)
    if filters.question_set_key:
        args["set"] = filters.question_set_key
    if filters.by_property:
        args["property"] = filters.property_name
        args["property_value"] = filters.property_value
    return args


# Themes cost linear time in the period's written answers (see themes.py): each app keeps the
# last few results for THEMES_CACHE_SECONDS (config, default 600), keyed by the filters with
# their range cut to ten minutes, so a dashboard reloaded within minutes does not read every
# answer again.
THEMES_CACHE_SECONDS = 600


def _cut(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 10, second=0, microsecond=0)


def cached_themes(filters: InsightFilters, *, now: datetime) -> tuple[InsightFilters, list]:
    """The themes of the filters with their range cut to ten minutes (the filters returned),
    from this process's cache when they were read less than THEMES_CACHE_SECONDS ago."""
    filters = replace(filters, start=_cut(filters.start), end=_cut(filters.end))
    keep = current_app.config.get("THEMES_CACHE_SECONDS", THEMES_CACHE_SECONDS)
    cache = current_app.extensions.setdefault("themes_cache", {})
    hit = cache.get(filters)
    if hit is not None and (now - hit[0]).total_seconds() < keep:
        return filters, hit[1]
    found = themes.themes(db.session(), filters)
    if len(cache) >= 64:
        cache.clear()
    cache[filters] = (now, found)
    return filters, found


def themes_section(filters: InsightFilters, *, feed_endpoint: str) -> dict:
    """What `insights/_themes.html` needs, for the dashboard view to pass to its template:
    the themes of the filters' period and how to link each to the feed behind it
    (`feed_endpoint`: "admin.list_responses" or "inbox.list_my_responses")."""
    filters, found = cached_themes(filters, now=clock.now())
    link_args = filter_args(filters)
    if feed_endpoint == "inbox.list_my_responses":
        link_args.pop("owner", None)  # the owners' feed is theirs whatever the link says
    return {
        "themes": found,
        "themes_feed_endpoint": feed_endpoint,
        "themes_feed_args": link_args,
    }


def _form_values(args: Mapping[str, str], query: FeedQuery | None) -> dict[str, str]:
    """The form as the person filled it in (dates shown as dates)."""
    values = {key: (args.get(key) or "").strip() for key in args if key != "before"}
    if query is not None:
        values.setdefault("from", "")
        values["from"] = values["from"][:10] or query.filters.start.date().isoformat()
        last_day = query.filters.end - timedelta(microseconds=1)
        values["to"] = values.get("to", "")[:10] or last_day.date().isoformat()
    return values


def render_feed(
    args: Mapping[str, str], *, template: str, endpoint: str, owner_id: int | None = None
):
    """The feed page for these query-string args; a 400 with the form and the reason when an
    arg cannot be used."""
    session = db.session()
    error = None
    query = page = None
    try:
        query = read_feed_query(args, now=clock.now(), owner_id=owner_id)
        page = feed_page(session, query)
    except (BadFilter, FeedError) as exc:
        error = str(exc)
    same = {key: value for key, value in args.items() if key != "before"}
    next_args = None
    if page is not None and page.next_before is not None:
        next_args = same | {"before": str(page.next_before)}
    return render_template(
        template,
        page=page,
        query=query,
        error=error,
        values=_form_values(args, query),
        endpoint=endpoint,
        next_args=next_args,
        newest_args=same if (args.get("before") or "").strip() else None,
        owners=_owners() if owner_id is None else None,
        question_sets=session.execute(
            select(QuestionSet.key, QuestionSet.name).order_by(QuestionSet.name)
        ).all(),
    ), (400 if error else 200)


def _owners() -> list[tuple[int, str]]:
    return db.session().execute(select(User.id, User.name).order_by(User.name)).all()
