from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped

legitimation_product = Table(
    "legitimation_product",
    Base.metadata,
    Column("legitimation_id", ForeignKey("legitimation.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id"), primary_key=True),
)


class Legitimation(Timestamped, Base):
    """The right to deliver care to a client under one financing (toewijzing, indicatie, …)."""

    __tablename__ = "legitimation"
    # the chain worklist: one financing, a few stands, by status and end date
    __table_args__ = (
        Index("ix_legitimation_keten", "financing", "keten_stand", "status", "einddatum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    financing: Mapped[str] = mapped_column(String(40), index=True)
    financier_id: Mapped[int] = mapped_column(ForeignKey("financier.id"), index=True)
    begindatum: Mapped[date] = mapped_column(Date)
    einddatum: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    volume: Mapped[int | None] = mapped_column(Integer)
    eenheid: Mapped[str | None] = mapped_column(String(10))
    frequentie: Mapped[str | None] = mapped_column(String(10))
    budget_cents: Mapped[int | None] = mapped_column(Integer)
    # Agreed tariff per unit where the agreement itself sets it (PGB zorgovereenkomst, private).
    tarief_cents: Mapped[int | None] = mapped_column(Integer)
    productcategorie: Mapped[str | None] = mapped_column(String(10))
    productcode: Mapped[str | None] = mapped_column(String(10))
    toewijzingnummer: Mapped[str | None] = mapped_column(String(20), index=True)
    referentienummer: Mapped[str | None] = mapped_column(String(40))
    reden_wijziging: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="actief")
    bron: Mapped[str] = mapped_column(String(20), default="handmatig")
    sleutels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the chain messages (start/stop of care) of this legitimation stand, kept by its
    # plugin next to the history in ``sleutels``, so worklists can select in SQL.
    keten_stand: Mapped[str | None] = mapped_column(String(20))
    opmerking: Mapped[str | None] = mapped_column(Text)

    client = relationship("Client", back_populates="legitimations")
    financier = relationship("Financier")
    products = relationship("Product", secondary=legitimation_product, order_by="Product.code")

    def covers(self, day: date) -> bool:
        return (
            self.status == "actief"
            and self.begindatum <= day
            and (self.einddatum is None or day <= self.einddatum)
        )
