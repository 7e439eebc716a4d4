from __future__ import annotations

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.domain import FinancierKind
from portal.models._base import Base, Timestamped


class Financier(Timestamped, Base):
    """Who pays: a gemeente, zorgkantoor, zorgverzekeraar, DJI, budget holder, client or institution."""

    __tablename__ = "financier"
    __table_args__ = (UniqueConstraint("financing", "soort", "code", name="uq_financier_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    financing: Mapped[str] = mapped_column(String(40), index=True)
    soort: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(10))  # kept as text: leading zeros matter
    naam: Mapped[str] = mapped_column(String(200))
    straat: Mapped[str | None] = mapped_column(String(200))
    huisnummer: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(7))
    plaats: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    kvk_nummer: Mapped[str | None] = mapped_column(String(8))
    actief: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def kind(self) -> FinancierKind:
        return FinancierKind(self.soort)

    @property
    def label(self) -> str:
        return f"{self.naam} ({self.code})" if self.code else self.naam
