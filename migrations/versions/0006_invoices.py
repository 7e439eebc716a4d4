"""invoices: runs, invoices, lines, number series, purchase invoices (issue 6)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23 13:48:56.102390
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("periode_start", sa.Date(), nullable=False),
        sa.Column("periode_eind", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("n_invoices", sa.Integer(), nullable=False),
        sa.Column("n_lines", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("not_covered_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_run")),
    )
    with op.batch_alter_table("invoice_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_run_financing"), ["financing"], unique=False)

    op.create_table(
        "purchase_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("leverancier_naam", sa.String(length=200), nullable=False),
        sa.Column("leverancier_agb", sa.String(length=8), nullable=False),
        sa.Column("factuurnummer", sa.String(length=40), nullable=False),
        sa.Column("factuurdatum", sa.Date(), nullable=False),
        sa.Column("gefactureerd_cents", sa.Integer(), nullable=False),
        sa.Column("berekend_cents", sa.Integer(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("n_registrations", sa.Integer(), nullable=False),
        sa.Column("verschillen", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("bestand_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_invoice")),
        sa.UniqueConstraint("leverancier_agb", "factuurnummer", name="uq_purchase_invoice_nummer"),
    )
    op.create_table(
        "invoice_number_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("jaar", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_invoice_number_series_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_number_series")),
        sa.UniqueConstraint("organisation_id", "jaar", name="uq_invoice_number_series_org_jaar"),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("soort", sa.String(length=12), nullable=False),
        sa.Column("financier_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("legitimation_id", sa.Integer(), nullable=True),
        sa.Column("nummer", sa.String(length=20), nullable=True),
        sa.Column("groep_sleutel", sa.String(length=120), nullable=False),
        sa.Column("factuurdatum", sa.Date(), nullable=False),
        sa.Column("vervaldatum", sa.Date(), nullable=False),
        sa.Column("periode_start", sa.Date(), nullable=False),
        sa.Column("periode_eind", sa.Date(), nullable=False),
        sa.Column("debiteur_naam", sa.String(length=200), nullable=False),
        sa.Column("debiteur_adres", sa.Text(), nullable=False),
        sa.Column("debiteur_kenmerk", sa.String(length=80), nullable=True),
        sa.Column("debiteur_email", sa.String(length=200), nullable=True),
        sa.Column("subtotaal_cents", sa.Integer(), nullable=False),
        sa.Column("btw_cents", sa.Integer(), nullable=False),
        sa.Column("totaal_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("credit_of_id", sa.Integer(), nullable=True),
        sa.Column("betaalkenmerk", sa.String(length=40), nullable=True),
        sa.Column("sleutels", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("pdf_rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.Date(), nullable=True),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_invoice_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["credit_of_id"], ["invoice.id"], name=op.f("fk_invoice_credit_of_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["financier_id"], ["financier.id"], name=op.f("fk_invoice_financier_id_financier")
        ),
        sa.ForeignKeyConstraint(
            ["legitimation_id"],
            ["legitimation.id"],
            name=op.f("fk_invoice_legitimation_id_legitimation"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_invoice_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["invoice_run.id"], name=op.f("fk_invoice_run_id_invoice_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("nummer", name=op.f("uq_invoice_nummer")),
        sa.UniqueConstraint("groep_sleutel", name=op.f("uq_invoice_groep_sleutel")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_financier_id"), ["financier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_financing"), ["financing"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_vervaldatum"), ["vervaldatum"], unique=False)

    op.create_table(
        "invoice_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("datum", sa.Date(), nullable=True),
        sa.Column("periode_start", sa.Date(), nullable=True),
        sa.Column("periode_eind", sa.Date(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("legitimation_id", sa.Integer(), nullable=True),
        sa.Column("omschrijving", sa.String(length=300), nullable=False),
        sa.Column("eenheid", sa.String(length=10), nullable=False),
        sa.Column("minuten", sa.Integer(), nullable=True),
        sa.Column("aantal", sa.Integer(), nullable=True),
        sa.Column("tarief_cents", sa.Integer(), nullable=False),
        sa.Column("bedrag_cents", sa.Integer(), nullable=False),
        sa.Column("btw_percentage", sa.Integer(), nullable=False),
        sa.Column("btw_cents", sa.Integer(), nullable=False),
        sa.Column("registration_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_invoice_line_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_line_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["legitimation_id"],
            ["legitimation.id"],
            name=op.f("fk_invoice_line_legitimation_id_legitimation"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_invoice_line_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
    )
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_line_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_line_invoice_id"))

    op.drop_table("invoice_line")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_vervaldatum"))
        batch_op.drop_index(batch_op.f("ix_invoice_status"))
        batch_op.drop_index(batch_op.f("ix_invoice_run_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_financing"))
        batch_op.drop_index(batch_op.f("ix_invoice_financier_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_client_id"))

    op.drop_table("invoice")
    op.drop_table("invoice_number_series")
    op.drop_table("purchase_invoice")
    with op.batch_alter_table("invoice_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_run_financing"))

    op.drop_table("invoice_run")
