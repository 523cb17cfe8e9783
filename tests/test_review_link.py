"""The public review link: set by an admin, offered on the thank-you page to everyone who
answered (never only to the happy ones), counted when followed, shown on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import AuditEntry, ReviewLinkClick
from surveys.services.settings import all_settings, get_setting, page_specs, set_setting
from tests.factories import make_customer, make_purchase, make_sent_survey, make_user
from tests.pages import page, text_of
from tests.web import csrf_token

REVIEW_URL = "https://www.trustpilot.com/review/keys-and-co.example"
PROMOTER = {"expectations": "exceeding", "time_money": "yes", "recommend": "10"}
DETRACTOR = {
    "expectations": "short",
    "one_thing": "The box arrived crushed.",
    "time_money": "no",
    "recommend": "2",
}


@pytest.fixture
def owner(session):
    return make_user(session, role="owner", name="Olivia Moreno", email="olivia@shop.test")


def sent_survey(session, clock, owner, email: str) -> tuple[object, str]:
    customer = make_customer(session, email=email, owner=owner)
    purchase = make_purchase(session, customer, purchased_at=clock.now())
    survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    session.commit()
    return survey, token


def answer(client, token: str, answers: dict[str, str]):
    shown = page(client.get(f"/s/{token}"))
    return client.post(
        f"/s/{token}", data={**answers, "csrf_token": shown.field_value("csrf_token")}
    )


def clicks(session) -> int:
    return session.scalar(select(func.count(ReviewLinkClick.id)))


@pytest.fixture
def review_site(session):
    set_setting(session, "public_review_url", REVIEW_URL)
    session.commit()
    return REVIEW_URL


# --- the admin's setting -----------------------------------------------------------------------


def post_settings(client, session, **changes):
    values = all_settings(session)
    data = {spec.key: str(values[spec.key]) for spec in page_specs()}
    data.update(changes, csrf_token=csrf_token(client, "/admin/settings"))
    return client.post("/admin/settings", data=data)


def test_an_admin_sets_the_review_link_and_the_change_is_audited(admin_client, session):
    response = post_settings(admin_client, session, public_review_url=REVIEW_URL)

    assert response.status_code == 302
    assert get_setting(session, "public_review_url") == REVIEW_URL
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.target, entry.after) == (
        "setting public_review_url",
        {"public_review_url": REVIEW_URL},
    )
    shown = page(admin_client.get("/admin/settings"))
    assert shown.field_value("public_review_url") == REVIEW_URL
    assert "happy or not" in text_of(shown.by_id("public_review_url-hint"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "http://www.trustpilot.com/review/x",
            "Give an https:// address, like https://www.trustpilot.com/review/shop.example.",
        ),
        (
            "javascript:alert(1)",
            "Give an https:// address, like https://www.trustpilot.com/review/shop.example.",
        ),
        (
            "https://",
            "Give an https:// address, like https://www.trustpilot.com/review/shop.example.",
        ),
        ("https://g.page/r/ab cd", "An address cannot contain spaces or line breaks."),
        (
            "https://me:secret@g.page/r/x",
            "Leave any user name and password out of a public address.",
        ),
        ("https://g.page:port/r", "That is not a web address."),
        ("https://g.page/" + "x" * 500, "Keep it to 500 characters or fewer."),
    ],
)
def test_a_review_link_that_is_not_an_https_address_is_refused(
    admin_client, session, value, message
):
    response = post_settings(admin_client, session, public_review_url=value)

    assert response.status_code == 422
    assert page(response).field_errors("public_review_url") == [message]
    assert get_setting(session, "public_review_url") == ""
    assert session.scalar(select(AuditEntry)) is None


def test_emptying_the_review_link_takes_it_away(admin_client, session, review_site):
    assert post_settings(admin_client, session, public_review_url="").status_code == 302

    assert get_setting(session, "public_review_url") == ""


# --- the thank-you page ----------------------------------------------------------------------


@pytest.mark.parametrize("answers", [PROMOTER, DETRACTOR], ids=["promoter", "detractor"])
def test_the_thank_you_page_offers_the_review_link_whatever_the_answer(
    client, session, clock, owner, review_site, answers
):
    _survey, token = sent_survey(session, clock, owner, "ana@example.com")

    response = answer(client, token, answers)

    assert response.status_code == 200
    shown = page(response)
    invite = shown.region("Would you tell others too?")
    assert shown.link("Leave a public review", within=invite)["href"] == f"/s/{token}/review"


def test_a_spanish_customer_is_invited_in_spanish(client, session, clock, owner, review_site):
    survey, token = sent_survey(session, clock, owner, "ana@example.com")
    survey.customer.locale = "es"
    session.commit()

    shown = page(answer(client, token, PROMOTER))

    invite = shown.region("¿Se lo contarías también a otros?")
    assert shown.link("Dejar una reseña pública", within=invite)["href"] == f"/s/{token}/review"


def test_promoters_and_detractors_get_the_very_same_invitation(
    client, session, clock, owner, review_site
):
    _happy, happy_token = sent_survey(session, clock, owner, "ana@example.com")
    _unhappy, unhappy_token = sent_survey(session, clock, owner, "ben@example.com")

    happy = page(answer(client, happy_token, PROMOTER)).region("Would you tell others too?")
    unhappy = page(answer(client, unhappy_token, DETRACTOR)).region("Would you tell others too?")

    assert str(happy).replace(happy_token, "TOKEN") == str(unhappy).replace(unhappy_token, "TOKEN")


def test_the_one_tap_thank_you_and_already_answered_pages_offer_it_too(
    client, session, clock, owner, review_site
):
    _survey, token = sent_survey(session, clock, owner, "ana@example.com")
    tapped = page(client.get(f"/s/{token}?a=short"))

    one_tap = client.post(
        f"/s/{token}/answer",
        data={"expectations": "short", "csrf_token": tapped.field_value("csrf_token")},
    )
    again = client.get(f"/s/{token}")

    for response in (one_tap, again):
        assert page(response).link("Leave a public review")["href"] == f"/s/{token}/review"


def test_without_a_review_site_nothing_is_offered(client, session, clock, owner):
    _survey, token = sent_survey(session, clock, owner, "ana@example.com")

    response = answer(client, token, PROMOTER)

    assert "public review" not in response.get_data(as_text=True)
    assert client.get(f"/s/{token}/review").status_code == 404


# --- following it --------------------------------------------------------------------------------


def test_following_the_link_counts_once_and_leads_to_the_review_site(
    client, session, clock, owner, review_site
):
    survey, token = sent_survey(session, clock, owner, "ana@example.com")
    answer(client, token, DETRACTOR)

    first = client.get(f"/s/{token}/review")
    again = client.get(f"/s/{token}/review")

    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == REVIEW_URL
    click = session.scalars(select(ReviewLinkClick)).one()
    assert (click.survey_id, click.customer_id, click.clicked_at) == (
        survey.id,
        survey.customer_id,
        clock.now(),
    )


def test_before_answering_the_link_leads_to_the_survey_and_counts_nothing(
    client, session, clock, owner, review_site
):
    _survey, token = sent_survey(session, clock, owner, "ana@example.com")

    response = client.get(f"/s/{token}/review")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{token}"
    assert clicks(session) == 0


def test_an_unknown_link_is_404(client, session, review_site):
    assert client.get("/s/not-a-real-token/review").status_code == 404


def test_the_dashboard_counts_the_clicks_of_the_range(
    admin_client, client, session, clock, owner, review_site
):
    for email in ("ana@example.com", "ben@example.com"):
        _survey, token = sent_survey(session, clock, owner, email)
        answer(client, token, PROMOTER if email.startswith("ana") else DETRACTOR)
        client.get(f"/s/{token}/review")
    clock.advance(days=1)
    day = clock.now().date()

    shown = page(admin_client.get(f"/admin/dashboard?from={day - timedelta(days=7)}&to={day}"))
    earlier = page(
        admin_client.get(
            f"/admin/dashboard?from={day - timedelta(days=30)}&to={day - timedelta(days=2)}"
        )
    )

    assert shown.stats()["review link followed"] == "2"
    assert earlier.stats()["review link followed"] == "0"
