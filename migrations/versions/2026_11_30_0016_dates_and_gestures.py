"""Dates that matter to a customer, refused date suggestions, gestures, and each owner's
monthly gesture allowance.

Revision ID: 0016
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remembered_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("day", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=True),
        sa.Column("yearly", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_via", sa.String(length=100), nullable=True),
        sa.Column("next_occurrence", sa.Date(), nullable=True),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("day BETWEEN 1 AND 31", name=op.f("ck_remembered_dates_day")),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_remembered_dates_month")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_remembered_dates_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_remembered_dates_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remembered_dates")),
    )
    with op.batch_alter_table("remembered_dates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remembered_dates_customer_id"), ["customer_id"], unique=False
        )
        # The reminder job seeks the dates coming up rather than reading them all.
        batch_op.create_index(
            batch_op.f("ix_remembered_dates_next_occurrence"), ["next_occurrence"], unique=False
        )

    op.create_table(
        "refused_date_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("refused_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_refused_date_suggestions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["refused_by_id"],
            ["users.id"],
            name=op.f("fk_refused_date_suggestions_refused_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_date_suggestions")),
        sa.UniqueConstraint(
            "customer_id",
            "source",
            "source_id",
            "month",
            "day",
            name=op.f("uq_refused_date_suggestions_customer_id"),
        ),
    )
    with op.batch_alter_table("refused_date_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refused_date_suggestions_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "gestures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("touchpoint_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_gestures_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_gestures_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_gestures_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["touchpoint_id"],
            ["touchpoints.id"],
            name=op.f("fk_gestures_touchpoint_id_touchpoints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gestures")),
    )
    with op.batch_alter_table("gestures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gestures_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gestures_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_gestures_owner_id_created_at", ["owner_id", "created_at"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("monthly_gesture_allowance", sa.Numeric(precision=14, scale=2), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("monthly_gesture_allowance")
    op.drop_table("gestures")
    op.drop_table("refused_date_suggestions")
    op.drop_table("remembered_dates")
