"""Slack and Teams messages are read by the whole team: they are written in the shop's default
language (the `default_language` setting), whoever or whatever made the change, with the dates
as that language writes them; the customer's own words stay as they wrote them. An English shop
reads what it always read."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import force_locale
from sqlalchemy import select

from surveys.models import OutboxMessage
from surveys.services.chat_channels.notify import week_words
from surveys.services.settings import set_setting
from tests.journey import run_worker
from tests.test_admin_chat_channels import act
from tests.test_chat_channels import (
    WORDS,
    add_channel,
    assert_slack_shape,
    open_a_case,
    people,  # noqa: F401 (a fixture)
    slack_context,
    slack_words,
    teams_card,
)


def spanish_shop(session) -> None:
    set_setting(session, "default_language", "es")
    session.commit()


def test_a_spanish_shops_slack_and_teams_hear_of_a_new_case_in_spanish(
    client,
    session,
    runner,
    fake_sendgrid,
    people,  # noqa: F811
    webhook_receiver,
):
    spanish_shop(session)
    add_channel(session, webhook_receiver.url_for(), events=["case_opened"])
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["case_opened"])

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    slack, teams = (request.json for request in webhook_receiver.requests)
    assert_slack_shape(slack)
    assert slack_words(slack).startswith(f"> {WORDS}")  # the customer's words, as they wrote them
    assert slack["blocks"][1]["text"]["text"] == f"*Se abrió el caso n.º {case.id}*"
    context = slack_context(slack)
    assert "*Puntuación:* 4 de 10" in context
    assert "*Responsable:* Olivia Bennett" in context
    assert "*Estado:* abierto" in context
    assert context[-1] == f"<http://surveys.test/cases/{case.id}|Abrir el caso n.º {case.id}>"
    # The customer's words in the quotation marks Spanish uses.
    assert slack["text"].startswith(f"«{WORDS}")
    assert slack["text"].endswith(f"» — Se abrió el caso n.º {case.id}")

    card = teams_card(teams)
    assert card["body"][0]["text"].startswith(f"«{WORDS}") and card["body"][0]["text"][-1] == "»"
    assert card["body"][1]["text"] == f"Se abrió el caso n.º {case.id}"
    assert teams["summary"].endswith(f"» — Se abrió el caso n.º {case.id}")
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Responsable"] == "Olivia Bennett" and facts["Estado"] == "abierto"
    assert card["actions"][0]["title"] == f"Abrir el caso n.º {case.id}"
    assert "Case #" not in str(slack) + str(teams)


def test_a_spanish_shops_weekly_summary_is_in_spanish_with_a_spanish_date(
    client,
    session,
    runner,
    clock,
    fake_sendgrid,
    people,  # noqa: F811
    webhook_receiver,
):
    spanish_shop(session)
    open_a_case(client, session, runner, fake_sendgrid, people)  # Monday 23 Nov
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["weekly_summary"])
    add_channel(
        session, webhook_receiver.url_for(), events=["weekly_summary"], owner=people["owner"]
    )
    clock.set(datetime.fromisoformat("2026-11-30T08:00:00+00:00"))
    run_worker(runner)

    teams, slack = (request.json for request in webhook_receiver.requests)
    card = teams_card(teams)
    assert (
        card["body"][0]["text"]
        == "La semana pasada en Heart to Heart: 23 de noviembre – 29 de noviembre de 2026"
    )
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts == {
        "Respuestas": "1",
        "Negativas": "1",
        "Casos abiertos": "1",
        "Casos cerrados": "0",
        "Abiertos ahora": "1",
        "Con retraso ahora": "1",
    }
    assert card["actions"][0]["title"] == "Abrir el panel"
    assert slack["blocks"][0]["text"]["text"] == (
        "*La semana pasada en los casos de Olivia Bennett:"
        " 23 de noviembre – 29 de noviembre de 2026*"
    )


def test_a_spanish_shops_test_message_is_in_spanish(admin_client, session, webhook_receiver):
    spanish_shop(session)
    channel = add_channel(session, webhook_receiver.url_for(), events=["case_opened"])

    act(admin_client, channel, "test")

    [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "chat.test"))
    body = message.payload
    assert body["blocks"][0]["text"]["text"] == (
        "> Aquí aparecen primero las palabras del propio cliente."
    )
    assert body["blocks"][1]["text"]["text"] == (
        "*Heart to Heart publicará aquí. Este es un mensaje de prueba.*"
    )
    assert "*Publica:* casos abiertos" in slack_context(body)
    assert "*Casos de:* todos" in slack_context(body)


def test_an_english_shop_reads_english_whoever_makes_the_change(
    client,
    session,
    runner,
    fake_sendgrid,
    people,  # noqa: F811
    webhook_receiver,
):
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["case_opened"])

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    card = teams_card(webhook_receiver.requests[0].json)
    assert card["body"][1]["text"] == f"Case #{case.id} opened"
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts == {"Score": "4 out of 10", "Owner": "Olivia Bennett", "Status": "open"}
    assert card["actions"][0]["title"] == f"Open case #{case.id}"


def test_a_german_shop_quotes_the_customer_as_german_does(
    client,
    session,
    runner,
    fake_sendgrid,
    people,  # noqa: F811
    webhook_receiver,
):
    set_setting(session, "default_language", "de")
    session.commit()
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["case_opened"])

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    teams = webhook_receiver.requests[0].json
    card = teams_card(teams)
    assert card["body"][0]["text"].startswith(f"„{WORDS}") and card["body"][0]["text"][-1] == "“"
    assert card["body"][1]["text"] == f"Fall Nr. {case.id} eröffnet"
    assert card["actions"][0]["title"] == f"Fall Nr. {case.id} öffnen"
    assert teams["summary"].endswith(f"“ – Fall Nr. {case.id} eröffnet")


def test_the_week_is_written_as_each_language_writes_dates(app):
    first, last = date(2026, 11, 23), date(2026, 11, 29)
    with app.test_request_context():
        with force_locale("en"):
            assert week_words(first, last) == "23 Nov – 29 Nov 2026"
        with force_locale("de"):
            assert week_words(first, last) == "23. November – 29. November 2026"
        with force_locale("fr"):
            assert week_words(first, last) == "23 novembre – 29 novembre 2026"
