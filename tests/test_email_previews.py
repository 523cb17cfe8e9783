"""/admin/emails: every email rendered with sample data, HTML and text, before it goes to anyone."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from surveys.mail.render import EMAIL_TEMPLATES
from surveys.mail.samples import preview_entries
from surveys.models import Customer, OutboxMessage, Purchase, Survey, SurveyToken, User
from surveys.services.settings import set_setting
from tests.factories import make_user
from tests.web import log_in

ENTRIES = preview_entries()


def preview_url(entry) -> str:
    return f"/admin/emails/{entry.name}" + (f"?variant={entry.variant}" if entry.variant else "")


def parts(client, page: str) -> tuple[str, str]:
    """The HTML the preview's sandboxed iframe loads, and the plain text."""
    src = re.search(r'<iframe[^>]* sandbox\s+src="([^"]*)"', page)
    text = re.search(r'<pre class="email-text">(.*?)</pre>', page, re.S)
    assert src and text, "the page shows no HTML frame or no text part"
    frame = client.get(html_lib.unescape(src.group(1)))
    assert frame.status_code == 200
    return frame.get_data(as_text=True), html_lib.unescape(text.group(1))


def test_previews_are_for_admins_only(client, session):
    owner = make_user(session, role="owner")
    session.commit()
    log_in(client, owner)
    assert client.get("/admin/emails").status_code == 403
    assert client.get("/admin/emails/survey").status_code == 403
    assert client.get("/admin/emails/survey/html").status_code == 403


def test_the_list_links_every_registered_email_and_its_variants(admin_client):
    page = admin_client.get("/admin/emails").get_data(as_text=True)

    for name in EMAIL_TEMPLATES:
        assert f"/admin/emails/{name}" in page, name
    for kind in ("purchase", "fix_check", "relationship_review", "manual"):
        assert f"/admin/emails/survey?variant={kind}" in page
        assert f"/admin/emails/reminder?variant={kind}" in page
    customers, team = page.split("To the team")
    assert "/admin/emails/reminder" in customers and "/admin/emails/owner_new_case" in team


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e.name}-{e.variant}" for e in ENTRIES])
def test_each_email_renders_with_sample_data_as_html_and_text(admin_client, session, entry):
    counts = {
        model: session.scalar(select(func.count()).select_from(model))
        for model in (Customer, User, Purchase, Survey, SurveyToken, OutboxMessage)
    }

    response = admin_client.get(preview_url(entry))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "could not be rendered" not in page
    html, text = parts(admin_client, page)
    subject = re.search(r"<dt>Subject</dt><dd>(.*?)</dd>", page).group(1)
    assert subject and "None" not in subject
    assert html.lstrip().startswith("<!doctype html>") and "</html>" in html
    assert "Ana" in text or "Olivia" in text
    if entry.to_customer:
        assert "<dt>List-Unsubscribe-Post</dt><dd>List-Unsubscribe=One-Click</dd>" in page
        assert "http://surveys.test/u/your-personal-link" in html
        assert "http://surveys.test/u/your-personal-link" in text
    else:
        assert "List-Unsubscribe" not in page
    # Sample people and orders are never stored.
    session.expire_all()
    assert counts == {
        model: session.scalar(select(func.count()).select_from(model)) for model in counts
    }


def test_survey_previews_show_todays_first_question_in_each_kinds_words(admin_client):
    purchase = admin_client.get("/admin/emails/survey?variant=purchase").get_data(as_text=True)
    fix_check = admin_client.get("/admin/emails/survey?variant=fix_check").get_data(as_text=True)

    html, text = parts(admin_client, purchase)
    assert "Are we exceeding your expectations?" in text
    assert "Thank you for choosing us for your Walnut keyboard." in text
    assert "http://surveys.test/s/your-personal-link?a=short" in html
    _html, text = parts(admin_client, fix_check)
    assert "You told us about a problem and we worked on it. Did our fix work?" in text
    assert "Olivia has been working on it" in text


def test_previews_use_the_sender_name_setting(admin_client, session):
    set_setting(session, "sender_name", "Walnut & Co")
    session.commit()

    page = admin_client.get("/admin/emails/reminder?variant=purchase").get_data(as_text=True)

    assert "<dt>From</dt><dd>Walnut &amp; Co &lt;surveys@shop.test&gt;</dd>" in page
    assert "Warmly,\nWalnut & Co" in parts(admin_client, page)[1]


def test_the_html_is_shown_in_a_sandbox_that_runs_no_script(admin_client):
    page = admin_client.get("/admin/emails/reply").get_data(as_text=True)

    iframe = re.search(r"<iframe[^>]*>", page).group(0)
    assert re.search(r"\ssandbox\s", iframe) and "allow-scripts" not in iframe


def test_an_unknown_email_is_404(admin_client):
    assert admin_client.get("/admin/emails/postcard").status_code == 404
    assert admin_client.get("/admin/emails/survey?variant=sonnet").status_code == 404
    assert admin_client.get("/admin/emails/postcard/html").status_code == 404
