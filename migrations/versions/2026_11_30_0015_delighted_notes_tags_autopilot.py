"""Notes, tags and an update time on responses; Autopilot memberships.

Revision ID: 0015
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
    op.create_table(
        "response_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_response_notes_api_key_id_api_keys")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_notes_response_id_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_notes")),
    )
    op.create_index(
        op.f("ix_response_notes_response_id"), "response_notes", ["response_id"], unique=False
    )
    op.create_table(
        "autopilot_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("next_invite_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_autopilot_memberships_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autopilot_memberships")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_autopilot_memberships_customer_id")),
    )
    op.create_index(
        op.f("ix_autopilot_memberships_next_invite_at"),
        "autopilot_memberships",
        ["next_invite_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_autopilot_memberships_next_invite_at"), table_name="autopilot_memberships"
    )
    op.drop_table("autopilot_memberships")
    op.drop_index(op.f("ix_response_notes_response_id"), table_name="response_notes")
    op.drop_table("response_notes")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_column("tags")
        batch_op.drop_column("updated_at")
