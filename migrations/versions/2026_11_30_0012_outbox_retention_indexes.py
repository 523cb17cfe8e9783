"""Indexes for outbox retention: old sent rows found by (status, sent_at), and the
SendGrid events that point at a row found by their outbox_message_id.

Revision ID: 0012
Revises: 0013
Create Date: 2026-11-30
"""

from alembic import op

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_status_sent_at", ["status", "sent_at"], unique=False
        )
    with op.batch_alter_table("email_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_events_outbox_message_id"), ["outbox_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("email_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_events_outbox_message_id"))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_status_sent_at")
