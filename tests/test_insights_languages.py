"""The insight pages and the owners' own emails in the reader's language.

An owner or admin who chose Dutch on /account/settings reads the dashboard and the comment
feed in Dutch, with Dutch numbers and dates, and their refusals in Dutch; Arabic reads right to
left. The worker writes the five owner emails (a case handed over, a customer who unsubscribed
and then said why, a date coming up, the weekly digest) in the language of the person they go
to, with their dates written that way; an owner who chose nothing still reads English.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from surveys.services.cases.actions import reassign_case
from tests.factories import make_case, make_customer, make_sent_survey, make_user
from tests.insights_data import make_insights_data
from tests.journey import run_worker
from tests.pages import page, text_of
from tests.test_remembered_dates import add_date
from tests.web import log_in

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def mails_of(fake_sendgrid, template: str, to: str) -> list:
    return [
        mail
        for mail in fake_sendgrid.accepted
        if mail.categories == [template] and mail.to_email == to
    ]


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def data(session, clock):
    return make_insights_data(session, clock.now())


def test_a_dutch_admin_reads_the_dashboard_in_dutch_with_dutch_numbers(client, session, data):
    data.admin.locale = "nl"
    session.commit()
    log_in(client, data.admin)

    shown = page(client.get("/admin/dashboard"))

    assert '<html lang="nl" dir="ltr">' in shown.html
    assert text_of(shown.by_id("insight-filters-title")) == "Welke antwoorden"
    assert text_of(shown.one("label[for=filter-category]")) == "Artikelcategorie"
    assert text_of(shown.one("label[for=filter-question_set]")) == "Vragenset"
    assert text_of(shown.by_id("charts-title")) == "In de loop van de tijd"
    stats = shown.stats()
    assert stats["verstuurde enquêtes"] == "8"
    assert stats["responspercentage"] == "75%"
    assert stats["NPS"] == "-17"
    assert stats["bevestigd binnen (mediaan)"] == "4,0 u"  # a decimal comma
    assert stats["opgelost binnen (90% van de zaken)"] == "2,4 dagen"
    assert stats["positief per negatief"] == "8,0:1"
    assert stats["verwaarloosde klanten nu"] == "2"
    # The figures keep their names whatever the language, for links and tests alike.
    net = shown.one('[data-figure="net score"]')
    assert "daarvoor: +100" in net.get_text()
    assert "NPS per week" in shown.text or "NPS per maand" in shown.text
    assert text_of(shown.by_id("themes-title")) == "Waar klanten over schrijven"


def test_a_dutch_owner_reads_their_own_dashboard_and_its_refusals_in_dutch(client, session, data):
    data.owner_a.locale = "nl"
    session.commit()
    log_in(client, data.owner_a)

    refused = client.get("/dashboard?from=2026-13-01&to=2026-11-01")

    assert refused.status_code == 400
    shown = page(refused)
    assert shown.field_errors("from") == [
        "Geef de eerste dag op als datum, JJJJ-MM-DD, vanaf 2000."
    ]
    assert "Deze filters konden niet worden toegepast" in shown.text


def test_the_dutch_comment_feed_writes_its_dates_the_dutch_way(client, session, clock):
    owner = make_user(session, name="Olive Owner")
    owner.locale = "nl"
    customer = make_customer(session, name="Ana Diaz", owner=owner)
    make_case(
        session,
        owner=owner,
        customer=customer,
        now=clock.now() - timedelta(days=1),
        answers={"expectations": "short", "one_thing": "Late delivery, box crushed"},
    )
    session.commit()
    log_in(client, owner)

    shown = page(client.get("/dashboard/responses"))

    assert text_of(shown.one("h1")) == "Wat klanten ons vertelden"
    assert text_of(shown.one("label[for=feed-q]")) == "Zoeken"
    assert text_of(shown.one("label[for=feed-theme]")) == "Thema"
    item = shown.one(".feed-item")
    # Sunday 22 November, 09:00 UTC, as a Dutch reader writes it.
    assert text_of(item.select_one("time")) == "22 nov 2026, 09:00 UTC"
    assert "Negatief" in text_of(item)
    assert "Zaak #" in text_of(item)
    assert "Late delivery, box crushed" in text_of(item)  # the customer's words stay theirs

    refused = client.get("/dashboard/responses?negative=maybe")
    assert refused.status_code == 400
    assert "‘negative’ moet 1 zijn of weggelaten worden." in page(refused).text


def test_an_arabic_admin_reads_the_dashboard_and_feed_right_to_left(client, session, data):
    data.admin.locale = "ar"
    session.commit()
    log_in(client, data.admin)

    dashboard = page(client.get("/admin/dashboard"))
    feed = page(client.get("/admin/responses"))

    assert '<html lang="ar" dir="rtl">' in dashboard.html
    assert text_of(dashboard.by_id("insight-filters-title")) == "أي الإجابات"
    assert '<html lang="ar" dir="rtl">' in feed.html
    assert text_of(feed.one("h1")) == "ما قاله لنا العملاء"


def test_an_english_reader_still_reads_english(client, session, data):
    log_in(client, data.admin)

    shown = page(client.get("/admin/dashboard"))

    assert text_of(shown.by_id("insight-filters-title")) == "Which answers"
    assert shown.stats()["acknowledged in (median)"] == "4.0 h"
    assert text_of(page(client.get("/admin/responses")).one("h1")) == "What customers told us"


# --- the emails -----------------------------------------------------------------------------


def test_a_case_handed_to_a_spanish_owner_tells_them_in_spanish(
    session, clock, runner, fake_sendgrid
):
    olivia = make_user(session, name="Olivia Bennett", email="olivia@shop.example")
    lucia = make_user(session, name="Lucía García", email="lucia@shop.example")
    lucia.locale, lucia.time_zone = "es", "Europe/Madrid"
    customer = make_customer(session, name="Ana Diaz", owner=olivia)
    case = make_case(session, owner=olivia, customer=customer, now=clock.now())
    reassign_case(
        session,
        case,
        new_owner=lucia,
        reason="Lucía handles returns.",
        now=clock.now(),
        by_user=olivia,
    )
    session.commit()

    run_worker(runner)

    [mail] = mails_of(fake_sendgrid, "case_reassigned_owner", "lucia@shop.example")
    assert mail.subject == f"Ahora llevas tú a Ana Diaz: caso n.º {case.id}"
    assert mail.text.startswith("Hola, Lucía:")
    assert "El caso de Ana Diaz ahora es tuyo: te lo ha pasado Olivia Bennett." in mail.text
    assert 'Motivo: "Lucía handles returns."' in mail.text  # their words as written
    # Four hours from Monday 09:00 UTC: 14:00 in Madrid, the Spanish way.
    assert "Confírmalo antes del 23 nov 2026, 14:00 CET." in mail.text
    assert "Abrir el caso" in mail.html


def test_a_spanish_owner_hears_in_spanish_that_a_customer_left_and_why(
    client, session, clock, runner, fake_sendgrid
):
    lucia = make_user(session, name="Lucía García", email="lucia@shop.example")
    lucia.locale = "es"
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=lucia)
    _survey, token = make_sent_survey(session, customer, sent_at=clock.now())
    session.commit()

    client.post(f"/u/{token}", data=ONE_CLICK)
    clock.advance(minutes=11)
    run_worker(runner)
    client.post(f"/u/{token}/why", data={"reason": "too_often"})
    run_worker(runner)

    [left] = mails_of(fake_sendgrid, "customer_unsubscribed", "lucia@shop.example")
    assert left.subject == "Ana Diaz se ha dado de baja de nuestras encuestas"
    assert (
        "Ana Diaz (ana@example.com) se dio de baja de nuestras encuestas el 23 nov 2026, "
        "9:00 UTC." in left.text
    )
    assert "No dijo por qué." in left.text
    [why] = mails_of(fake_sendgrid, "customer_said_why", "lucia@shop.example")
    assert why.subject == "Ana Diaz nos dijo por qué se dio de baja"
    assert "Recibía demasiados correos" in why.text  # the reason she chose, in Spanish
    assert "Abrir su página" in why.html


def test_a_date_coming_up_reaches_a_spanish_owner_in_spanish(
    client, session, clock, runner, fake_sendgrid
):
    lucia = make_user(session, name="Lucía García", email="lucia@shop.example")
    lucia.locale = "es"
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=lucia)
    session.commit()
    log_in(client, lucia)
    add_date(client, customer, label="Cumpleaños", day="25", month="11")

    run_worker(runner)

    [reminder] = mails_of(fake_sendgrid, "date_coming_up", "lucia@shop.example")
    assert reminder.subject == "Cumpleaños de Ana Diaz: dentro de 2 días"
    assert (
        "Se acerca una fecha importante para Ana Diaz: Cumpleaños, el 25 de noviembre de 2026 "
        "(dentro de 2 días)." in reminder.text
    )
    assert "Una sugerencia: Una llamada solo para decirle" in reminder.text
    assert "Abrir su perfil" in reminder.html


@pytest.mark.parametrize(
    ("language", "subject", "period"),
    [
        (
            "es",
            "La semana pasada con tus clientes: ninguna respuesta de 0 a 10, 0 respuestas",
            "del lunes 16 al domingo 22 de noviembre (hora de UTC).",
        ),
        (
            "ar",
            "الأسبوع الماضي مع عملائك: لا إجابات من 0 إلى 10، لا ردود",
            "من الاثنين 16 إلى الأحد 22 نوفمبر (بتوقيت UTC).",
        ),
        (
            None,
            "Last week with your customers: no 0–10 answers, 0 responses",
            "Monday 16 to Sunday 22 November (UTC time).",
        ),
    ],
)
def test_the_weekly_digest_comes_in_the_owners_language(
    session, clock, runner, fake_sendgrid, language, subject, period
):
    owner = make_user(session, name="Lucía García", email="lucia@shop.example")
    owner.locale, owner.time_zone = language, "UTC"
    owner.created_at = datetime(2026, 10, 1, tzinfo=UTC)
    session.commit()
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))

    run_worker(runner)

    [digest] = mails_of(fake_sendgrid, "weekly_digest", "lucia@shop.example")
    assert digest.subject == subject
    assert period in digest.text
    direction = "rtl" if language == "ar" else "ltr"
    assert f'dir="{direction}"' in digest.html
