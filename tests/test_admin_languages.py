"""The admin's own pages in the admin's language: users, API keys, webhooks, Slack and Teams,
the outbox and the audit log, with their navigation, buttons, validation and flash messages,
and dates written the way the admin's language writes them. Arabic reads right to left; an
admin who chose English (or nothing) still reads the pages as they always were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.models import WebhookEndpoint
from tests.factories import make_api_key, make_user
from tests.pages import page, text_of
from tests.web import csrf_token, log_in

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SLACK_URL = "https://hooks.slack.com/services/T0AAA/B0BBB/abcdefghijklmnop"


@pytest.fixture
def admin_reading(client, session, clock):
    """Log in an admin who reads `language`; returns the client."""

    def sign_in(language: str | None):
        person = make_user(session, role="admin", name="Ada Admin")
        person.locale = language
        session.commit()
        log_in(client, person)
        return client

    return sign_in


def _read(response) -> str:
    """What the page says, as a person reads it (entities decoded, spaces collapsed)."""
    return page(response.get_data(as_text=True)).text


def _post(client, path: str, data: dict, *, token_from: str, **kwargs):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)}, **kwargs)


def test_a_french_admin_reads_the_users_page_and_its_navigation_in_french(admin_reading):
    client = admin_reading("fr")

    users = page(client.get("/admin/users").get_data(as_text=True))

    assert '<html lang="fr" dir="ltr">' in users.html
    assert text_of(users.one("h1")) == "Utilisateurs"
    nav = users.one("nav.admin-nav")
    assert "Boîte d'envoi" in text_of(nav) and "Journal d'audit" in text_of(nav)
    assert "Clés d'API" in text_of(nav) and "Slack et Teams" in text_of(nav)
    assert "Dossiers ouverts" in users.text
    assert "Réinitialiser le mot de passe" in users.text
    assert "Créer l'accès" in users.buttons()
    assert "Responsable : traite ses propres dossiers" in users.text


def test_a_french_admin_is_told_in_french_what_is_wrong_with_a_new_user(admin_reading):
    client = admin_reading("fr")

    missing = _post(client, "/admin/users", {"email": "", "name": ""}, token_from="/admin/users")
    bad_email = _post(
        client,
        "/admin/users",
        {"name": "Bea", "email": "pas-une-adresse", "role": "owner", "password": "x" * 12},
        token_from="/admin/users",
    )

    assert missing.status_code == 422
    assert "Indiquez son nom." in _read(missing)
    assert "Indiquez son adresse e-mail." in _read(missing)
    assert bad_email.status_code == 422
    assert "« pas-une-adresse » n'est pas une adresse e-mail valide" in _read(bad_email)


def test_a_french_admin_gets_the_flash_messages_of_the_users_page_in_french(admin_reading, session):
    client = admin_reading("fr")
    owner = make_user(session, role="owner", name="Olivia Owner")
    session.commit()

    created = _post(
        client,
        "/admin/users",
        {"name": "Bea", "email": "bea@example.com", "role": "owner", "password": "x" * 12},
        token_from="/admin/users",
        follow_redirects=True,
    )
    gone = _post(
        client,
        f"/admin/users/{owner.id}/deactivate",
        {},
        token_from="/admin/users",
        follow_redirects=True,
    )

    assert "Bea peut désormais se connecter avec bea@example.com." in _read(created)
    assert "Olivia Owner ne peut plus se connecter." in _read(gone)


def test_a_french_admin_reads_the_api_keys_with_french_dates(admin_reading, session):
    client = admin_reading("fr")
    key, _raw = make_api_key(session, "Helpdesk", scope="read")
    key.created_at = NOON
    session.commit()

    keys = page(client.get("/admin/api-keys").get_data(as_text=True))
    revoked = _read(
        _post(
            client,
            f"/admin/api-keys/{key.id}/revoke",
            {},
            token_from="/admin/api-keys",
            follow_redirects=True,
        )
    )

    assert text_of(keys.one("h1")) == "Clés d'API"
    row = keys.by_id(f"api-key-{key.id}")
    assert "23 nov. 2026, 12:00" in text_of(row)
    assert "lecture" in text_of(row) and "jamais" in text_of(row)
    assert "Créer la clé" in keys.buttons()
    assert "Clé d'API « Helpdesk »" in revoked and "sont désormais refusées" in revoked


def test_a_french_admin_adds_a_webhook_in_french(admin_reading, session):
    client = admin_reading("fr")

    refused = _post(
        client,
        "/admin/webhooks",
        {"url": "ftp://example.com/hook", "events": ["case.opened"]},
        token_from="/admin/webhooks",
    )
    added = _post(
        client,
        "/admin/webhooks",
        {"url": "https://example.com/hook", "events": ["case.opened"]},
        token_from="/admin/webhooks",
    )
    endpoint = session.query(WebhookEndpoint).one()
    paused = _post(
        client,
        f"/admin/webhooks/{endpoint.id}/pause",
        {},
        token_from="/admin/webhooks",
        follow_redirects=True,
    )

    assert refused.status_code == 422
    assert "Indiquez une URL absolue en http:// ou https://" in _read(refused)
    webhooks = page(added.get_data(as_text=True))
    assert text_of(webhooks.one("h1")) == "Webhooks"
    assert "Le secret de signature de https://example.com/hook" in webhooks.text
    assert "Un client a répondu à une enquête" in webhooks.text
    assert "Ajouter le point de terminaison" in webhooks.buttons()
    assert "Envoyer un ping de test" in webhooks.buttons()
    assert "https://example.com/hook est en pause." in _read(paused)
    badge = page(paused.get_data(as_text=True)).one(f"#endpoint-{endpoint.id} .badge-inactive")
    assert text_of(badge) == "en pause"
    resumed = _post(
        client,
        f"/admin/webhooks/{endpoint.id}/resume",
        {},
        token_from="/admin/webhooks",
        follow_redirects=True,
    )
    pinged = _post(
        client,
        f"/admin/webhooks/{endpoint.id}/ping",
        {},
        token_from="/admin/webhooks",
        follow_redirects=True,
    )
    assert "https://example.com/hook a repris." in _read(resumed)
    assert "est en route : le processus d'envoi l'expédie en quelques secondes." in _read(pinged)
    delivery = page(pinged.get_data(as_text=True)).one(f"#endpoint-{endpoint.id} table.deliveries")
    assert "en attente" in text_of(delivery)
    assert "0 tentative" in text_of(delivery)
    assert "prochain essai à l'instant" in text_of(delivery)


def test_a_french_admin_reads_the_slack_and_teams_page_in_french(admin_reading):
    client = admin_reading("fr")

    channels = page(client.get("/admin/channels").get_data(as_text=True))
    refused = _post(
        client,
        "/admin/channels",
        {"kind": "slack", "url": "", "events": ["case_opened"]},
        token_from="/admin/channels",
    )

    assert text_of(channels.one("h1")) == "Slack et Microsoft Teams"
    assert "Ajouter le canal" in channels.buttons()
    assert "Les dossiers de tout le monde" in channels.text
    assert "Un dossier a été ouvert" in channels.text
    assert refused.status_code == 422
    assert "Collez l'URL du webhook entrant" in _read(refused)


def test_a_french_admin_adds_pauses_and_deletes_a_channel_in_french(admin_reading, session):
    client = admin_reading("fr")

    added = _post(
        client,
        "/admin/channels",
        {"kind": "slack", "url": SLACK_URL, "name": "#care", "events": ["case_opened"]},
        token_from="/admin/channels",
        follow_redirects=True,
    )
    channel = session.query(WebhookEndpoint).one()
    paused = _post(
        client,
        f"/admin/channels/{channel.id}/pause",
        {},
        token_from="/admin/channels",
        follow_redirects=True,
    )
    deleted = _post(
        client,
        f"/admin/channels/{channel.id}/delete",
        {},
        token_from="/admin/channels",
        follow_redirects=True,
    )

    assert "Canal Slack #care ajouté. Envoyez-lui un message de test" in _read(added)
    assert "Publie : les dossiers ouverts." in _read(added)
    assert "Canal Slack #care mis en pause." in _read(paused)
    assert "Canal Slack #care supprimé." in _read(deleted)


def test_a_french_admin_reads_the_outbox_and_the_audit_log_in_french(admin_reading):
    client = admin_reading("fr")
    _post(
        client,
        "/admin/webhooks",
        {"url": "https://example.com/hook", "events": ["case.opened"]},
        token_from="/admin/webhooks",
    )

    outbox = page(client.get("/admin/outbox").get_data(as_text=True))
    audit = page(client.get("/admin/audit").get_data(as_text=True))

    assert text_of(outbox.one("h1")) == "Boîte d'envoi"
    assert "Rien n'est en attente : tous les e-mails sont partis." in outbox.text
    assert "Adresses bloquées" in outbox.text
    assert text_of(audit.one("h1")) == "Journal d'audit"
    assert "1 modification." in audit.text
    assert "23 nov. 2026, 09:00" in audit.text
    assert "Filtrer" in audit.buttons()
    assert "Toutes les actions" in audit.text


def test_an_arabic_admin_reads_the_admin_pages_right_to_left(admin_reading):
    client = admin_reading("ar")

    for path, heading in [
        ("/admin/users", "المستخدمون"),
        ("/admin/outbox", "صندوق الصادر"),
        ("/admin/audit", "سجل التدقيق"),
    ]:
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in html
        assert text_of(page(html).one("h1")) == heading


@pytest.mark.parametrize("language", ["en", None])
def test_an_english_admin_still_reads_english(admin_reading, session, language):
    client = admin_reading(language)
    key, _raw = make_api_key(session, "Helpdesk")
    key.created_at = NOON
    session.commit()

    users = page(client.get("/admin/users").get_data(as_text=True))
    keys = page(client.get("/admin/api-keys").get_data(as_text=True))

    assert '<html lang="en" dir="ltr">' in users.html
    assert text_of(users.one("h1")) == "Users"
    assert "Create the login" in users.buttons()
    assert "23 Nov 2026, 12:00 UTC" in text_of(keys.by_id(f"api-key-{key.id}"))
