"""export_part: what was exported, per part of a registration (replaces registration.gedeclareerd)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

A registration's time can be partly Wlz and partly particulier; each part is exported once, by a
declaration line or an invoice line. The single ``gedeclareerd`` flag could not say which part
went where. Existing data is carried over from the lines that name their registrations
(``declaration_line.registration_ids``, ``invoice_line.registration_ids``): a line that still
counts (sent, awarded, a concept; an invoice not credited) gives active parts, a rejected or
credited one gives released parts (history). Registrations flagged by the stacking service's
``record_export`` without any line had no caller outside tests and carry no legitimation; they are
not carried over.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LIVE_DECLARATION = ("concept", "ingediend", "toegekend")


def _ids(value) -> list[int]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return [int(i) for i in value or []]


def _day(value):
    if isinstance(value, str):
        return datetime.strptime(value[:10], "%Y-%m-%d").date()
    return value


def upgrade() -> None:
    op.create_table(
        "export_part",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registration_id", sa.Integer(), sa.ForeignKey("registration.id"), nullable=False
        ),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("legitimation_id", sa.Integer(), nullable=False),
        sa.Column("datum", sa.Date(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("aantal", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "declaration_line_id",
            sa.Integer(),
            sa.ForeignKey("declaration_line.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("invoice_line_id", sa.Integer(), sa.ForeignKey("invoice_line.id"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_export_part_registration_id", "export_part", ["registration_id"])
    op.create_index("ix_export_part_declaration_line_id", "export_part", ["declaration_line_id"])
    op.create_index("ix_export_part_invoice_line_id", "export_part", ["invoice_line_id"])
    op.create_index("ix_export_part_client_week", "export_part", ["client_id", "week_start"])
    op.create_index(
        "uq_export_part_active",
        "export_part",
        ["registration_id", "legitimation_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    # deleting a concept's lines checks the credits pointing at them: index it
    op.create_index("ix_declaration_line_credit_of_id", "declaration_line", ["credit_of_id"])

    conn = op.get_bind()
    reg = sa.table(
        "registration",
        sa.column("id", sa.Integer),
        sa.column("client_id", sa.Integer),
        sa.column("datum", sa.Date),
        sa.column("duur_minuten", sa.Integer),
        sa.column("aantal", sa.Integer),
    )
    dl = sa.table(
        "declaration_line",
        sa.column("id", sa.Integer),
        sa.column("financing", sa.String),
        sa.column("legitimation_id", sa.Integer),
        sa.column("debet_credit", sa.String),
        sa.column("status", sa.String),
        sa.column("registration_ids", sa.JSON),
    )
    inv = sa.table(
        "invoice",
        sa.column("id", sa.Integer),
        sa.column("financing", sa.String),
        sa.column("soort", sa.String),
        sa.column("status", sa.String),
    )
    il = sa.table(
        "invoice_line",
        sa.column("id", sa.Integer),
        sa.column("invoice_id", sa.Integer),
        sa.column("legitimation_id", sa.Integer),
        sa.column("registration_ids", sa.JSON),
    )
    sources = []  # (kind, line id column, line id, financing, legitimation, live, reg ids)
    for row in conn.execute(
        sa.select(dl.c.id, dl.c.financing, dl.c.legitimation_id, dl.c.status, dl.c.registration_ids)
        .where(dl.c.debet_credit == "D")
        .order_by(dl.c.id)
    ):
        sources.append(
            (
                "declaratie",
                "declaration_line_id",
                row.id,
                row.financing,
                row.legitimation_id,
                row.status in LIVE_DECLARATION,
                _ids(row.registration_ids),
            )
        )
    for row in conn.execute(
        sa.select(
            il.c.id, inv.c.financing, il.c.legitimation_id, inv.c.status, il.c.registration_ids
        )
        .join(inv, inv.c.id == il.c.invoice_id)
        .where(inv.c.soort == "factuur")
        .order_by(il.c.id)
    ):
        sources.append(
            (
                "factuur",
                "invoice_line_id",
                row.id,
                row.financing,
                row.legitimation_id,
                row.status != "gecrediteerd",
                _ids(row.registration_ids),
            )
        )
    wanted = sorted({i for s in sources for i in s[6]})
    regs = {}
    for chunk in range(0, len(wanted), 1000):
        for r in conn.execute(
            sa.select(
                reg.c.id, reg.c.client_id, reg.c.datum, reg.c.duur_minuten, reg.c.aantal
            ).where(reg.c.id.in_(wanted[chunk : chunk + 1000]))
        ):
            regs[r.id] = r
    now = datetime.now(UTC)
    active: set[tuple[int, int]] = set()
    rows = []
    for kind, column, line_id, financing, leg_id, live, reg_ids in sources:
        if leg_id is None:
            continue
        for rid in reg_ids:
            r = regs.get(rid)
            if r is None:
                continue
            key = (rid, leg_id)
            is_active = live and key not in active  # an earlier double export keeps the first
            if is_active:
                active.add(key)
            day = _day(r.datum)
            rows.append(
                {
                    "registration_id": rid,
                    "client_id": r.client_id,
                    "financing": financing,
                    "legitimation_id": leg_id,
                    "datum": day,
                    "week_start": day - timedelta(days=day.weekday()),
                    "minutes": r.duur_minuten or 0,
                    "aantal": r.aantal or 0,
                    "kind": kind,
                    "declaration_line_id": line_id if column == "declaration_line_id" else None,
                    "invoice_line_id": line_id if column == "invoice_line_id" else None,
                    "active": is_active,
                    "created_at": now,
                    "released_at": None if is_active else now,
                }
            )
    if rows:
        part = sa.table("export_part", *(sa.column(k) for k in rows[0]))
        for chunk in range(0, len(rows), 1000):
            conn.execute(part.insert(), rows[chunk : chunk + 1000])
    op.drop_column("registration", "gedeclareerd")


def downgrade() -> None:
    op.add_column(
        "registration",
        sa.Column("gedeclareerd", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE registration SET gedeclareerd = TRUE WHERE id IN "
            "(SELECT registration_id FROM export_part WHERE active)"
        )
    )
    op.drop_table("export_part")
    op.drop_index("ix_declaration_line_credit_of_id", table_name="declaration_line")
