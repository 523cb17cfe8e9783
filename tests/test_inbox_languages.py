"""The inbox and a customer's page speak the language their reader chose on /account/settings:
headings, filters, buttons, dates and numbers, and what a refused or accepted form says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.models import CustomerNote
from surveys.services.occasions.dates import DateInput, record_date
from tests.factories import make_case, make_customer, make_purchase, make_user
from tests.pages import page, text_of
from tests.web import csrf_token, log_in


@pytest.fixture
def owner(session):
    return make_user(session, email="olivia@shop.example", name="Olivia Bennett")


@pytest.fixture
def ana(session, owner, clock):
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz", owner=owner)
    make_purchase(
        session,
        customer,
        order_id="A-1001",
        total="1234.50",
        purchased_at=datetime(2026, 10, 5, 15, 0, tzinfo=UTC),
        items=[{"sku": "KB-1", "name": "Walnut keyboard", "quantity": 1}],
    )
    birthday = DateInput(label="Cumpleaños", day=1, month=12)
    record_date(session, customer, birthday, now=clock.now(), by_user=owner)
    session.add(CustomerNote(customer_id=customer.id, author_id=owner.id, body="Loves walnut."))
    make_case(
        session, owner=owner, customer=customer, now=datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    )
    session.commit()
    return customer


def reading(session, client, user, locale: str | None):
    user.locale = locale
    session.commit()
    log_in(client, user)


def test_a_spanish_owner_reads_the_inbox_in_spanish(client, session, clock, owner, ana):
    reading(session, client, owner, "es")

    shown = page(client.get("/inbox"))

    assert '<html lang="es" dir="ltr">' in shown.html
    assert shown.one("h1").get_text(strip=True) == "Tus casos"
    filters = [text_of(a) for a in shown.all(".inbox-filters a")]
    assert filters[:3] == ["Todos los abiertos 1", "Me necesitan 1", "Esperando al cliente 0"]
    assert "Busca por nombre, correo electrónico o número de pedido" in shown.text
    assert "Buscar" in shown.buttons()
    assert "1 caso, el más urgente primero." in shown.text
    # A date of the next 30 days, in Spanish words.
    coming_up = text_of(shown.region("Próximamente"))
    assert "1 de diciembre" in coming_up and "en 8 días" in coming_up


def test_a_spanish_owner_reads_a_customer_page_in_spanish(client, session, clock, owner, ana):
    reading(session, client, owner, "es")

    shown = page(client.get(f"/customers/{ana.id}"))

    assert shown.one("h2#touchpoints-title").get_text(strip=True) == "Contactos"
    for heading in ("Casos", "Encuestas y respuestas", "Compras", "Fechas importantes"):
        assert heading in [h.get_text(strip=True) for h in shown.all("h2")], heading
    assert "Recordar esto" in shown.buttons()
    assert "Recordar esta fecha" in shown.buttons()
    # Dates and money as a Spanish reader writes them.
    assert "5 oct 2026" in shown.text
    assert "1234,50 €" in shown.text or "1.234,50 €" in shown.text
    assert "Cumpleaños · 1 de diciembre, cada año" in shown.text
    assert "próxima: 1 de diciembre de 2026" in shown.text
    months = shown.options("month")
    assert months["6"] == "junio"


def test_a_spanish_owner_is_told_in_spanish_what_is_wrong_and_what_was_done(
    client, session, clock, owner, ana
):
    reading(session, client, owner, "es")
    profile = f"/customers/{ana.id}"

    refused = client.post(
        f"/customers/{ana.id}/dates",
        data={"csrf_token": csrf_token(client, profile), "label": "", "day": "1", "month": "4"},
    )
    assert refused.status_code == 422
    assert page(refused).field_errors("label") == [
        "Di qué fecha es, como «graduación de Emma» o «cumpleaños»."
    ]
    no_such_day = client.post(
        f"/customers/{ana.id}/dates",
        data={
            "csrf_token": csrf_token(client, profile),
            "label": "Boda",
            "day": "31",
            "month": "4",
        },
    )
    assert no_such_day.status_code == 422
    assert page(no_such_day).field_errors("day") == ["Abril tiene 30 días."]

    remembered = client.post(
        f"/customers/{ana.id}/dates",
        data={
            "csrf_token": csrf_token(client, profile),
            "label": "Graduación de Emma",
            "day": "12",
            "month": "6",
            "year": "2027",
        },
        follow_redirects=True,
    )
    assert page(remembered).flashes() == ["Recordado: Graduación de Emma, 12 de junio de 2027."]

    empty_note = client.post(
        f"/customers/{ana.id}/notes",
        data={"csrf_token": csrf_token(client, profile), "body": ""},
    )
    assert empty_note.status_code == 422
    assert page(empty_note).field_errors("body") == ["Escribe lo que quieres que todos recuerden."]

    noted = client.post(
        f"/customers/{ana.id}/notes",
        data={"csrf_token": csrf_token(client, profile), "body": "Su hija se gradúa en junio."},
        follow_redirects=True,
    )
    assert page(noted).flashes() == [
        "Anotado. Todas las personas que atiendan a Ana Diaz lo verán."
    ]


def test_an_arabic_owner_reads_right_to_left(client, session, clock, owner, ana):
    reading(session, client, owner, "ar")

    inbox = client.get("/inbox").get_data(as_text=True)
    profile = page(client.get(f"/customers/{ana.id}"))

    assert '<html lang="ar" dir="rtl">' in inbox
    assert "حالاتك" in inbox
    assert '<html lang="ar" dir="rtl">' in profile.html
    assert profile.one("h2#touchpoints-title").get_text(strip=True) == "نقاط التواصل"


def test_an_english_owner_still_reads_english(client, session, clock, owner, ana):
    reading(session, client, owner, None)

    inbox = page(client.get("/inbox"))
    profile = page(client.get(f"/customers/{ana.id}"))

    assert '<html lang="en" dir="ltr">' in inbox.html
    assert inbox.one("h1").get_text(strip=True) == "Your cases"
    assert "1 case, the most pressing first." in inbox.text
    assert "1 December" in text_of(inbox.region("Coming up"))
    assert "Cumpleaños · 1 December, every year" in profile.text
    assert "next 1 December 2026" in profile.text
    assert "5 Oct 2026" in profile.text
    assert profile.options("month")["6"] == "June"


def test_why_a_customer_is_not_surveyed_is_said_in_the_readers_language(
    client, session, clock, owner, ana
):
    ana.suppressed_at = clock.now()
    ana.suppression_reason = "reported our email as spam"
    reading(session, client, owner, "fr")

    shown = page(client.get(f"/customers/{ana.id}"))

    assert text_of(shown.one(".badge-inactive")) == (
        "plus sondé : a signalé notre e-mail comme spam"
    )
