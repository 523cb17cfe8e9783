"""The owner's pages put the conversation first: the case page (status and next step at the
top, the conversation in time order, every action back where it was done) and the inbox
(filters, search, the customer's own words, reopened and replied cases first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event

from surveys.models import Case, CaseEvent
from tests.factories import make_case, make_customer, make_purchase, make_user
from tests.journey import log_in_as
from tests.pages import Page, page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def owner(session):
    return make_user(session, name="Olivia Owen", email="olivia@shop.example")


def say(case: Case, kind: str, at, *, body: str = "words", data=None, by=None) -> CaseEvent:
    """One event on the case's timeline, as the inbound mail or the fix-check writes it."""
    event = CaseEvent(kind=kind, body=body, data=data, created_at=at, actor_user=by)
    case.events.append(event)
    return event


def case_page(client, case_id: int) -> Page:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return page(response)


def act(client, case_id: int, action: str, **data):
    token = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/{action}", data={**data, "csrf_token": token})


def entries(shown: Page) -> list:
    return shown.all("ol.timeline > li")


def last_event(session, case_id: int) -> CaseEvent:
    session.expire_all()
    return session.get(Case, case_id).events[-1]


# --- the case page --------------------------------------------------------------------------


def test_a_reopened_case_says_so_at_the_top_with_its_deadline_then_the_conversation(
    client, session, owner, clock
):
    make_user(session, name="Ben Baker")  # someone to hand it over to
    case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    say(case, "reply", clock.now() + timedelta(hours=1), body="A new one is on its way.", by=owner)
    say(case, "reopened", clock.now() + timedelta(hours=30), body="Did it work? No")
    case.resolve_by = clock.now() + timedelta(hours=78)
    session.commit()
    clock.advance(hours=31)
    log_in(client, owner)

    shown = case_page(client, case.id)

    step = shown.by_id("next-step")
    assert text_of(shown.by_id("next-step-title")) == "Reopened: the fix did not work"
    assert "Resolve: due in 1 day" in text_of(step)
    assert text_of(shown.one(".case-head .badge-reopened")) == "reopened"
    # The status and its next step come before the conversation, the actions bar beneath it.
    html = shown.html
    assert html.index('id="next-step"') < html.index('id="timeline-title"')
    bar = shown.by_label("Actions")
    assert shown.links(bar) == {
        "Reply": "#reply",
        "Resolve": "#actions",
        "Note": "#note",
        "Hand over": "#reassign-title",
        "Customer": "#customer-title",
    }
    # The whole conversation in time order, the customer's answers first.
    kinds = [li["class"][1:] for li in entries(shown)]
    assert kinds == [
        ["entry-customer", "entry-answers"],
        ["entry-system", "event-opened"],
        ["entry-system", "event-acknowledged"],
        ["entry-owner", "event-reply"],
        ["entry-customer", "event-reopened"],
    ]
    assert "A new one is on its way." in text_of(entries(shown)[3])


def test_an_open_case_offers_acknowledge_in_one_tap_at_the_top(client, session, owner, clock):
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)

    shown = case_page(client, case.id)

    assert text_of(shown.by_id("next-step-title")) == "New: acknowledge by 23 Nov 2026, 13:00 UTC"
    bar = shown.by_label("Actions")
    assert bar.find("form")["action"] == f"/cases/{case.id}/acknowledge"
    assert shown.buttons(bar) == ["Acknowledge"]


def test_a_customers_reply_shows_when_it_came_with_their_words_and_attachments(
    client, session, owner, clock
):
    case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    say(case, "reply", clock.now() + timedelta(hours=1), body="Tuesday?", by=owner)
    say(
        case,
        "customer_replied",
        clock.now() + timedelta(hours=3),
        body="Tuesday is fine, but the box was crushed too.",
        data={
            "subject": "Re: your keyboard",
            "attachments": [{"id": 7, "filename": "box.jpg", "size": 2048}],
        },
    )
    session.commit()
    clock.advance(hours=5)
    log_in(client, owner)

    shown = case_page(client, case.id)

    assert text_of(shown.by_id("next-step-title")) == "Customer replied 2 hours ago"
    reply = entries(shown)[-1]
    assert reply["class"][1:] == ["entry-customer", "event-customer_replied"]
    assert text_of(reply).startswith("Replied by Ana Diaz")
    assert "Tuesday is fine, but the box was crushed too." in text_of(reply)
    assert "box.jpg (2.0 kB)" in text_of(reply)


def test_internal_notes_and_unverified_messages_are_marked_apart(client, session, owner, clock):
    case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    say(case, "note", clock.now() + timedelta(minutes=1), body="She is a reseller.", by=owner)
    say(
        case,
        "unverified_message",
        clock.now() + timedelta(minutes=2),
        body="Click here for a prize",
        data={"from": "someone@else.example", "reason": "The address is not the customer's."},
    )
    session.commit()
    log_in(client, owner)

    shown = case_page(client, case.id)

    note, stranger = entries(shown)[-2:]
    assert note["class"][1] == "entry-note"
    assert "not shown to the customer" in text_of(note.select_one(".badge"))
    assert stranger["class"][1] == "entry-unverified"
    assert text_of(stranger).startswith("Unverified message by someone@else.example")
    assert "unverified: not from Ana Diaz’s address, not relayed" in text_of(stranger)
    assert "The address is not the customer's." in text_of(stranger)


def test_after_a_hand_over_the_page_says_why_the_owner_has_it(client, session, owner, clock):
    ben = make_user(session, name="Ben Baker", email="ben@shop.example")
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)
    act(client, case.id, "reassign", owner_id=str(ben.id), reason="Ben handles hardware returns.")

    log_in_as(client, ben)
    shown = case_page(client, case.id)

    handover = text_of(shown.one(".handover"))
    assert handover.startswith("Ben Baker has this case since 23 Nov 2026, 09:00 UTC")
    assert "handed over by Olivia Owen from Olivia Owen" in handover
    assert handover.endswith("Why: Ben handles hardware returns.")
    facts = shown.definitions(shown.region("Owner"))
    assert facts["Why"] == "handed over by Olivia Owen: Ben handles hardware returns."


@pytest.mark.parametrize(
    "action, data",
    [
        ("acknowledge", {}),
        (
            "replies",
            {
                "understood": "One of the keys came off within a week.",
                "will_do": "A new keyboard leaves today.",
            },
        ),
        ("notes", {"body": "Called her."}),
        ("resolve", {"resolution": "Sent a new keyboard."}),
    ],
)
def test_every_action_goes_back_to_what_it_added_with_its_message_there(
    client, session, owner, clock, action, data
):
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)

    response = act(client, case.id, action, **data)

    assert response.status_code == 302, response.get_data(as_text=True)
    added = last_event(session, case.id)
    assert response.headers["Location"] == f"/cases/{case.id}#event-{added.id}"
    shown = case_page(client, case.id)
    assert entries(shown)[-1]["id"] == f"event-{added.id}"
    # The message is shown where the owner lands, right below the new entry.
    assert [text_of(p) for p in shown.by_id("done").select("p.flash")] == shown.flashes()
    assert len(shown.flashes()) == 1


def test_an_admin_handing_a_case_over_stays_on_it_at_the_hand_over(client, session, owner, clock):
    admin = make_user(session, role="admin")
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, admin)

    response = act(client, case.id, "reassign", owner_id=str(admin.id), reason="I take it.")

    added = last_event(session, case.id)
    assert added.kind == "reassigned"
    assert response.headers["Location"] == f"/cases/{case.id}#event-{added.id}"


# --- the inbox ------------------------------------------------------------------------------


def inbox(client, **query) -> Page:
    response = client.get("/inbox", query_string=query)
    assert response.status_code == 200, response.status_code
    return page(response)


def names(shown: Page) -> list[str]:
    return [text_of(link) for link in shown.all("a.case-customer")]


@pytest.fixture
def cases(session, owner, clock):
    """One case of each kind, by customer name."""
    t = clock.now()

    def case_for(name: str, status: str = "open", *events, **kwargs):
        customer = make_customer(session, name=name, email=f"{name.split()[0].lower()}@ex.com")
        case = make_case(session, owner=owner, customer=customer, status=status, now=t, **kwargs)
        for hours, kind, body in events:
            say(case, kind, t + timedelta(hours=hours), body=body, by=owner)
        return case

    made = {
        "New Nina": case_for("New Nina"),
        "Taken Tom": case_for("Taken Tom", "acknowledged"),
        "Answered Ann": case_for("Answered Ann", "acknowledged", (1, "reply", "Soon.")),
        "Replied Rita": case_for(
            "Replied Rita",
            "acknowledged",
            (1, "reply", "Soon."),
            (2, "customer_replied", "When exactly? I need it by Friday."),
        ),
        "Reopened Rob": case_for(
            "Reopened Rob", "acknowledged", (1, "reply", "Done."), (3, "reopened", "No")
        ),
        "Resolved Ruth": case_for("Resolved Ruth", "resolved"),
        "Closed Carl": case_for("Closed Carl", "closed"),
    }
    make_case(session, owner=make_user(session), customer=make_customer(session, name="Not Mine"))
    session.commit()
    return made


def test_the_filters_split_the_cases_by_whose_turn_it_is(client, owner, cases):
    log_in(client, owner)

    everything = inbox(client)
    tabs = {text_of(link): link["href"] for link in everything.by_label("Filters").find_all("a")}

    assert tabs == {
        "All open 6": "/inbox",
        "Needs me 4": "/inbox?show=needs-me",
        "Waiting on the customer 2": "/inbox?show=waiting",
        "Resolved 1": "/inbox?show=resolved",
        "Closed 1": "/inbox?show=closed",
    }
    # Reopened and replied cases first, each with its badge; then by deadline.
    assert names(everything)[:2] == ["Reopened Rob", "Replied Rita"]
    badges = [text_of(b) for b in everything.all(".badge-called-back")]
    assert badges == ["reopened", "customer replied"]
    assert sorted(names(inbox(client, show="needs-me"))) == [
        "New Nina",
        "Reopened Rob",
        "Replied Rita",
        "Taken Tom",
    ]
    assert names(inbox(client, show="needs-me"))[:2] == ["Reopened Rob", "Replied Rita"]
    assert sorted(names(inbox(client, show="waiting"))) == ["Answered Ann", "Resolved Ruth"]
    assert names(inbox(client, show="resolved")) == ["Resolved Ruth"]
    assert names(inbox(client, show="closed")) == ["Closed Carl"]
    chosen = inbox(client, show="closed").by_label("Filters").select('[aria-current="page"]')
    assert [text_of(link) for link in chosen] == ["Closed 1"]
    # A filter we do not know shows every open case.
    assert sorted(names(inbox(client, show="everything"))) == sorted(names(everything))


def test_the_preview_is_the_customers_own_words(client, owner, cases):
    log_in(client, owner)

    rows = {
        text_of(row.select_one("a.case-customer")): text_of(row.select_one(".case-reason"))
        for row in inbox(client).all("li.case-row")
    }

    # Their latest reply when they wrote back; else what they wrote in the survey.
    assert rows["Replied Rita"] == "customer replied When exactly? I need it by Friday."
    assert (
        rows["New Nina"] == "The keyboard arrived with a broken key and nobody answered my email."
    )


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"q": "rita"}, ["Replied Rita"]),
        ({"q": "REOPENED@EX"}, ["Reopened Rob"]),
        ({"q": "carl"}, []),  # closed: not under "All open"
        ({"q": "carl", "show": "closed"}, ["Closed Carl"]),
        ({"q": "%"}, []),  # a literal percent sign, not a wildcard
        ({"q": "not mine"}, []),  # another owner's customer
    ],
)
def test_search_by_name_or_email_within_the_filter(client, owner, cases, query, expected):
    log_in(client, owner)

    assert names(inbox(client, **query)) == expected


def test_search_by_order_id(client, session, owner, clock):
    customer = make_customer(session, name="Ana Diaz")
    purchase = make_purchase(session, customer, order_id="SHOP-20931")
    make_case(session, owner=owner, customer=customer, purchase=purchase, now=clock.now())
    make_case(session, owner=owner, customer=make_customer(session, name="Ben Ode"))
    session.commit()
    log_in(client, owner)

    shown = inbox(client, q="20931")

    assert names(shown) == ["Ana Diaz"]
    assert "1 case matching “20931”" in shown.text
    assert shown.field_value("q") == "20931"


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 201, "line\nbreak"])
def test_a_search_that_cannot_be_made_is_refused_beside_the_box(client, owner, cases, bad):
    log_in(client, owner)

    response = client.get("/inbox", query_string={"q": bad})

    shown = page(response)
    assert response.status_code == 422
    assert len(shown.field_errors("q")) == 1
    assert names(shown) == []


def test_paging_keeps_the_filter_and_the_search(client, session, owner, clock):
    for number in range(52):
        make_case(
            session,
            owner=owner,
            customer=make_customer(session, name=f"Zed {number:02d}"),
            now=clock.now() - timedelta(minutes=number),
        )
    session.commit()
    log_in(client, owner)

    first = inbox(client, show="needs-me", q="zed")
    second = inbox(client, show="needs-me", q="zed", page=2)

    assert len(names(first)) == 50
    assert first.links(first.by_label("Pages")) == {"Next →": "/inbox?page=2&q=zed&show=needs-me"}
    assert len(names(second)) == 2


def test_the_inbox_takes_the_same_queries_however_many_cases_it_shows(
    app, client, session, owner, clock
):
    def add(count: int) -> None:
        for _ in range(count):
            case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
            say(case, "customer_replied", clock.now() + timedelta(minutes=1), body="Hello?")
        session.commit()

    log_in(client, owner)
    add(2)
    few = count_queries(app, lambda: inbox(client))
    add(10)
    many = count_queries(app, lambda: inbox(client))

    assert many == few


def count_queries(app, run) -> int:
    statements: list[str] = []
    engine = app.extensions["db"]["engine"]

    def note(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)
    return len(statements)
