"""Declarations: an outgoing claim to one financier for one period, and its lines.

Generic for every financing that declares by message (323, AW319, …). A line is one prestatie as
the financier sees it: client, legitimation, product code, product period, volume and amount in
cents, with a reference number that is unique for ever. Nothing a financier has seen is deleted:
a correction is a credit line (``debet_credit = "C"``) pointing at the original with
``credit_of_id``; the original then becomes ``gecrediteerd``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped

# Declaration statuses
DECL_CONCEPT = "concept"
DECL_SENT = "ingediend"
DECL_ANSWERED = "beantwoord"
DECL_REJECTED = "afgekeurd"
DECLARATION_STATUS_LABELS = {
    DECL_CONCEPT: "Concept",
    DECL_SENT: "Ingediend",
    DECL_ANSWERED: "Beantwoord",
    DECL_REJECTED: "Afgekeurd",
}

# Line statuses
LINE_CONCEPT = "concept"
LINE_SENT = "ingediend"
LINE_AWARDED = "toegekend"
LINE_REJECTED = "afgewezen"
LINE_CREDITED = "gecrediteerd"
LINE_STATUS_LABELS = {
    LINE_CONCEPT: "Nog niet ingediend",
    LINE_SENT: "Ingediend",
    LINE_AWARDED: "Toegekend",
    LINE_REJECTED: "Afgewezen",
    LINE_CREDITED: "Gecrediteerd",
}
LINE_BADGES = {
    LINE_CONCEPT: "off",
    LINE_SENT: "off",
    LINE_AWARDED: "ok",
    LINE_REJECTED: "err",
    LINE_CREDITED: "warn",
}


FOLLOWUP_REDECLARE = "opnieuw"  # corrected; the care is declared again
FOLLOWUP_PARTICULIER = "particulier"  # the care moved to the client's particulier legitimation
FOLLOWUP_LABELS = {
    FOLLOWUP_REDECLARE: "Gecorrigeerd, opnieuw declareren",
    FOLLOWUP_PARTICULIER: "Naar particulier verplaatst",
}


class Declaration(Timestamped, Base):
    __tablename__ = "declaration"
    __table_args__ = (UniqueConstraint("financing", "nummer", name="uq_declaration_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    financing: Mapped[str] = mapped_column(String(40), index=True)
    financier_id: Mapped[int] = mapped_column(ForeignKey("financier.id"), index=True)
    periode_begin: Mapped[date] = mapped_column(Date)
    periode_eind: Mapped[date] = mapped_column(Date)
    nummer: Mapped[str] = mapped_column(String(20))
    # the plugin's declaration group (hook declaration_group), e.g. iwmo / ijw; None: the only one
    groep: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=DECL_CONCEPT, index=True)
    dagtekening: Mapped[date | None] = mapped_column(Date)
    # The standard's identifier of the outgoing message (323 BerichtIdentificatie) and the
    # portal's message row; the answer (325) is matched on the identifier.
    message_reference: Mapped[str | None] = mapped_column(String(150), index=True)
    message_id: Mapped[int | None] = mapped_column(Integer)
    answer_reference: Mapped[str | None] = mapped_column(String(150))
    total_cents: Mapped[int] = mapped_column(Integer, default=0)  # signed: debet - credit
    awarded_cents: Mapped[int | None] = mapped_column(Integer)
    retourcodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    financier = relationship("Financier")
    lines: Mapped[list[DeclarationLine]] = relationship(
        back_populates="declaration", order_by="DeclarationLine.id"
    )

    @property
    def status_label(self) -> str:
        return DECLARATION_STATUS_LABELS.get(self.status, self.status)

    @property
    def answer_outcome(self) -> str | None:
        """For an answered declaration: "toegekend", "deels" or "afgewezen" (nothing awarded
        of a non-zero total), from the awarded amount the answer recorded."""
        if self.status != DECL_ANSWERED or self.awarded_cents is None:
            return None
        if self.total_cents and self.awarded_cents == 0:
            return "afgewezen"
        if self.awarded_cents != self.total_cents:
            return "deels"
        return "toegekend"

    @property
    def status_display(self) -> str:
        """The status as lists show it: an answer that rejected every line is not a green
        "Beantwoord"."""
        outcome = self.answer_outcome
        if outcome == "afgewezen":
            return "Beantwoord: alles afgewezen"
        if outcome == "deels":
            return "Beantwoord: deels afgewezen"
        return self.status_label

    @property
    def status_badge(self) -> str:
        outcome = self.answer_outcome
        if outcome == "afgewezen" or self.status == DECL_REJECTED:
            return "err"
        if outcome == "deels":
            return "warn"
        return "ok" if self.status == DECL_ANSWERED else "off"


class DeclarationLine(Timestamped, Base):
    __tablename__ = "declaration_line"
    __table_args__ = (
        UniqueConstraint("referentie", name="uq_declaration_line_reference"),
        Index("ix_declaration_line_client_period", "client_id", "begindatum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a credit line waiting for the next declaration to this financier.
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("declaration.id"), index=True)
    financing: Mapped[str] = mapped_column(String(40), index=True)
    financier_id: Mapped[int] = mapped_column(ForeignKey("financier.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    legitimation_id: Mapped[int | None] = mapped_column(ForeignKey("legitimation.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    contract_line_id: Mapped[int | None] = mapped_column(ForeignKey("contract_line.id"))
    productcategorie: Mapped[str | None] = mapped_column(String(10))
    productcode: Mapped[str | None] = mapped_column(String(10))
    begindatum: Mapped[date] = mapped_column(Date)
    einddatum: Mapped[date] = mapped_column(Date)
    volume: Mapped[int] = mapped_column(Integer)
    eenheid: Mapped[str] = mapped_column(String(10))  # the portal's Unit value
    tarief_cents: Mapped[int | None] = mapped_column(Integer)
    bedrag_cents: Mapped[int] = mapped_column(Integer)  # always >= 0; the sign is debet_credit
    debet_credit: Mapped[str] = mapped_column(String(1), default="D")
    referentie: Mapped[str] = mapped_column(String(40))
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("declaration_line.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=LINE_CONCEPT, index=True)
    retourcodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    registration_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    toelichting: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # what was done with a rejected line (portal.services.followups): FOLLOWUP_* below
    vervolg: Mapped[str | None] = mapped_column(String(20))
    vervolg_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    vervolg_door: Mapped[int | None] = mapped_column(Integer)

    declaration: Mapped[Declaration | None] = relationship(back_populates="lines")
    client = relationship("Client")
    legitimation = relationship("Legitimation")
    product = relationship("Product")
    credit_of: Mapped[DeclarationLine | None] = relationship(remote_side=[id])

    @property
    def signed_cents(self) -> int:
        return -self.bedrag_cents if self.debet_credit == "C" else self.bedrag_cents

    @property
    def status_label(self) -> str:
        return LINE_STATUS_LABELS.get(self.status, self.status)

    @property
    def badge(self) -> str:
        return LINE_BADGES.get(self.status, "off")

    @property
    def vervolg_label(self) -> str:
        """What was done with this rejected line, in Dutch ("" when nothing yet)."""
        return FOLLOWUP_LABELS.get(self.vervolg, self.vervolg) if self.vervolg else ""
