"""Join the branches of the first features into one line (no schema change).

Revision ID: 0008
Revises: 0002, 0005, 0006, 0007
Create Date: 2026-11-23

The first features were built side by side, each branching from the core (0001) or from
production (0004). From here on every migration follows 0008, so ``alembic upgrade head`` has
one head again.
"""

from __future__ import annotations

revision = "0008"
down_revision = ("0002", "0005", "0006", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
