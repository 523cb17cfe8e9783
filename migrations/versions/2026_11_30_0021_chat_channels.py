"""Slack and Microsoft Teams channels: webhook endpoints whose body is a chat message.

A channel is a row of `webhook_endpoints` with `kind` "slack" or "teams" (every
existing row is a plain JSON webhook), an optional name and owner filter, why
it was paused when Slack or Teams answered that it is gone, and the week of its
last weekly summary (never two the same week).

Revision ID: 0021
Revises: 0016
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="webhook", nullable=False)
        )
        batch_op.add_column(sa.Column("name", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("summary_week", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_webhook_endpoints_owner_id_users"), "users", ["owner_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_webhook_endpoints_owner_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("summary_week")
        batch_op.drop_column("paused_reason")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("name")
        batch_op.drop_column("kind")
