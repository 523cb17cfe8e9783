"""Custom properties on purchases (and routing rules that read them); Delighted ids on responses.

Revision ID: 0014
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("properties", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("property_key", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "value",
            existing_type=sa.String(length=254),
            type_=sa.String(length=500),
            existing_nullable=False,
        )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delighted_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_responses_delighted_id"), ["delighted_id"])


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_responses_delighted_id"), type_="unique")
        batch_op.drop_column("delighted_id")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.alter_column(
            "value",
            existing_type=sa.String(length=500),
            type_=sa.String(length=254),
            existing_nullable=False,
        )
        batch_op.drop_column("property_key")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_column("properties")
