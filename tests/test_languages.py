"""Languages: every letter and page in the reader's language.

A customer's locale comes from where they shopped (the API, Shopify, Stripe, Delighted's
`locale` property, a CSV column) or from the language links on their survey page; owners and
admins choose theirs on /account/settings; everyone else reads the shop's default language.
The catalogs must hold every message the code uses, translated and not fuzzy.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from surveys.catalogs import catalog_problems, catalog_sources, extract_messages
from surveys.languages import SHIPPED, nearest_shipped, normalise_locale
from surveys.models import Case, Customer, Purchase, PurchaseItem
from surveys.services.settings import set_setting
from surveys.wording import purchase_phrase
from tests.factories import (
    UNHAPPY_ANSWERS,
    make_api_key,
    make_customer,
    make_sent_survey,
    make_user,
)
from tests.pages import page
from tests.test_admin_settings import post_settings
from tests.web import csrf_token, log_in

LINK = re.compile(r"http://surveys\.test(/s/[A-Za-z0-9_-]+)\?a=(\w+)")


# --- the catalogs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def used_messages() -> Catalog:
    return extract_messages()


def _catalog(language: str) -> Catalog:
    [source] = [path for path in catalog_sources() if path.parent.parent.name == language]
    with source.open("rb") as po:
        return read_po(po, locale=language)


def test_every_shipped_language_has_a_catalog_and_nothing_else_does():
    assert sorted(path.parent.parent.name for path in catalog_sources()) == sorted(SHIPPED)


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_the_code_uses_is_translated(used_messages, language):
    assert catalog_problems(used_messages, _catalog(language)) == []


def test_a_catalog_lacking_a_message_or_holding_a_fuzzy_or_empty_one_fails(used_messages):
    spanish = _catalog("es")
    del spanish["Send my answers"]
    spanish["Thank you"].flags.add("fuzzy")
    spanish["Unsubscribe"].string = ""

    assert sorted(catalog_problems(used_messages, spanish)) == [
        "fuzzy: 'Thank you'",
        "missing: 'Send my answers'",
        "untranslated: 'Unsubscribe'",
    ]


# --- whose language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "catalog"),
    [
        ("es", "es"),
        ("es-MX", "es"),
        ("ES_mx", "es"),
        ("pt", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("pt-BR", "pt_BR"),
        ("ar-EG", "ar"),
        ("de-CH", "de"),
        ("ja", None),
        ("xx", None),
        ("", None),
        (None, None),
    ],
)
def test_a_locale_reads_the_nearest_shipped_language(tag, catalog):
    assert nearest_shipped(tag) == catalog


def test_locales_are_kept_as_bcp_47_writes_them():
    assert [normalise_locale(tag) for tag in ("es_mx", "PT-br", "ar", "zh-Hant-TW")] == [
        "es-MX",
        "pt-BR",
        "ar",
        "zh-Hant-TW",
    ]


@pytest.mark.parametrize(
    ("language", "items", "expected"),
    [
        # English lower-cases a name written like a sentence and spells small counts out.
        ("en", ["Desk lamp"], "your desk lamp"),
        ("en", ["27-inch monitor", "Cable"], "your 27-inch monitor and one other item"),
        ("en", ["27-inch monitor", "Cable", "Stand"], "your 27-inch monitor and two other items"),
        ("es", ["Lámpara"], "tu Lámpara"),
        ("es", ["Monitor", "Cable"], "tu Monitor y 1 artículo más"),
        ("es", ["Monitor", "Cable", "Soporte"], "tu Monitor y 2 artículos más"),
        ("fr", ["Écran", "Câble", "Pied"], "votre Écran et 2 autres articles"),
        ("de", ["Monitor", "Kabel"], "Ihre Bestellung mit „Monitor“ und einem weiteren Artikel"),
        ("ar", ["Monitor", "Cable", "Stand"], "طلبك (\u2068Monitor\u2069 ومنتجان آخران)"),
        ("ar", ["شاشة", "كابل", "حامل", "مصباح"], "طلبك (\u2068شاشة\u2069 و3 منتجات أخرى)"),
    ],
)
def test_what_they_bought_reads_naturally_with_each_languages_plural_rules(
    app, language, items, expected
):
    purchase = Purchase(order_id="A-1", items=[PurchaseItem(name=name) for name in items])
    with app.test_request_context(), force_locale(language):
        assert purchase_phrase(purchase) == expected


# --- from each source ----------------------------------------------------------------------


@pytest.fixture
def api_key(session) -> str:
    make_user(session, role="admin")
    _key, raw = make_api_key(session)
    session.commit()
    return raw


def _post_purchase(client, api_key, customer: dict, order_id: str = "A-1001"):
    return client.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {api_key}"},
        json={
            "order_id": order_id,
            "customer": customer,
            "purchased_at": "2026-11-22T10:00:00Z",
            "items": [{"sku": "KB-1", "name": "Keyboard"}],
        },
    )


def _customer(session, email: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.email == email)).one()


def test_the_api_keeps_the_customers_locale_and_a_later_purchase_updates_it(
    client, session, clock, api_key
):
    assert (
        _post_purchase(client, api_key, {"email": "ana@example.com", "locale": "pt_br"}).status_code
        == 201
    )
    assert _customer(session, "ana@example.com").locale == "pt-BR"

    _post_purchase(client, api_key, {"email": "ana@example.com", "locale": "es-MX"}, "A-1002")
    assert _customer(session, "ana@example.com").locale == "es-MX"
    _post_purchase(client, api_key, {"email": "ana@example.com"}, "A-1003")  # absent: kept
    assert _customer(session, "ana@example.com").locale == "es-MX"


def test_the_api_refuses_a_locale_that_is_no_language_tag_and_records_nothing(
    client, session, clock, api_key
):
    response = _post_purchase(client, api_key, {"email": "ana@example.com", "locale": "not a tag"})

    assert response.status_code == 422
    assert list(response.json["errors"]) == ["customer.locale"]
    assert session.scalars(select(Customer)).all() == []


def test_the_openapi_document_describes_the_customers_locale(client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    [customer] = [
        schema for name, schema in schemas.items() if "timezone" in schema.get("properties", {})
    ]
    assert "BCP 47" in customer["properties"]["locale"]["description"]


def test_shopify_orders_carry_the_storefront_language(app, client, session, clock):
    from tests.test_webhooks_shopify import ORDER, SECRET, URL, delivery

    app.config["SHOPIFY_WEBHOOK_SECRET"] = SECRET
    body, headers = delivery({**ORDER, "customer_locale": "fr-CA"})
    assert client.post(URL, data=body, headers=headers).status_code == 201

    [customer] = session.scalars(select(Customer)).all()
    assert customer.locale == "fr-CA"


def test_a_shopify_locale_we_cannot_read_still_records_the_order(app, client, session, clock):
    from tests.test_webhooks_shopify import ORDER, SECRET, URL, delivery

    app.config["SHOPIFY_WEBHOOK_SECRET"] = SECRET
    body, headers = delivery({**ORDER, "customer_locale": "?!"})
    assert client.post(URL, data=body, headers=headers).status_code == 201

    [customer] = session.scalars(select(Customer)).all()
    assert customer.locale is None


def test_stripe_checkout_sessions_carry_the_checkout_language(app, client, session, clock):
    from tests.test_webhooks_stripe import SECRET, URL, event, signed

    app.config["STRIPE_WEBHOOK_SECRET"] = SECRET
    body, headers = signed(event(locale="de"))
    assert client.post(URL, data=body, headers=headers).status_code == 201

    [customer] = session.scalars(select(Customer)).all()
    assert customer.locale == "de"


def test_delighteds_locale_property_is_the_persons_language(client, session, clock, api_key):
    from tests.test_delighted import basic

    response = client.post(
        "/v1/people.json",
        json={"email": "ana@example.com", "properties": {"locale": "it", "plan": "gold"}},
        headers=basic(api_key),
    )

    assert response.status_code in (200, 201)
    assert _customer(session, "ana@example.com").locale == "it"


def test_the_csv_import_reads_a_locale_column(runner, session, clock, tmp_path):
    path = tmp_path / "purchases.csv"
    path.write_text(
        "order_id,email,name,locale\nA-1,ana@example.com,Ana Diaz,nl\nA-2,ben@example.com,,xx!\n",
        encoding="utf-8",
    )

    result = runner.invoke(args=["purchases", "import", str(path)])

    assert "1 rejected" in result.output
    assert "locale" in result.output
    assert _customer(session, "ana@example.com").locale == "nl"


# --- the whole way: a Spanish customer, an English owner ----------------------------------


def test_a_spanish_customer_gets_a_spanish_email_and_survey_while_the_owner_reads_english(
    client, session, clock, runner, fake_sendgrid
):
    owner = make_user(session, role="owner", email="olivia@shop.example", name="Olivia Bennett")
    _key, api_key = make_api_key(session)
    session.commit()
    created = client.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {api_key}"},
        json={
            "order_id": "A-1001",
            "customer": {
                "email": "ana@example.com",
                "name": "Ana Diaz",
                "locale": "es",
                "timezone": "Europe/Madrid",
            },
            "purchased_at": "2026-11-22T10:00:00Z",
            "items": [{"sku": "KB-1", "name": "Teclado"}],
            "owner_email": "olivia@shop.example",
        },
    )
    assert created.status_code == 201

    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    [mail] = fake_sendgrid.accepted
    assert mail.subject == "Ana, ¿qué tal con tu Teclado?"
    assert mail.text.startswith("Hola, Ana:")
    assert "Gracias por elegirnos para tu Teclado." in mail.text
    assert "Date de baja con un clic" in mail.text
    assert 'lang="es"' in mail.html

    path, value = LINK.findall(mail.text)[0]
    survey_page = client.get(f"{path}?a={value}")
    html = survey_page.get_data(as_text=True)
    assert survey_page.status_code == 200
    assert '<html lang="es" dir="ltr">' in html
    assert "¡Hola, Ana!" in html
    assert "Enviar esta respuesta" in html

    full = page(client.get(path))
    assert "Tu pedido del 22 de noviembre de 2026." in full.text
    # Valid for 30 days from the send, written in Madrid's calendar.
    assert "Este enlace funciona hasta el 23 de diciembre de 2026." in full.text
    answered = client.post(
        path, data={"csrf_token": full.field_value("csrf_token"), **UNHAPPY_ANSWERS}
    )
    thanks = answered.get_data(as_text=True)
    assert "Gracias, Ana." in thanks
    # Our own thank-you words (the setting's default) in her language.
    assert "Gracias por contárnoslo. Cada respuesta la lee una persona" in thanks

    # Olivia chose no language: her email and her case page are in the shop's (English).
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    [owner_mail] = [m for m in fake_sendgrid.accepted if m.to_email == "olivia@shop.example"]
    assert 'lang="en"' in owner_mail.html
    case = session.scalars(select(Case)).one()
    log_in(client, owner)
    case_page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in case_page
    assert ">Inbox</a>" in case_page


def test_the_shops_default_language_speaks_to_customers_we_know_no_language_of(
    client, session, clock
):
    set_setting(session, "default_language", "fr")
    customer = make_customer(session, name="Ana Diaz")
    _survey, token = make_sent_survey(session, customer)
    session.commit()

    html = client.get(f"/s/{token}").get_data(as_text=True)

    assert '<html lang="fr" dir="ltr">' in html
    assert "Bonjour Ana," in html


def test_a_language_we_do_not_ship_falls_back_to_the_shops(client, session, clock):
    customer = make_customer(session, name="Ana Diaz")
    customer.locale = "ja"
    _survey, token = make_sent_survey(session, customer)
    session.commit()

    assert '<html lang="en" dir="ltr">' in client.get(f"/s/{token}").get_data(as_text=True)


def test_arabic_pages_read_right_to_left(client, session, clock):
    customer = make_customer(session, name="Layla Haddad")
    customer.locale = "ar-EG"
    _survey, token = make_sent_survey(session, customer)
    session.commit()

    html = client.get(f"/s/{token}").get_data(as_text=True)

    assert '<html lang="ar" dir="rtl">' in html
    assert "مرحبًا Layla،" in html


# --- the language links on the survey page ------------------------------------------------


def test_the_language_links_show_the_page_in_that_language_and_record_nothing(
    client, session, clock
):
    customer = make_customer(session, name="Ana Diaz")
    customer.locale = "es"
    _survey, token = make_sent_survey(session, customer)
    session.commit()

    spanish = page(client.get(f"/s/{token}?a=short"))
    links = {a["hreflang"]: a["href"] for a in spanish.soup.select(".language-switch a")}
    assert set(links) == {"en", "fr", "de", "pt-BR", "it", "nl", "ar"}  # all but Spanish
    assert links["fr"] == f"/s/{token}?a=short&lang=fr"

    french = client.get(links["fr"]).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french
    assert "Envoyer cette réponse" in french
    assert session.get(Customer, customer.id).locale == "es"  # a GET never records


def test_answers_sent_from_a_page_in_another_language_remember_it(client, session, clock):
    customer = make_customer(session, name="Ana Diaz")
    customer.locale = "es"
    _survey, token = make_sent_survey(session, customer)
    session.commit()

    shown = page(client.get(f"/s/{token}?lang=de"))
    action = shown.one("form.survey-form")["action"]
    assert action == f"/s/{token}?lang=de"
    thanks = client.post(
        action, data={"csrf_token": shown.field_value("csrf_token"), **UNHAPPY_ANSWERS}
    )

    assert "Danke, Ana." in thanks.get_data(as_text=True)
    assert session.get(Customer, customer.id).locale == "de"
    # The next page (here: already answered) speaks German without being asked.
    assert "Sie haben schon geantwortet, Ana" in client.get(f"/s/{token}").get_data(as_text=True)


def test_a_language_we_do_not_ship_in_the_link_is_ignored(client, session, clock):
    customer = make_customer(session, name="Ana Diaz")
    _survey, token = make_sent_survey(session, customer)
    session.commit()

    html = client.get(f"/s/{token}?lang=xx").get_data(as_text=True)

    assert '<html lang="en" dir="ltr">' in html


# --- people's own language ------------------------------------------------------------------


def test_an_owner_chooses_their_own_language_on_their_settings_page(client, session, clock):
    owner = make_user(session, role="owner", email="olivia@shop.example")
    session.commit()
    log_in(client, owner)

    saved = client.post(
        "/account/settings",
        data={
            "csrf_token": csrf_token(client, "/account/settings"),
            "weekly_digest": "y",
            "time_zone": "",
            "language": "es",
        },
        follow_redirects=True,
    )

    html = saved.get_data(as_text=True)
    assert owner.locale == "es"
    assert '<html lang="es" dir="ltr">' in html
    assert "Guardado." in html  # the message already in the language just chosen
    assert ">Bandeja de entrada</a>" in html


def test_an_owner_cannot_choose_a_language_we_do_not_ship(client, session, clock):
    owner = make_user(session, role="owner", email="olivia@shop.example")
    session.commit()
    log_in(client, owner)

    refused = client.post(
        "/account/settings",
        data={"csrf_token": csrf_token(client, "/account/settings"), "language": "ja"},
    )

    assert refused.status_code == 422
    assert owner.locale is None


def test_the_shops_default_language_is_an_admin_setting(client, session, clock):
    admin = make_user(session, role="admin", email="alex@shop.example")
    session.commit()
    log_in(client, admin)

    form = page(client.get("/admin/settings"))
    options = [
        option["value"] for option in form.soup.select("select[name=default_language] option")
    ]
    assert options == list(SHIPPED)
    saved = post_settings(client, session, default_language="nl")
    assert saved.status_code == 302

    customer = make_customer(session, name="Ana Diaz")
    _survey, token = make_sent_survey(session, customer, sent_at=datetime.now(UTC))
    session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/settings")})
    assert "Hoi Ana," in client.get(f"/s/{token}").get_data(as_text=True)


def test_a_thank_you_message_the_shop_wrote_itself_is_shown_as_written(client, session, clock):
    set_setting(session, "thank_you_message", "Gracias de parte de todo el equipo de Madrid.")
    customer = make_customer(session, name="Ana Diaz")
    customer.locale = "fr"
    _survey, token = make_sent_survey(session, customer)
    session.commit()
    shown = page(client.get(f"/s/{token}"))

    thanks = client.post(
        f"/s/{token}", data={"csrf_token": shown.field_value("csrf_token"), **UNHAPPY_ANSWERS}
    ).get_data(as_text=True)

    assert "Merci, Ana." in thanks
    assert "Gracias de parte de todo el equipo de Madrid." in thanks


def test_an_owner_who_reads_german_gets_the_new_case_email_in_german_in_their_zone(
    client, session, clock, runner, fake_sendgrid
):
    owner = make_user(session, role="owner", email="jonas@shop.example", name="Jonas Weber")
    owner.locale, owner.time_zone = "de", "Europe/Berlin"
    customer = make_customer(session, name="Ana Diaz", owner=owner)
    customer.locale = "es"
    _survey, token = make_sent_survey(session, customer)
    session.commit()
    shown = page(client.get(f"/s/{token}"))
    client.post(
        f"/s/{token}", data={"csrf_token": shown.field_value("csrf_token"), **UNHAPPY_ANSWERS}
    )

    assert runner.invoke(args=["worker", "--once"]).exit_code == 0

    [mail] = [m for m in fake_sendgrid.accepted if m.to_email == "jonas@shop.example"]
    case = session.scalars(select(Case)).one()
    assert mail.subject == f"Ana Diaz braucht Sie: Fall Nr. {case.id}"
    assert mail.text.startswith("Hallo Jonas,")
    # Four hours to acknowledge from Monday 09:00 UTC: 14:00 in Berlin, written the German way.
    assert "Bitte übernehmen Sie ihn bis 23. Nov. 2026, 14:00 MEZ." in mail.text
