"""The last English on the owner's pages, now in the reader's language: the customer page's
gestures and why a survey was not sent, the case page's prices, its resolve form's gesture
kinds and length error, an unverified message with no sender, and the quote marks around
the customer's words that made an answer negative. An English reader reads them as before.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from surveys.models import CaseEvent, Survey
from surveys.services.occasions.gestures import record_gesture
from surveys.services.settings import set_setting
from tests.factories import make_case, make_user
from tests.pages import Page, page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def owner(session):
    set_setting(session, "shop_currency", "EUR")
    return make_user(session, name="Olivia Owen", email="olivia@shop.example")


def shown(client, path: str) -> Page:
    response = client.get(path)
    assert response.status_code == 200
    return page(response)


def unsent_survey(session, case, status: str, reason: str | None) -> None:
    answered = session.get(Survey, case.response.survey_id)
    session.add(
        Survey(
            kind="purchase",
            status=status,
            status_reason=reason,
            customer_id=case.customer_id,
            purchase_id=case.purchase_id,
            question_set_id=answered.question_set_id,
            created_at=case.created_at,
        )
    )


def test_a_german_owner_reads_the_customer_page_gestures_and_survey_reasons_in_german(
    client, session, owner, clock
):
    owner.locale = "de"
    owner.monthly_gesture_allowance = Decimal("50")
    case = make_case(session, owner=owner, now=clock.now())
    record_gesture(
        session,
        customer=case.customer,
        kind="upgrade",
        by_user=owner,
        now=clock.now(),
        cost=Decimal("20"),
        note="Danke!",
    )
    unsent_survey(session, case, "throttled", "already surveyed in the last 30 days")
    unsent_survey(session, case, "held", f"waiting until case #{case.id} closes")
    unsent_survey(session, case, "suppressed", "bounce")
    unsent_survey(session, case, "cancelled", None)
    unsent_survey(session, case, "failed", "550 mailbox unavailable")
    session.commit()
    log_in(client, owner)

    customer = shown(client, f"/customers/{case.customer_id}")

    gestures = text_of(customer.region("Gesten"))
    assert "Ein Upgrade · 20,00 €: Danke!" in gestures  # the kind, the cost as Germans write it
    assert "Übrig in diesem Monat: 30,00 € von 50,00 €" in gestures
    assert "Sie ausgeben" in gestures  # new German speaks to the owner as "Sie"
    reasons = [text_of(p) for p in customer.all(".survey-history p.survey-reason")]
    assert "Der Kunde wurde schon in den letzten 30 Tagen befragt." in reasons
    assert f"Sie wartet, bis Fall #{case.id} abgeschlossen ist." in reasons
    assert "Die Adresse ist gesperrt (bounce)." in reasons  # the stored word is data
    assert "Sie wurde vor dem Versand abgebrochen." in reasons
    assert "550 mailbox unavailable." in reasons  # a mail server's words stay as they were
    assert "Already surveyed" not in customer.text


def test_a_spanish_owner_reads_prices_gesture_kinds_and_length_errors_in_spanish(
    client, session, owner, clock
):
    owner.locale = "es"
    owner.monthly_gesture_allowance = Decimal("50")
    case = make_case(session, owner=owner, now=clock.now())
    case.events.append(CaseEvent(kind="unverified_message", body="¿Hola?", created_at=clock.now()))
    session.commit()
    log_in(client, owner)

    case_page = shown(client, f"/cases/{case.id}")

    purchase = text_of(case_page.region("Compra"))
    assert "Total129,90 €" in purchase and "a 129,90 €" in purchase and "EUR" not in purchase
    assert "Disponible este mes: 50,00 €." in case_page.text
    kinds = [text_of(o) for o in case_page.all("#resolve-gesture-kind option")]
    assert "Una mejora" in kinds and "An upgrade" not in kinds
    assert "por un remitente desconocido" in text_of(case_page.region("Conversación"))
    assert "Someone unknown" not in case_page.text

    too_long = client.post(
        f"/cases/{case.id}/resolve",
        data={
            "resolution": "x" * 5001,
            "ask_in_days": "0",
            "csrf_token": csrf_token(client, f"/cases/{case.id}"),
        },
    )
    assert too_long.status_code == 422
    assert "Que tenga menos de 5000 caracteres." in page(too_long).field_errors("resolution")


def test_the_words_that_made_an_answer_negative_wear_the_readers_quote_marks(
    client, session, owner, clock
):
    owner.locale = "de"
    case = make_case(session, owner=owner, now=clock.now())
    [written] = [a for a in case.response.answers if a.question.type == "text"][:1]
    written.negative, written.negative_words = True, ["refund", "rude"]
    session.commit()
    log_in(client, owner)

    because = text_of(shown(client, f"/cases/{case.id}").one(".answer.negative .negative-because"))
    assert "„refund“ und „rude“" in because and "“refund”" not in because


def test_an_english_owner_reads_the_same_pages_in_english(client, session, owner, clock):
    owner.monthly_gesture_allowance = Decimal("50")
    case = make_case(session, owner=owner, now=clock.now())
    case.events.append(CaseEvent(kind="unverified_message", body="Hello?", created_at=clock.now()))
    [written] = [a for a in case.response.answers if a.question.type == "text"][:1]
    written.negative, written.negative_words = True, ["refund", "rude"]
    unsent_survey(session, case, "throttled", "already surveyed in the last 30 days")
    session.commit()
    log_in(client, owner)

    case_page = shown(client, f"/cases/{case.id}")
    assert "Total€129.90" in case_page.text and "at €129.90" in case_page.text
    assert "Left this month: €50.00." in case_page.text
    assert "by Someone unknown" in text_of(case_page.region("Conversation"))
    assert "mentions “refund” and “rude”" in case_page.text
    customer = shown(client, f"/customers/{case.customer_id}")
    reasons = [text_of(p) for p in customer.all(".survey-history p.survey-reason")]
    assert reasons == ["Already surveyed in the last 30 days."]
