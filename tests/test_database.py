"""The schema: migrations build exactly what the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from surveys.db import Base
from surveys.models import Question, QuestionSet
from tests.factories import make_customer


def test_migrations_match_the_models(session):
    context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
    differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_seeds_the_three_default_question_sets(session):
    keys = session.scalars(select(QuestionSet.key).order_by(QuestionSet.key)).all()
    assert keys == ["fix-check", "heart-to-heart", "relationship-review"]
    texts = session.scalars(select(Question.text).where(Question.key == "expectations")).all()
    assert texts == ["Are we exceeding your expectations?"] * 2


def test_each_test_starts_from_a_clean_database(session):
    # Runs twice in a row (per backend) with the same email: a leak would fail the second.
    make_customer(session, email="isolation@example.com")
    session.commit()
    assert session.scalar(select(QuestionSet).where(QuestionSet.key == "heart-to-heart"))
