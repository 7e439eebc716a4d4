"""Production: registrations, approval runs, stack rules and the record of stacked exports.

A registration is one unit of delivered care. Its life: ``concept`` (editable by the employee) →
``gefiatteerd`` (frozen by an ApprovalRun) → possibly ``gecrediteerd`` (reversed by a credit row
that points at it with ``credit_of_id`` and carries the negated duration/quantity).

StackRule says which product overflows onto which (DESIGN §6.2–6.4; the rules are enforced in
``portal.services.stacking``). StackExport/StackExportWeek record which client-weeks an export of a
financing has counted, so a week is never counted twice (DESIGN §6.8).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped, utcnow

REG_CONCEPT = "concept"
REG_APPROVED = "gefiatteerd"
REG_CREDITED = "gecrediteerd"

REGISTRATION_STATUS_LABELS = {
    REG_CONCEPT: "Nog niet gefiatteerd",
    REG_APPROVED: "Gefiatteerd",
    REG_CREDITED: "Gecrediteerd",
}

_LIVE = "status != 'gecrediteerd' AND credit_of_id IS NULL"


class Registration(Timestamped, Base):
    """One unit of delivered care: client, product, employee, date, start and duration/quantity."""

    __tablename__ = "registration"
    __table_args__ = (
        # Import duplicates: the same employee, client and start is one registration. Credited
        # originals and credit rows stay (nothing a financier saw is deleted) but no longer count.
        Index(
            "uq_registration_employee_client_start",
            "employee_id",
            "client_id",
            "datum",
            "starttijd",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        Index("ix_registration_client_datum", "client_id", "datum"),
        Index("ix_registration_employee_datum", "employee_id", "datum"),
        Index("ix_registration_status_datum", "status", "datum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    # The uursoort at the time of registration (the product's, unless chosen explicitly).
    uursoort_id: Mapped[int | None] = mapped_column(ForeignKey("uursoort.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    datum: Mapped[date] = mapped_column(Date)
    starttijd: Mapped[time | None] = mapped_column(Time)
    # Time units: duur_minuten; other units: aantal. Credit rows carry negative values.
    duur_minuten: Mapped[int | None] = mapped_column(Integer)
    aantal: Mapped[int | None] = mapped_column(Integer)
    opmerking: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=REG_CONCEPT)
    approval_run_id: Mapped[int | None] = mapped_column(ForeignKey("approval_run.id"), index=True)
    bron: Mapped[str] = mapped_column(String(10), default="scherm")  # scherm / import
    import_bestand: Mapped[str | None] = mapped_column(String(200))
    # Warnings saved with the registration (code, message, field): they show up as actions.
    waarschuwingen: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    credit_reden: Mapped[str | None] = mapped_column(Text)

    client = relationship("Client")
    product = relationship("Product")
    uursoort = relationship("Uursoort")
    employee = relationship("User")
    approval_run = relationship("ApprovalRun", back_populates="registrations")
    credit_of = relationship("Registration", remote_side="Registration.id")

    @property
    def is_credit(self) -> bool:
        return self.credit_of_id is not None

    @property
    def editable(self) -> bool:
        return self.status == REG_CONCEPT and self.credit_of_id is None

    @property
    def status_label(self) -> str:
        if self.credit_of_id is not None:
            return "Credit"
        return REGISTRATION_STATUS_LABELS.get(self.status, self.status)

    @property
    def eind_minuut(self) -> int | None:
        """End as minutes after midnight of ``datum`` (may exceed 1440 past midnight)."""
        if self.starttijd is None or self.duur_minuten is None:
            return None
        return self.starttijd.hour * 60 + self.starttijd.minute + self.duur_minuten


class ApprovalRun(Base):
    """One act of fiatteren: which period and filters, by whom, what it froze; withdrawable."""

    __tablename__ = "approval_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    periode_start: Mapped[date] = mapped_column(Date)
    periode_eind: Mapped[date] = mapped_column(Date)
    team: Mapped[str | None] = mapped_column(String(100))
    financing: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A one-time token from the form: a double click cannot approve twice.
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    aantal: Mapped[int] = mapped_column(Integer, default=0)
    aantal_waarschuwingen: Mapped[int] = mapped_column(Integer, default=0)
    minuten: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="gefiatteerd")  # / ingetrokken
    ingetrokken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ingetrokken_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    registrations: Mapped[list[Registration]] = relationship(back_populates="approval_run")

    @property
    def withdrawn(self) -> bool:
        return self.status == "ingetrokken"


class StackRule(Base):
    """Overflow of ``product`` continues on ``onto_product`` (may be the same product: then it
    continues on the same product under legitimations of lower priority). One rule per product."""

    __tablename__ = "stack_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), unique=True)
    onto_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    product = relationship("Product", foreign_keys=[product_id])
    onto_product = relationship("Product", foreign_keys=[onto_product_id])


class StackExport(Base):
    """One financial export (AW319 file, invoice run…) that counted stacked weeks."""

    __tablename__ = "stack_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_kind: Mapped[str] = mapped_column(String(40))
    financing: Mapped[str] = mapped_column(String(40), index=True)
    reference: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    weeks: Mapped[list[StackExportWeek]] = relationship(
        back_populates="export", cascade="all, delete-orphan"
    )


class StackExportWeek(Base):
    """A client-week counted by an export of one financing. ``active`` until a credit releases
    it; one active row per (financing, client, week): a week is never counted twice."""

    __tablename__ = "stack_export_week"
    __table_args__ = (
        Index(
            "uq_stack_export_week_active",
            "financing",
            "client_id",
            "week_start",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        Index("ix_stack_export_week_client_week", "client_id", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(
        ForeignKey("stack_export.id", ondelete="CASCADE"), index=True
    )
    financing: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    week_start: Mapped[date] = mapped_column(Date)
    # What was counted for this financing in that week (rounded minutes; quantity for non-time).
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    aantal: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    export: Mapped[StackExport] = relationship(back_populates="weeks")
