"""API keys: a scope (read or write) and when each was last used.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys made before scopes existed could do everything, so they stay `write`.
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=5), server_default="write", nullable=False)
        )
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("scope")
