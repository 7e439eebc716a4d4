"""Invoicing: runs over several financings, bank statements (CAMT.053) with their payments,
per invoice what was paid and the last failed e-mail

Revision ID: 0024
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoice_run") as batch:
        batch.alter_column(
            "financing", existing_type=sa.String(length=40), type_=sa.String(length=200)
        )
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(
            sa.Column("betaald_cents", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("mail_fout", sa.String(length=300), nullable=True))
    # what was already marked paid by hand counts as paid in full
    op.execute("UPDATE invoice SET betaald_cents = totaal_cents WHERE status = 'betaald'")

    op.create_table(
        "bank_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bestand_sha256", sa.String(length=64), nullable=False),
        sa.Column("bestandsnaam", sa.String(length=200), nullable=False),
        sa.Column("afschrift_id", sa.String(length=80), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("datum_van", sa.Date(), nullable=True),
        sa.Column("datum_tot", sa.Date(), nullable=True),
        sa.Column("n_bijschrijvingen", sa.Integer(), nullable=False),
        sa.Column("n_afschrijvingen", sa.Integer(), nullable=False),
        sa.Column("n_al_bekend", sa.Integer(), nullable=False),
        sa.Column("waarschuwing", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement")),
        sa.UniqueConstraint("bestand_sha256", name=op.f("uq_bank_statement_bestand_sha256")),
    )
    op.create_table(
        "bank_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("sleutel", sa.String(length=120), nullable=False),
        sa.Column("boekdatum", sa.Date(), nullable=False),
        sa.Column("bedrag_cents", sa.Integer(), nullable=False),
        sa.Column("tegen_naam", sa.String(length=140), nullable=False),
        sa.Column("tegen_iban", sa.String(length=34), nullable=False),
        sa.Column("omschrijving", sa.String(length=500), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("gekoppeld_door", sa.String(length=20), nullable=False),
        sa.Column("gekoppeld_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statement.id"],
            name=op.f("fk_bank_payment_statement_id_bank_statement"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_bank_payment_invoice_id_invoice")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_payment")),
        sa.UniqueConstraint("sleutel", name=op.f("uq_bank_payment_sleutel")),
    )
    with op.batch_alter_table("bank_payment") as batch:
        batch.create_index(batch.f("ix_bank_payment_statement_id"), ["statement_id"])
        batch.create_index(batch.f("ix_bank_payment_invoice_id"), ["invoice_id"])
        batch.create_index(batch.f("ix_bank_payment_status"), ["status"])


def downgrade() -> None:
    op.drop_table("bank_payment")
    op.drop_table("bank_statement")
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("mail_fout")
        batch.drop_column("betaald_cents")
    with op.batch_alter_table("invoice_run") as batch:
        batch.alter_column(
            "financing", existing_type=sa.String(length=200), type_=sa.String(length=40)
        )
