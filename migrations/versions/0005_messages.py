"""messages: outbox/inbox, status history, poll runs, VECOZO certificate

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 14:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("financing", sa.String(length=40), nullable=True),
        sa.Column("standard", sa.String(length=40), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("traceer_id", sa.String(length=36), nullable=False),
        sa.Column("conversatie_id", sa.String(length=36), nullable=False),
        sa.Column("als_antwoord_op", sa.String(length=36), nullable=True),
        sa.Column("berichtstroom", sa.JSON(), nullable=True),
        sa.Column("afzender_rol", sa.String(length=100), nullable=True),
        sa.Column("afzender_code", sa.String(length=100), nullable=True),
        sa.Column("geadresseerde_rol", sa.String(length=100), nullable=True),
        sa.Column("geadresseerde_code", sa.String(length=100), nullable=True),
        sa.Column("financier_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=150), nullable=True),
        sa.Column("answers_reference", sa.String(length=150), nullable=True),
        sa.Column("answers_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("vecozo_status", sa.String(length=40), nullable=True),
        sa.Column("needs_action", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("meldingen", sa.JSON(), nullable=False),
        sa.Column("client_ids", sa.JSON(), nullable=False),
        sa.Column("send_attempts", sa.Integer(), nullable=False),
        sa.Column("send_started_at", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.Column("next_check_at", TZ, nullable=True),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["answers_id"], ["message.id"], name=op.f("fk_message_answers_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["financier_id"], ["financier.id"], name=op.f("fk_message_financier_id_financier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("traceer_id", name=op.f("uq_message_traceer_id")),
    )
    for column in (
        "als_antwoord_op",
        "answers_id",
        "code",
        "conversatie_id",
        "direction",
        "financier_id",
        "financing",
        "needs_action",
        "next_check_at",
        "reference",
        "status",
    ):
        op.create_index(op.f(f"ix_message_{column}"), "message", [column], unique=False)

    op.create_table(
        "message_status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("vecozo_status", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("meldingen", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_status_event_message_id_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_status_event")),
    )
    op.create_index(
        op.f("ix_message_status_event_message_id"),
        "message_status_event",
        ["message_id"],
        unique=False,
    )

    op.create_table(
        "poll_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("heartbeat_at", TZ, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_run")),
    )

    op.create_table(
        "vecozo_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("pfx_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("password_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("serial", sa.String(length=80), nullable=False),
        sa.Column("not_valid_before", TZ, nullable=False),
        sa.Column("not_valid_after", TZ, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vecozo_certificate")),
    )
    op.create_index(
        op.f("ix_vecozo_certificate_active"), "vecozo_certificate", ["active"], unique=False
    )


def downgrade() -> None:
    op.drop_table("vecozo_certificate")
    op.drop_table("poll_run")
    op.drop_table("message_status_event")
    op.drop_table("message")
