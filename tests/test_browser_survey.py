"""A customer answers the survey on a phone, in Chromium, from the email's one-click link."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from surveys.db import utcnow
from surveys.models import Case, Response
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_customer, make_purchase, make_user

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def one_click_link_from_the_email(app: Flask, answer: str) -> str:
    """The survey email's link for one answer to the first question, read from the .eml file."""
    [eml] = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    [link] = re.findall(rf"{re.escape(app.config['BASE_URL'])}/s/[\w-]+\?a={answer}\b", text)
    return link


def assert_fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_customer_finishes_the_survey_on_a_360px_phone(
    committed_app,
    live_server,
    browser,
    artifacts_dir,
    backend,
):
    live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        owner = make_user(session, role="owner", name="Olivia Moreno")
        customer = make_customer(session, name="Ana Diaz", owner=owner)
        purchase = make_purchase(session, customer)
        survey = schedule_survey(
            session,
            customer=customer,
            kind="purchase",
            purchase=purchase,
            now=utcnow(),
            question_set=get_question_set(session, "heart-to-heart"),
        )
        session.commit()
        survey_id = survey.id
    # The worker delivers the survey email (to a file, as `make run` does).
    delivered = committed_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert delivered.exit_code == 0, delivered.output
    shot = f"survey-360px-{backend}"

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(one_click_link_from_the_email(committed_app, "short"))
    assert page.is_checked("input[name=expectations][value=short]")
    assert not page.is_checked("input[name=expectations][value=meeting]")
    assert_fits_the_phone(page)
    # The 0–10 scale is one row of numbers, each wide enough to tap.
    boxes = [page.locator(f"label[for=recommend-{n}]").bounding_box() for n in range(11)]
    assert len({round(box["y"]) for box in boxes}) == 1
    assert min(box["width"] for box in boxes) >= 24
    page.screenshot(path=artifacts_dir / f"{shot}-1-opened.png", full_page=True)

    page.fill("textarea[name=one_thing]", "The keyboard arrived with two keys missing.")
    page.check("input[name=time_money][value=no]")
    page.check("input[name=recommend][value='3']")
    page.fill("textarea[name=preferences]", "Email is best; I work nights.")
    assert_fits_the_phone(page)
    page.screenshot(path=artifacts_dir / f"{shot}-2-answered.png", full_page=True)

    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Thank you, Ana.')")
    assert "Olivia" in page.inner_text("main")
    assert_fits_the_phone(page)
    page.screenshot(path=artifacts_dir / f"{shot}-3-thank-you.png", full_page=True)
    context.close()

    with sessions() as session:
        response = session.scalars(select(Response)).one()
        assert (response.survey_id, response.negative) == (survey_id, True)
        answers = {a.question.key: a.value for a in response.answers}
        assert answers["expectations"] == "short" and answers["recommend"] == "3"
        case = session.scalars(select(Case)).one()
        assert (case.response_id, case.owner_id) == (response.id, owner.id)
