"""The dashboard pages: /admin/dashboard and an owner's /dashboard show every figure of the
chosen range beside the previous period's, link to what is behind them, draw the charts as SVG
images without script, and refuse filters they cannot use (400, said beside the field)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.insights_data import make_insights_data
from tests.pages import page
from tests.web import log_in

CHART_NAMES = ("net-score", "expectations", "time-money", "negative", "touches")


@pytest.fixture
def data(session, clock):
    return make_insights_data(session, clock.now())


def _query(href: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(href)
    return parts.path, {name: values[0] for name, values in parse_qs(parts.query).items()}


def test_the_admin_sees_every_figure_beside_the_previous_period(client, data):
    log_in(client, data.admin)
    shown = page(client.get("/admin/dashboard"))
    stats = shown.stats()
    assert stats["surveys sent"] == "8"
    assert stats["response rate"] == "75%"
    assert stats["net score"] == "-17"
    assert stats["promoters (9–10)"] == "33%"
    assert stats["detractors (0–6)"] == "50%"
    assert stats["negative responses"] == "50%"
    assert stats["cases opened"] == "3"
    assert stats["acknowledged in (median)"] == "4.0 h"
    assert stats["resolved in (90% within)"] == "2.4 days"  # 57 h
    assert stats["fix worked"] == "50%"
    assert stats["positive per negative"] == "8.0:1"
    assert stats["neglected customers now"] == "2"
    assert stats["waiting for an owner now"] == "1"
    net = shown.one('[data-figure="net score"]')
    assert "before: +100" in net.get_text()  # r6's 10 alone, 100 days back
    # The default range is the last 90 days, today included.
    assert (shown.field_value("from"), shown.field_value("to")) == ("2026-08-26", "2026-11-23")


def test_each_figure_links_to_the_responses_or_cases_behind_it(client, data):
    log_in(client, data.admin)
    shown = page(client.get("/admin/dashboard?category=hardware"))
    path, args = _query(shown.one('[data-figure="negative responses"]')["href"])
    assert path == "/admin/responses"
    assert args == {
        "from": "2026-08-26",
        "to": "2026-11-23",
        "category": "hardware",
        "negative": "1",
    }
    detractors = shown.one('[data-figure="detractors (0–6)"]')["href"]
    path, args = _query(detractors)
    assert (path, args["group"]) == ("/admin/responses", "detractor")
    # The feed behind the figure holds detractors only.
    feed = client.get(detractors)
    assert feed.status_code == 200
    shown_scores = {
        f"{score} out of 10"
        for score in range(11)
        if f"{score} out of 10" in feed.get_data(as_text=True)
    }
    assert shown_scores and shown_scores <= {f"{score} out of 10" for score in range(7)}
    assert shown.one('[data-figure="cases opened"]')["href"] == "/inbox?owner=all"
    assert shown.one('[data-figure="fix worked"]')["href"] == "/inbox?owner=all&show=closed"
    assert shown.stats()["net score"] == "-50"  # r1's 10 and the three cases' 4, 6, 3


def test_the_charts_are_svg_images_with_a_title_a_description_and_a_table(client, data):
    log_in(client, data.admin)
    shown = page(client.get("/admin/dashboard?from=2026-11-01&to=2026-11-23"))
    for name in CHART_NAMES:
        figure = shown.by_id(f"chart-{name}")
        image = figure.find("img")
        assert image["alt"].startswith(figure.find("h3").get_text())
        response = client.get(image["src"])
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        svg = response.get_data(as_text=True)
        assert "<script" not in svg
        assert figure.find("h3").get_text() in svg
        assert "<desc>" in svg
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert "sandbox" in response.headers["Content-Security-Policy"]
    rows = shown.table_rows(shown.by_id("chart-net-score").find("table"))
    assert rows == [
        {"From": "2026-11-02", "Net score": "-100 points"},
        {"From": "2026-11-09", "Net score": "0 points"},
        {"From": "2026-11-16", "Net score": "0 points"},
    ]
    rows = shown.table_rows(shown.by_id("chart-expectations").find("table"))
    assert rows[-1] == {
        "From": "2026-11-16",
        "Exceeding": "33%",
        "Meeting": "33%",
        "Falling short": "33%",
    }
    rows = shown.table_rows(shown.by_id("chart-touches").find("table"))
    assert rows == [
        {"From": "2026-11-09", "Positive": "0", "Negative": "1"},
        {"From": "2026-11-16", "Positive": "8", "Negative": "0"},
    ]


def test_a_chart_that_does_not_exist_is_404(client, data):
    log_in(client, data.admin)
    assert client.get("/admin/dashboard/charts/nothing.svg").status_code == 404


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01", "from", "YYYY-MM-DD"),
        ("to=yesterday", "to", "YYYY-MM-DD"),
        ("from=1999-12-31", "from", "from 2000 on"),
        ("from=2026-11-10&to=2026-11-01", "to", "comes before"),
        ("from=2001-01-01&to=2026-11-01", "to", "at most ten years"),
        ("owner=abc", "owner", "Choose an owner"),
        ("owner=99999999", "owner", "Choose an owner"),
        ("question_set=nope", "question_set", "Choose a question set"),
        ("category=a%00b", "category", "one line"),
        ("category=" + "x" * 129, "category", "at most 128"),
    ],
)
def test_filters_it_cannot_use_are_said_beside_the_field(client, data, query, field, message):
    log_in(client, data.admin)
    response = client.get(f"/admin/dashboard?{query}")
    assert response.status_code == 400
    shown = page(response)
    assert any(message in error for error in shown.field_errors(field))
    assert "net score" not in shown.stats()
    assert client.get(f"/admin/dashboard/charts/net-score.svg?{query}").status_code == 400


def test_an_owner_sees_only_their_own_figures(client, data):
    log_in(client, data.owner_a)
    # An owner's page is theirs whoever they ask for.
    shown = page(client.get(f"/dashboard?owner={data.owner_b.id}"))
    stats = shown.stats()
    assert stats["net score"] == "-33"  # r1's 10, c2's 6, c3's 3
    assert stats["cases opened"] == "2"
    assert stats["surveys sent"] == "3"
    assert stats["positive per negative"] == "5.0:1"
    assert stats["neglected customers now"] == "1"
    assert "waiting for an owner now" not in stats
    assert shown.find('select[name="owner"]') is None
    path, args = _query(shown.one('[data-figure="negative responses"]')["href"])
    assert path == "/dashboard/responses" and "owner" not in args
    assert client.get(shown.one('[data-figure="negative responses"]')["href"]).status_code == 200
    assert shown.one('[data-figure="cases opened"]')["href"] == "/inbox"
    image = shown.by_id("chart-net-score").find("img")
    assert image["src"].startswith("/dashboard/charts/net-score.svg?")
    svg = client.get(image["src"]).get_data(as_text=True)
    assert "<script" not in svg


def test_the_other_owner_sees_theirs(client, data):
    log_in(client, data.owner_b)
    stats = page(client.get("/dashboard")).stats()
    assert stats["net score"] == "0"  # r2's 9, c1's 4
    assert stats["cases opened"] == "1"


def test_the_dashboards_show_the_themes_of_the_written_answers(client, data):
    log_in(client, data.admin)
    shown = page(client.get("/admin/dashboard"))
    assert shown.by_id("themes-title").get_text(strip=True) == "What customers write about"
