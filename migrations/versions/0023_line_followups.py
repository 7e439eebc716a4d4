"""follow-ups of rejected declaration lines: what was done with a line, and care moved to
another legitimation (naar particulier)

Revision ID: 0023
Revises: 0024
Create Date: 2026-12-05

``declaration_line.vervolg`` says what a back-office worker did with a rejected line
(``opnieuw``: corrected, declared again; ``particulier``: its care moved to the client's
particulier legitimation), with when and by whom. ``export_part.naar_legitimation_id`` is set on a
part of kind ``verplaatst``: care that was on ``legitimation_id`` (which it keeps blocking through
the unique index, so the first financing never declares it again) and is now billed on
``naar_legitimation_id`` by that financing's next invoice run (``invoice_line_id`` once
invoiced).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("declaration_line", sa.Column("vervolg", sa.String(length=20), nullable=True))
    op.add_column(
        "declaration_line", sa.Column("vervolg_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("declaration_line", sa.Column("vervolg_door", sa.Integer(), nullable=True))
    op.add_column("export_part", sa.Column("naar_legitimation_id", sa.Integer(), nullable=True))
    op.create_index("ix_export_part_naar_legitimation_id", "export_part", ["naar_legitimation_id"])


def downgrade() -> None:
    op.drop_index("ix_export_part_naar_legitimation_id", table_name="export_part")
    op.drop_column("export_part", "naar_legitimation_id")
    op.drop_column("declaration_line", "vervolg_door")
    op.drop_column("declaration_line", "vervolg_at")
    op.drop_column("declaration_line", "vervolg")
