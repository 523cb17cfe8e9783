"""The dashboard's charts: each one's numbers (also shown as a table), drawn by pygal as an SVG.

A chart is served on its own URL and shown with `<img>`: the page keeps its strict policy (images
from this site), and an SVG shown as an image runs no script. pygal puts a script of its
settings into every chart even with `js=[]`; it is taken out before the SVG is served, so a chart
carries only its shapes, its title, its description and its own stylesheet.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import format_decimal, pgettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from surveys.services.customers.touchpoints import AIM
from surveys.services.insights import scores, touches
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import grain

SVG_NS = "http://www.w3.org/2000/svg"
# The site's colours (static/app.css): good, neutral, bad, and a plain line.
GOOD, NEUTRAL, BAD, LINE = "#2f7d4f", "#9aa5b1", "#b3261e", "#2457a6"
STYLE = dict(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    font_family="system-ui, sans-serif",
    title_font_size=30,
    label_font_size=22,
    major_label_font_size=22,
    legend_font_size=22,
    # Small enough for "Keine Antworten in diesem Zeitraum" to fit the chart's width.
    no_data_font_size=28,
)


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    # What the chart shows, in a sentence a screen reader reads out (the image's alt text).
    description: str
    x_labels: list[str]
    series: dict[str, list[float | None]]
    unit: str  # "%" or "points" or ""
    stacked: bool = False
    range_: tuple[float, float] | None = None
    colors: tuple[str, ...] = (GOOD, NEUTRAL, BAD)

    @property
    def columns(self) -> list[str]:
        return list(self.series)

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """One row a period: its label and each series' value as text."""
        return [
            (label, [_number(values[i], self.unit) for values in self.series.values()])
            for i, label in enumerate(self.x_labels)
        ]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{format_decimal(round(value))}%"
    if unit == "points":
        return _("%(points)s points", points=format_decimal(round(value)))
    return format_decimal(value)


def _pct(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _weekly(filters: InsightFilters) -> bool:
    return grain(filters) == "week"


def _latest(chart_values: list[float | None], unit: str) -> str:
    known = [value for value in chart_values if value is not None]
    return _number(known[-1], unit) if known else _("no answers")


def net_score_chart(session: Session, filters: InsightFilters) -> Chart:
    trend = scores.net_score_trend(session, filters)
    values = [score.score for _period, score in trend]
    latest = _latest(values, "points")
    return Chart(
        name="net-score",
        title=_("Net score by week") if _weekly(filters) else _("Net score by month"),
        description=(
            _(
                "Net recommendation score (promoters minus detractors, -100 to 100) for each "
                "week with answers; the latest is %(latest)s.",
                latest=latest,
            )
            if _weekly(filters)
            else _(
                "Net recommendation score (promoters minus detractors, -100 to 100) for each "
                "month with answers; the latest is %(latest)s.",
                latest=latest,
            )
        ),
        x_labels=[period for period, _score in trend],
        series={_("Net score"): values},
        unit="points",
        range_=(-100, 100),
        colors=(LINE,),
    )


def _choice_chart(session, filters, key, name, titles, labels) -> Chart:
    """`titles`: the chart's title by week and by month."""
    trend = scores.choice_trend(session, filters, key)
    series = {
        labels[choice]: [_pct(counts[choice], sum(counts.values())) for _p, counts in trend]
        for choice in scores.CHOICES[key]
    }
    answers = ", ".join(series)
    return Chart(
        name=name,
        title=titles[0] if _weekly(filters) else titles[1],
        description=(
            _("Share of each answer per week, in percent: %(answers)s.", answers=answers)
            if _weekly(filters)
            else _("Share of each answer per month, in percent: %(answers)s.", answers=answers)
        ),
        x_labels=[period for period, _counts in trend],
        series=series,
        unit="%",
        stacked=True,
        range_=(0, 100),
    )


def expectations_chart(session: Session, filters: InsightFilters) -> Chart:
    labels = {"exceeding": _("Exceeding"), "meeting": _("Meeting"), "short": _("Falling short")}
    titles = (_("Expectations by week"), _("Expectations by month"))
    return _choice_chart(session, filters, "expectations", "expectations", titles, labels)


def time_money_chart(session: Session, filters: InsightFilters) -> Chart:
    labels = {"yes": _("Yes"), "somewhat": _("Somewhat"), "no": _("No")}
    titles = (_("Worth the time and money by week"), _("Worth the time and money by month"))
    return _choice_chart(session, filters, "time_money", "time-money", titles, labels)


def negative_chart(session: Session, filters: InsightFilters) -> Chart:
    trend = scores.negative_trend(session, filters)
    values = [_pct(rate.part, rate.whole) for _period, rate in trend]
    latest = _latest(values, "%")
    return Chart(
        name="negative",
        title=(
            _("Negative responses by week")
            if _weekly(filters)
            else _("Negative responses by month")
        ),
        description=(
            _(
                "Share of responses that were negative, per week; the latest is %(latest)s.",
                latest=latest,
            )
            if _weekly(filters)
            else _(
                "Share of responses that were negative, per month; the latest is %(latest)s.",
                latest=latest,
            )
        ),
        x_labels=[period for period, _rate in trend],
        series={_("Negative"): values},
        unit="%",
        range_=(0, 100),
        colors=(BAD,),
    )


def touches_chart(session: Session, filters: InsightFilters) -> Chart:
    trend = touches.touch_trend(session, filters)
    aim = format_decimal(AIM)
    return Chart(
        name="touches",
        title=(
            _("Positive and negative touches by week")
            if _weekly(filters)
            else _("Positive and negative touches by month")
        ),
        description=(
            _(
                "Positive and negative touch points per week; the aim is %(aim)s positive "
                "touches for each negative one.",
                aim=aim,
            )
            if _weekly(filters)
            else _(
                "Positive and negative touch points per month; the aim is %(aim)s positive "
                "touches for each negative one.",
                aim=aim,
            )
        ),
        x_labels=[period for period, _tally in trend],
        series={
            pgettext("touches", "Positive"): [tally.positive for _p, tally in trend],
            pgettext("touches", "Negative"): [tally.negative for _p, tally in trend],
        },
        unit="",
        colors=(GOOD, BAD),
    )


CHARTS: dict[str, Callable[[Session, InsightFilters], Chart]] = {
    "net-score": net_score_chart,
    "expectations": expectations_chart,
    "time-money": time_money_chart,
    "negative": negative_chart,
    "touches": touches_chart,
}


def render_svg(chart: Chart) -> str:
    """The chart as a standalone SVG document without any script."""
    # Imported when a chart is drawn, not by every process the app starts (worker, CLI).
    import pygal
    from pygal.style import Style

    # Shares stack to 100%; counts stand side by side; a score or a rate is a line.
    kind = pygal.StackedBar if chart.stacked else (pygal.Bar if not chart.unit else pygal.Line)
    drawing = kind(
        js=[],
        style=Style(**STYLE, colors=chart.colors),
        margin=16,
        margin_right=80,  # room for the last period's label under the axis
        truncate_label=-1,
        title=chart.title,
        x_labels=chart.x_labels,
        x_label_rotation=30 if len(chart.x_labels) > 6 else 0,
        legend_at_bottom=True,
        show_y_guides=True,
        range=chart.range_,
        print_values=False,
        no_data_text=_("No answers in this range"),
        width=800,
        height=450,
        value_formatter=lambda value: _number(value, chart.unit),
        disable_xml_declaration=True,
    )
    for label, values in chart.series.items():
        drawing.add(label, values)
    root = drawing.render_tree()
    for parent in root.iter():
        for child in list(parent):
            if child.tag in ("script", f"{{{SVG_NS}}}script"):
                parent.remove(child)
    description = ET.Element("desc")
    description.text = chart.description
    root.insert(0, description)
    root.set("role", "img")
    root.set("aria-label", chart.title)
    ET.register_namespace("", SVG_NS)
    return ET.tostring(root, encoding="unicode")
