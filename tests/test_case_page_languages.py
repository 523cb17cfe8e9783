"""The case page speaks its reader's language: an owner who chose Spanish on their settings
page reads the headings, buttons, dates, the next step and its deadline, validation errors
and the message after an action in Spanish; Arabic reads right to left; an owner who chose
nothing still reads English. The customer's own words and stored lines are shown as written.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from surveys.humanize import duration_words
from surveys.models import CaseEvent
from tests.factories import make_case, make_user
from tests.pages import Page, page, text_of
from tests.test_waiting_for_owner import unhappy_answer
from tests.web import csrf_token, csrf_token_from, log_in


@pytest.fixture
def owner(session):
    return make_user(session, name="Olivia Owen", email="olivia@shop.example")


def case_page(client, case_id: int) -> Page:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return page(response)


def act(client, case_id: int, action: str, **data):
    token = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/{action}", data={**data, "csrf_token": token})


def test_a_spanish_owner_reads_the_case_page_in_spanish(client, session, owner, clock):
    owner.locale = "es"
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)

    shown = case_page(client, case.id)

    assert '<html lang="es" dir="ltr">' in shown.html
    # The next step, with its deadline counted and dated in Spanish.
    assert text_of(shown.one("#next-step-title")) == (
        "Nuevo: confírmalo antes del 23 nov 2026, 13:00 UTC"
    )
    assert text_of(shown.one(".case-due")).startswith("Confirmar: vence en 4 horas")
    assert f"Caso {case.id} · abierto el 23 nov 2026, 9:00 UTC" in shown.text
    for heading in ("Conversación", "Siguiente paso", "Nota interna", "Cliente", "Compra"):
        assert heading in [text_of(h) for h in shown.all("h2")]
    buttons = [text_of(b) for b in shown.all("button")]
    assert {"Confirmar", "Enviar respuesta", "Marcar como resuelto", "Añadir nota"} <= set(buttons)
    assert "Lo que entendí" in shown.text  # a form label, from the form class
    assert "Dentro de 3 días" in shown.text  # the choices of when to ask, counted in Spanish
    assert ">abierto</span>" in shown.html  # the status badge
    assert "Case opened" not in shown.text and "Next step" not in shown.text


def test_a_spanish_owner_gets_validation_errors_and_messages_in_spanish(
    client, session, owner, clock
):
    owner.locale = "es"
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)

    refused = act(client, case.id, "notes", body="   ")
    assert refused.status_code == 422
    assert page(refused).field_errors("body", page(refused).form(f"/cases/{case.id}/notes")) == [
        "Escribe la nota."
    ]

    # What the service refuses (the state of the case) comes in Spanish too.
    unresolved = act(client, case.id, "resolve", resolution="", ask_in_days="0")
    assert "Di qué hiciste para solucionarlo." in page(unresolved).text

    taken = client.post(
        f"/cases/{case.id}/acknowledge",
        data={"csrf_token": csrf_token(client, f"/cases/{case.id}")},
        follow_redirects=True,
    )
    done = text_of(page(taken).one("#done"))
    assert done.startswith("Ahora es tuyo. A ")
    assert done.endswith(" le alegrará saber de ti.")

    again = act(client, case.id, "acknowledge")
    assert again.status_code == 409
    assert "Olivia Owen ya confirmó este caso." in page(again).text


def test_a_spanish_owner_reads_the_resolve_message_counted_in_spanish(
    client, session, owner, clock
):
    owner.locale = "es"
    case = make_case(session, owner=owner, status="acknowledged", now=clock.now())
    session.commit()
    log_in(client, owner)

    resolved = client.post(
        f"/cases/{case.id}/resolve",
        data={
            "csrf_token": csrf_token(client, f"/cases/{case.id}"),
            "resolution": "Te enviamos uno nuevo.",
            "ask_in_days": "2",
        },
        follow_redirects=True,
    )

    shown = page(resolved)
    assert "Le preguntaremos si funcionó dentro de 2 días." in text_of(shown.one("#done"))
    assert text_of(shown.one("#next-step-title")) == (
        "Resuelto: preguntaremos si la solución funcionó dentro de 2 días"
    )


def test_an_arabic_owner_reads_the_case_page_right_to_left(client, session, owner, clock):
    owner.locale = "ar"
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)

    shown = case_page(client, case.id)

    assert '<html lang="ar" dir="rtl">' in shown.html
    assert "المحادثة" in [text_of(h) for h in shown.all("h2")]
    assert "تأكيد الاستلام" in [text_of(b) for b in shown.all("button")]


def test_an_owner_who_chose_no_language_still_reads_english(client, session, owner, clock):
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    log_in(client, owner)

    shown = case_page(client, case.id)

    assert '<html lang="en" dir="ltr">' in shown.html
    assert text_of(shown.one("#next-step-title")) == "New: acknowledge by 23 Nov 2026, 13:00 UTC"
    assert text_of(shown.one(".case-due")).startswith("Acknowledge: due in 4 hours")
    assert {"Acknowledge", "Send reply", "Mark as resolved", "Add note"} <= {
        text_of(b) for b in shown.all("button")
    }
    refused = act(client, case.id, "notes", body="   ")
    assert page(refused).field_errors("body", page(refused).form(f"/cases/{case.id}/notes")) == [
        "Write the note."
    ]


def test_durations_are_counted_in_the_readers_language_and_english_stays_as_it_was(app):
    with app.test_request_context(), force_locale("es"):
        assert duration_words(timedelta(hours=3).total_seconds()) == "3 horas"
        with force_locale("en"):
            assert duration_words(timedelta(hours=3).total_seconds()) == "3 hours"


def test_a_spanish_admin_giving_a_waiting_case_an_owner_leaves_its_stored_line_in_english(
    client, session, clock
):
    # The timeline's stored lines are data, written once in English whoever's request wrote
    # them; the page around them is what follows the reader's language.
    case = unhappy_answer(session, clock)
    admin = make_user(session, role="admin")
    admin.locale = "es"
    olivia = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    session.commit()
    clock.advance(hours=30)
    log_in(client, admin)

    routing = client.get("/admin/routing").get_data(as_text=True)
    response = client.post(
        "/admin/routing/default-owner",
        data={"owner_id": str(olivia.id), "csrf_token": csrf_token_from(routing)},
    )

    assert response.status_code == 302
    body = session.scalar(
        select(CaseEvent.body).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "owner_assigned"
        )
    )
    assert "after waiting 1 day for an owner" in body
    shown = case_page(client, case.id)
    assert "Se le asignó un responsable por Heart to Heart" in shown.text


def test_a_spanish_owner_reads_why_an_answer_is_negative_in_spanish(client, session, owner, clock):
    owner.locale = "es"
    case = make_case(session, owner=owner, now=clock.now())
    [written] = [a for a in case.response.answers if a.question.type == "text"][:1]
    written.value = "Quiero un refund, fue rude."
    written.negative, written.negative_words = True, ["refund", "crushed", "rude"]
    session.commit()
    log_in(client, owner)

    shown = case_page(client, case.id)

    because = text_of(shown.one(".answer.negative .negative-because"))
    assert because == "Negativa porque menciona «refund», «crushed» y «rude»."
    assert "4 de 10" in shown.text  # the score, as the reader says it
