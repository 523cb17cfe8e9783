"""A case may wait for an owner: owner_id and its deadlines are null until it has one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = {
    "owner_id": sa.Integer(),
    "acknowledge_by": sa.DateTime(timezone=True),
    "resolve_by": sa.DateTime(timezone=True),
}


# On SQLite the table is copied and the old one dropped (batch mode); the migration
# runner turns SQLite's foreign keys off around it and checks them before commit
# (surveys.cli.foreign_keys_off_on_sqlite).


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, type_ in COLUMNS.items():
            batch_op.alter_column(name, existing_type=type_, nullable=True)


def downgrade() -> None:
    # Only possible once every case has an owner (the worker assigns waiting cases as soon
    # as an admin exists); a waiting case makes this fail rather than invent an owner.
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, type_ in COLUMNS.items():
            batch_op.alter_column(name, existing_type=type_, nullable=False)
