"""/admin/emails: every email rendered with sample data, HTML and text, before it goes to anyone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from surveys.mail.render import EMAIL_TEMPLATES
from surveys.mail.samples import preview_entries
from surveys.models import Customer, OutboxMessage, Purchase, Survey, SurveyToken, User
from surveys.services.settings import set_setting
from tests.pages import Page, page

ENTRIES = preview_entries()


def preview_url(entry) -> str:
    return f"/admin/emails/{entry.name}" + (f"?variant={entry.variant}" if entry.variant else "")


def parts(client, preview: Page) -> tuple[str, str]:
    """The HTML the preview's sandboxed iframe loads, and the plain text."""
    frame = client.get(preview.one("iframe[sandbox]")["src"])
    assert frame.status_code == 200
    return frame.get_data(as_text=True), preview.one("pre.email-text").get_text()


def headers(preview: Page) -> dict[str, str]:
    return preview.definitions(preview.one("dl.email-headers"))


def test_the_list_links_every_registered_email_and_its_variants(admin_client):
    shown = page(admin_client.get("/admin/emails"))
    customers = set(shown.links(shown.region("To customers")).values())
    team = set(shown.links(shown.region("To the team")).values())

    assert {urlsplit(href).path for href in customers | team} == {
        f"/admin/emails/{name}" for name in EMAIL_TEMPLATES
    }
    for kind in ("purchase", "fix_check", "relationship_review", "manual"):
        assert f"/admin/emails/survey?variant={kind}" in customers
        assert f"/admin/emails/reminder?variant={kind}" in customers
    assert "/admin/emails/owner_new_case" in team


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e.name}-{e.variant}" for e in ENTRIES])
def test_each_email_renders_with_sample_data_as_html_and_text(admin_client, session, entry):
    counts = {
        model: session.scalar(select(func.count()).select_from(model))
        for model in (Customer, User, Purchase, Survey, SurveyToken, OutboxMessage)
    }

    response = admin_client.get(preview_url(entry))

    assert response.status_code == 200
    preview = page(response)
    assert "could not be rendered" not in preview.text
    html, text = parts(admin_client, preview)
    subject = headers(preview)["Subject"]
    assert subject and "None" not in subject
    assert html.lstrip().startswith("<!doctype html>") and "</html>" in html
    assert "Ana" in text or "Olivia" in text
    if entry.to_customer:
        assert headers(preview)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "http://surveys.test/u/your-personal-link" in html
        assert "http://surveys.test/u/your-personal-link" in text
    else:
        assert "List-Unsubscribe" not in headers(preview)
    # Sample people and orders are never stored.
    session.expire_all()
    assert counts == {
        model: session.scalar(select(func.count()).select_from(model)) for model in counts
    }


def test_survey_previews_show_todays_first_question_in_each_kinds_words(admin_client):
    purchase = page(admin_client.get("/admin/emails/survey?variant=purchase"))
    fix_check = page(admin_client.get("/admin/emails/survey?variant=fix_check"))

    html, text = parts(admin_client, purchase)
    assert "Are we exceeding your expectations?" in text
    assert "Thank you for choosing us for your walnut keyboard." in text
    assert "http://surveys.test/s/your-personal-link?a=short" in html
    _html, text = parts(admin_client, fix_check)
    assert "You told us about a problem and we worked on it. Did our fix work?" in text
    assert "Olivia has been working on it" in text


def test_previews_use_the_sender_name_and_sign_with_the_shop_name(admin_client, session):
    set_setting(session, "sender_name", "Walnut & Co")
    set_setting(session, "shop_name", "The Walnut Workshop")
    session.commit()

    preview = page(admin_client.get("/admin/emails/reminder?variant=purchase"))

    assert headers(preview)["From"] == "Walnut & Co <surveys@shop.test>"
    assert "Warmly,\nThe Walnut Workshop" in parts(admin_client, preview)[1]


def test_the_html_is_shown_in_a_sandbox_that_runs_no_script(admin_client):
    iframe = page(admin_client.get("/admin/emails/reply")).one("iframe")

    assert iframe.has_attr("sandbox") and "allow-scripts" not in iframe["sandbox"]


def test_an_unknown_email_is_404(admin_client):
    assert admin_client.get("/admin/emails/postcard").status_code == 404
    assert admin_client.get("/admin/emails/survey?variant=sonnet").status_code == 404
    assert admin_client.get("/admin/emails/postcard/html").status_code == 404
