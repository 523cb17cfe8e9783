"""A customer answers the survey in Chromium from the email's answer link: the tapped answer is
sent by one button on the first screen, and the thank-you page takes the rest."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

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


def deliver_a_survey_to_ana(app: Flask) -> tuple[int, int]:
    """Ana's purchase survey, delivered by the worker (to a file, as `make run` does);
    the ids of the survey and of her account owner, Olivia."""
    sessions = app.extensions["db"]["sessionmaker"]
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
        ids = survey.id, owner.id
    delivered = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert delivered.exit_code == 0, delivered.output
    return ids


def scale_rows(page) -> list[list[dict]]:
    """The 0–10 scale's tap targets (their boxes), row by row."""
    boxes = [page.locator(f"label[for=recommend-{n}]").bounding_box() for n in range(11)]
    rows: dict[int, list[dict]] = {}
    for box in boxes:
        rows.setdefault(round(box["y"]), []).append(box)
    return [rows[y] for y in sorted(rows)]


def test_customer_sends_the_tapped_answer_without_scrolling_on_a_360px_phone(
    committed_app,
    live_server,
    browser,
    artifacts_dir,
    backend,
):
    live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    survey_id, owner_id = deliver_a_survey_to_ana(committed_app)
    shot = f"survey-360px-{backend}"

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(one_click_link_from_the_email(committed_app, "short"))
    assert page.is_checked("input[name=expectations][value=short]")
    assert not page.is_checked("input[name=expectations][value=meeting]")
    # The button that sends it is on the first screen, right beneath the answer.
    button = page.get_by_role("button", name="Send this answer")
    box = button.bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["viewport"]["height"]
    assert box["height"] >= 44
    chosen = page.locator("label[for=expectations-2]").bounding_box()
    assert 0 < box["y"] - (chosen["y"] + chosen["height"]) < 60
    assert_fits_the_phone(page)
    page.screenshot(path=artifacts_dir / f"{shot}-1-tapped.png")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 0

    button.tap()
    page.wait_for_selector("h1:has-text('Thank you, Ana.')")
    assert "Olivia" in page.inner_text("main")
    with sessions() as session:
        response = session.scalars(select(Response)).one()
        assert {a.question.key: a.value for a in response.answers} == {"expectations": "short"}
        case = session.scalars(select(Case)).one()
        assert (case.response_id, case.owner_id) == (response.id, owner_id)
    assert_fits_the_phone(page)
    # The 0–10 scale wraps onto two rows at 360 px, every point at least 44 px square.
    rows = scale_rows(page)
    assert [len(row) for row in rows] == [6, 5]
    assert min(b["width"] for row in rows for b in row) >= 44
    assert min(b["height"] for row in rows for b in row) >= 44
    page.screenshot(path=artifacts_dir / f"{shot}-2-thank-you-offers-the-rest.png", full_page=True)

    page.fill("textarea[name=one_thing]", "The keyboard arrived with two keys missing.")
    page.check("input[name=time_money][value=no]")
    page.locator("label[for=recommend-3]").tap()
    page.fill("textarea[name=preferences]", "Email is best; I work nights.")
    assert page.is_checked("input[name=recommend][value='3']")
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Send these answers").tap()
    page.wait_for_selector("h1:has-text('Thank you, Ana.')")
    assert page.locator("form.survey-form").count() == 0
    page.screenshot(path=artifacts_dir / f"{shot}-3-added.png", full_page=True)
    context.close()

    with sessions() as session:
        response = session.scalars(select(Response)).one()
        assert (response.survey_id, response.negative) == (survey_id, True)
        answers = {a.question.key: a.value for a in response.answers}
        assert answers == {
            "expectations": "short",
            "one_thing": "The keyboard arrived with two keys missing.",
            "time_money": "no",
            "recommend": "3",
            "preferences": "Email is best; I work nights.",
        }
        assert session.scalars(select(Case.id)).all() == [case.id]


def test_the_same_link_on_a_1280px_screen(
    committed_app, live_server, browser, artifacts_dir, backend
):
    live_server(committed_app)
    deliver_a_survey_to_ana(committed_app)
    shot = f"survey-1280px-{backend}"
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(one_click_link_from_the_email(committed_app, "meeting"))
    assert page.is_checked("input[name=expectations][value=meeting]")
    box = page.get_by_role("button", name="Send this answer").bounding_box()
    assert box["y"] + box["height"] <= 800
    page.screenshot(path=artifacts_dir / f"{shot}-1-tapped.png")
    page.get_by_role("button", name="Send this answer").click()
    page.wait_for_selector("h1:has-text('Thank you, Ana.')")
    # Wide enough: the scale is one row again.
    assert [len(row) for row in scale_rows(page)] == [11]
    page.screenshot(path=artifacts_dir / f"{shot}-2-thank-you-offers-the-rest.png", full_page=True)
    page.context.close()
