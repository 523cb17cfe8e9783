"""The schema: migrations build exactly what the models describe, on both databases."""

from datetime import timedelta

from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy import inspect as sa_inspect

from surveys.cli import alembic_config, foreign_keys_off_on_sqlite
from surveys.db import Base, db
from surveys.models import Customer, Question, QuestionSet, QuestionSetVersion
from surveys.services.question_sets.versions import current_version, question_row
from surveys.text_reading import DEFAULT_COMPLAINT_WORDS, DEFAULT_SENTIMENT_THRESHOLD
from tests.conftest import TEST_START
from tests.factories import make_customer


def test_migrations_match_the_models(session):
    context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
    differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_seeds_the_three_default_question_sets(session):
    keys = session.scalars(select(QuestionSet.key).order_by(QuestionSet.key)).all()
    assert keys == ["fix-check", "heart-to-heart", "relationship-review"]
    current = {key: current_version(session, the_set(session, key)) for key in keys}
    texts = [
        question.text
        for version in current.values()
        for question in version.questions
        if question.key == "expectations"
    ]
    assert texts == ["Are we exceeding your expectations?"] * 2


def the_set(session, key: str) -> QuestionSet:
    return session.scalar(select(QuestionSet).where(QuestionSet.key == key))


def test_the_seeded_sets_read_written_answers_with_the_default_rules(session):
    rules = {
        key: {q.key: q.negative for q in current_version(session, the_set(session, key)).questions}
        for key in ("heart-to-heart", "relationship-review", "fix-check")
    }
    # Version 2 (0006) gave them the rules; version 3 (0024) lists the words per language.
    one_thing = rules["heart-to-heart"]["one_thing"]
    assert one_thing["sentiment_below"] == DEFAULT_SENTIMENT_THRESHOLD
    assert one_thing["words"]["en"] == list(DEFAULT_COMPLAINT_WORDS)
    assert "reembolso" in one_thing["words"]["es"]
    assert rules["heart-to-heart"]["preferences"] is None
    assert rules["relationship-review"]["one_thing"] == one_thing
    assert rules["relationship-review"]["issues"] == {"not_empty": True}
    assert rules["fix-check"]["anything_else"] is None
    numbers = {key: current_version(session, the_set(session, key)).number for key in rules}
    assert numbers == {"heart-to-heart": 3, "relationship-review": 3, "fix-check": 2}


def test_each_test_starts_from_a_clean_database(session):
    # Runs twice in a row (per backend) with the same email: a leak would fail the second.
    make_customer(session, email="isolation@example.com")
    session.commit()
    assert session.scalar(select(QuestionSet).where(QuestionSet.key == "heart-to-heart"))


def _migrate(app, command: str, revision: str) -> None:
    config = alembic_config()
    with app.app_context():
        with db.engine.connect() as connection, foreign_keys_off_on_sqlite(connection):
            with connection.begin():
                config.attributes["connection"] = connection
                getattr(alembic_command, command)(config, revision)


def _versions(session, key: str) -> list[dict]:
    # Columns by name, not the model: at older revisions the table lacks the newer columns.
    question_set = the_set(session, key)
    rows = session.execute(
        select(QuestionSetVersion.number, Question.key, Question.negative)
        .join(Question, Question.version_id == QuestionSetVersion.id)
        .where(QuestionSetVersion.question_set_id == question_set.id)
        .order_by(QuestionSetVersion.number, Question.position)
    ).all()
    by_number: dict[int, dict] = {}
    for number, question_key, negative in rows:
        by_number.setdefault(number, {})[question_key] = negative
    return [by_number[number] for number in sorted(by_number)]


def _publish_without_checks(session, question_set: QuestionSet, questions: list[dict]) -> None:
    number = len(_versions(session, question_set.key)) + 1
    version = QuestionSetVersion(
        question_set_id=question_set.id, number=number, published_at=TEST_START
    )
    session.add(version)
    session.flush()
    for position, question in enumerate(questions):
        row = question_row(question, position)
        session.execute(
            insert(Question.__table__).values(
                version_id=version.id,
                position=position,
                key=row.key,
                type=row.type,
                text=row.text,
                required=row.required,
            )
        )
    session.flush()


def test_the_written_answers_migration_goes_down_and_up_again(committed_app):
    # Back at 0005 the rules are gone; an admin publishes a version of their own there.
    _migrate(committed_app, "downgrade", "0005")
    with committed_app.app_context():
        session = db.session()
        columns = {c["name"] for c in sa_inspect(session.connection()).get_columns("answers")}
        assert "sentiment" not in columns and "negative_words" not in columns
        assert all(
            version["one_thing"] is None and version["issues"] is None
            for version in _versions(session, "relationship-review")
        )
        question_set = the_set(session, "heart-to-heart")
        written = [
            {"key": "one_thing", "type": "text", "text": "One thing?", "required": False},
            {"key": "kind", "type": "text", "text": "Anything kind?", "required": False},
        ]
        # Then, a version with no negative rule could be published; today the app refuses it
        # for this set, so the rows are written as the app of that day wrote them.
        _publish_without_checks(session, question_set, written)
        question_set.draft = written[:1]  # and starts another draft
        session.commit()
        revision = question_set.draft_revision
        session.close()

    _migrate(committed_app, "upgrade", "head")

    with committed_app.app_context():
        session = db.session()
        heart = _versions(session, "heart-to-heart")
        # The admin's version stays; the next adds the rule to what they published.
        assert [list(version) for version in heart[-2:]] == [["one_thing", "kind"]] * 2
        assert heart[-1]["one_thing"]["words"][:3] == ["refund", "money back", "broken"]
        assert heart[-1]["one_thing"]["sentiment_below"] == -0.4 and heart[-1]["kind"] is None
        # A saved draft is now behind; a set without one keeps its revision.
        assert the_set(session, "heart-to-heart").draft_revision == revision + 1
        assert the_set(session, "relationship-review").draft_revision == 0
        assert _versions(session, "relationship-review")[-1]["issues"] == {"not_empty": True}
        session.close()


def test_the_touch_tallies_migration_fills_them_from_the_ledger(committed_app):
    _migrate(committed_app, "downgrade", "0007")
    with committed_app.app_context():
        session = db.session()
        session.execute(
            text(
                "INSERT INTO customers (id, email, created_at) "
                "VALUES (1, 'ana@example.com', :at), (2, 'ben@example.com', :at)"
            ),
            {"at": TEST_START},
        )
        touches = [("positive", -3), ("positive", -1), ("negative", -2), ("positive", -9)]
        for polarity, days in touches:
            session.execute(
                text(
                    "INSERT INTO touchpoints (customer_id, kind, polarity, occurred_at, created_at)"
                    " VALUES (1, 'call', :polarity, :at, :at)"
                ),
                {"polarity": polarity, "at": TEST_START + timedelta(days=days)},
            )
        session.commit()
        session.close()

    _migrate(committed_app, "upgrade", "head")

    with committed_app.app_context():
        session = db.session()
        ana, ben = session.get(Customer, 1), session.get(Customer, 2)
        assert (ana.positive_touches, ana.negative_touches) == (3, 1)
        assert ana.last_positive_touch_at == TEST_START - timedelta(days=1)
        assert (ben.positive_touches, ben.negative_touches, ben.last_positive_touch_at) == (
            0,
            0,
            None,
        )
        session.close()


def test_the_honest_ledger_migration_corrects_what_was_miscounted_and_goes_back(committed_app):
    _migrate(committed_app, "downgrade", "0017")
    with committed_app.app_context():
        session = db.session()
        session.execute(
            text(
                "INSERT INTO customers (id, email, created_at, positive_touches, "
                "negative_touches, last_positive_touch_at) "
                "VALUES (1, 'ana@example.com', :at, 4, 3, :reply_at), "
                "(2, 'ben@example.com', :at, 1, 0, :at)"
            ),
            {"at": TEST_START, "reply_at": TEST_START - timedelta(days=2)},
        )
        touches = [
            (1, "thank_you", "positive", -5),
            (1, "personal_reply", "positive", -4),
            (1, "resolution", "positive", -3),
            (1, "thank_you", "positive", -2),  # after "the fix did not work"
            (1, "reopened", "negative", -2),
            (1, "escalation", "negative", -2),
            (1, "bounce", "negative", -1),
            (2, "call", "positive", 0),
        ]
        for customer_id, kind, polarity, days in touches:
            session.execute(
                text(
                    "INSERT INTO touchpoints (customer_id, kind, polarity, occurred_at, created_at)"
                    " VALUES (:customer, :kind, :polarity, :at, :at)"
                ),
                {
                    "customer": customer_id,
                    "kind": kind,
                    "polarity": polarity,
                    "at": TEST_START + timedelta(days=days),
                },
            )
        session.commit()
        session.close()

    _migrate(committed_app, "upgrade", "head")

    with committed_app.app_context():
        session = db.session()
        ledger = session.execute(
            text("SELECT kind, polarity FROM touchpoints WHERE customer_id = 1 ORDER BY id")
        ).all()
        assert [tuple(row) for row in ledger] == [
            ("thank_you", "neutral"),
            ("personal_reply", "positive"),
            ("thank_you", "neutral"),
            ("reopened", "negative"),
        ]
        ana, ben = session.get(Customer, 1), session.get(Customer, 2)
        assert (ana.positive_touches, ana.negative_touches) == (1, 1)
        assert ana.last_positive_touch_at == TEST_START - timedelta(days=4)
        assert (ben.positive_touches, ben.negative_touches) == (1, 0)  # untouched
        session.close()

    _migrate(committed_app, "downgrade", "0017")

    with committed_app.app_context():
        session = db.session()
        polarities = session.execute(
            text("SELECT kind, polarity FROM touchpoints WHERE customer_id = 1 ORDER BY id")
        ).all()
        assert [tuple(row) for row in polarities] == [
            ("thank_you", "positive"),
            ("personal_reply", "positive"),
            ("thank_you", "positive"),
            ("reopened", "negative"),
        ]
        # Columns by name, not the model: at 0017 the table lacks the newer columns.
        tallies = session.execute(
            text("SELECT positive_touches, negative_touches FROM customers WHERE id = 1")
        ).one()
        assert tuple(tallies) == (3, 1)
        session.close()
    _migrate(committed_app, "upgrade", "head")
