"""`flask demo`: what `make run` seeds on first start."""

from pathlib import Path

from sqlalchemy import func, select

from surveys.models import ApiKey, Case, Response, Survey, User


def test_demo_seeds_people_a_key_purchases_and_one_unhappy_answer(app, runner, session, clock):
    # 15:00 UTC: daytime for every demo customer (Madrid to New York), so no survey is
    # held for quiet hours, whatever time the suite runs at.
    clock.advance(hours=6)
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
