"""The comment feed: /admin/responses (everyone's) and /dashboard/responses (an owner's own),
the customer's words first, filtered, searched and paged; bad input is a 400 that says why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from surveys.services.insights.feed import FeedQuery, feed_page
from surveys.services.insights.filters import InsightFilters
from tests.factories import make_case, make_customer, make_user
from tests.insight_data import make_response
from tests.pages import page
from tests.web import log_in


@pytest.fixture
def shop(session, clock):
    """Two owners' customers with a few responses each, the newest first in `order`."""
    now = clock.now()
    owner = make_user(session, name="Olive Owner")
    other = make_user(session, name="Otto Other")
    ana = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=owner)
    ben = make_customer(session, name="Ben Berg", email="ben@example.com", owner=other)
    # Not negative, whatever the rules would say: the negative filter is tested on the case.
    make_response(
        session,
        ana,
        at=now - timedelta(days=1),
        one_thing="The deliveries were late",
        negative=False,
    )
    make_response(
        session, ben, at=now - timedelta(days=2), one_thing="Loved it, 100% happy", category="books"
    )
    make_response(session, ben, at=now - timedelta(days=3), one_thing="n/a")
    make_response(session, ana, at=now - timedelta(days=200), one_thing="Old delivery talk")
    case = make_case(
        session,
        owner=owner,
        customer=ben,
        now=now - timedelta(days=4),
        answers={"expectations": "short", "one_thing": "Late delivery, box crushed"},
    )
    session.commit()
    return {"owner": owner, "other": other, "ana": ana, "ben": ben, "case": case}


def _items(response):
    return [item.get_text(" ", strip=True) for item in page(response).all(".feed-item")]


def test_admins_see_every_response_of_the_range_newest_first_words_first(admin_client, shop):
    response = admin_client.get("/admin/responses")
    assert response.status_code == 200
    items = _items(response)
    assert len(items) == 4  # the one 200 days ago is outside the last 90 days
    assert items[0].startswith("Ana Diaz")
    assert "The deliveries were late" in items[0]
    # The written words come before the ticked answers.
    assert items[0].index("deliveries") < items[0].index("expectations")
    html = response.get_data(as_text=True)
    assert f'href="/cases/{shop["case"].id}"' in html
    assert f'href="/customers/{shop["ana"].id}"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("negative=1", ["Late delivery, box crushed"]),
        ("comment=1", ["The deliveries were late", "Loved it", "Late delivery"]),
        ("theme=delivery", ["The deliveries were late", "Late delivery"]),
        ("theme=deliveri", ["The deliveries were late", "Late delivery"]),
        ("theme=box+crushed", ["Late delivery"]),
        ("q=ben%40example", ["Loved it", "n/a", "Late delivery"]),
        ("q=ANA+diaz", ["The deliveries were late"]),
        ("q=100%25", ["Loved it"]),  # a literal %, not a wildcard
        ("q=crushed", ["Late delivery"]),
        ("category=books", ["Loved it"]),
        ("set=relationship-review", []),
        ("from=2026-09-01&to=2026-11-21", ["Loved it", "n/a", "Late delivery"]),
        (
            "from=2026-01-01&theme=delivery",
            ["The deliveries", "Late delivery", "Old delivery talk"],
        ),
        ("theme=delivery&negative=1", ["Late delivery"]),
    ],
)
def test_filters_and_search(admin_client, shop, query, expected):
    response = admin_client.get(f"/admin/responses?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    items = _items(response)
    assert len(items) == len(expected), items
    for item, words in zip(items, expected, strict=True):
        assert words in item


def test_the_owner_filter_takes_account_customers_and_case_customers(admin_client, shop):
    owner, other = shop["owner"], shop["other"]
    assert len(_items(admin_client.get(f"/admin/responses?owner={owner.id}"))) == 4
    # Ben is the other owner's account customer; his case belongs to the first owner.
    assert len(_items(admin_client.get(f"/admin/responses?owner={other.id}"))) == 3


def test_an_owner_sees_only_the_customers_they_look_after(client, shop):
    log_in(client, shop["other"])
    response = client.get("/dashboard/responses")
    assert response.status_code == 200
    items = _items(response)
    assert len(items) == 3 and all(item.startswith("Ben Berg") for item in items)
    # Asking for someone else's does not widen the scope.
    again = client.get(f"/dashboard/responses?owner={shop['owner'].id}")
    assert _items(again) == items
    assert page(again).find("select[name=owner]") is None


def test_pages_of_twenty_five_follow_one_another(admin_client, session, clock):
    customer = make_customer(session, name="Many Answers")
    for n in range(30):
        make_response(
            session, customer, at=clock.now() - timedelta(hours=n + 1), one_thing=f"Answer {n}"
        )
    session.commit()
    first = admin_client.get("/admin/responses?comment=1")
    assert len(_items(first)) == 25
    older = page(first).link("Older responses")["href"]
    assert "comment=1" in older and "before=" in older
    second = admin_client.get(older)
    items = _items(second)
    assert [item.split("Answer ")[1].split()[0] for item in items] == [
        "25",
        "26",
        "27",
        "28",
        "29",
    ]
    assert page(second).find("a[rel=next]") is None
    assert page(second).link("Newest")["href"] == "/admin/responses?comment=1"
    # Paging with a theme goes the same way.
    themed = admin_client.get("/admin/responses?theme=answer")
    assert len(_items(themed)) == 25
    assert len(_items(admin_client.get(page(themed).link("Older responses")["href"]))) == 5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "“from” must be a date"),
        ("to=2026-13-01", "“to” must be a date"),
        ("from=2026-11-20&to=2026-11-01", "“from” must come before “to”"),
        ("owner=abc", "“owner” must be one of the owners"),
        ("owner=99999999999999999999", "“owner” must be one of the owners"),
        ("before=x", "“before” must be the number of a response"),
        ("before=999999", "start again from the newest"),
        ("theme=the", "A theme is one to three words"),
        ("theme=one+two+three+four", "A theme is one to three words"),
        ("negative=maybe", "“negative” must be 1"),
        ("group=fans", "“group” must be promoter, passive or detractor"),
        ("q=" + "x" * 201, "The search is too long"),
        ("q=%00", "cannot be searched for"),
    ],
)
def test_bad_filter_input_is_a_400_that_says_why(admin_client, shop, query, message):
    response = admin_client.get(f"/admin/responses?{query}")
    assert response.status_code == 400
    assert message in page(response).text
    assert page(response).find("form.feed-filters") is not None


def test_a_page_is_one_query_for_the_responses_and_one_for_their_answers(app, session, shop):
    filters = InsightFilters.last_days(app.extensions["clock"].now())
    statements = []
    engine = session.get_bind()

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        session.expire_all()
        result = feed_page(session, FeedQuery(filters=filters))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(result.items) == 4
    # (The test session opens a savepoint first: the test framework, not the feed.)
    assert [word for word in statements if word != "SAVEPOINT"] == ["SELECT", "SELECT"]


def test_the_other_answers_are_shown_under_their_questions_not_their_keys(admin_client, shop):
    case_item = next(
        item
        for item in page(admin_client.get("/admin/responses")).all(".feed-item")
        if "Ben Berg" in item.get_text() and "box crushed" in item.get_text()
    )
    others = case_item.select_one(".feed-others").get_text(" ", strip=True)
    assert "Are we exceeding your expectations?" in others
    assert "expectations:" not in others
