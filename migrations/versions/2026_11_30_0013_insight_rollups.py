"""Insight rollups: each written answer's themes (backfilled here), the day and month tallies the
worker keeps (filled by its first pass), two partial indexes for the neglected customers' exact
count, and indexes on the dates the insight figures read rows by.

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import surveys.db

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("passives", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.Column("expectations_exceeding", sa.Integer(), nullable=False),
        sa.Column("expectations_meeting", sa.Integer(), nullable=False),
        sa.Column("expectations_short", sa.Integer(), nullable=False),
        sa.Column("time_money_yes", sa.Integer(), nullable=False),
        sa.Column("time_money_somewhat", sa.Integer(), nullable=False),
        sa.Column("time_money_no", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("clicked", sa.Integer(), nullable=False),
        sa.Column("unsubscribes", sa.Integer(), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("positive_touches", sa.Integer(), nullable=False),
        sa.Column("negative_touches", sa.Integer(), nullable=False),
        sa.Column("cases_opened", sa.Integer(), nullable=False),
        sa.Column("cases_escalated", sa.Integer(), nullable=False),
        sa.Column("cases_fix_confirmed", sa.Integer(), nullable=False),
        sa.Column("cases_reopened", sa.Integer(), nullable=False),
        sa.Column("cases_ever_resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_insight_days")),
    )
    op.create_table(
        "insight_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complete_before", sa.Date(), nullable=True),
        sa.Column("refreshed_at", surveys.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_rollups")),
    )
    op.create_table(
        "theme_tallies",
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("spelling", sa.String(length=300), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.CheckConstraint("grain in ('day', 'month')", name=op.f("ck_theme_tallies_grain")),
        sa.PrimaryKeyConstraint("grain", "start", "key", "spelling", name=op.f("pk_theme_tallies")),
    )
    op.create_index(
        "ix_theme_tallies_key_grain_start", "theme_tallies", ["key", "grain", "start"], unique=False
    )
    op.create_table(
        "answer_themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("spelling", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_answer_themes_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answer_themes_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_themes")),
    )
    op.create_index(
        op.f("ix_answer_themes_answer_id"), "answer_themes", ["answer_id"], unique=False
    )
    op.create_index(
        "ix_answer_themes_key_response_id", "answer_themes", ["key", "response_id"], unique=False
    )
    op.create_index("ix_answer_themes_response_id", "answer_themes", ["response_id"], unique=False)
    # The one row saying how far the tallies reach: nowhere yet (the worker's first pass counts).
    op.execute("INSERT INTO insight_rollups (id) VALUES (1)")
    op.create_index("ix_case_events_case_id_kind", "case_events", ["case_id", "kind"])
    # The figures of a range read its rows by date: the part-days the tallies leave, or the
    # whole range when an owner, a category or a question set is chosen.
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index(op.f("ix_touchpoints_occurred_at"), "touchpoints", ["occurred_at"])
    op.create_index(op.f("ix_surveys_sent_at"), "surveys", ["sent_at"])
    op.create_index(op.f("ix_email_events_occurred_at"), "email_events", ["occurred_at"])
    # An owner's figures start from the customers they look after.
    op.create_index(op.f("ix_customers_owner_id"), "customers", ["owner_id"])
    # The neglected customers' exact count, in two parts, each read from a partial index.
    short_of_aim = "negative_touches > 0 AND positive_touches < 10 * negative_touches"
    op.create_index(
        "ix_customers_short_of_aim",
        "customers",
        ["id"],
        postgresql_where=sa.text(f"erased_at IS NULL AND {short_of_aim}"),
        sqlite_where=sa.text(f"erased_at IS NULL AND {short_of_aim}"),
    )
    op.create_index(
        "ix_customers_quiet_since",
        "customers",
        ["last_positive_touch_at", "created_at"],
        postgresql_where=sa.text(f"erased_at IS NULL AND NOT ({short_of_aim})"),
        sqlite_where=sa.text(f"erased_at IS NULL AND NOT ({short_of_aim})"),
    )
    # Every written answer recorded so far gets its themes, by the same function the app uses
    # (the stems and stop words of the installed NLTK and YAKE), in batches. It imports the app:
    # themes must be read exactly as new answers will be, which a copy here could not promise.
    from surveys.services.insights.themes import record_all_themes

    record_all_themes(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_index("ix_case_events_case_id_kind", table_name="case_events")
    op.drop_index("ix_cases_created_at", table_name="cases")
    op.drop_index(op.f("ix_touchpoints_occurred_at"), table_name="touchpoints")
    op.drop_index(op.f("ix_surveys_sent_at"), table_name="surveys")
    op.drop_index(op.f("ix_email_events_occurred_at"), table_name="email_events")
    op.drop_index(op.f("ix_customers_owner_id"), table_name="customers")
    op.drop_index("ix_customers_quiet_since", table_name="customers")
    op.drop_index("ix_customers_short_of_aim", table_name="customers")
    op.drop_index("ix_answer_themes_response_id", table_name="answer_themes")
    op.drop_index("ix_answer_themes_key_response_id", table_name="answer_themes")
    op.drop_index(op.f("ix_answer_themes_answer_id"), table_name="answer_themes")
    op.drop_table("answer_themes")
    op.drop_index("ix_theme_tallies_key_grain_start", table_name="theme_tallies")
    op.drop_table("theme_tallies")
    op.drop_table("insight_rollups")
    op.drop_table("insight_days")
