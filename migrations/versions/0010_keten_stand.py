"""legitimation.keten_stand: where start/stop of care stands, for worklists in SQL

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Filled from the start/stop history that ``sleutels["starts"]`` already holds (iWmo/iJw).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def stand(items: list[dict]) -> str | None:
    """The same mapping as ``plugins.wmo_jw.chain.keten_stand`` (a migration keeps its own
    copy: it must give the same answer after the plugin changes)."""
    if not items:
        return None
    last = items[-1]
    stop = last.get("stop_status")
    if stop in ("verzonden", "geaccepteerd", "afgewezen", "intrekken"):
        return {
            "verzonden": "stop_verzonden",
            "geaccepteerd": "gestopt",
            "afgewezen": "stop_afgewezen",
            "intrekken": "stop_verzonden",
        }[stop]
    return {
        "verzonden": "start_verzonden",
        "intrekken": "start_verzonden",
        "geaccepteerd": "gestart",
        "ingetrokken": "start_ingetrokken",
        "afgewezen": "start_afgewezen",
    }.get(last.get("status"))


def upgrade() -> None:
    op.add_column("legitimation", sa.Column("keten_stand", sa.String(length=20), nullable=True))
    op.create_index(
        "ix_legitimation_keten",
        "legitimation",
        ["financing", "keten_stand", "status", "einddatum"],
    )
    conn = op.get_bind()
    table = sa.table(
        "legitimation",
        sa.column("id", sa.Integer),
        sa.column("sleutels", sa.JSON),
        sa.column("keten_stand", sa.String),
    )
    rows = conn.execute(sa.select(table.c.id, table.c.sleutels)).fetchall()
    updates = []
    for ident, sleutels in rows:
        if isinstance(sleutels, str):
            sleutels = json.loads(sleutels)
        value = stand((sleutels or {}).get("starts") or [])
        if value:
            updates.append({"ident": ident, "value": value})
    if updates:
        conn.execute(
            table.update()
            .where(table.c.id == sa.bindparam("ident"))
            .values(keten_stand=sa.bindparam("value")),
            updates,
        )


def downgrade() -> None:
    op.drop_index("ix_legitimation_keten", table_name="legitimation")
    op.drop_column("legitimation", "keten_stand")
