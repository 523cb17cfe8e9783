"""Themes in the written answers: stemmed words and phrases, stop words out, counts, trend and
negative share, on a fixed set of answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from surveys.services.insights import themes
from surveys.services.insights.filters import InsightFilters
from tests.factories import make_case, make_customer, make_user
from tests.insight_data import make_response

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FILTERS = InsightFilters.last_days(NOW, 30)

# (days ago, written answer, negative)
ANSWERS = [
    (1, "The delivery was late and the box arrived crushed.", True),
    (2, "Deliveries are always late. The box arrived crushed again!", True),
    (3, "Late delivery, but friendly support.", False),
    (4, "Friendly support and a fair price.", False),
    (5, "Nothing", False),  # a non-answer: no theme
    (6, "The the and of it is", False),  # stop words only
    (40, "Delivery took ages.", False),  # the previous period
    (45, "Friendly support as always", False),
    (50, "Support was friendly", False),
]


def _seed(session):
    customer = make_customer(session)
    for days, text, negative in ANSWERS:
        make_response(
            session, customer, at=NOW - timedelta(days=days), one_thing=text, negative=negative
        )
    session.flush()


def _by_label(found):
    return {theme.label: theme for theme in found}


def test_words_are_stemmed_and_shown_as_customers_most_often_write_them(session):
    _seed(session)
    found = _by_label(themes.themes(session, FILTERS))
    delivery = found["delivery"]  # "delivery" twice, "deliveries" once
    assert delivery.key == "deliveri"
    assert (delivery.count, delivery.previous, delivery.negative) == (3, 1, 2)
    assert delivery.change == 2
    assert round(delivery.negative_share, 3) == 0.667


def test_stop_words_and_non_answers_are_no_themes(session):
    _seed(session)
    keys = {theme.key for theme in themes.themes(session, FILTERS, top=100)}
    assert not keys & {"the", "and", "of", "it", "is", "noth", "nothing", "was", "are", "but"}


def test_phrases_of_two_and_three_words_are_counted_without_their_fragments(session):
    _seed(session)
    found = _by_label(themes.themes(session, FILTERS, top=100))
    assert found["box arrived crushed"].count == 2
    assert found["box arrived crushed"].negative_share == 1.0
    # Every "box arrived" is inside "box arrived crushed": it adds nothing.
    assert "box arrived" not in found and "arrived crushed" not in found
    assert found["friendly support"].count == 2
    assert found["friendly support"].previous == 1  # "support was friendly" is another phrase
    assert found["friendly support"].negative == 0
    assert found["late"].count == 3
    # "late delivery" once and "delivery was late" are not the same phrase: no theme.
    assert "late delivery" not in found


def test_themes_are_ranked_by_responses_and_need_two_of_them(session):
    _seed(session)
    found = themes.themes(session, FILTERS, top=100)
    counts = [theme.count for theme in found]
    assert counts == sorted(counts, reverse=True)
    assert all(theme.count >= themes.MIN_RESPONSES for theme in found)
    assert "fair price" not in {theme.label for theme in found}
    assert [theme.label for theme in themes.themes(session, FILTERS, top=2)] == [
        "delivery",
        "late",
    ]


def test_a_response_counts_once_however_often_it_says_the_word(session):
    customer = make_customer(session)
    for days in (1, 2):
        make_response(
            session, customer, at=NOW - timedelta(days=days), one_thing="Refund! refund, REFUND."
        )
    assert _by_label(themes.themes(session, FILTERS))["refund"].count == 2


def test_the_filters_scope_the_answers(session):
    owner, other = make_user(session), make_user(session)
    mine = make_customer(session, owner=owner)
    theirs = make_customer(session, owner=other)
    for customer in (mine, mine, theirs, theirs, theirs):
        make_response(
            session,
            customer,
            at=NOW - timedelta(days=1),
            one_thing="Courier was rude",
            category="x",
        )
    # A customer of a case the owner holds counts for them too.
    make_case(
        session,
        owner=owner,
        now=NOW - timedelta(days=2),
        answers={"one_thing": "The courier was rude", "expectations": "short"},
    )
    assert _by_label(themes.themes(session, FILTERS))["courier"].count == 6
    owner_scope = InsightFilters.last_days(NOW, 30, owner_id=owner.id)
    assert _by_label(themes.themes(session, owner_scope))["courier"].count == 3
    category = InsightFilters.last_days(NOW, 30, category="x")
    assert _by_label(themes.themes(session, category))["courier"].count == 5
    other_set = InsightFilters.last_days(NOW, 30, question_set_key="relationship-review")
    assert themes.themes(session, other_set) == []


def test_a_theme_given_in_words_names_its_key():
    assert themes.theme_key("Deliveries") == themes.theme_key("delivery") == "deliveri"
    assert themes.theme_key("box arrived crushed") == "box arriv crush"
    assert themes.theme_key("deliveri") == "deliveri"
    assert themes.theme_key("the") is None
    assert themes.theme_key("late, delivery") is None  # two phrases
    assert themes.theme_key("one two three four") is None


def test_the_stop_words_come_from_the_installed_package():
    words = themes.stop_words()
    assert {"the", "and", "don't", "dont"} <= words
    assert "delivery" not in words


def test_the_dashboard_section_lists_themes_linking_to_the_feed_behind_them(app, session):
    from flask import render_template_string

    from surveys.feed_pages import themes_section
    from tests.pages import page

    _seed(session)
    with app.test_request_context("/admin/dashboard"):
        context = themes_section(FILTERS, feed_endpoint="admin.list_responses")
        html = render_template_string(
            '{% include "insights/_themes.html" ignore missing %}', **context
        )
    rows = page(html).table_rows()
    first = rows[0]
    assert list(first.values()) == ["delivery", "3", "▲ up 2 (from 1)", "67%"]
    link = page(html).link("delivery")["href"]
    assert link.startswith("/admin/responses?")
    assert "theme=deliveri" in link and "from=2026-10-31T09" in link


def test_the_section_reuses_themes_read_minutes_ago_when_the_app_keeps_them(app, session):
    from surveys.feed_pages import cached_themes

    _seed(session)
    app.config["THEMES_CACHE_SECONDS"] = 600
    try:
        with app.test_request_context("/admin/dashboard"):
            app.extensions.pop("themes_cache", None)
            cut, first = cached_themes(FILTERS, now=NOW)
            make_response(
                session, make_customer(session), at=NOW - timedelta(days=1), one_thing="delivery"
            )
            assert cached_themes(FILTERS, now=NOW + timedelta(minutes=9))[1] is first
            fresh = cached_themes(FILTERS, now=NOW + timedelta(minutes=11))[1]
    finally:
        app.config["THEMES_CACHE_SECONDS"] = 0
        app.extensions.pop("themes_cache", None)
    assert cut.start == FILTERS.start.replace(minute=0)
    assert _by_label(fresh)["delivery"].count == 4


def test_the_owners_section_links_to_their_own_feed(app, session):
    from surveys.feed_pages import themes_section

    _seed(session)
    owner = make_user(session)
    scoped = InsightFilters.last_days(NOW, 30, owner_id=owner.id)
    with app.test_request_context("/dashboard"):
        context = themes_section(scoped, feed_endpoint="inbox.list_my_responses")
    assert context["themes"] == []
    assert "owner" not in context["themes_feed_args"]
