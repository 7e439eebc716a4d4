from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped


class Contract(Timestamped, Base):
    """An agreement with one financier for a period; its lines map own products to theirs."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    financier_id: Mapped[int] = mapped_column(ForeignKey("financier.id"), index=True)
    naam: Mapped[str] = mapped_column(String(200))
    begindatum: Mapped[date] = mapped_column(Date)
    einddatum: Mapped[date | None] = mapped_column(Date)
    opmerking: Mapped[str | None] = mapped_column(Text)

    financier = relationship("Financier")
    lines: Mapped[list[ContractLine]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractLine.id"
    )


class ContractLine(Timestamped, Base):
    """A productafspraak: own product -> financier's product code, unit, tariff and rounding."""

    __tablename__ = "contract_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    productcategorie: Mapped[str | None] = mapped_column(String(10))
    productcode: Mapped[str | None] = mapped_column(String(10))
    eenheid: Mapped[str] = mapped_column(String(10))
    tarief_cents: Mapped[int] = mapped_column(Integer)
    begindatum: Mapped[date] = mapped_column(Date)
    einddatum: Mapped[date | None] = mapped_column(Date)
    afronding_minuten: Mapped[int] = mapped_column(Integer, default=0)
    afronding_wijze: Mapped[str] = mapped_column(String(12), default="dichtstbij")
    btw_percentage: Mapped[int] = mapped_column(Integer, default=0)

    contract: Mapped[Contract] = relationship(back_populates="lines")
    product = relationship("Product")
