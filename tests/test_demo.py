"""`flask demo`: what `make run` seeds on first start."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from surveys.models import ApiKey, Case, Customer, Response, Survey, User


def test_demo_seeds_people_a_key_purchases_and_one_unhappy_answer(app, runner, session):
    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert "alex@shop.example" in result.output and "demo-admin-2026" in result.output
    assert "API key (shown once): h2h_" in result.output
    assert session.scalar(select(func.count(User.id))) == 3
    assert session.scalar(select(func.count(ApiKey.id))) == 1
    assert session.scalar(select(func.count(Survey.id)).where(Survey.status == "sent")) == 2
    assert session.scalar(select(func.count(Response.id))) == 2
    [case] = session.scalars(select(Case)).all()
    assert case.owner.email == "omar@shop.example"  # the furniture routing rule
    assert len(list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))) == 4


def test_demo_run_twice_changes_nothing_the_second_time(runner, session):
    runner.invoke(args=["demo"])

    def counts():
        return [session.scalar(select(func.count(model.id))) for model in (User, Survey, Case)]

    before = counts()
    again = runner.invoke(args=["demo"])

    assert again.exit_code == 0
    assert "already there" in again.output
    assert counts() == before


def test_demo_surveys_are_delivered_at_night_too(app, runner, session, clock):
    # 23:30 in Madrid: quiet hours for the demo's customer there.
    clock.set(datetime(2026, 11, 29, 22, 30, tzinfo=UTC))

    result = runner.invoke(args=["demo"])

    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count(Survey.id)).where(Survey.status == "sent")) == 2
    assert session.scalar(select(func.count(Response.id))) == 2
    ana = session.scalars(select(Customer).where(Customer.email == "ana.diaz@example.com")).one()
    assert ana.timezone == "Europe/Madrid"


def test_demo_prints_the_login_link_at_base_url(app, runner):
    """Behind a proxy or on another port, the link the demo prints must open the app."""
    app.config["BASE_URL"] = "https://feedback.shop.example/h2h"

    first = runner.invoke(args=["demo"])
    again = runner.invoke(args=["demo"])

    for result in (first, again):
        assert "Log in at https://feedback.shop.example/h2h/login with:" in result.output
        assert "127.0.0.1:5000" not in result.output
