"""Written answers can be negative: answers keep their sentiment and matched words, and the
seeded sets get a new version whose text questions carry the default rules.

The new version is what an admin's publish would make: the set's newest version with
`one_thing` negative below a sentiment of -0.4 or when it names a complaint word, and the
relationship review's `issues` negative for any real answer; a saved draft's revision moves on.
Like version 1's seeding, it writes no audit entry. A set whose newest version no longer has
these questions as text, or already gives them a rule, is left as it is.

The values are copied here (from surveys.text_reading, 2026-11-30) so that later changes
to the app's defaults do not change what this migration did.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SENTIMENT_BELOW = -0.4
COMPLAINT_WORDS = [
    "refund",
    "money back",
    "broken",
    "damaged",
    "crushed",
    "cracked",
    "ruined",
    "faulty",
    "defective",
    "missing",
    "never arrived",
    "never received",
    "never got",
    "never again",
    "late",
    "delay",
    "delayed",
    "rude",
    "ignored",
    "cancel",
    "cancelled",
    "cancelling",
    "worst",
    "terrible",
    "awful",
    "horrible",
    "rubbish",
    "useless",
    "scam",
    "charged twice",
    "billed",
    "overcharged",
    "still waiting",
    "no reply",
    "no answer",
    "nobody",
    "wrong",
    "disappointed",
    "disappointing",
    "stop",
    "stopped working",
    "not working",
    "doesn't work",
    "doesn't fit",
    "without warning",
    "complaint",
    "return policy",
    "out of date",
    "crashes",
    "refused",
    "chase",
    "not impressed",
    "expected better",
    "slow",
    "cold",
    "confusing",
    "annoying",
    "poor",
    "worse",
    "gone down",
    "get hold",
    "threw",
]
ONE_THING_RULE = {"sentiment_below": SENTIMENT_BELOW, "words": COMPLAINT_WORDS}
# By set key: the rule each text question gets.
DEFAULT_RULES = {
    "heart-to-heart": {"one_thing": ONE_THING_RULE},
    "relationship-review": {"one_thing": ONE_THING_RULE, "issues": {"not_empty": True}},
}

question_sets = sa.table(
    "question_sets",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("draft", sa.JSON),
    sa.column("draft_revision", sa.Integer),
)
versions = sa.table(
    "question_set_versions",
    sa.column("id", sa.Integer),
    sa.column("question_set_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("published_at", sa.DateTime),
    sa.column("published_by_id", sa.Integer),
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
QUESTION_COLUMNS = (
    "position",
    "key",
    "type",
    "text",
    "required",
    "min_value",
    "max_value",
    "options",
    "negative",
)


def _publish_defaults(connection, set_id: int, rules: dict, now: datetime) -> None:
    latest = connection.execute(
        sa.select(versions.c.id, versions.c.number)
        .where(versions.c.question_set_id == set_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return
    rows = [
        dict(row._mapping)
        for row in connection.execute(
            sa.select(*(questions.c[name] for name in QUESTION_COLUMNS))
            .where(questions.c.version_id == latest.id)
            .order_by(questions.c.position)
        )
    ]
    changed = False
    for row in rows:
        rule = rules.get(row["key"])
        if rule is not None and row["type"] == "text" and not row["negative"]:
            row["negative"] = rule
            changed = True
    if not changed:
        return
    version_id = connection.execute(
        versions.insert()
        .values(question_set_id=set_id, number=latest.number + 1, published_at=now)
        .returning(versions.c.id)
    ).scalar_one()
    connection.execute(questions.insert(), [{**row, "version_id": version_id} for row in rows])
    # An editor form opened on a saved draft must not save over this publish unawares. (A set
    # without a draft, as every fresh database has, keeps its revision as an admin found it.)
    # (Read in Python: a discarded draft is stored as JSON null, which is not SQL NULL.)
    draft = connection.execute(
        sa.select(question_sets.c.draft).where(question_sets.c.id == set_id)
    ).scalar()
    if draft is not None:
        connection.execute(
            question_sets.update()
            .where(question_sets.c.id == set_id)
            .values(draft_revision=question_sets.c.draft_revision + 1)
        )


def upgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sentiment", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("negative_words", sa.JSON(), nullable=True))
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for key, rules in DEFAULT_RULES.items():
        set_id = connection.execute(
            sa.select(question_sets.c.id).where(question_sets.c.key == key)
        ).scalar()
        if set_id is not None:
            _publish_defaults(connection, set_id, rules, now)


def downgrade() -> None:
    # The code before this revision refuses any rule on a text question, so the rules go
    # (from every version: admins may have published their own); the versions stay, since
    # surveys and responses may point at them.
    op.get_bind().execute(
        questions.update().where(questions.c.type == "text").values(negative=None)
    )
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("negative_words")
        batch_op.drop_column("sentiment")
