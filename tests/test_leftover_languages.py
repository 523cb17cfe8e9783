"""What owners and admins still read outside the translated pages, in their own language: why an
answer needs the owner and what the customer bought (in the new-case email), the titles on the
email previews, and why the outbox refuses to retry or cancel a message."""

from __future__ import annotations

from sqlalchemy import select

from surveys.models import AuditEntry, Case
from tests.factories import make_customer, make_purchase, make_sent_survey, make_user
from tests.insights_data import make_insights_data
from tests.pages import page
from tests.test_admin_outbox import message_of, outbox  # noqa: F401 (a fixture)
from tests.web import csrf_token, log_in

COMPLAINT = "The courier was rude, the box arrived crushed and I want a refund"
THREE_ITEMS = [
    {"sku": "KB-1", "name": "Keyboard", "quantity": 1, "unit_price": "99.00"},
    {"sku": "MS-1", "name": "Mouse", "quantity": 1, "unit_price": "19.90"},
    {"sku": "CB-1", "name": "Cable", "quantity": 2, "unit_price": "5.50"},
]


def new_case_email(client, session, runner, fake_sendgrid, *, locale: str):
    """The new-case email the worker sends to an owner reading `locale`, after a customer who
    bought three things answered unhappily, in words that need the owner."""
    owner = make_user(session, email=f"owner-{locale}@shop.example", name="Olivia Owen")
    owner.locale = locale
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=owner)
    purchase = make_purchase(session, customer, order_id="A-77", items=THREE_ITEMS)
    _survey, token = make_sent_survey(session, customer, purchase=purchase)
    session.commit()
    client.post(
        f"/s/{token}",
        data={
            "csrf_token": csrf_token(client, f"/s/{token}"),
            "expectations": "meeting",
            "recommend": "4",
            "one_thing": COMPLAINT,
        },
    )
    assert session.scalars(select(Case)).one()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    [mail] = [m for m in fake_sendgrid.accepted if m.to_email == owner.email]
    return mail


def test_a_spanish_owner_reads_why_an_answer_needs_them_and_what_was_bought_in_spanish(
    client, session, runner, fake_sendgrid
):
    mail = new_case_email(client, session, runner, fake_sendgrid, locale="es")

    html = page(mail.html)
    assert "Te necesita: menciona «refund», «crushed» y «rude»." in html.text
    assert "Pedido A-77: Keyboard y 2 artículos más" in html.text
    assert "4 de 10" in html.text
    assert "(te necesita: menciona «refund», «crushed» y «rude»)" in mail.text
    assert "Pedido A-77: Keyboard y 2 artículos más" in mail.text
    assert "Needs you" not in mail.html and "needs you" not in mail.text
    assert " more" not in mail.text and "out of" not in mail.text


def test_an_english_owner_still_reads_the_english_words(client, session, runner, fake_sendgrid):
    mail = new_case_email(client, session, runner, fake_sendgrid, locale="en")

    assert "Needs you: it mentions “refund”, “crushed” and “rude”." in page(mail.html).text
    assert "Order A-77: Keyboard and 2 more" in mail.text
    assert "  4 out of 10" in mail.text
    assert "(needs you: it mentions “refund”, “crushed” and “rude”)" in mail.text


def test_the_email_previews_are_listed_in_the_admins_language(admin_client, session, admin):
    admin.locale = "es"
    session.commit()

    shown = page(admin_client.get("/admin/emails"))

    titles = [link.get_text(strip=True) for link in shown.all(".preview-list a")]
    assert "Al responsable: un caso nuevo" in titles
    assert "Encuesta (tras una compra)" in titles
    assert "Escalado: un plazo incumplido (no resuelto a tiempo)" in titles
    assert not any(title.startswith("To the") for title in titles)
    # Variants keep their order (after a purchase first), not the translation's alphabet.
    assert titles[:4] == [
        "Encuesta (tras una compra)",
        "Encuesta (comprobación de la solución: ¿funcionó?)",
        "Encuesta (revisión de la relación)",
        "Encuesta (enviada a mano)",
    ]
    # The owner's email previewed in Spanish says in Spanish why the made-up answer needs them.
    preview = admin_client.get("/admin/emails/owner_new_case/html?lang=es").get_data(as_text=True)
    assert "Te necesita: menciona «broken» y «nobody»." in preview
    assert "4 de 10" in preview


def test_arabic_email_previews_read_right_to_left_with_arabic_titles(admin_client, session, admin):
    admin.locale = "ar"
    session.commit()

    shown = page(admin_client.get("/admin/emails"))

    assert shown.one("html")["dir"] == "rtl"
    titles = [link.get_text(strip=True) for link in shown.all(".preview-list a")]
    assert "إلى المسؤول: حالة جديدة" in titles


def test_english_email_previews_keep_their_titles(admin_client):
    shown = page(admin_client.get("/admin/emails"))

    titles = [link.get_text(strip=True) for link in shown.all(".preview-list a")]
    assert "To the owner: a new case" in titles
    assert "Survey (after a purchase)" in titles


def test_a_spanish_admin_reads_why_the_outbox_refuses_in_spanish(
    admin_client,
    session,
    admin,
    outbox,  # noqa: F811
):
    admin.locale = "es"
    session.commit()
    sent = message_of(session, outbox["sent"])
    failed = message_of(session, outbox["failed"])

    retried = admin_client.post(
        f"/admin/outbox/{sent.id}/retry",
        follow_redirects=True,
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )
    cancelled = admin_client.post(
        f"/admin/outbox/{failed.id}/cancel",
        follow_redirects=True,
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )

    assert page(retried).flashes() == [
        "Solo se puede reintentar un mensaje fallido; este ya se ha enviado."
    ]
    assert page(cancelled).flashes() == [
        "Solo se puede cancelar un mensaje que espera a enviarse; este ha fallado."
    ]
    assert session.scalars(select(AuditEntry)).all() == []


def test_the_comment_feed_gives_scores_in_the_readers_words(client, session, clock):
    data = make_insights_data(session, clock.now())
    data.admin.locale = "es"
    session.commit()
    log_in(client, data.admin)

    feed = client.get("/admin/responses?group=detractor").get_data(as_text=True)

    assert any(f"{score} de 10" in feed for score in range(7))
    assert " out of 10" not in feed
