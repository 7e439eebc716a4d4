"""API for connected systems: koppelingen, tokens, the senders' ids, and the change feed

Revision ID: 0013
Revises: 0019
Create Date: 2026-12-05

The change feed is written by triggers (``portal/services/change_triggers.py``), so every
change is in it whichever service or bulk statement made it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.services import change_triggers

revision = "0013"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_koppeling",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("naam", sa.String(length=100), nullable=False, unique=True),
        sa.Column("omschrijving", sa.Text(), nullable=True),
        sa.Column("actief", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=100), nullable=True),
        sa.Column("webhook_cursor", sa.String(length=60), nullable=True),
        sa.Column("webhook_laatste_poging", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_laatste_fout", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("koppeling_id", sa.Integer(), sa.ForeignKey("api_koppeling.id"), nullable=False),
        sa.Column("naam", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_api_token_koppeling_id", "api_token", ["koppeling_id"])
    op.create_table(
        "api_registratie",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("koppeling_id", sa.Integer(), sa.ForeignKey("api_koppeling.id"), nullable=False),
        sa.Column("extern_id", sa.String(length=100), nullable=False),
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("registration.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("koppeling_id", "extern_id", name="uq_api_registratie_extern_id"),
    )
    op.create_index("ix_api_registratie_registration_id", "api_registratie", ["registration_id"])
    op.create_table(
        "status_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("soort", sa.String(length=20), nullable=False),
        sa.Column("ids", sa.JSON(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_status_change_txid_id", "status_change", ["txid", "id"])
    op.create_table(
        "status_change_batch",
        sa.Column("txid", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=True, unique=True),
    )
    change_triggers.install(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    for statement in change_triggers.drop_statements(bind.dialect.name):
        op.execute(statement)
    op.drop_table("status_change_batch")
    op.drop_table("status_change")
    op.drop_table("api_registratie")
    op.drop_table("api_token")
    op.drop_table("api_koppeling")
