"""What the dashboard shows for a choice of filters: each figure beside the previous period's,
with the link to the responses or cases behind it, and the charts with their tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import Response, abort, make_response
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


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    previous: str
    href: str | None = None
    note: str | None = None
    alert: bool = False


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
    return "–" if value is None else f"{round(100 * value)}%"


def points(value: float | None) -> str:
    if value is None:
        return "–"
    whole = round(value)
    return "0" if whole == 0 else f"{whole:+d}"


def hours(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"


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
    sections = {
        "Surveys and mail": [
            Figure("surveys sent", str(mail.sent), str(mail_before.sent)),
            Figure(
                "response rate",
                pct(mail.response_rate),
                pct(mail_before.response_rate),
                links.responses(),
                f"{mail.answered} answered",
            ),
            Figure("opened", pct(mail.open_rate), pct(mail_before.open_rate)),
            Figure("clicked", pct(mail.click_rate), pct(mail_before.click_rate)),
            Figure("unsubscribed", str(mail.unsubscribes), str(mail_before.unsubscribes)),
            Figure("bounced", str(mail.bounces), str(mail_before.bounces), alert=mail.bounces > 0),
        ],
        "What customers say": [
            Figure(
                "net score",
                points(score.score),
                points(score_before.score),
                links.responses(),
                f"{score.answers} answers to 0–10",
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
                f"{negative.part} of {negative.whole}",
                alert=bool(negative.part),
            ),
            Figure(
                "review link followed",
                str(reviews),
                str(reviews_before),
                note="people who went on to review us in public",
            ),
        ],
        "Closing the loop": [
            Figure("cases opened", str(cases.opened), str(cases_before.opened), links.cases()),
            _timing_figure("acknowledged in (median)", cases.acknowledge, cases_before.acknowledge),
            Figure(
                "acknowledged in (90% within)",
                hours(cases.acknowledge.p90_hours),
                hours(cases_before.acknowledge.p90_hours),
                note=f"target {hours(cases.acknowledge.target_hours)}",
                alert=_late(cases.acknowledge.p90_hours, cases.acknowledge.target_hours),
            ),
            _timing_figure("resolved in (median)", cases.resolve, cases_before.resolve),
            Figure(
                "resolved in (90% within)",
                hours(cases.resolve.p90_hours),
                hours(cases_before.resolve.p90_hours),
                note=f"target {hours(cases.resolve.target_hours)}",
                alert=_late(cases.resolve.p90_hours, cases.resolve.target_hours),
            ),
            Figure(
                "escalated",
                str(cases.escalated),
                str(cases_before.escalated),
                links.cases(),
                alert=cases.escalated > 0,
            ),
            Figure(
                "fix worked",
                pct(cases.fix_worked_rate),
                pct(cases_before.fix_worked_rate),
                links.cases("closed"),
                f"{cases.fix_confirmed} confirmed, {cases.reopened} reopened",
            ),
            Figure(
                "reopened",
                pct(cases.reopen_rate),
                pct(cases_before.reopen_rate),
                links.cases(),
                f"of {cases.ever_resolved} resolved",
            ),
        ],
        "Touch points": [
            Figure(
                "positive per negative",
                _ratio(touch.ratio, touch.positive),
                _ratio(touch_before.ratio, touch_before.positive),
                note=f"aim {AIM}:1 · {touch.positive} positive, {touch.negative} negative",
                alert=not touch.meets_aim,
            ),
            Figure(
                "neglected customers now",
                str(neglected.count),
                "–",
                "/admin/neglected" if links.feed.startswith("/admin/") else None,
                alert=neglected.count > 0,
            ),
        ],
    }
    if cases.waiting_for_owner is not None:
        sections["Closing the loop"].insert(
            0,
            Figure(
                "waiting for an owner now",
                str(cases.waiting_for_owner),
                "–",
                links.cases(),
                alert=cases.waiting_for_owner > 0,
            ),
        )
    return sections


def _late(value: float | None, target: float) -> bool:
    return value is not None and value > target


def _ratio(ratio: float | None, positive: int) -> str:
    if ratio is None:
        return f"{positive}:0" if positive else "–"
    return f"{ratio:.1f}:1"


def _timing_figure(label, timing, timing_before) -> Figure:
    return Figure(
        label,
        hours(timing.median_hours),
        hours(timing_before.median_hours),
        note=(
            f"target {hours(timing.target_hours)} · {pct(timing.on_time_share)} on time "
            f"of {timing.count}"
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
