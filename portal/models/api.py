"""The JSON API for connected systems (ECD, planning): who may call it, what they sent, what
changed.

* ApiKoppeling: one connected system ("koppeling"), set up by a Beheerder; its webhook settings.
* ApiToken: a bearer token of a koppeling: only its SHA-256 is stored, with scopes, an expiry,
  revocation and the last-used moment. A koppeling may hold several (rotation).
* ApiRegistratie: the sender's own id of a registration, unique per koppeling. The unique
  constraint (not a check before the insert) makes sending the same batch twice store nothing
  twice, also when both arrive at the same moment.
* StatusChange / StatusChangeBatch: the change feed. Database triggers (migration 0013) write a
  row for every insert, status change or delete of registrations, declaration lines and
  invoices, whichever service made it; ``portal.services.statuses`` reads them in commit order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, utcnow

SCOPE_CLIENTS_READ = "clienten:lezen"
SCOPE_CLIENTS_WRITE = "clienten:schrijven"
SCOPE_REGISTRATIONS_WRITE = "registraties:schrijven"
SCOPE_STATUSES_READ = "statussen:lezen"
SCOPES = {
    SCOPE_CLIENTS_READ: "Cliënten en legitimaties lezen",
    SCOPE_CLIENTS_WRITE: "Cliënten en legitimaties aanmaken en wijzigen",
    SCOPE_REGISTRATIONS_WRITE: "Registraties aanleveren",
    SCOPE_STATUSES_READ: "Statussen lezen (registraties, declaratieregels, wijzigingen)",
}


class ApiKoppeling(Base):
    """A connected system. Its registrations' own ids are unique within it."""

    __tablename__ = "api_koppeling"

    id: Mapped[int] = mapped_column(primary_key=True)
    naam: Mapped[str] = mapped_column(String(100), unique=True)
    omschrijving: Mapped[str | None] = mapped_column(Text)
    actief: Mapped[bool] = mapped_column(Boolean, default=True)
    # Webhook: changes are posted here, signed with the secret (HMAC-SHA256).
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    webhook_cursor: Mapped[str | None] = mapped_column(String(60))
    webhook_laatste_poging: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    webhook_laatste_fout: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="koppeling", order_by="ApiToken.id"
    )


class ApiToken(Base):
    """A bearer token. The token itself is shown once; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    koppeling_id: Mapped[int] = mapped_column(ForeignKey("api_koppeling.id"), index=True)
    naam: Mapped[str] = mapped_column(String(100))
    # the first characters, to recognise a token in lists and logs (not enough to use it)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    koppeling: Mapped[ApiKoppeling] = relationship(back_populates="tokens")


class ApiRegistratie(Base):
    """The sender's own id of a registration (idempotency). ``payload_hash`` tells a repeat of
    the same registration from a different one under an id already used."""

    __tablename__ = "api_registratie"
    __table_args__ = (
        UniqueConstraint("koppeling_id", "extern_id", name="uq_api_registratie_extern_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    koppeling_id: Mapped[int] = mapped_column(ForeignKey("api_koppeling.id"))
    extern_id: Mapped[str] = mapped_column(String(100))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    payload_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StatusChange(Base):
    """Objects whose status changed, written by triggers: ``ids`` lists up to 1,000 object ids
    of one kind changed by one statement (PostgreSQL) or one id (SQLite). ``txid`` is the
    writing transaction (PostgreSQL), whose commit order ``StatusChangeBatch.seq`` records."""

    __tablename__ = "status_change"
    __table_args__ = (Index("ix_status_change_txid_id", "txid", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    soort: Mapped[str] = mapped_column(String(20))  # registratie, declaratieregel, factuur
    ids: Mapped[list[int]] = mapped_column(JSON)
    txid: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StatusChangeBatch(Base):
    """PostgreSQL: one row per transaction that wrote changes; ``seq`` is given at commit under
    a lock, so the feed's order is the commit order and no poller skips a late commit."""

    __tablename__ = "status_change_batch"

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)


def scope_labels(scopes: list[str] | None) -> list[str]:
    return [SCOPES.get(s, s) for s in scopes or []]


__all__: list[Any] = [
    "SCOPES",
    "ApiKoppeling",
    "ApiRegistratie",
    "ApiToken",
    "StatusChange",
    "StatusChangeBatch",
]
