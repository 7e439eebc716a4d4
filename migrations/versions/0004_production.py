"""production: registrations, approval runs, stack rules, stacked exports

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIVE = "status != 'gecrediteerd' AND credit_of_id IS NULL"


def upgrade() -> None:
    op.create_table(
        "approval_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("periode_start", sa.Date(), nullable=False),
        sa.Column("periode_eind", sa.Date(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("financing", sa.String(length=40), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("aantal", sa.Integer(), nullable=False),
        sa.Column("aantal_waarschuwingen", sa.Integer(), nullable=False),
        sa.Column("minuten", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ingetrokken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ingetrokken_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_approval_run_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_approval_run_created_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["ingetrokken_by"],
            ["user_account.id"],
            name=op.f("fk_approval_run_ingetrokken_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_run")),
        sa.UniqueConstraint("token", name=op.f("uq_approval_run_token")),
    )

    op.create_table(
        "registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("uursoort_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("datum", sa.Date(), nullable=False),
        sa.Column("starttijd", sa.Time(), nullable=True),
        sa.Column("duur_minuten", sa.Integer(), nullable=True),
        sa.Column("aantal", sa.Integer(), nullable=True),
        sa.Column("opmerking", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approval_run_id", sa.Integer(), nullable=True),
        sa.Column("bron", sa.String(length=10), nullable=False),
        sa.Column("import_bestand", sa.String(length=200), nullable=True),
        sa.Column("waarschuwingen", sa.JSON(), nullable=False),
        sa.Column("gedeclareerd", sa.Boolean(), nullable=False),
        sa.Column("credit_of_id", sa.Integer(), nullable=True),
        sa.Column("credit_reden", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_run_id"],
            ["approval_run.id"],
            name=op.f("fk_registration_approval_run_id_approval_run"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_registration_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["credit_of_id"],
            ["registration.id"],
            name=op.f("fk_registration_credit_of_id_registration"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["user_account.id"],
            name=op.f("fk_registration_employee_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_registration_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["uursoort_id"], ["uursoort.id"], name=op.f("fk_registration_uursoort_id_uursoort")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
    )
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index("ix_registration_approval_run_id", ["approval_run_id"], unique=False)
        batch_op.create_index("ix_registration_product_id", ["product_id"], unique=False)
        batch_op.create_index("ix_registration_credit_of_id", ["credit_of_id"], unique=False)
        batch_op.create_index("ix_registration_client_datum", ["client_id", "datum"], unique=False)
        batch_op.create_index(
            "ix_registration_employee_datum", ["employee_id", "datum"], unique=False
        )
        batch_op.create_index("ix_registration_status_datum", ["status", "datum"], unique=False)
        batch_op.create_index(
            "uq_registration_employee_client_start",
            ["employee_id", "client_id", "datum", "starttijd"],
            unique=True,
            sqlite_where=sa.text(_LIVE),
            postgresql_where=sa.text(_LIVE),
        )

    op.create_table(
        "stack_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("onto_product_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_stack_rule_created_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["onto_product_id"], ["product.id"], name=op.f("fk_stack_rule_onto_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_stack_rule_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_rule")),
        sa.UniqueConstraint("product_id", name=op.f("uq_stack_rule_product_id")),
    )
    with op.batch_alter_table("stack_rule", schema=None) as batch_op:
        batch_op.create_index("ix_stack_rule_onto_product_id", ["onto_product_id"], unique=False)

    op.create_table(
        "stack_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_kind", sa.String(length=40), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_stack_export_created_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_export")),
    )
    with op.batch_alter_table("stack_export", schema=None) as batch_op:
        batch_op.create_index("ix_stack_export_financing", ["financing"], unique=False)

    op.create_table(
        "stack_export_week",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("aantal", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_stack_export_week_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["stack_export.id"],
            name=op.f("fk_stack_export_week_export_id_stack_export"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_export_week")),
    )
    with op.batch_alter_table("stack_export_week", schema=None) as batch_op:
        batch_op.create_index("ix_stack_export_week_export_id", ["export_id"], unique=False)
        batch_op.create_index(
            "ix_stack_export_week_client_week", ["client_id", "week_start"], unique=False
        )
        batch_op.create_index(
            "uq_stack_export_week_active",
            ["financing", "client_id", "week_start"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    op.drop_table("stack_export_week")
    op.drop_table("stack_export")
    op.drop_table("stack_rule")
    op.drop_table("registration")
    op.drop_table("approval_run")
