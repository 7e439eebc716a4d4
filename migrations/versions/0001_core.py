"""core tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:42:19.035426
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.String(length=40), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_user_id"), ["user_id"], unique=False)

    op.create_table(
        "background_job",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_job")),
    )
    with op.batch_alter_table("background_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_background_job_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_background_job_status"), ["status"], unique=False)

    op.create_table(
        "client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bsn", sa.String(length=9), nullable=False),
        sa.Column("clientnummer", sa.String(length=30), nullable=True),
        sa.Column("voorletters", sa.String(length=20), nullable=True),
        sa.Column("voornamen", sa.String(length=200), nullable=True),
        sa.Column("tussenvoegsel", sa.String(length=20), nullable=True),
        sa.Column("achternaam", sa.String(length=200), nullable=False),
        sa.Column("geboortedatum", sa.Date(), nullable=False),
        sa.Column("geslacht", sa.String(length=1), nullable=False),
        sa.Column("straat", sa.String(length=200), nullable=True),
        sa.Column("huisnummer", sa.String(length=10), nullable=True),
        sa.Column("huisnummer_toevoeging", sa.String(length=10), nullable=True),
        sa.Column("postcode", sa.String(length=7), nullable=True),
        sa.Column("plaats", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("telefoon", sa.String(length=30), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("actief", sa.Boolean(), nullable=False),
        sa.Column("opmerking", sa.Text(), nullable=True),
        sa.Column("budgethouder_is_client", sa.Boolean(), nullable=False),
        sa.Column("budgethouder_voorletters", sa.String(length=20), nullable=True),
        sa.Column("budgethouder_tussenvoegsel", sa.String(length=20), nullable=True),
        sa.Column("budgethouder_achternaam", sa.String(length=200), nullable=True),
        sa.Column("budgethouder_bsn", sa.String(length=9), nullable=True),
        sa.Column("svb_relatienummer", sa.String(length=20), nullable=True),
        sa.Column("budgethouder_straat", sa.String(length=200), nullable=True),
        sa.Column("budgethouder_huisnummer", sa.String(length=20), nullable=True),
        sa.Column("budgethouder_postcode", sa.String(length=7), nullable=True),
        sa.Column("budgethouder_plaats", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client")),
        sa.UniqueConstraint("bsn", name=op.f("uq_client_bsn")),
        sa.UniqueConstraint("clientnummer", name=op.f("uq_client_clientnummer")),
    )
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_achternaam"), ["achternaam"], unique=False)
        batch_op.create_index(batch_op.f("ix_client_actief"), ["actief"], unique=False)
        batch_op.create_index(batch_op.f("ix_client_postcode"), ["postcode"], unique=False)
        batch_op.create_index(batch_op.f("ix_client_team"), ["team"], unique=False)

    op.create_table(
        "financier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("soort", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=True),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("straat", sa.String(length=200), nullable=True),
        sa.Column("huisnummer", sa.String(length=20), nullable=True),
        sa.Column("postcode", sa.String(length=7), nullable=True),
        sa.Column("plaats", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("kvk_nummer", sa.String(length=8), nullable=True),
        sa.Column("actief", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_financier")),
        sa.UniqueConstraint("financing", "soort", "code", name="uq_financier_code"),
    )
    with op.batch_alter_table("financier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_financier_financing"), ["financing"], unique=False)

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("kvk_nummer", sa.String(length=8), nullable=True),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("btw_nummer", sa.String(length=20), nullable=True),
        sa.Column("straat", sa.String(length=200), nullable=True),
        sa.Column("huisnummer", sa.String(length=20), nullable=True),
        sa.Column("postcode", sa.String(length=7), nullable=True),
        sa.Column("plaats", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("telefoon", sa.String(length=30), nullable=True),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column("require_2fa", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    op.create_table(
        "uursoort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("actief", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uursoort")),
        sa.UniqueConstraint("code", name=op.f("uq_uursoort_code")),
    )
    op.create_table(
        "contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("financier_id", sa.Integer(), nullable=False),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("begindatum", sa.Date(), nullable=False),
        sa.Column("einddatum", sa.Date(), nullable=True),
        sa.Column("opmerking", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["financier_id"], ["financier.id"], name=op.f("fk_contract_financier_id_financier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract")),
    )
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_financier_id"), ["financier_id"], unique=False
        )

    op.create_table(
        "legitimation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("financier_id", sa.Integer(), nullable=False),
        sa.Column("begindatum", sa.Date(), nullable=False),
        sa.Column("einddatum", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=True),
        sa.Column("eenheid", sa.String(length=10), nullable=True),
        sa.Column("frequentie", sa.String(length=10), nullable=True),
        sa.Column("budget_cents", sa.Integer(), nullable=True),
        sa.Column("tarief_cents", sa.Integer(), nullable=True),
        sa.Column("productcategorie", sa.String(length=10), nullable=True),
        sa.Column("productcode", sa.String(length=10), nullable=True),
        sa.Column("toewijzingnummer", sa.String(length=20), nullable=True),
        sa.Column("referentienummer", sa.String(length=40), nullable=True),
        sa.Column("reden_wijziging", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("bron", sa.String(length=20), nullable=False),
        sa.Column("sleutels", sa.JSON(), nullable=False),
        sa.Column("opmerking", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_legitimation_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["financier_id"], ["financier.id"], name=op.f("fk_legitimation_financier_id_financier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legitimation")),
    )
    with op.batch_alter_table("legitimation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legitimation_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_legitimation_financier_id"), ["financier_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_legitimation_financing"), ["financing"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_legitimation_toewijzingnummer"), ["toewijzingnummer"], unique=False
        )

    op.create_table(
        "organisation_agb",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("agb_code", sa.String(length=8), nullable=False),
        sa.Column("locatie", sa.String(length=200), nullable=False),
        sa.Column("hoofd", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_agb_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_agb")),
        sa.UniqueConstraint("agb_code", name=op.f("uq_organisation_agb_agb_code")),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("naam", sa.String(length=200), nullable=False),
        sa.Column("eenheid", sa.String(length=10), nullable=False),
        sa.Column("uursoort_id", sa.Integer(), nullable=True),
        sa.Column("actief", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uursoort_id"], ["uursoort.id"], name=op.f("fk_product_uursoort_id_uursoort")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("code", name=op.f("uq_product_code")),
    )
    op.create_table(
        "uursoort_financing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uursoort_id", sa.Integer(), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uursoort_id"],
            ["uursoort.id"],
            name=op.f("fk_uursoort_financing_uursoort_id_uursoort"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uursoort_financing")),
        sa.UniqueConstraint("uursoort_id", "financing", name="uq_uursoort_financing_pair"),
    )
    op.create_table(
        "contract_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("productcategorie", sa.String(length=10), nullable=True),
        sa.Column("productcode", sa.String(length=10), nullable=True),
        sa.Column("eenheid", sa.String(length=10), nullable=False),
        sa.Column("tarief_cents", sa.Integer(), nullable=False),
        sa.Column("begindatum", sa.Date(), nullable=False),
        sa.Column("einddatum", sa.Date(), nullable=True),
        sa.Column("afronding_minuten", sa.Integer(), nullable=False),
        sa.Column("afronding_wijze", sa.String(length=12), nullable=False),
        sa.Column("btw_percentage", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_line_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_contract_line_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_line")),
    )
    with op.batch_alter_table("contract_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_line_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "legitimation_product",
        sa.Column("legitimation_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["legitimation_id"],
            ["legitimation.id"],
            name=op.f("fk_legitimation_product_legitimation_id_legitimation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_legitimation_product_product_id_product")
        ),
        sa.PrimaryKeyConstraint(
            "legitimation_id", "product_id", name=op.f("pk_legitimation_product")
        ),
    )


def downgrade() -> None:
    op.drop_table("legitimation_product")
    with op.batch_alter_table("contract_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_line_product_id"))

    op.drop_table("contract_line")
    op.drop_table("uursoort_financing")
    op.drop_table("product")
    op.drop_table("organisation_agb")
    with op.batch_alter_table("legitimation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legitimation_toewijzingnummer"))
        batch_op.drop_index(batch_op.f("ix_legitimation_financing"))
        batch_op.drop_index(batch_op.f("ix_legitimation_financier_id"))
        batch_op.drop_index(batch_op.f("ix_legitimation_client_id"))

    op.drop_table("legitimation")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_financier_id"))

    op.drop_table("contract")
    op.drop_table("uursoort")
    op.drop_table("user_account")
    op.drop_table("organisation")
    with op.batch_alter_table("financier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_financier_financing"))

    op.drop_table("financier")
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_team"))
        batch_op.drop_index(batch_op.f("ix_client_postcode"))
        batch_op.drop_index(batch_op.f("ix_client_actief"))
        batch_op.drop_index(batch_op.f("ix_client_achternaam"))

    op.drop_table("client")
    with op.batch_alter_table("background_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_background_job_status"))
        batch_op.drop_index(batch_op.f("ix_background_job_kind"))

    op.drop_table("background_job")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_client_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
