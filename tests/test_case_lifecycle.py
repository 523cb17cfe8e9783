"""A case's whole life through the owner's pages: acknowledge, reply, note, reassign, resolve,
the fix-check the customer answers from their email, reopening, closing, and the refusals."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveys.models import Case, CaseEvent, CustomerNote, OutboxMessage, Survey, User
from tests.factories import make_api_key, make_user
from tests.journey import (
    act_on_case,
    answer_survey,
    latest_fix_check_path,
    log_in_as,
    mails_to,
    post_purchase,
    run_worker,
    unhappy_customer,
)
from tests.pages import page, text_of
from tests.web import csrf_token, log_in

ANA = "ana@example.com"
# A reply in its two parts: what the owner understood, in their own words, and what they do.
REPLY = {
    "understood": "Your keyboard came with a broken key, and nobody answered when you wrote.",
    "will_do": "A new keyboard leaves today and reaches you tomorrow.",
}
SECRET_NOTE = "Internal: refund approved by Sam, keep it quiet until finance confirms."


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    other = make_user(session, email="ben@shop.example", name="Ben Baker")
    admin = make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    _key, raw = make_api_key(session, "Shop")
    session.commit()
    return {"owner": owner, "other": other, "admin": admin, "raw_key": raw}


@pytest.fixture
def case(client, session, runner, clock, fake_sendgrid, people):
    """Ana answered unhappily after buying a keyboard; Olivia is her account owner."""
    return unhappy_customer(
        client,
        session,
        runner,
        fake_sendgrid,
        raw_key=people["raw_key"],
        owner_email="olivia@shop.example",
    )


def errors_of(response, action: str, name: str) -> list[str]:
    """The errors shown beside a field of the form that posts to `action`."""
    shown = page(response)
    return shown.field_errors(name, shown.form(action))


def kinds(session, case_id: int) -> list[str]:
    return list(
        session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )


def queued(session, template: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
    )


# --- the whole loop ----------------------------------------------------------------------


def test_resolve_then_no_reopens_to_the_same_owner_then_resolve_then_yes_closes(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])
    clock.advance(minutes=20)
    assert act_on_case(client, case.id, "acknowledge").status_code == 302
    clock.advance(hours=1)
    assert (
        act_on_case(
            client,
            case.id,
            "resolve",
            ask_in_days="0",
            resolution="Sent a new keyboard by express.",
        ).status_code
        == 302
    )
    assert session.get(Case, case.id).status == "resolved"

    # The fix-check goes out with the next worker pass; Ana answers from its link: no.
    run_worker(runner)
    clock.advance(days=1)
    thank_you = answer_survey(
        client,
        latest_fix_check_path(fake_sendgrid, ANA),
        {"fix_worked": "no", "anything_else": "The new one has the same sticky key."},
    )
    assert "Thank you" in thank_you.get_data(as_text=True)

    reopened = session.get(Case, case.id)
    assert reopened.status == "acknowledged"
    assert reopened.owner_id == people["owner"].id
    assert reopened.resolved_at is None and reopened.closed_at is None
    # A fresh promise: the resolve deadline starts again from the reopening.
    assert reopened.resolve_by == clock.now() + timedelta(hours=48)

    # Olivia is emailed at once, with Ana's own words.
    run_worker(runner)
    [reopen_mail] = [
        m
        for m in mails_to(fake_sendgrid, "olivia@shop.example")
        if m.categories == ["case_reopened"]
    ]
    assert "The new one has the same sticky key." in reopen_mail.text
    assert "No, not yet" in reopen_mail.text
    assert f"http://surveys.test/cases/{case.id}" in reopen_mail.text
    assert "Ana Diaz" in reopen_mail.subject

    # Resolve again; this time it works.
    clock.advance(hours=3)
    assert (
        act_on_case(
            client,
            case.id,
            "resolve",
            ask_in_days="0",
            resolution="Replaced the switch myself and tested every key.",
        ).status_code
        == 302
    )
    run_worker(runner)
    answer_survey(client, latest_fix_check_path(fake_sendgrid, ANA), {"fix_worked": "yes"})

    closed = session.get(Case, case.id)
    assert closed.status == "closed"
    assert closed.closed_reason == "confirmed"
    assert closed.closed_at == clock.now()
    assert kinds(session, case.id) == [
        "opened",
        "owner_notified",
        "acknowledged",
        "resolved",
        "fix_check_sent",
        "reopened",
        "resolved",
        "fix_check_sent",
        "fix_confirmed",
        "closed",
    ]
    shown = page(client.get(f"/cases/{case.id}"))
    timeline = shown.region("Conversation")
    assert [text_of(li.find("strong")) for li in timeline.select("ol.timeline > li")] == [
        "What Ana Diaz told us",
        "Case opened",
        "Owner emailed",
        "Acknowledged",
        "Resolved",
        "Fix-check sent",
        "Reopened: the fix did not work",
        "Resolved",
        "Fix-check sent",
        "Fix confirmed by the customer",
        "Closed",
    ]
    assert "The new one has the same sticky key." in shown.text


def test_partly_reopens_the_case_too(client, session, runner, clock, fake_sendgrid, people, case):
    log_in(client, people["owner"])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)

    answer_survey(client, latest_fix_check_path(fake_sendgrid, ANA), {"fix_worked": "partly"})

    assert session.get(Case, case.id).status == "acknowledged"
    assert len(queued(session, "case_reopened")) == 1


def test_each_fix_check_is_on_the_timeline_once_it_reached_the_customer(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")

    # Queued, not yet delivered: nothing claims it was sent.
    assert "fix_check_sent" not in kinds(session, case.id)
    [survey] = session.scalars(select(Survey).where(Survey.case_id == case.id)).all()
    assert (survey.kind, survey.status) == ("fix_check", "scheduled")
    run_worker(runner)
    assert kinds(session, case.id)[-1] == "fix_check_sent"
    run_worker(runner)
    assert kinds(session, case.id).count("fix_check_sent") == 1


# --- acknowledging and replying ---------------------------------------------------------


def test_the_reply_composer_asks_for_two_parts_and_starts_empty(client, people, case):
    log_in(client, people["owner"])

    shown = page(client.get(f"/cases/{case.id}"))

    composer = shown.form(f"/cases/{case.id}/replies")
    # What the owner understood is theirs to write: no quote of the customer to trim.
    assert shown.field_value("understood", composer) == ""
    assert shown.field_value("will_do", composer) == ""
    assert text_of(shown.one("label[for=understood]", composer)) == "What I understood"
    assert text_of(shown.one("label[for=will_do]", composer)) == "What I will do"


def test_a_reply_goes_out_in_the_owners_name_with_reply_to_the_owner(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])
    understood = "Your keyboard came with a broken key, and nobody answered when you wrote."
    will_do = "I am sorry. A new one leaves today and reaches you Thursday."

    response = act_on_case(client, case.id, "replies", understood=understood, will_do=will_do)

    assert response.status_code == 302
    run_worker(runner)
    [reply] = [m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["reply"]]
    assert reply.from_name == "Olivia Bennett"
    assert reply.from_email == "surveys@shop.test"
    assert reply.reply_to == "olivia@shop.example"
    assert reply.to_name == "Ana Diaz"
    assert understood in reply.text and will_do in reply.text and "Hi Ana" in reply.text
    assert "Olivia Bennett" in reply.text
    # A customer email like any other: the unsubscribe link and one-click headers.
    assert reply.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = reply.headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://surveys.test/u/")
    assert unsubscribe in reply.text and unsubscribe in reply.html
    assert "[h2h:" not in reply.text + reply.html
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "reply")
    ).one()
    assert understood in event.body and will_do in event.body
    assert event.data["understood"] == understood and event.data["will_do"] == will_do
    assert event.actor_user_id == people["owner"].id


def test_a_reply_to_a_spanish_customer_is_framed_in_spanish_whatever_the_owner_reads(
    client, session, runner, fake_sendgrid, people, case
):
    case.customer.locale = "es-MX"
    session.commit()
    log_in(client, people["owner"])  # the owner reads English
    understood = "Tu teclado llegó con una tecla rota."
    will_do = "Te envío uno nuevo hoy."

    response = act_on_case(client, case.id, "replies", understood=understood, will_do=will_do)

    assert response.status_code == 302
    run_worker(runner)
    [reply] = [m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["reply"]]
    assert "Gracias por contarnos cómo fue." in reply.text
    assert f"Esto es lo que voy a hacer:\n\n{will_do}" in reply.text
    assert "Here is what I will do" not in reply.text + reply.html
    # The owner's own page is still in the owner's language around it.
    assert "What I will do" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_what_the_owner_writes_is_verbatim_in_text_and_escaped_in_html(
    client, runner, fake_sendgrid, people, case
):
    log_in(client, people["owner"])

    act_on_case(
        client,
        case.id,
        "replies",
        understood="Your keyboard came broken and we kept silent.",
        will_do="Ana, <b>sorry</b> & thank you.\nOlivia",
    )
    run_worker(runner)

    [reply] = [m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["reply"]]
    assert "Ana, <b>sorry</b> & thank you.\nOlivia" in reply.text
    assert "Ana, &lt;b&gt;sorry&lt;/b&gt; &amp; thank you." in reply.html
    assert "<b>sorry</b>" not in reply.html


def test_without_sendgrid_the_reply_eml_has_the_owners_name_and_reply_to(
    app, client, session, runner, clock, people
):
    _key, raw = make_api_key(session)
    session.commit()

    post_purchase(
        client, raw, order_id="A-7", email=ANA, name="Ana Diaz", owner_email="olivia@shop.example"
    )
    run_worker(runner)
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    [survey_file] = outbox.glob("*.eml")
    survey_mail = message_from_bytes(survey_file.read_bytes(), policy=policy.default)
    link = survey_mail.get_body(("plain",)).get_content().split("http://surveys.test", 1)[1]
    answer_survey(client, link.split()[0].split("?")[0], {"expectations": "short"})
    case = session.scalars(select(Case)).one()
    survey_file.unlink()
    log_in(client, people["owner"])

    act_on_case(
        client,
        case.id,
        "replies",
        understood="What you received did not live up to what you expected.",
        will_do="I am on it, Ana. New keyboard Thursday.",
    )
    run_worker(runner)

    written = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in outbox.glob("*.eml")
    ]
    [reply] = [mail for mail in written if "Olivia" in mail["From"]]
    assert reply["From"].addresses[0].display_name == "Olivia Bennett"
    assert reply["From"].addresses[0].addr_spec == "surveys@shop.test"
    assert reply["Reply-To"] == "olivia@shop.example"
    assert "New keyboard Thursday." in reply.get_body(("plain",)).get_content()


def test_a_reply_to_an_open_case_acknowledges_it(client, session, people, case, clock):
    log_in(client, people["owner"])

    act_on_case(client, case.id, "replies", **REPLY)

    stored = session.get(Case, case.id)
    assert stored.status == "acknowledged" and stored.acknowledged_at == clock.now()
    assert kinds(session, case.id)[-2:] == ["acknowledged", "reply"]


def test_a_reply_that_only_quotes_the_customer_is_refused(client, session, people, case):
    log_in(client, people["owner"])

    response = act_on_case(
        client,
        case.id,
        "replies",
        understood="You told us: “The keyboard arrived with a broken key and "
        "nobody answered my email.”",
        will_do="A new keyboard leaves today.",
    )

    assert response.status_code == 422
    [error] = errors_of(response, f"/cases/{case.id}/replies", "understood")
    assert "almost word for word what they wrote" in error
    assert queued(session, "reply") == []


def test_an_empty_reply_is_refused_with_the_error_in_place(client, session, people, case):
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "replies", understood="   ", will_do="")

    assert response.status_code == 422
    assert errors_of(response, f"/cases/{case.id}/replies", "understood") == [
        "Say in your own words what you understood from what they wrote."
    ]
    assert errors_of(response, f"/cases/{case.id}/replies", "will_do") == [
        "Say what you will do about it, and by when."
    ]
    assert queued(session, "reply") == []
    assert session.get(Case, case.id).status == "open"


def test_replying_on_a_closed_case_is_refused_clearly(
    client, session, runner, fake_sendgrid, people, case
):
    log_in(client, people["owner"])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)
    answer_survey(client, latest_fix_check_path(fake_sendgrid, ANA), {"fix_worked": "yes"})
    assert session.get(Case, case.id).status == "closed"

    response = client.post(
        f"/cases/{case.id}/replies",
        data={**REPLY, "csrf_token": csrf_token(client, f"/cases/{case.id}")},
    )

    assert response.status_code == 409
    [alert] = page(response).flashes()
    assert alert.startswith("This case is closed")
    assert queued(session, "reply") == []


# --- notes ---------------------------------------------------------------------------------


def test_an_internal_note_is_on_the_timeline_and_never_reaches_the_customer(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])

    assert act_on_case(client, case.id, "notes", body=SECRET_NOTE).status_code == 302
    act_on_case(client, case.id, "replies", **REPLY)
    act_on_case(
        client,
        case.id,
        "reassign",
        owner_id=str(people["other"].id),
        reason="Ben handles hardware returns.",
    )
    log_in_as(client, people["admin"])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Replaced.")
    run_worker(runner)
    fix_check = latest_fix_check_path(fake_sendgrid, ANA)
    survey_page = client.get(fix_check).get_data(as_text=True)
    thank_you = answer_survey(client, fix_check, {"fix_worked": "yes"}).get_data(as_text=True)
    run_worker(runner)

    customer_mails = mails_to(fake_sendgrid, ANA)
    assert {m.categories[0] for m in customer_mails} == {
        "survey",
        "reply",
        "case_reassigned_customer",
    }
    for mail in customer_mails:
        assert "refund approved" not in f"{mail.subject}{mail.text}{mail.html}"
    assert "refund approved" not in survey_page + thank_you
    # The people who look after the case do see it, marked as internal.
    timeline = page(client.get(f"/cases/{case.id}")).region("Conversation")
    [note_entry] = timeline.select("li.event-note")
    assert SECRET_NOTE in text_of(note_entry) and "not shown to the customer" in text_of(note_entry)
    note = session.scalars(select(CaseEvent).where(CaseEvent.kind == "note")).one()
    assert note.actor_user_id == people["owner"].id


def test_an_empty_note_is_refused(client, session, people, case):
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "notes", body="  ")

    assert response.status_code == 422
    assert errors_of(response, f"/cases/{case.id}/notes", "body") == ["Write the note."]
    assert "note" not in kinds(session, case.id)


# --- reassigning --------------------------------------------------------------------------


def test_reassigning_with_a_reason_hands_over_and_tells_the_new_owner_and_the_customer(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])

    response = act_on_case(
        client,
        case.id,
        "reassign",
        owner_id=str(people["other"].id),
        reason="Ben handles hardware returns and can ship today.",
    )

    # Olivia goes back to her inbox: the case is off it now.
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    [flash] = page(client.get("/inbox")).flashes()
    assert "Ben Baker owns this case now" in flash
    stored = session.get(Case, case.id)
    assert stored.owner_id == people["other"].id
    assert stored.reassign_count == 1
    event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "reassigned")).one()
    assert event.body == "Ben handles hardware returns and can ship today."
    assert event.data["from_name"] == "Olivia Bennett" and event.data["to_name"] == "Ben Baker"
    assert event.actor_user_id == people["owner"].id
    # The deadlines stay: the customer's wait does not start again.
    assert stored.acknowledge_by == case.acknowledge_by

    run_worker(runner)
    [to_ben] = [
        m
        for m in mails_to(fake_sendgrid, "ben@shop.example")
        if m.categories == ["case_reassigned_owner"]
    ]
    assert "Ben handles hardware returns and can ship today." in to_ben.text
    assert "The keyboard arrived with a broken key" in to_ben.text
    assert "handed over by Olivia Bennett." in to_ben.text
    [to_ana] = [
        m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["case_reassigned_customer"]
    ]
    assert to_ana.from_name == "Ben Baker" and to_ana.reply_to == "ben@shop.example"
    assert to_ana.headers["List-Unsubscribe"].strip("<>") in to_ana.text
    assert "[h2h:" not in to_ana.text + to_ana.html
    assert "I am Ben Baker" in to_ana.text
    assert "hardware returns" not in to_ana.text  # the reason is for the new owner

    # Olivia no longer sees the case; Ben does, with the move counted.
    assert client.get(f"/cases/{case.id}").status_code == 404
    log_in_as(client, people["other"])
    shown = page(client.get(f"/cases/{case.id}"))
    assert shown.definitions(shown.region("Owner"))["Moved"] == "once"
    [moved] = shown.region("Conversation").select("li.event-reassigned")
    assert "From Olivia Bennett to Ben Baker. Why: Ben handles hardware returns" in text_of(moved)


def test_reassigning_without_a_reason_is_refused_and_changes_nothing(client, session, people, case):
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "reassign", owner_id=str(people["other"].id), reason="")

    assert response.status_code == 422
    [error] = errors_of(response, f"/cases/{case.id}/reassign", "reason")
    assert "Say why the case moves" in error
    stored = session.get(Case, case.id)
    assert stored.owner_id == people["owner"].id and stored.reassign_count == 0
    assert queued(session, "case_reassigned_owner") == []
    assert queued(session, "case_reassigned_customer") == []


@pytest.mark.parametrize(
    "who, message",
    [
        ("nobody", "Choose who takes the case."),
        ("owner", "Olivia Bennett already owns this case."),
        ("deactivated", "is deactivated and cannot take cases."),
    ],
)
def test_reassigning_to_someone_who_cannot_take_it_is_refused(
    client, session, people, case, who, message
):
    target = {
        "nobody": "",
        "owner": str(people["owner"].id),
        "deactivated": str(make_user(session, name="Gone Person", active=False).id),
    }[who]
    session.commit()
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "reassign", owner_id=target, reason="Holidays.")

    assert response.status_code == 422
    [error] = errors_of(response, f"/cases/{case.id}/reassign", "owner_id")
    assert message in error
    assert session.get(Case, case.id).owner_id == people["owner"].id


def test_reassigning_a_closed_case_is_refused(client, session, runner, fake_sendgrid, people, case):
    log_in(client, people["owner"])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Replaced.")
    run_worker(runner)
    answer_survey(client, latest_fix_check_path(fake_sendgrid, ANA), {"fix_worked": "yes"})
    offered = page(client.get(f"/cases/{case.id}")).form_actions()
    assert f"/cases/{case.id}/reassign" not in offered  # the page no longer offers it

    response = client.post(
        f"/cases/{case.id}/reassign",
        data={
            "owner_id": str(people["other"].id),
            "reason": "Late.",
            "csrf_token": csrf_token(client, f"/cases/{case.id}"),
        },
    )

    assert response.status_code == 409
    assert page(response).flashes() == ["This case is closed; there is nothing left to hand over."]
    assert session.get(Case, case.id).owner_id == people["owner"].id


# --- resolving and the fix-check ------------------------------------------------------------


def test_resolving_sends_the_fix_check_naming_the_owner(
    client, session, runner, fake_sendgrid, people, case
):
    log_in(client, people["owner"])

    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)

    [fix_check] = [
        m
        for m in mails_to(fake_sendgrid, ANA)
        if m.categories == ["survey"] and "fixed" in m.subject
    ]
    assert "Olivia has been working on it" in fix_check.text
    assert "Did our fix work?" in fix_check.text


def test_a_customer_who_unsubscribed_gets_no_fix_check_and_the_timeline_says_so(
    client, session, runner, fake_sendgrid, people, case
):
    [survey_mail] = mails_to(fake_sendgrid, ANA)
    unsubscribe = (
        survey_mail.headers["List-Unsubscribe"].strip("<>").replace("http://surveys.test", "")
    )
    assert client.post(unsubscribe).status_code == 200
    log_in(client, people["owner"])

    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")

    assert kinds(session, case.id)[-2:] == ["resolved", "fix_check_not_sent"]
    assert (
        "unsubscribed"
        in session.scalars(
            select(CaseEvent.body).where(CaseEvent.kind == "fix_check_not_sent")
        ).one()
    )
    assert (
        session.scalar(
            select(func.count(Survey.id)).where(
                Survey.case_id == case.id, Survey.status == "scheduled"
            )
        )
        == 0
    )


# --- deactivating an owner -----------------------------------------------------------------


def test_an_owner_with_an_open_case_cannot_be_deactivated_until_it_is_reassigned(
    client, session, people, case
):
    log_in(client, people["admin"])
    owner_id = people["owner"].id

    refused = client.post(
        f"/admin/users/{owner_id}/deactivate",
        data={"csrf_token": csrf_token(client, "/admin/users")},
    )

    assert refused.status_code == 409
    [alert] = page(refused).flashes()
    assert "Olivia Bennett still owns 1 case that is not closed." in alert
    assert session.get(User, owner_id).active

    act_on_case(
        client,
        case.id,
        "reassign",
        owner_id=str(people["other"].id),
        reason="Olivia is leaving the company.",
    )
    done = client.post(
        f"/admin/users/{owner_id}/deactivate",
        data={"csrf_token": csrf_token(client, "/admin/users")},
    )

    assert done.status_code == 302
    assert not session.get(User, owner_id).active
    assert session.get(Case, case.id).owner_id == people["other"].id


def test_a_late_no_after_the_owner_left_reopens_the_case_to_someone_still_here(
    app, client, session, runner, clock, fake_sendgrid, people, case
):
    """The case closed unconfirmed, Olivia was deactivated, then Ana's "no" arrives: the
    case must not go back to someone who can no longer log in."""
    log_in(client, people["owner"])
    act_on_case(client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard.")
    run_worker(runner)
    fix_check_link = latest_fix_check_path(fake_sendgrid, ANA)
    clock.advance(days=8)
    run_worker(runner)
    assert session.get(Case, case.id).status == "closed"
    admin = app.test_client()
    log_in(admin, people["admin"])
    assert (
        admin.post(
            "/admin/routing/default-owner",
            data={
                "csrf_token": csrf_token(admin, "/admin/routing"),
                "owner_id": people["other"].id,
            },
        ).status_code
        == 302
    )
    assert (
        admin.post(
            f"/admin/users/{people['owner'].id}/deactivate",
            data={"csrf_token": csrf_token(admin, "/admin/users")},
        ).status_code
        == 302
    )
    olivia_had = len(mails_to(fake_sendgrid, "olivia@shop.example"))

    clock.advance(days=2)
    answer_survey(client, fix_check_link, {"fix_worked": "no", "anything_else": "Still sticky."})

    reopened = session.get(Case, case.id)
    assert reopened.status == "acknowledged"
    assert reopened.owner_id == people["other"].id
    assert "default owner" in reopened.routed_by
    [handover] = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "owner_assigned")
    ).all()
    assert "Olivia Bennett is no longer active" in handover.body
    assert handover.data["user_id"] == people["other"].id
    run_worker(runner)
    # (The days that passed also brought Monday's weekly digest: not what this is about.)
    assert [
        m.categories
        for m in mails_to(fake_sendgrid, "ben@shop.example")
        if m.categories != ["weekly_digest"]
    ] == [["case_reopened"]]
    assert [
        m.categories
        for m in mails_to(fake_sendgrid, "olivia@shop.example")[olivia_had:]
        if m.categories != ["weekly_digest"]
    ] == []


@pytest.mark.parametrize(
    "action, data",
    [
        ("replies", REPLY),
        ("notes", {"body": "Called her."}),
        ("reassign", {"reason": "Ben knows keyboards."}),
    ],
)
def test_a_post_without_a_valid_csrf_token_answers_400_and_changes_nothing(
    client, session, people, case, action, data
):
    log_in(client, people["owner"])
    if action == "reassign":
        data = {**data, "owner_id": str(people["other"].id)}

    for token in (None, "not-a-real-token"):
        form = data if token is None else {**data, "csrf_token": token}
        assert client.post(f"/cases/{case.id}/{action}", data=form).status_code == 400

    assert kinds(session, case.id) == ["opened", "owner_notified"]
    assert session.get(Case, case.id).owner_id == people["owner"].id
    assert (
        client.post(f"/customers/{case.customer_id}/notes", data={"body": "x"}).status_code == 400
    )
    assert session.scalars(select(CustomerNote)).all() == []


def test_an_owner_cannot_act_on_another_owners_case(client, session, people, case):
    log_in(client, people["other"])
    token = csrf_token(client, "/inbox")

    for action, data in (
        ("replies", REPLY),
        ("notes", {"body": "x"}),
        ("reassign", {"owner_id": str(people["other"].id), "reason": "Mine"}),
    ):
        response = client.post(f"/cases/{case.id}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 404

    assert kinds(session, case.id) == ["opened", "owner_notified"]
