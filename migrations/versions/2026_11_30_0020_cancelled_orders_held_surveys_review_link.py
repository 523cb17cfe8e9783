"""Refunded and cancelled purchases, the Stripe payment that paid each, and clicks on the
public review link (a survey `held` while its customer has a case open needs no column).

Revision ID: 0020
Revises: 0021
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_reference", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancellation_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_purchases_payment_reference"), ["payment_reference"], unique=False
        )
    op.create_table(
        "review_link_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_review_link_clicks_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_review_link_clicks_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_link_clicks")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_review_link_clicks_survey_id")),
    )
    with op.batch_alter_table("review_link_clicks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_link_clicks_clicked_at"), ["clicked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_link_clicks_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_link_clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_link_clicks_customer_id"))
        batch_op.drop_index(batch_op.f("ix_review_link_clicks_clicked_at"))
    op.drop_table("review_link_clicks")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchases_payment_reference"))
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("cancellation_reason")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("payment_reference")
