"""Touch tallies kept on each customer, and indexes for the lists that must stay fast.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("positive_touches", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("negative_touches", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_positive_touch_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Fill the tallies from the touch points already recorded.
    op.execute(
        """
        UPDATE customers SET
            positive_touches = (SELECT count(*) FROM touchpoints t
                                WHERE t.customer_id = customers.id AND t.polarity = 'positive'),
            negative_touches = (SELECT count(*) FROM touchpoints t
                                WHERE t.customer_id = customers.id AND t.polarity = 'negative'),
            last_positive_touch_at = (SELECT max(t.occurred_at) FROM touchpoints t
                                      WHERE t.customer_id = customers.id
                                        AND t.polarity = 'positive')
        """
    )
    # The API's keyset cursor seeks (submitted_at, id); the plain submitted_at index is its prefix.
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_submitted_at")
        batch_op.create_index("ix_responses_submitted_at_id", ["submitted_at", "id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_status_created_at_id", ["status", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_created_at_id")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_submitted_at_id")
        batch_op.create_index("ix_responses_submitted_at", ["submitted_at"], unique=False)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("last_positive_touch_at")
        batch_op.drop_column("negative_touches")
        batch_op.drop_column("positive_touches")
