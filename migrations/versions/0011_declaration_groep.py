"""declaration.groep: one declaration per financier, month and group (e.g. iWmo and iJw)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("declaration", sa.Column("groep", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("declaration", "groep")
