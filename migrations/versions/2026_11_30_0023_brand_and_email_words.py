"""The shop's voice: uploaded logos and the words admins give customer emails, per language.

Revision ID: 0023
Revises: 0019
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brand_logos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_logos")),
        sa.UniqueConstraint("digest", name=op.f("uq_brand_logos_digest")),
    )
    op.create_table(
        "email_wordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_key", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_wordings")),
        sa.UniqueConstraint("email_key", "locale", name=op.f("uq_email_wordings_email_key")),
    )


def downgrade() -> None:
    op.drop_table("email_wordings")
    op.drop_table("brand_logos")
