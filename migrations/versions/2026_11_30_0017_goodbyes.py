"""How relationships end: a customer's reason for unsubscribing, an owner's goodbye letter.

Revision ID: 0017
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goodbyes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("words", sa.Text(), nullable=True),
        sa.Column("said_why_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("letter", sa.Text(), nullable=True),
        sa.Column("touchpoint_id", sa.Integer(), nullable=True),
        sa.Column("notice_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind in ('unsubscribed', 'ended')", name=op.f("ck_goodbyes_kind")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_goodbyes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["users.id"], name=op.f("fk_goodbyes_ended_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["touchpoint_id"],
            ["touchpoints.id"],
            name=op.f("fk_goodbyes_touchpoint_id_touchpoints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goodbyes")),
    )
    with op.batch_alter_table("goodbyes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goodbyes_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("goodbyes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goodbyes_customer_id"))
    op.drop_table("goodbyes")
