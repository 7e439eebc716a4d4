"""Message traffic with VECOZO: the outbox and inbox, each message's status history, poll runs.

A message row is written (with its own traceerId/conversatieId) before anything is sent, and an
inbound payload is stored before it is acknowledged, so nothing is ever lost or sent twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped, utcnow

OUT = "uit"
IN = "in"

# Portal statuses. Outgoing: wachtrij → verzenden → verzonden → bezorgd/beantwoord, or onzeker
# (outcome of a send unknown: resolved by asking the status API), afgekeurd, mislukt.
# Incoming: verwerkt, onbekend (no plugin recognised it), fout (the plugin failed on it).
STATUS_LABELS: dict[str, str] = {
    "wachtrij": "Klaar om te versturen",
    "verzenden": "Wordt verstuurd",
    "onzeker": "Verzending wordt nagekeken",
    "verzonden": "Verstuurd naar VECOZO",
    "bezorgd": "Opgehaald door de financier",
    "beantwoord": "Antwoord ontvangen",
    "afgekeurd": "Afgekeurd",
    "mislukt": "Niet bezorgd",
    "verwerkt": "Verwerkt",
    "onbekend": "Onbekend bericht",
    "fout": "Fout bij verwerken",
}
STATUS_BADGES: dict[str, str] = {
    "wachtrij": "off",
    "verzenden": "off",
    "onzeker": "warn",
    "verzonden": "ok",
    "bezorgd": "ok",
    "beantwoord": "ok",
    "afgekeurd": "err",
    "mislukt": "err",
    "verwerkt": "ok",
    "onbekend": "warn",
    "fout": "err",
}
# Outgoing messages the status checker still follows.
OUTSTANDING = ("wachtrij", "verzenden", "onzeker", "verzonden")


class Message(Timestamped, Base):
    """One message to or from VECOZO, with its payload exactly as sent or received."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), index=True)  # "uit" | "in"
    financing: Mapped[str | None] = mapped_column(String(40), index=True)
    standard: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(40), index=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(200))

    traceer_id: Mapped[str] = mapped_column(String(36), unique=True)
    conversatie_id: Mapped[str] = mapped_column(String(36), index=True)
    als_antwoord_op: Mapped[str | None] = mapped_column(String(36), index=True)
    berichtstroom: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    afzender_rol: Mapped[str | None] = mapped_column(String(100))
    afzender_code: Mapped[str | None] = mapped_column(String(100))
    geadresseerde_rol: Mapped[str | None] = mapped_column(String(100))
    geadresseerde_code: Mapped[str | None] = mapped_column(String(100))
    financier_id: Mapped[int | None] = mapped_column(ForeignKey("financier.id"), index=True)

    reference: Mapped[str | None] = mapped_column(String(150), index=True)  # the standard's own
    answers_reference: Mapped[str | None] = mapped_column(String(150))
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)

    status: Mapped[str] = mapped_column(String(20), index=True)
    vecozo_status: Mapped[str | None] = mapped_column(String(40))  # the v3 Berichtstatus enum
    needs_action: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # retourcodes …
    meldingen: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # VECOZO's
    client_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    check_count: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # ontvangenOp
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(Integer)

    events: Mapped[list[MessageStatusEvent]] = relationship(
        back_populates="message",
        cascade="all, delete-orphan",
        order_by="MessageStatusEvent.id",
    )
    answers: Mapped[Message | None] = relationship(remote_side=[id], foreign_keys=[answers_id])

    @property
    def outgoing(self) -> bool:
        return self.direction == OUT

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "off")


class MessageStatusEvent(Base):
    """One step in a message's life: what the portal did or what VECOZO reported."""

    __tablename__ = "message_status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    vecozo_status: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))  # portal | vecozo | financier | plugin
    text: Mapped[str | None] = mapped_column(Text)
    meldingen: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    message: Mapped[Message] = relationship(back_populates="events")


class PollRun(Base):
    """What one fetch from the VECOZO pull API did (scheduled or "Nu ophalen")."""

    __tablename__ = "poll_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))  # gepland | handmatig
    job_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="bezig")  # bezig | klaar | mislukt
    listed: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def status_label(self) -> str:
        return {"bezig": "Bezig", "klaar": "Klaar", "mislukt": "Mislukt"}.get(
            self.status, self.status
        )


class VecozoCertificate(Base):
    """The organisation's VECOZO system certificate (.pfx), encrypted at rest; never shown again."""

    __tablename__ = "vecozo_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    pfx_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    password_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(400))
    serial: Mapped[str] = mapped_column(String(80))
    not_valid_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_valid_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
