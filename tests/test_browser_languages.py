"""The survey in Chromium on a 360×740 phone in Spanish and in Arabic (right to left), from the
email the worker wrote; switching language with one tap. Screenshots kept as artifacts."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from surveys.db import utcnow
from surveys.models import Customer, User
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_customer, make_purchase, make_user
from tests.test_browser_account_settings import DESKTOP, _log_in
from tests.test_browser_account_settings import PHONE as ACCOUNT_PHONE
from tests.test_browser_survey import PHONE, assert_fits_the_phone, one_click_link_from_the_email

pytestmark = pytest.mark.browser


def deliver_a_survey(app: Flask, *, name: str, locale: str) -> int:
    """A purchase survey for a customer of that locale, written to a file by the worker."""
    sessions = app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        owner = make_user(session, role="owner", name="Olivia Moreno")
        customer = make_customer(session, name=name, owner=owner)
        customer.locale = locale
        purchase = make_purchase(
            session,
            customer,
            items=[{"sku": "MON-27", "name": "Monitor 27"}, {"sku": "CAB-1", "name": "Cable"}],
        )
        schedule_survey(
            session,
            customer=customer,
            kind="purchase",
            purchase=purchase,
            now=utcnow(),
            question_set=get_question_set(session, "heart-to-heart"),
        )
        session.commit()
        customer_id = customer.id
    delivered = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert delivered.exit_code == 0, delivered.output
    return customer_id


def test_a_spanish_customer_answers_in_spanish_on_a_phone(
    committed_app, live_server, browser, artifacts_dir, backend
):
    live_server(committed_app)
    deliver_a_survey(committed_app, name="Ana Diaz", locale="es-MX")
    shot = f"languages-es-360px-{backend}"
    context = browser.new_context(**PHONE)
    page = context.new_page()

    page.goto(one_click_link_from_the_email(committed_app, "short"))
    assert page.get_attribute("html", "lang") == "es"
    assert page.get_attribute("html", "dir") == "ltr"
    expect(page.get_by_role("heading", name="¡Hola, Ana!")).to_be_visible()
    button = page.get_by_role("button", name="Enviar esta respuesta")
    box = button.bounding_box()
    assert box["y"] + box["height"] <= PHONE["viewport"]["height"]  # on the first screen
    assert_fits_the_phone(page)
    page.screenshot(path=artifacts_dir / f"{shot}-1-tapped.png", full_page=True)

    button.tap()
    expect(page.get_by_role("heading", name="Gracias, Ana.")).to_be_visible()
    expect(page.get_by_role("button", name="Enviar estas respuestas")).to_be_visible()
    assert_fits_the_phone(page)
    page.screenshot(path=artifacts_dir / f"{shot}-2-thank-you.png", full_page=True)
    context.close()


def test_an_arabic_customer_reads_the_survey_right_to_left_and_can_switch_language(
    committed_app, live_server, browser, artifacts_dir, backend
):
    live_server(committed_app)
    customer_id = deliver_a_survey(committed_app, name="Layla Haddad", locale="ar")
    shot = f"languages-ar-360px-{backend}"
    context = browser.new_context(**PHONE)
    page = context.new_page()

    page.goto(one_click_link_from_the_email(committed_app, "short").split("?")[0])
    assert page.get_attribute("html", "lang") == "ar"
    assert page.get_attribute("html", "dir") == "rtl"
    expect(page.get_by_role("heading", name="مرحبًا Layla،")).to_be_visible()
    # Mirrored: text starts at the right edge of the column, and the scale runs from the right.
    heading = page.locator("main h1").bounding_box()
    main = page.locator("main").bounding_box()
    assert main["x"] + main["width"] - (heading["x"] + heading["width"]) < 40
    zero = page.locator("label[for=recommend-0]").bounding_box()
    one = page.locator("label[for=recommend-1]").bounding_box()
    assert zero["x"] > one["x"]
    assert_fits_the_phone(page)
    page.screenshot(path=artifacts_dir / f"{shot}-1-survey.png", full_page=True)

    # One tap on "Español" shows the same page in Spanish; nothing is recorded by it.
    page.get_by_role("link", name="Español").tap()
    expect(page.get_by_role("heading", name="¡Hola, Layla!")).to_be_visible()
    assert page.get_attribute("html", "dir") == "ltr"
    page.screenshot(path=artifacts_dir / f"{shot}-2-switched-to-spanish.png", full_page=True)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        assert session.scalar(select(Customer.locale).where(Customer.id == customer_id)) == "ar"
    context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, ACCOUNT_PHONE], ids=["1280", "360"])
def test_an_owner_chooses_arabic_and_their_pages_turn_right_to_left(
    committed_app, live_server, browser, artifacts_dir, backend, viewport
):
    base = live_server(committed_app)
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as session:
        owner = make_user(session, name="Olivia Moreno")
        session.commit()
        owner_id, email = owner.id, owner.email
    width = viewport["viewport"]["width"]
    context = browser.new_context(**viewport)
    page = context.new_page()
    _log_in(page, base, email, "/account/settings")

    page.get_by_label("My language").select_option("ar")
    page.get_by_role("button", name="Save my settings").click()
    expect(page.get_by_role("heading", name="إعداداتي")).to_be_visible()
    assert page.get_attribute("html", "dir") == "rtl"
    expect(page.get_by_text("تم الحفظ.")).to_be_visible()
    assert page.get_by_label("لغتي").input_value() == "ar"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(
        path=str(artifacts_dir / f"languages-account-ar-{width}-{backend}.png"), full_page=True
    )
    with sessions() as session:
        assert session.get(User, owner_id).locale == "ar"
    context.close()


def test_the_arabic_survey_on_a_wide_screen(
    committed_app, live_server, browser, artifacts_dir, backend
):
    live_server(committed_app)
    deliver_a_survey(committed_app, name="Layla Haddad", locale="ar")
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(one_click_link_from_the_email(committed_app, "short").split("?")[0])
    expect(page.get_by_role("heading", name="مرحبًا Layla،")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(artifacts_dir / f"languages-ar-1280px-{backend}.png"), full_page=True)
    context.close()
