"""The admin's settings, email words, email previews, neglected customers and dashboard in the
admin's own language: labels, hints, validation and flash messages, dates and numbers; the email
previews in any shipped language; Arabic right to left; English as it always was."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from surveys.services import email_words
from surveys.services.customers.touchpoints import record_touchpoint
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_customer, make_user
from tests.pages import page
from tests.test_admin_settings import post_settings
from tests.web import csrf_token, log_in

PURCHASE_WORDS = "/admin/emails/words/survey.purchase"


@pytest.fixture
def admin_reading(session):
    """Log in an admin who reads `locale` (None: never chose, so the shop's English)."""

    def reading(client, locale: str | None):
        admin = make_user(session, role="admin", name="Alex Morgan")
        admin.locale = locale
        session.commit()
        log_in(client, admin)
        return admin

    return reading


def neglected_customer(session, clock, name: str):
    """Known for a year, one positive and one negative touch today: short of ten to one."""
    customer = make_customer(session, email=f"{name.split()[0].lower()}@example.com", name=name)
    customer.created_at = clock.now() - timedelta(days=365)
    for polarity in ("positive", "negative"):
        record_touchpoint(
            session, customer=customer, kind="call", polarity=polarity, now=clock.now()
        )
    return customer


# --- settings -------------------------------------------------------------------------------


def test_a_spanish_admin_reads_the_settings_page_in_spanish(client, session, admin_reading):
    admin_reading(client, "es")

    html = client.get("/admin/settings").get_data(as_text=True)
    shown = page(html)

    assert '<html lang="es" dir="ltr">' in html
    assert shown.one("h1").get_text() == "Ajustes"
    assert "Envío de encuestas" in shown.text
    assert shown.one("label[for=reminder_delay_hours]").get_text().strip() == (
        "Retraso del recordatorio (horas)"
    )
    hint = shown.by_id("survey_delay_minutes-hint").get_text()
    # Numbers written the Spanish way: 7 days of minutes is 10.080.
    assert "0 la envía enseguida" in hint and "De 0 a 10.080." in hint
    assert "Predeterminado: English." in shown.text  # a language is named in itself
    assert "Subir el logotipo" in shown.text


def test_settings_refused_and_saved_speak_spanish(client, session, admin_reading):
    admin_reading(client, "es")

    refused = post_settings(client, session, accent_colour="#ffff00", reminder_delay_hours="x")

    assert refused.status_code == 422
    text = page(refused).text
    assert "No se ha guardado nada: revisa lo que está marcado abajo." in text
    assert "El texto blanco sobre #ffff00 tiene un contraste de 1,1 a 1" in text
    assert "necesita al menos 4,5 a 1 para leerse bien. Elige un color más oscuro." in text
    assert "Escribe un número entero." in text

    saved = post_settings(client, session, reminder_delay_hours="24", sender_name="Marta")
    assert saved.status_code == 302
    flashed = page(client.get(saved.headers["Location"])).text
    # The names of the settings joined as Spanish joins a list.
    assert "Guardado: Retraso del recordatorio (horas) y Nombre del remitente." in flashed


def test_a_refused_logo_is_explained_in_spanish(client, session, admin_reading):
    admin_reading(client, "es")

    response = client.post(
        "/admin/settings/logo",
        data={
            "csrf_token": csrf_token(client, "/admin/settings"),
            "logo": (io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"/>'), "logo.svg"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "No aceptamos logotipos SVG: un SVG puede llevar scripts." in page(response).text


# --- the words of customer emails -------------------------------------------------------------


def test_the_email_words_editor_speaks_spanish_and_refuses_an_unknown_placeholder_in_spanish(
    client, session, admin_reading
):
    admin_reading(client, "es")

    listed = page(client.get("/admin/emails/words"))
    assert "Las palabras de los correos a clientes" in listed.text
    assert "Encuesta: tras una compra" in listed.text

    editor = page(client.get(f"{PURCHASE_WORDS}?locale=en"))
    assert editor.one("h1").get_text() == "Encuesta: tras una compra"
    assert editor.one("label[for=subject]").get_text().strip() == "Asunto"
    assert "Guardar estas palabras" in editor.text
    assert "el nombre de la tienda" in editor.text  # what {{ shop_name }} stands for

    words = dict(email_words.WORDED_EMAILS["survey.purchase"].defaults)
    words["subject"] = "Hola {{ apodo }}"
    refused = client.post(
        f"{PURCHASE_WORDS}?locale=en",
        data={**words, "csrf_token": csrf_token(client, f"{PURCHASE_WORDS}?locale=en")},
    )

    assert refused.status_code == 422
    text = page(refused).text
    assert "Este correo no tiene el marcador {{ apodo }}. Conoce: {{ first_name }}" in text
    assert "No se ha guardado nada" in text


def test_arabic_words_are_edited_right_to_left_inside_an_english_page(
    client, session, admin_reading
):
    admin_reading(client, None)

    html = client.get(f"{PURCHASE_WORDS}?locale=ar").get_data(as_text=True)
    editor = page(html)

    assert '<html lang="en" dir="ltr">' in html
    assert editor.one("#subject")["dir"] == "rtl" and editor.one("#subject")["lang"] == "ar"
    # The frame shows the email as it goes out in Arabic now.
    assert "lang=ar" in editor.one("iframe[sandbox]")["src"]


# --- email previews ---------------------------------------------------------------------------


def test_the_email_previews_speak_spanish_and_offer_every_language(client, session, admin_reading):
    admin_reading(client, "es")

    listed = page(client.get("/admin/emails"))

    assert listed.one("h1").get_text() == "Vista previa de correos"
    assert "A clientes" in listed.text and "Al equipo" in listed.text
    languages = listed.one("nav.preview-languages")
    assert [link.get_text() for link in languages.find_all("a")] == [
        "English",
        "Español",
        "Français",
        "Deutsch",
        "Português (Brasil)",
        "Italiano",
        "Nederlands",
        "العربية",
    ]
    # Until one is chosen, each email is shown in its usual language.
    assert languages.select_one("[aria-current]") is None
    chosen = page(client.get("/admin/emails?lang=fr"))
    assert chosen.one("nav.preview-languages [aria-current]").get_text() == "Français"
    assert all("lang=fr" in link["href"] for link in chosen.all("ul.preview-list a"))


def test_a_customer_email_previews_in_the_language_chosen(client, session, admin_reading):
    admin_reading(client, "es")

    shown = page(client.get("/admin/emails/survey?variant=purchase&lang=de"))

    assert shown.one("nav.preview-languages [aria-current]").get_text() == "Deutsch"
    assert shown.one("pre.email-text")["lang"] == "de"
    assert "Datos de ejemplo: Ana Diaz" in shown.text  # the page around it stays Spanish
    assert "Asunto" in shown.one("dl.email-headers").get_text()
    frame = shown.one("iframe[sandbox]")["src"]
    assert "lang=de" in frame
    html = client.get(frame).get_data(as_text=True)
    assert "Ana, wie gefällt Ihnen" in shown.one("dl.email-headers").get_text()
    assert '<html lang="de"' in html
    assert "Herzliche Grüße" in html  # the default signature, in German


def test_a_team_email_previews_in_the_language_chosen(client, session, admin_reading):
    admin_reading(client, None)

    english = page(client.get("/admin/emails/owner_new_case")).one("pre.email-text").get_text()
    arabic = page(client.get("/admin/emails/owner_new_case?lang=ar"))

    assert arabic.one("pre.email-text")["dir"] == "rtl"
    assert arabic.one("pre.email-text").get_text() != english
    assert "Email previews" in arabic.text  # the page itself stays in the admin's English


def test_a_language_we_do_not_ship_is_ignored_in_the_preview(client, session, admin_reading):
    admin_reading(client, None)

    shown = page(client.get("/admin/emails/survey?variant=purchase&lang=xx"))

    assert shown.one("nav.preview-languages [aria-current]").get_text() == "English"


# --- neglected customers ----------------------------------------------------------------------


def test_the_neglected_customers_read_spanish_with_spanish_dates(
    client, session, clock, admin_reading
):
    chosen = neglected_customer(session, clock, "Ratio Short")
    recent = neglected_customer(session, clock, "Recently Asked")
    schedule_survey(
        session,
        customer=recent,
        kind="purchase",
        question_set=get_question_set(session, "heart-to-heart"),
        now=clock.now() - timedelta(days=3),
    )
    admin_reading(client, "es")

    shown = page(client.get("/admin/neglected"))

    assert shown.one("h1").get_text() == "Clientes que necesitan atención"
    assert "2 clientes" in shown.text
    assert "positivos: 1, negativos: 1 · faltan 9 para 10 a 1" in shown.text
    assert "Se puede invitar a partir del 20 dic 2026" in shown.text

    token = csrf_token(client, "/admin/neglected")
    invited = client.post(
        "/admin/neglected/invite",
        data={"customer_ids": [str(chosen.id), str(recent.id)], "csrf_token": token},
    )
    flashed = page(client.get(invited.headers["Location"])).text
    assert "Se ha invitado a 2 clientes a una revisión de la relación." in flashed
    assert "1 recibió una encuesta hace poco: la invitación espera y sale el 20 dic 2026" in flashed


def test_an_arabic_admin_reads_the_neglected_customers_right_to_left(
    client, session, clock, admin_reading
):
    neglected_customer(session, clock, "Ratio Short")
    admin_reading(client, "ar")

    html = client.get("/admin/neglected").get_data(as_text=True)

    assert '<html lang="ar" dir="rtl">' in html
    assert "عملاء يحتاجون إلى بعض الاهتمام" in html


def test_an_admin_who_never_chose_a_language_reads_english(client, session, clock, admin_reading):
    neglected_customer(session, clock, "Ratio Short")
    admin_reading(client, None)

    settings = page(client.get("/admin/settings"))
    neglected = page(client.get("/admin/neglected"))
    previews = page(client.get("/admin/emails"))
    words = page(client.get(f"{PURCHASE_WORDS}?locale=es"))
    dashboard = page(client.get("/admin/dashboard"))

    assert "Reminder delay (hours)" in settings.text and "From 0 to 10,080." in settings.text
    assert "1 positive, 1 negative · 9 short of 10 to 1" in neglected.text
    assert "To customers" in previews.text and "Preview in:" in previews.text
    assert "Survey: after a purchase" in words.text and "Save these words" in words.text
    assert "How we are doing" in dashboard.text


# --- the dashboard and gesture allowances ---------------------------------------------------


def test_the_dashboard_speaks_the_admins_language(client, session, admin_reading):
    admin_reading(client, "de")

    shown = page(client.get("/admin/dashboard"))

    assert shown.one("h1").get_text() == "Wo wir stehen"
    assert "überfällige Fälle" in shown.stats()
    assert "Das Gespräch gestalten" in shown.text


def test_a_gesture_allowance_is_confirmed_in_the_admins_language_and_money(
    client, session, admin_reading
):
    owner = make_user(session, role="owner", name="Olivia Bennett")
    admin_reading(client, "es")

    saved = client.post(
        f"/admin/users/{owner.id}/gesture-allowance",
        data={"allowance": "50", "csrf_token": csrf_token(client, "/admin/users")},
    )
    flashed = page(client.get(saved.headers["Location"])).text

    assert "Olivia Bennett puede gastar 50,00 US$ al mes en detalles." in flashed
