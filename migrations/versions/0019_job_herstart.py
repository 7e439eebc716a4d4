"""background_job.func/args/retries/timeout: enough to put a job back on its queue when Redis
lost it (data wiped), from the database alone

Revision ID: 0019
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("background_job") as batch:
        batch.add_column(sa.Column("func", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("args", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("retries", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("timeout", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("background_job") as batch:
        batch.drop_column("timeout")
        batch.drop_column("retries")
        batch.drop_column("args")
        batch.drop_column("func")
