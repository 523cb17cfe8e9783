"""The words of customer emails: edited per language, checked on save, rendered in a sandbox,
each edit a version in the audit log; and the wording customers read reads as a person's."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveys.models import AuditEntry, EmailWording
from surveys.services import email_words
from surveys.services.cases.actions import reply_to_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from surveys.wording import purchase_phrase
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user
from tests.pages import page
from tests.web import csrf_token

EDITOR = "/admin/emails/words/survey.purchase"
PURCHASE_DEFAULTS = email_words.WORDED_EMAILS["survey.purchase"].defaults


def words_form(**changes) -> dict[str, str]:
    return {**PURCHASE_DEFAULTS, **changes}


def save(client, path: str = EDITOR, locale: str = "en", **changes):
    data = {**words_form(**changes), "csrf_token": csrf_token(client, f"{path}?locale={locale}")}
    return client.post(f"{path}?locale={locale}", data=data)


def deliver(app, runner) -> list:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    ]


def text_of(email) -> str:
    return email.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_of(email) -> str:
    return email.get_body(("html",)).get_content().replace("\r\n", "\n")


def schedule_purchase_survey(session, clock, *, name="Ana Diaz", items=None):
    customer = make_customer(session, name=name)
    purchase = make_purchase(session, customer, purchased_at=clock.now(), items=items)
    schedule_survey(
        session,
        customer=customer,
        kind="purchase",
        purchase=purchase,
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
    )
    session.commit()


# --- editing -------------------------------------------------------------------------------


def test_edited_words_go_out_in_the_email_and_show_in_the_preview(
    app, admin_client, session, runner, clock
):
    response = save(
        admin_client,
        subject="{{ first_name }}, one honest question about {{ purchase }}",
        preheader="Thirty seconds, and it helps us a lot.",
        greeting="Dear {{ first_name }},",
        paragraphs="You bought {{ purchase }} from {{ shop_name }}.\n\nBe blunt with us.",
    )
    assert response.status_code == 302
    schedule_purchase_survey(session, clock)

    [email] = deliver(app, runner)

    assert email["Subject"] == "Ana, one honest question about your keyboard"
    text, html = text_of(email), html_of(email)
    assert text.startswith("Dear Ana,\n\nYou bought your keyboard from Our shop.\n\nBe blunt")
    assert "Thirty seconds, and it helps us a lot." in html
    assert '<p style="margin:0 0 20px;">Be blunt with us.</p>' in html
    assert text.count("Dear Ana") == 1 and "Hi Ana" not in text

    preview = page(admin_client.get("/admin/emails/survey?variant=purchase"))
    assert "Dear Ana," in preview.one("pre.email-text").get_text()
    editor = page(admin_client.get(f"{EDITOR}?locale=en"))
    assert editor.one("input[name=greeting]")["value"] == "Dear {{ first_name }},"


def test_a_customers_name_in_edited_words_is_escaped_in_the_html(
    app, admin_client, session, runner, clock
):
    save(admin_client, greeting="Dear {{ first_name }},")
    schedule_purchase_survey(session, clock, name="<b>Ana</b> Diaz")

    [email] = deliver(app, runner)

    assert "Dear &lt;b&gt;Ana&lt;/b&gt;," in html_of(email)
    assert "<b>Ana</b>" not in html_of(email)


def test_a_placeholder_without_a_value_reads_as_nothing(app, admin_client, session, runner, clock):
    save(admin_client, greeting="Dear {{ first_name }},")
    schedule_purchase_survey(session, clock, name=None)

    [email] = deliver(app, runner)

    assert text_of(email).startswith("Dear ,")
    assert "None" not in text_of(email) + html_of(email)


@pytest.mark.parametrize(
    ("field", "words", "message"),
    [
        ("subject", "Hello {{ firstname }}", "no placeholder {{ firstname }}"),
        ("paragraphs", "About {{ owner }}", "no placeholder {{ owner }}"),
        ("greeting", "Hi {{ first_name }", "do not read right"),
        ("paragraphs", "{% if first_name %}Hi", "do not read right"),
        ("subject", "{{ first_name | upper }}", "Only placeholders"),
        ("subject", "{{ first_name.__class__ }}", "Only placeholders"),
        ("paragraphs", "{{ ''.__class__.__mro__ }}", "Only placeholders"),
        ("paragraphs", "{% for x in purchase %}{{ x }}{% endfor %}", "Only placeholders"),
        ("subject", "", "cannot be empty"),
        ("paragraphs", "Hi Ana, thank you for your order.", "greeted twice"),
    ],
)
def test_words_that_cannot_be_used_are_refused_with_a_message_and_nothing_is_saved(
    admin_client, session, field, words, message
):
    response = save(admin_client, **{field: words})

    assert response.status_code == 422
    shown = page(response)
    assert message in shown.text
    assert "Nothing was saved" in shown.text
    assert session.scalar(select(func.count()).select_from(EmailWording)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_each_edit_is_a_version_in_the_audit_log_and_the_default_can_come_back(
    app, admin_client, session, runner, clock, admin
):
    save(admin_client, subject="First try for {{ purchase }}")
    save(admin_client, subject="Second try for {{ purchase }}")
    assert save(admin_client, subject="Second try for {{ purchase }}").status_code == 302

    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target == "email words survey.purchase (en)")
        .order_by(AuditEntry.id)
    ).all()
    assert [entry.action for entry in entries] == ["email_words.changed"] * 2  # not the repeat
    assert entries[0].before["subject"] == PURCHASE_DEFAULTS["subject"]
    assert entries[0].after["subject"] == "First try for {{ purchase }}"
    assert entries[1].before["subject"] == "First try for {{ purchase }}"
    assert all(entry.actor_user_id == admin.id for entry in entries)
    editor = page(admin_client.get(f"{EDITOR}?locale=en"))
    assert len(editor.all("ol.versions > li")) == 2

    token = csrf_token(admin_client, f"{EDITOR}?locale=en")
    restored = admin_client.post(f"{EDITOR}/restore?locale=en", data={"csrf_token": token})

    assert restored.status_code == 302
    assert session.scalar(select(func.count()).select_from(EmailWording)) == 0
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "email_words.restored"
    assert last.before["subject"] == "Second try for {{ purchase }}"
    assert last.after["subject"] == PURCHASE_DEFAULTS["subject"]
    schedule_purchase_survey(session, clock)
    [email] = deliver(app, runner)
    assert email["Subject"] == "Ana, how is your keyboard treating you?"


def test_words_are_kept_per_language_and_other_languages_read_the_defaults(admin_client, session):
    assert save(admin_client, locale="es", subject="¿Qué tal {{ purchase }}?").status_code == 302

    [row] = session.scalars(select(EmailWording)).all()
    assert (row.email_key, row.locale) == ("survey.purchase", "es")
    email = email_words.WORDED_EMAILS["survey.purchase"]
    assert email_words.words_for(session, email, "es")["subject"] == "¿Qué tal {{ purchase }}?"
    assert email_words.words_for(session, email, "en") == PURCHASE_DEFAULTS
    assert admin_client.get(f"{EDITOR}?locale=xx").status_code == 404
    assert admin_client.get("/admin/emails/words/no-such-email").status_code == 404


def schedule_survey_for(session, clock, *, name: str, email: str, locale: str) -> None:
    customer = make_customer(session, name=name, email=email)
    customer.locale = locale
    purchase = make_purchase(session, customer, purchased_at=clock.now())
    schedule_survey(
        session,
        customer=customer,
        kind="purchase",
        purchase=purchase,
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
    )
    session.commit()


def delivered_to(app, runner, address: str):
    [email] = [email for email in deliver(app, runner) if address in str(email["To"])]
    return email


def test_the_default_words_are_in_the_customers_language_until_an_admin_writes_their_own(
    app, admin_client, session, runner, clock
):
    schedule_survey_for(session, clock, name="Ana", email="ana@example.com", locale="es")
    email = delivered_to(app, runner, "ana@example.com")
    assert email["Subject"] == "Ana, ¿qué tal con tu Keyboard?"
    text = text_of(email)
    assert text.startswith("Hola, Ana:\n\nGracias por elegirnos para tu Keyboard. Esperamos que")
    assert "Este enlace es solo para ti y funciona durante 30 días." in text
    assert "Un abrazo,\nOur shop" in text
    assert "Thank you" not in text and "Hi Ana" not in text
    # The editor starts from those Spanish words.
    editor = page(admin_client.get(f"{EDITOR}?locale=es"))
    assert editor.one("input[name=greeting]")["value"] == (
        "Hola{% if first_name %}, {{ first_name }}{% endif %}:"
    )
    # And its preview reads as the Spanish customer will: words and template alike.
    shown = editor.one("pre.email-text").get_text()
    assert shown.startswith("Hola, Ana:\n\nGracias por elegirnos para tu Walnut keyboard.")
    assert "Un abrazo," in shown and "Date de baja con un clic" in shown

    spanish = "{{ first_name }}, una pregunta sincera sobre {{ purchase }}"
    assert save(admin_client, locale="es", subject=spanish).status_code == 302
    schedule_survey_for(session, clock, name="Bea", email="bea@example.com", locale="es-MX")
    assert delivered_to(app, runner, "bea@example.com")["Subject"] == (
        "Bea, una pregunta sincera sobre tu Keyboard"
    )

    # No French words were written: a French customer reads the French defaults.
    schedule_survey_for(session, clock, name="Chloé", email="chloe@example.com", locale="fr")
    email = delivered_to(app, runner, "chloe@example.com")
    assert email["Subject"] == "Chloé, que vaut votre Keyboard à l'usage ?"
    assert text_of(email).startswith("Bonjour Chloé,\n\nMerci de nous avoir choisis pour votre")


def test_the_preview_shows_a_draft_without_saving_it(admin_client, session):
    token = csrf_token(admin_client, f"{EDITOR}?locale=en")
    response = admin_client.post(
        "/admin/emails/words/survey.purchase/preview?locale=en",
        data={**words_form(greeting="Hey there {{ first_name }},"), "csrf_token": token},
    )

    assert response.status_code == 200
    shown = page(response)
    assert "Hey there Ana," in shown.one("pre.email-text").get_text()
    frame = admin_client.get(shown.one("iframe[sandbox]")["src"])
    assert frame.status_code == 200
    assert "Hey there Ana," in frame.get_data(as_text=True)
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert session.scalar(select(func.count()).select_from(EmailWording)) == 0


def test_a_draft_with_a_bad_placeholder_is_not_previewed_but_explained(admin_client):
    token = csrf_token(admin_client, f"{EDITOR}?locale=en")
    response = admin_client.post(
        "/admin/emails/words/survey.purchase/preview?locale=en",
        data={**words_form(subject="Hi {{ nickname }}"), "csrf_token": token},
    )

    assert response.status_code == 422
    assert "no placeholder {{ nickname }}" in page(response).text
    assert (
        admin_client.get(
            "/admin/emails/words/survey.purchase/html?locale=en&subject=Hi+{{+nickname+}}"
        ).status_code
        == 404
    )


def test_every_customer_email_with_words_can_be_edited_and_previewed(admin_client):
    listing = page(admin_client.get("/admin/emails/words"))
    hrefs = {link["href"] for link in listing.all("a[href]")}
    for key in email_words.WORDED_EMAILS:
        assert f"/admin/emails/words/{key}?locale=en" in hrefs
        assert admin_client.get(f"/admin/emails/words/{key}?locale=es").status_code == 200


# --- the wording customers read ------------------------------------------------------------


def item(name: str) -> dict:
    return {"sku": name[:3], "name": name, "category": "x", "quantity": 1, "unit_price": "10.00"}


@pytest.mark.parametrize(
    ("names", "phrase"),
    [
        (["27-inch monitor", "HDMI cable"], "your 27-inch monitor and one other item"),
        (["27-inch monitor", "HDMI cable", "Stand"], "your 27-inch monitor and two other items"),
        (["Desk lamp"], "your desk lamp"),
        (["iPhone 15"], "your iPhone 15"),
        (["USB-C cable"], "your USB-C cable"),
        (["Keyboard"], "your keyboard"),
        (["Walnut Keyboard Pro"], "your Walnut Keyboard Pro"),
        ([], "your recent order"),
    ],
)
def test_what_was_bought_reads_as_a_person_writes_it(session, names, phrase):
    customer = make_customer(session)
    purchase = make_purchase(session, customer, items=[item(n) for n in names] or [])
    if not names:
        purchase.items.clear()
    assert purchase_phrase(purchase) == phrase


def test_the_relationship_review_asks_a_tough_question_not_how_we_are_doing(
    app, session, runner, clock
):
    customer = make_customer(session, name="Ana Diaz")
    schedule_survey(
        session,
        customer=customer,
        kind="relationship_review",
        now=clock.now(),
        question_set=get_question_set(session, "relationship-review"),
    )
    session.commit()

    [email] = deliver(app, runner)

    assert email["Subject"] == "Ana, are we still exceeding your expectations?"
    assert "how are we doing" not in (email["Subject"] + text_of(email)).lower()
    assert "the one thing we could be doing better" in text_of(email)


def test_the_survey_page_opens_into_the_tough_questions_not_how_did_we_do(client, session):
    customer = make_customer(session, name="Ana Diaz")
    purchase = make_purchase(session, customer, items=[item("Desk lamp")])
    _survey, token = make_sent_survey(session, customer, purchase=purchase)
    session.commit()

    lead = page(client.get(f"/s/{token}")).one("p.lead").get_text()

    assert "How did we do" not in lead
    assert "your desk lamp" in lead
    assert "did we live up to what you expected?" in lead


def test_the_fix_check_page_names_the_problem_and_what_was_done(client, session, clock):
    owner = make_user(session, role="owner", name="Olivia Moreno")
    case = make_case(session, owner=owner, status="resolved", now=clock.now())
    survey, token = make_sent_survey(session, case.customer, kind="fix_check")
    survey.case_id = case.id
    session.commit()

    lead = page(client.get(f"/s/{token}")).one("p.lead").get_text()

    assert "“The keyboard arrived with a broken key and nobody answered my email.”" in lead
    assert "Sent a new keyboard by express and apologised." in lead


def test_a_reply_that_greets_is_not_greeted_again(app, session, runner, clock):
    owner = make_user(session, role="owner", name="Olivia Moreno")
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    reply_to_customer(
        session,
        case,
        by_user=owner,
        message="Hi Ana,\n\nI am so sorry about the key. A new keyboard is on its way.",
        now=clock.now(),
    )
    session.commit()

    emails = [email for email in deliver(app, runner) if "Olivia" in str(email["From"])]

    [email] = emails
    text = text_of(email)
    assert text.count("Hi Ana") == 1
    assert text.startswith("Hi Ana,\n\nI am so sorry")


def test_no_customer_email_greets_twice(admin_client):
    for entry_key, email in email_words.WORDED_EMAILS.items():
        query = f"?variant={email.variant}" if email.variant else ""
        shown = page(admin_client.get(f"/admin/emails/{email.template}{query}"))
        text = shown.one("pre.email-text").get_text()
        greetings = sum(text.count(word) for word in ("Hi Ana", "Dear Ana", "Hello Ana"))
        assert greetings <= 1, entry_key
