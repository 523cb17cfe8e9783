"""What the dashboard shows for a choice of filters: each figure beside the previous period's,
with the link to the responses or cases behind it, and the charts with their tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import Response, abort, make_response
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.dashboard.charts import CHARTS, Chart, render_svg
from surveys.dashboard.form import FilterChoice, query_args
from surveys.models import QuestionSet, User
from surveys.services.customers.touchpoints import AIM
from surveys.services.insights import tallies
from surveys.services.insights.cases import case_figures
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.mail import mail_figures
from surveys.services.insights.reviews import review_link_clicks
from surveys.services.insights.scores import choice_counts, negative_rate, net_score
from surveys.services.insights.touches import neglected_count, touch_figures

# A chart is an image of this site: its own stylesheet inline, nothing else, in a sandbox.
CHART_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'; sandbox"
)


# Each figure by its name (the page's `data-figure`, the same in every language) and the words
# its reader sees under it.
FIGURE_LABELS = {
    "surveys sent": _l("surveys sent"),
    "response rate": _l("response rate"),
    "opened": _l("opened"),
    "clicked": _l("clicked"),
    "unsubscribed": _l("unsubscribed"),
    "bounced": _l("bounced"),
    "net score": _l("net score"),
    "promoters (9–10)": _l("promoters (9–10)"),
    "passives (7–8)": _l("passives (7–8)"),
    "detractors (0–6)": _l("detractors (0–6)"),
    "negative responses": _l("negative responses"),
    "review link followed": _l("review link followed"),
    "waiting for an owner now": _l("waiting for an owner now"),
    "cases opened": _l("cases opened"),
    "acknowledged in (median)": _l("acknowledged in (median)"),
    "acknowledged in (90% within)": _l("acknowledged in (90% within)"),
    "resolved in (median)": _l("resolved in (median)"),
    "resolved in (90% within)": _l("resolved in (90% within)"),
    "escalated": _l("escalated"),
    "fix worked": _l("fix worked"),
    "reopened": _l("reopened"),
    "positive per negative": _l("positive per negative"),
    "neglected customers now": _l("neglected customers now"),
}


@dataclass(frozen=True)
class Figure:
    name: str  # a key of FIGURE_LABELS
    value: str
    previous: str
    href: str | None = None
    note: str | None = None
    alert: bool = False

    @property
    def label(self) -> str:
        return str(FIGURE_LABELS[self.name])


@dataclass(frozen=True)
class Links:
    """Where the figures lead: the comment feed with the same filters, the inbox."""

    feed: str  # "/admin/responses" or the owners' own feed
    inbox: str  # "/inbox?owner=all" for admins, "/inbox" for an owner
    args: dict[str, str]

    def responses(self, **extra: str) -> str:
        # The feed names the question set `set`; the dashboard's own form `question_set`.
        args = {
            ("set" if key == "question_set" else key): value for key, value in self.args.items()
        }
        return f"{self.feed}?{urlencode({**args, **extra})}"

    def cases(self, show: str | None = None) -> str:
        if show is None:
            return self.inbox
        joiner = "&" if "?" in self.inbox else "?"
        return f"{self.inbox}{joiner}{urlencode({'show': show})}"


def pct(value: float | None) -> str:
    return "–" if value is None else format_percent(round(100 * value) / 100)


def count(value: int) -> str:
    return format_decimal(value)


def points(value: float | None) -> str:
    if value is None:
        return "–"
    whole = round(value)
    return "0" if whole == 0 else f"{whole:+d}"


def hours(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 48:
        return _("%(hours)s h", hours=format_decimal(value, "0.0"))
    return _("%(days)s days", days=format_decimal(value / 24, "0.0"))


def figures(
    session: Session, filters: InsightFilters, links: Links, *, now: datetime
) -> dict[str, list[Figure]]:
    """Every figure of the range in sections, each beside the previous period's."""
    before = filters.previous()
    # Every figure and chart below adds up the same tallies and part-days: read them at once.
    tallies.prepare(session, [filters, before])
    mail, mail_before = mail_figures(session, filters), mail_figures(session, before)
    score, score_before = net_score(session, filters), net_score(session, before)
    negative, negative_before = negative_rate(session, filters), negative_rate(session, before)
    cases = case_figures(session, filters)
    cases_before = case_figures(session, before, waiting=False)
    touch, touch_before = touch_figures(session, filters), touch_figures(session, before)
    neglected = neglected_count(session, now=now, owner_id=filters.owner_id)
    reviews, reviews_before = (
        review_link_clicks(session, filters),
        review_link_clicks(session, before),
    )
    closing_the_loop = [
        Figure("cases opened", count(cases.opened), count(cases_before.opened), links.cases()),
        _timing_figure("acknowledged in (median)", cases.acknowledge, cases_before.acknowledge),
        Figure(
            "acknowledged in (90% within)",
            hours(cases.acknowledge.p90_hours),
            hours(cases_before.acknowledge.p90_hours),
            note=_("target %(time)s", time=hours(cases.acknowledge.target_hours)),
            alert=_late(cases.acknowledge.p90_hours, cases.acknowledge.target_hours),
        ),
        _timing_figure("resolved in (median)", cases.resolve, cases_before.resolve),
        Figure(
            "resolved in (90% within)",
            hours(cases.resolve.p90_hours),
            hours(cases_before.resolve.p90_hours),
            note=_("target %(time)s", time=hours(cases.resolve.target_hours)),
            alert=_late(cases.resolve.p90_hours, cases.resolve.target_hours),
        ),
        Figure(
            "escalated",
            count(cases.escalated),
            count(cases_before.escalated),
            links.cases(),
            alert=cases.escalated > 0,
        ),
        Figure(
            "fix worked",
            pct(cases.fix_worked_rate),
            pct(cases_before.fix_worked_rate),
            links.cases("closed"),
            _(
                "%(confirmed)s confirmed, %(reopened)s reopened",
                confirmed=count(cases.fix_confirmed),
                reopened=count(cases.reopened),
            ),
        ),
        Figure(
            "reopened",
            pct(cases.reopen_rate),
            pct(cases_before.reopen_rate),
            links.cases(),
            _("of %(count)s resolved", count=count(cases.ever_resolved)),
        ),
    ]
    if cases.waiting_for_owner is not None:
        closing_the_loop.insert(
            0,
            Figure(
                "waiting for an owner now",
                count(cases.waiting_for_owner),
                "–",
                links.cases(),
                alert=cases.waiting_for_owner > 0,
            ),
        )
    # Titles in the reader's language: the template shows the keys.
    return {
        _("Surveys and mail"): [
            Figure("surveys sent", count(mail.sent), count(mail_before.sent)),
            Figure(
                "response rate",
                pct(mail.response_rate),
                pct(mail_before.response_rate),
                links.responses(),
                ngettext(
                    "%(count)s answered",
                    "%(count)s answered",
                    mail.answered,
                    count=count(mail.answered),
                ),
            ),
            Figure("opened", pct(mail.open_rate), pct(mail_before.open_rate)),
            Figure("clicked", pct(mail.click_rate), pct(mail_before.click_rate)),
            Figure("unsubscribed", count(mail.unsubscribes), count(mail_before.unsubscribes)),
            Figure(
                "bounced", count(mail.bounces), count(mail_before.bounces), alert=mail.bounces > 0
            ),
        ],
        _("What customers say"): [
            Figure(
                "net score",
                points(score.score),
                points(score_before.score),
                links.responses(),
                ngettext(
                    "%(count)s answer to 0–10",
                    "%(count)s answers to 0–10",
                    score.answers,
                    count=count(score.answers),
                ),
            ),
            Figure(
                "promoters (9–10)",
                pct(score.shares["promoters"]),
                pct(score_before.shares["promoters"]),
                links.responses(group="promoter"),
            ),
            Figure(
                "passives (7–8)",
                pct(score.shares["passives"]),
                pct(score_before.shares["passives"]),
                links.responses(group="passive"),
            ),
            Figure(
                "detractors (0–6)",
                pct(score.shares["detractors"]),
                pct(score_before.shares["detractors"]),
                links.responses(group="detractor"),
            ),
            Figure(
                "negative responses",
                pct(negative.value),
                pct(negative_before.value),
                links.responses(negative="1"),
                _(
                    "%(part)s of %(whole)s",
                    part=count(negative.part),
                    whole=count(negative.whole),
                ),
                alert=bool(negative.part),
            ),
            Figure(
                "review link followed",
                count(reviews),
                count(reviews_before),
                note=_("people who went on to review us in public"),
            ),
        ],
        _("Closing the loop"): closing_the_loop,
        _("Touch points"): [
            Figure(
                "positive per negative",
                _ratio(touch.ratio, touch.positive),
                _ratio(touch_before.ratio, touch_before.positive),
                note=_(
                    "aim %(aim)s:1 · %(positive)s positive, %(negative)s negative",
                    aim=count(AIM),
                    positive=count(touch.positive),
                    negative=count(touch.negative),
                ),
                alert=not touch.meets_aim,
            ),
            Figure(
                "neglected customers now",
                count(neglected.count),
                "–",
                "/admin/neglected" if links.feed.startswith("/admin/") else None,
                alert=neglected.count > 0,
            ),
        ],
    }


def _late(value: float | None, target: float) -> bool:
    return value is not None and value > target


def _ratio(ratio: float | None, positive: int) -> str:
    if ratio is None:
        return f"{count(positive)}:0" if positive else "–"
    return f"{format_decimal(ratio, '0.0')}:1"


def _timing_figure(name, timing, timing_before) -> Figure:
    return Figure(
        name,
        hours(timing.median_hours),
        hours(timing_before.median_hours),
        note=_(
            "target %(time)s · %(share)s on time of %(count)s",
            time=hours(timing.target_hours),
            share=pct(timing.on_time_share),
            count=count(timing.count),
        ),
        alert=_late(timing.median_hours, timing.target_hours),
    )


def shares_table(session: Session, filters: InsightFilters) -> dict[str, dict[str, int]]:
    return {
        "expectations": choice_counts(session, filters, "expectations"),
        "time_money": choice_counts(session, filters, "time_money"),
    }


def charts(session: Session, filters: InsightFilters) -> list[Chart]:
    return [build(session, filters) for build in CHARTS.values()]


def chart_response(session: Session, name: str, choice: FilterChoice) -> Response:
    """One chart as an SVG image; 404 for a chart we do not draw, 400 for filters we cannot use."""
    if name not in CHARTS:
        abort(404)
    if choice.filters is None:
        abort(400, description=" ".join(choice.errors.values()))
    response = make_response(render_svg(CHARTS[name](session, choice.filters)))
    response.mimetype = "image/svg+xml"
    response.headers["Content-Security-Policy"] = CHART_POLICY
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def form_choices(session: Session, *, with_owners: bool) -> dict[str, list[tuple[str, str]]]:
    """The options of the form's lists: owners (admins only) and question sets."""
    owners = []
    if with_owners:
        owners = [
            (str(user.id), user.name)
            for user in session.scalars(select(User).order_by(User.name, User.id))
        ]
    sets = [
        (key, name)
        for key, name in session.execute(
            select(QuestionSet.key, QuestionSet.name).order_by(QuestionSet.name)
        )
    ]
    return {"owners": owners, "question_sets": sets}


def links_for(filters: InsightFilters, *, admin: bool) -> Links:
    args = query_args(filters)
    if not admin:
        args.pop("owner", None)  # an owner's own pages are scoped by who they are
        return Links(feed="/dashboard/responses", inbox="/inbox", args=args)
    return Links(feed="/admin/responses", inbox="/inbox?owner=all", args=args)
