"""Invoices (PGB, particulier, onderaanneming): runs, invoices, lines, number series, and the
purchase invoices of subcontractors that are checked against their specification.

An invoice that has a number is final: its amounts and lines never change again and it is never
deleted. A correction is a creditnota (its own number, negative amounts, ``credit_of`` the original).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from portal.models._base import Base, Timestamped, utcnow

INVOICE_STATUS_LABELS = {
    "concept": "Concept",
    "definitief": "Definitief, nog niet verstuurd",
    "verstuurd": "Verstuurd",
    "herinnering": "Herinnering verstuurd",
    "betaald": "Betaald",
    "gecrediteerd": "Gecrediteerd",
}
OPEN_STATUSES = ("definitief", "verstuurd", "herinnering")

RUN_STATUS_LABELS = {
    "renderen": "PDF's worden gemaakt",
    "klaar": "Klaar",
    "mislukt": "Mislukt",
}


class InvoiceRun(Base):
    """One invoice run: a financing over one ended calendar month."""

    __tablename__ = "invoice_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    # one financing, or several joined by commas ("pgb,particulier"): a run of one month for
    # every financing the back office chose, with one task page
    financing: Mapped[str] = mapped_column(String(200), index=True)
    periode_start: Mapped[date] = mapped_column(Date)
    periode_eind: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="renderen")
    job_id: Mapped[str | None] = mapped_column(String(64))
    n_invoices: Mapped[int] = mapped_column(Integer, default=0)
    n_lines: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    not_covered_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    invoices: Mapped[list[Invoice]] = relationship(back_populates="run", order_by="Invoice.nummer")

    @property
    def status_label(self) -> str:
        return RUN_STATUS_LABELS.get(self.status, self.status)

    @property
    def financings(self) -> list[str]:
        return [f for f in (self.financing or "").split(",") if f]


class Invoice(Timestamped, Base):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_run.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    financing: Mapped[str] = mapped_column(String(40), index=True)
    soort: Mapped[str] = mapped_column(String(12), default="factuur")  # factuur | creditnota
    financier_id: Mapped[int | None] = mapped_column(ForeignKey("financier.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    legitimation_id: Mapped[int | None] = mapped_column(ForeignKey("legitimation.id"))
    nummer: Mapped[str | None] = mapped_column(String(20), unique=True)
    # What this invoice covers, unique: the same debtor and period is never invoiced twice (a
    # double click or two runs at once fail here), and an original is credited only once.
    groep_sleutel: Mapped[str] = mapped_column(String(120), unique=True)
    factuurdatum: Mapped[date] = mapped_column(Date)
    vervaldatum: Mapped[date] = mapped_column(Date, index=True)
    periode_start: Mapped[date] = mapped_column(Date)
    periode_eind: Mapped[date] = mapped_column(Date)
    # The debtor exactly as printed: a snapshot, so a later change of address leaves it alone.
    debiteur_naam: Mapped[str] = mapped_column(String(200), default="")
    debiteur_adres: Mapped[str] = mapped_column(Text, default="")  # lines joined by \n
    debiteur_kenmerk: Mapped[str | None] = mapped_column(String(80))  # BSN / SVB nr / AGB
    debiteur_email: Mapped[str | None] = mapped_column(String(200))
    subtotaal_cents: Mapped[int] = mapped_column(Integer, default=0)
    btw_cents: Mapped[int] = mapped_column(Integer, default=0)
    totaal_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="concept", index=True)
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    betaalkenmerk: Mapped[str | None] = mapped_column(String(40))
    sleutels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[date | None] = mapped_column(Date)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    # what came in on the bank (sum of the matched BankPayments): partly paid while below the
    # total, status "betaald" once it reaches it
    # (a server default too: bulk loads and rows written outside the ORM start unpaid)
    betaald_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the last failed e-mail attempt (bulk sending shows it per invoice; cleared on success)
    mail_fout: Mapped[str | None] = mapped_column(String(300))

    run: Mapped[InvoiceRun | None] = relationship(back_populates="invoices")
    organisation = relationship("Organisation")
    financier = relationship("Financier")
    client = relationship("Client")
    legitimation = relationship("Legitimation")
    credit_of: Mapped[Invoice | None] = relationship(remote_side="Invoice.id")
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all"
    )

    @property
    def status_label(self) -> str:
        return INVOICE_STATUS_LABELS.get(self.status, self.status)

    @property
    def openstaand_cents(self) -> int:
        return self.totaal_cents - (self.betaald_cents or 0)

    @property
    def partly_paid(self) -> bool:
        return self.is_open and 0 < (self.betaald_cents or 0) < self.totaal_cents

    @property
    def betaal_label(self) -> str:
        """The status as the list shows it: "Deels betaald" when some money came in."""
        return "Deels betaald" if self.partly_paid else self.status_label

    @property
    def is_open(self) -> bool:
        return self.soort == "factuur" and self.status in OPEN_STATUSES

    @property
    def is_credit(self) -> bool:
        return self.soort == "creditnota"

    @property
    def adres_regels(self) -> list[str]:
        return [r for r in (self.debiteur_adres or "").split("\n") if r]

    def overdue(self, today: date) -> bool:
        return self.is_open and self.vervaldatum < today


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    datum: Mapped[date | None] = mapped_column(Date)
    periode_start: Mapped[date | None] = mapped_column(Date)
    periode_eind: Mapped[date | None] = mapped_column(Date)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    legitimation_id: Mapped[int | None] = mapped_column(ForeignKey("legitimation.id"))
    omschrijving: Mapped[str] = mapped_column(String(300))
    eenheid: Mapped[str] = mapped_column(String(10))  # the tariff's unit: uur, dagdeel, …
    minuten: Mapped[int | None] = mapped_column(Integer)  # time products: exact minutes
    aantal: Mapped[int | None] = mapped_column(Integer)  # other products: number of units
    tarief_cents: Mapped[int] = mapped_column(Integer)
    bedrag_cents: Mapped[int] = mapped_column(Integer)
    btw_percentage: Mapped[int] = mapped_column(Integer, default=0)
    btw_cents: Mapped[int] = mapped_column(Integer, default=0)
    registration_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    product = relationship("Product")
    client = relationship("Client")
    legitimation = relationship("Legitimation")

    @property
    def uren(self) -> str:
        """Hours as printed on Dutch invoices: 2:30."""
        if self.minuten is None:
            return ""
        sign = "-" if self.minuten < 0 else ""
        m = abs(self.minuten)
        return f"{sign}{m // 60}:{m % 60:02d}"


class InvoiceNumberSeries(Base):
    """The last invoice number handed out per organisation and year (gap-free numbering)."""

    __tablename__ = "invoice_number_series"
    __table_args__ = (
        UniqueConstraint("organisation_id", "jaar", name="uq_invoice_number_series_org_jaar"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    jaar: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class PurchaseInvoice(Base):
    """An invoice of a subcontractor (inkoop onderaanneming) with its specification, checked
    against what was loaded from that specification."""

    __tablename__ = "purchase_invoice"
    __table_args__ = (
        UniqueConstraint("leverancier_agb", "factuurnummer", name="uq_purchase_invoice_nummer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    leverancier_naam: Mapped[str] = mapped_column(String(200))
    leverancier_agb: Mapped[str] = mapped_column(String(8))
    factuurnummer: Mapped[str] = mapped_column(String(40))
    factuurdatum: Mapped[date] = mapped_column(Date)
    gefactureerd_cents: Mapped[int] = mapped_column(Integer)
    berekend_cents: Mapped[int] = mapped_column(Integer, default=0)
    n_rows: Mapped[int] = mapped_column(Integer, default=0)
    n_registrations: Mapped[int] = mapped_column(Integer, default=0)
    verschillen: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="gecontroleerd")
    bestand_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def akkoord(self) -> bool:
        return not self.verschillen


class BankStatement(Base):
    """A bank statement (CAMT.053) read in: once per file (its hash) and per statement id."""

    __tablename__ = "bank_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    bestand_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    bestandsnaam: Mapped[str] = mapped_column(String(200), default="")
    afschrift_id: Mapped[str] = mapped_column(String(80), default="")  # Stmt/Id
    iban: Mapped[str] = mapped_column(String(34), default="")
    datum_van: Mapped[date | None] = mapped_column(Date)
    datum_tot: Mapped[date | None] = mapped_column(Date)
    n_bijschrijvingen: Mapped[int] = mapped_column(Integer, default=0)
    n_afschrijvingen: Mapped[int] = mapped_column(Integer, default=0)
    n_al_bekend: Mapped[int] = mapped_column(Integer, default=0)
    waarschuwing: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    payments: Mapped[list[BankPayment]] = relationship(
        back_populates="statement", order_by="BankPayment.id"
    )


PAYMENT_STATUS_LABELS = {
    "gekoppeld": "Gekoppeld",
    "open": "Nog koppelen",
    "genegeerd": "Genegeerd (geen factuur)",
}


class BankPayment(Base):
    """One incoming payment (a credit entry) of a statement. ``sleutel`` is unique: the same
    bank entry read twice (the same file, or an overlapping statement) is stored once, so its
    money is counted once."""

    __tablename__ = "bank_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    sleutel: Mapped[str] = mapped_column(String(120), unique=True)
    boekdatum: Mapped[date] = mapped_column(Date)
    bedrag_cents: Mapped[int] = mapped_column(Integer)
    tegen_naam: Mapped[str] = mapped_column(String(140), default="")
    tegen_iban: Mapped[str] = mapped_column(String(34), default="")
    omschrijving: Mapped[str] = mapped_column(String(500), default="")
    end_to_end_id: Mapped[str] = mapped_column(String(40), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    gekoppeld_door: Mapped[str] = mapped_column(String(20), default="")  # kenmerk/iban/hand
    gekoppeld_by: Mapped[int | None] = mapped_column(Integer)

    statement: Mapped[BankStatement] = relationship(back_populates="payments")
    invoice: Mapped[Invoice | None] = relationship()

    @property
    def status_label(self) -> str:
        return PAYMENT_STATUS_LABELS.get(self.status, self.status)
