"""Each owner's day tallies and month theme tallies, and whom and which cases they were counted
for (the worker's next pass fills them: every owner's customers differ from the none counted, so
it counts each owner's days; until then an owner's figures are read from the rows).

Revision ID: 0019
Revises: 0022
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0022"
branch_labels = None
depends_on = None

DAY_COLUMNS = (
    *"responses negative promoters passives detractors".split(),
    *"expectations_exceeding expectations_meeting expectations_short".split(),
    *"time_money_yes time_money_somewhat time_money_no".split(),
    *"sent answered opened clicked unsubscribes bounces".split(),
    *"positive_touches negative_touches".split(),
    *"cases_opened cases_escalated cases_fix_confirmed cases_reopened".split(),
    "cases_ever_resolved",
)


def upgrade() -> None:
    op.create_table(
        "insight_owner_days",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COLUMNS),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_insight_owner_days_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "day", name=op.f("pk_insight_owner_days")),
    )
    op.create_table(
        "insight_owner_customers",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "customer_id", name=op.f("pk_insight_owner_customers")),
    )
    op.create_table(
        "insight_owner_cases",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_insight_owner_cases")),
    )
    op.create_index(
        op.f("ix_insight_owner_cases_owner_id"), "insight_owner_cases", ["owner_id"], unique=False
    )
    op.create_table(
        "owner_theme_tallies",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("spelling", sa.String(length=300), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_owner_theme_tallies_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "owner_id", "month", "key", "spelling", name=op.f("pk_owner_theme_tallies")
        ),
    )


def downgrade() -> None:
    op.drop_table("owner_theme_tallies")
    op.drop_index(op.f("ix_insight_owner_cases_owner_id"), table_name="insight_owner_cases")
    op.drop_table("insight_owner_cases")
    op.drop_table("insight_owner_customers")
    op.drop_table("insight_owner_days")
