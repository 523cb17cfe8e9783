"""Seed version 1 of the default question sets: heart-to-heart, fix-check, relationship-review.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EXPECTATIONS = {
    "key": "expectations",
    "type": "choice",
    "required": True,
    "text": "Are we exceeding your expectations?",
    "options": [
        {"value": "exceeding", "label": "Yes, you are exceeding them"},
        {"value": "meeting", "label": "You are meeting them"},
        {"value": "short", "label": "You are falling short"},
    ],
    "negative": {"values": ["short"]},
}
ONE_THING = {
    "key": "one_thing",
    "type": "text",
    "required": False,
    "text": "If there was one thing we could be doing better, what would that be?",
}

DEFAULT_SETS = [
    (
        "heart-to-heart",
        "Heart to heart",
        [
            EXPECTATIONS,
            ONE_THING,
            {
                "key": "time_money",
                "type": "choice",
                "required": False,
                "text": "Did we save you time and money?",
                "options": [
                    {"value": "yes", "label": "Yes"},
                    {"value": "somewhat", "label": "Somewhat"},
                    {"value": "no", "label": "No"},
                ],
                "negative": {"values": ["no"]},
            },
            {
                "key": "recommend",
                "type": "scale",
                "required": False,
                "min": 0,
                "max": 10,
                "text": "How likely are you to recommend us to a friend or colleague?",
                "negative": {"at_most": 6},
            },
            {
                "key": "preferences",
                "type": "text",
                "required": False,
                "text": "Is there anything about you, or how you like to be served, "
                "that we should remember?",
            },
        ],
    ),
    (
        "fix-check",
        "Fix check",
        [
            {
                "key": "fix_worked",
                "type": "choice",
                "required": True,
                "text": "You told us about a problem and we worked on it. Did our fix work?",
                "options": [
                    {"value": "yes", "label": "Yes, it is fixed"},
                    {"value": "partly", "label": "Partly"},
                    {"value": "no", "label": "No, not yet"},
                ],
                "negative": {"values": ["partly", "no"]},
            },
            {
                "key": "anything_else",
                "type": "text",
                "required": False,
                "text": "Is there anything else we should do?",
            },
        ],
    ),
    (
        "relationship-review",
        "Relationship review",
        [
            EXPECTATIONS,
            ONE_THING,
            {
                "key": "issues",
                "type": "text",
                "required": False,
                "text": "Is there any problem, big or small, we could help you with?",
            },
        ],
    ),
]

question_sets = sa.table(
    "question_sets",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("draft_revision", sa.Integer),
    sa.column("created_at", sa.DateTime),
)
versions = sa.table(
    "question_set_versions",
    sa.column("id", sa.Integer),
    sa.column("question_set_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("published_at", sa.DateTime),
)
questions = sa.table(
    "questions",
    sa.column("version_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("key", sa.String),
    sa.column("type", sa.String),
    sa.column("text", sa.Text),
    sa.column("required", sa.Boolean),
    sa.column("min_value", sa.Integer),
    sa.column("max_value", sa.Integer),
    sa.column("options", sa.JSON),
    sa.column("negative", sa.JSON),
)


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for key, name, items in DEFAULT_SETS:
        set_id = connection.execute(
            question_sets.insert()
            .values(key=key, name=name, draft_revision=0, created_at=now)
            .returning(question_sets.c.id)
        ).scalar_one()
        version_id = connection.execute(
            versions.insert()
            .values(question_set_id=set_id, number=1, published_at=now)
            .returning(versions.c.id)
        ).scalar_one()
        connection.execute(
            questions.insert(),
            [
                {
                    "version_id": version_id,
                    "position": position,
                    "key": q["key"],
                    "type": q["type"],
                    "text": q["text"],
                    "required": q["required"],
                    "min_value": q.get("min"),
                    "max_value": q.get("max"),
                    "options": q.get("options"),
                    "negative": q.get("negative"),
                }
                for position, q in enumerate(items)
            ],
        )


def downgrade() -> None:
    keys = [key for key, _name, _items in DEFAULT_SETS]
    connection = op.get_bind()
    set_ids = sa.select(question_sets.c.id).where(question_sets.c.key.in_(keys))
    version_ids = sa.select(versions.c.id).where(versions.c.question_set_id.in_(set_ids))
    connection.execute(questions.delete().where(questions.c.version_id.in_(version_ids)))
    connection.execute(versions.delete().where(versions.c.question_set_id.in_(set_ids)))
    connection.execute(question_sets.delete().where(question_sets.c.key.in_(keys)))
