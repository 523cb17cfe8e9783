"""A case's page: everything the owner needs to act, and the actions that fit the status."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveys.models import Case, CaseEvent, User
from surveys.services.cases import actions, queries
from surveys.services.cases.errors import CaseInputError, CaseNotFound, CaseStateError
from tests.factories import make_api_key, make_case, make_customer, make_purchase, make_user
from tests.pages import Page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def owner(session):
    return make_user(session, name="Olivia Owen", email="olivia@shop.example")


@pytest.fixture
def case(session, owner, clock):
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=owner)
    purchase = make_purchase(
        session,
        customer,
        order_id="A-1001",
        total="159.80",
        items=[
            {"sku": "KB-1", "name": "Keyboard", "quantity": 1, "unit_price": "129.90"},
            {"sku": "MP-2", "name": "Mouse pad", "quantity": 2, "unit_price": "14.95"},
        ],
    )
    return make_case(session, owner=owner, customer=customer, purchase=purchase, now=clock.now())


def page(client, case_id: int):
    return client.get(f"/cases/{case_id}")


def act(client, case_id: int, action: str, **data):
    """POST an action with a CSRF token from the case page, as the browser would."""
    token = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/{action}", data={**data, "csrf_token": token})


def conversation_heads(shown: Page) -> list[str]:
    """The first line of each entry of the conversation, oldest first."""
    return [text_of(entry.select_one(".entry-head")) for entry in shown.all("ol.timeline > li")]


def events_of(session, case_id: int) -> list[str]:
    return list(
        session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )


def test_the_page_shows_the_answers_the_customer_and_the_purchase(client, session, owner, case):
    log_in(client, owner)

    response = page(client, case.id)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # Every answer, the negative ones marked.
    assert "Are we exceeding your expectations?" in html
    assert "You are falling short" in html
    assert "The keyboard arrived with a broken key and nobody answered my email." in html
    assert "Did we save you time and money?" in html and "Somewhat" in html
    assert "4 out of 10" in html
    shown = Page(html)
    # The choice, the score and the written complaint ("broken", "nobody").
    assert len(shown.all("li.answer.negative")) == 3
    # The customer and what they bought.
    assert "ana@example.com" in html
    assert shown.definitions(shown.region("Customer"))["Account owner"] == "Olivia Owen"
    assert "A-1001" in html and "Keyboard" in html and "2 × Mouse pad" in html
    assert "€159.80" in html and "at €129.90" in html
    # Who owns it, why, by when, and what happened so far.
    assert "account owner" in html
    assert "Acknowledge: due in 4 hours" in html
    heads = conversation_heads(shown)
    assert heads[0].startswith("What Ana Diaz told us")
    assert heads[1].startswith("Case opened by")


def test_an_open_case_offers_acknowledge_and_resolve(client, owner, case):
    log_in(client, owner)

    html = page(client, case.id).get_data(as_text=True)

    assert f'action="/cases/{case.id}/acknowledge"' in html
    assert f'action="/cases/{case.id}/resolve"' in html
    assert 'name="resolution"' in html


def test_an_acknowledged_case_offers_only_resolve(client, session, owner, clock):
    acknowledged = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    log_in(client, owner)

    html = page(client, acknowledged.id).get_data(as_text=True)

    assert "/acknowledge" not in html
    assert f'action="/cases/{acknowledged.id}/resolve"' in html
    assert "Resolve: due in 2 days" in html


def test_a_resolved_case_offers_no_action_and_shows_the_resolution(client, session, owner, clock):
    resolved = make_case(session, owner=owner, status="resolved", now=clock.now())
    log_in(client, owner)

    html = page(client, resolved.id).get_data(as_text=True)

    assert "/acknowledge" not in html and "/resolve" not in html
    assert "Sent a new keyboard by express and apologised." in html


def test_an_owner_reading_another_owners_case_gets_404(client, session, case):
    log_in(client, make_user(session))

    assert page(client, case.id).status_code == 404


@pytest.mark.parametrize(
    "action, data",
    [
        ("acknowledge", {}),
        ("resolve", {"resolution": "Sent a new one."}),
    ],
)
def test_an_owner_acting_on_another_owners_case_gets_404_and_changes_nothing(
    client, session, case, action, data
):
    log_in(client, make_user(session))

    response = client.post(
        f"/cases/{case.id}/{action}", data={**data, "csrf_token": csrf_token(client, "/inbox")}
    )

    assert response.status_code == 404
    assert session.get(Case, case.id).status == "open"
    assert events_of(session, case.id) == ["opened"]


def test_an_admin_sees_every_case(client, session, case):
    log_in(client, make_user(session, role="admin"))

    assert page(client, case.id).status_code == 200


def test_an_unknown_case_is_404(client, session, owner):
    log_in(client, owner)

    assert page(client, 999999).status_code == 404


def test_acknowledging_takes_the_case_and_shows_it_on_the_timeline(
    client, session, owner, case, clock
):
    log_in(client, owner)
    clock.advance(minutes=30)

    response = act(client, case.id, "acknowledge")

    assert response.status_code == 302
    stored = session.get(Case, case.id)
    # Back where the owner acted: at the conversation's new entry.
    assert response.headers["Location"] == f"/cases/{case.id}#event-{stored.events[-1].id}"
    assert stored.status == "acknowledged"
    assert stored.acknowledged_at == clock.now()
    assert events_of(session, case.id) == ["opened", "acknowledged"]
    assert stored.events[-1].actor_user_id == owner.id
    shown = Page(page(client, case.id).get_data(as_text=True))
    assert shown.flashes() == ["It is yours now. Ana Diaz will be glad to hear from you."]
    assert conversation_heads(shown)[-1].startswith("Acknowledged by Olivia Owen")


def test_acknowledging_twice_answers_409_with_a_clear_message(client, session, owner, case):
    log_in(client, owner)
    act(client, case.id, "acknowledge")

    response = act(client, case.id, "acknowledge")

    assert response.status_code == 409
    assert "Olivia Owen already acknowledged this case." in response.get_data(as_text=True)
    assert events_of(session, case.id) == ["opened", "acknowledged"]


def test_resolving_records_the_note_and_the_moment(client, session, owner, case, clock):
    log_in(client, owner)
    clock.advance(hours=2)

    response = act(
        client, case.id, "resolve", resolution="  Called Ana, sent a new keyboard by express.  "
    )

    assert response.status_code == 302
    stored = session.get(Case, case.id)
    assert stored.status == "resolved"
    assert stored.resolved_at == clock.now()
    # Resolving an untouched case took it as well.
    assert stored.acknowledged_at == clock.now()
    assert stored.resolution == "Called Ana, sent a new keyboard by express."
    assert events_of(session, case.id) == ["opened", "resolved"]
    assert stored.events[-1].body == stored.resolution
    assert "Resolved. Thank you for looking after Ana Diaz." in page(client, case.id).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "resolution, message",
    [
        ("", "Say what you did to fix it."),
        ("   \n  ", "Say what you did to fix it."),
        ("x" * 5001, "Keep it under 5000 characters."),
    ],
)
def test_resolving_without_a_fitting_note_answers_422_with_the_error_in_place(
    client, session, owner, case, resolution, message
):
    log_in(client, owner)

    response = act(client, case.id, "resolve", resolution=resolution)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    [error] = Page(html).field_errors("resolution")
    assert message in error
    assert session.get(Case, case.id).status == "open"
    assert events_of(session, case.id) == ["opened"]


def test_a_value_the_action_refuses_is_shown_at_its_field_with_what_was_typed_kept(
    client, session, owner, case
):
    make_user(session, name="Ben Baker")
    session.commit()
    log_in(client, owner)

    # The form is well filled in; the service refuses the owner (CaseInputError "owner").
    response = act(client, case.id, "reassign", owner_id=str(owner.id), reason="Back Monday.")

    html = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 422
    assert (
        '<ul class="field-errors" id="owner_id-errors"> '
        "<li>Olivia Owen already owns this case.</li> </ul>"
    ) in html
    assert 'name="reason" required rows="3"> Back Monday.</textarea>' in html
    assert session.get(Case, case.id).reassign_count == 0
    assert events_of(session, case.id) == ["opened"]


def test_resolving_a_resolved_case_answers_409_whatever_the_note(client, session, owner, clock):
    resolved = make_case(session, owner=owner, status="resolved", now=clock.now())
    log_in(client, owner)

    for note in ("Again.", ""):
        response = act(client, resolved.id, "resolve", resolution=note)

        assert response.status_code == 409
        assert "This case is already resolved; there is nothing to resolve." in response.get_data(
            as_text=True
        )
    assert events_of(session, resolved.id) == ["opened", "acknowledged", "resolved"]


@pytest.mark.parametrize(
    "action, data",
    [
        ("acknowledge", {}),
        ("resolve", {"resolution": "Sent a new one."}),
    ],
)
def test_a_post_without_a_valid_csrf_token_answers_400_and_changes_nothing(
    client, session, owner, case, action, data
):
    log_in(client, owner)

    for token in (None, "not-a-real-token"):
        form = data if token is None else {**data, "csrf_token": token}
        response = client.post(f"/cases/{case.id}/{action}", data=form)

        assert response.status_code == 400
    assert session.get(Case, case.id).status == "open"
    assert events_of(session, case.id) == ["opened"]


def test_the_case_page_needs_a_login(client, case):
    response = page(client, case.id)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- the services the API shares -----------------------------------------------------


def test_get_case_for_hides_other_owners_cases_but_not_from_admins(session, case):
    with pytest.raises(CaseNotFound):
        queries.get_case_for(session, make_user(session), case.id)
    with pytest.raises(CaseNotFound):
        queries.get_case_for(session, make_user(session, role="admin"), 999999)

    assert queries.get_case_for(session, make_user(session, role="admin"), case.id) is case


def test_an_action_through_an_api_key_is_recorded_as_that_key(session, case, clock):
    key, _raw = make_api_key(session, "Helpdesk")

    actions.acknowledge_case(session, case, by_api_key=key, now=clock.now())
    actions.resolve_case(
        session, case, resolution="Fixed in the helpdesk.", by_api_key=key, now=clock.now()
    )

    assert [event.actor_label for event in case.events[1:]] == ["API key “Helpdesk”"] * 2
    assert case.status == "resolved"


def test_resolve_checks_the_status_before_the_note(session, owner, case, clock):
    with pytest.raises(CaseInputError) as raised:
        actions.resolve_case(session, case, resolution=" ", by_user=owner, now=clock.now())
    assert raised.value.field == "resolution"

    actions.resolve_case(session, case, resolution="Done.", by_user=owner, now=clock.now())
    with pytest.raises(CaseStateError):
        actions.resolve_case(session, case, resolution=" ", by_user=owner, now=clock.now())


def test_acknowledging_a_case_someone_else_just_acknowledged_is_refused(committed_app):
    """Two owners with the same page open: the second click sees the first one's change."""
    factory = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context():
        with factory() as setup:
            owner = make_user(setup, name="Olivia Owen")
            admin = make_user(setup, role="admin", name="Ada Admin")
            case_id = make_case(setup, owner=owner).id
            setup.commit()
            owner_id, admin_id = owner.id, admin.id

        with factory() as late, factory() as early:
            # The late one read the case while it was still open...
            stale = late.get(Case, case_id)
            late.commit()
            assert stale.status == "open"
            # ...then the early one acknowledged it and committed.
            actions.acknowledge_case(
                early,
                early.get(Case, case_id),
                by_user=early.get(User, owner_id),
                now=stale.created_at,
            )
            early.commit()

            with pytest.raises(CaseStateError, match="Olivia Owen already acknowledged"):
                actions.acknowledge_case(
                    late, stale, by_user=late.get(User, admin_id), now=stale.created_at
                )
            late.rollback()

        with factory() as check:
            assert events_of(check, case_id) == ["opened", "acknowledged"]


@pytest.mark.parametrize("status", ["open", "acknowledged", "resolved", "closed"])
def test_every_element_id_on_the_case_page_is_unique(client, session, owner, clock, status):
    """Two boxes with one id tie a label, a hint or an error to the wrong box."""
    shown_case = make_case(session, owner=owner, status=status, now=clock.now())
    log_in(client, owner)

    shown = Page(page(client, shown_case.id).get_data(as_text=True))

    ids = [element["id"] for element in shown.all("[id]")]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
