from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped


class Client(Timestamped, Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    bsn: Mapped[str] = mapped_column(String(9), unique=True)
    clientnummer: Mapped[str | None] = mapped_column(String(30), unique=True)
    voorletters: Mapped[str | None] = mapped_column(String(20))
    voornamen: Mapped[str | None] = mapped_column(String(200))
    tussenvoegsel: Mapped[str | None] = mapped_column(String(20))
    achternaam: Mapped[str] = mapped_column(String(200), index=True)
    geboortedatum: Mapped[date] = mapped_column(Date)
    geslacht: Mapped[str] = mapped_column(String(1), default="0")  # iStandaard COD046: 0,1,2
    straat: Mapped[str | None] = mapped_column(String(200))
    huisnummer: Mapped[str | None] = mapped_column(String(10))
    huisnummer_toevoeging: Mapped[str | None] = mapped_column(String(10))
    postcode: Mapped[str | None] = mapped_column(String(7), index=True)
    plaats: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    telefoon: Mapped[str | None] = mapped_column(String(30))
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    actief: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    opmerking: Mapped[str | None] = mapped_column(Text)

    # PGB: the budget holder (the client or a representative)
    budgethouder_is_client: Mapped[bool] = mapped_column(Boolean, default=True)
    budgethouder_voorletters: Mapped[str | None] = mapped_column(String(20))
    budgethouder_tussenvoegsel: Mapped[str | None] = mapped_column(String(20))
    budgethouder_achternaam: Mapped[str | None] = mapped_column(String(200))
    budgethouder_bsn: Mapped[str | None] = mapped_column(String(9))
    svb_relatienummer: Mapped[str | None] = mapped_column(String(20))
    budgethouder_straat: Mapped[str | None] = mapped_column(String(200))
    budgethouder_huisnummer: Mapped[str | None] = mapped_column(String(20))
    budgethouder_postcode: Mapped[str | None] = mapped_column(String(7))
    budgethouder_plaats: Mapped[str | None] = mapped_column(String(100))

    legitimations = relationship(
        "Legitimation",
        back_populates="client",
        order_by="Legitimation.priority, Legitimation.begindatum",
        cascade="all, delete-orphan",
    )

    @property
    def naam(self) -> str:
        """Display name as a Dutch administration writes it: 'Jansen, J. de'."""
        tail = " ".join(p for p in (self.voorletters, self.tussenvoegsel) if p)
        return f"{self.achternaam}, {tail}" if tail else self.achternaam

    @property
    def volledige_naam(self) -> str:
        parts = (self.voorletters, self.tussenvoegsel, self.achternaam)
        return " ".join(p for p in parts if p)

    @property
    def bsn_masked(self) -> str:
        """For screens where the full BSN is not needed: ******789."""
        return "*" * 6 + self.bsn[-3:] if self.bsn else ""

    @property
    def has_budgethouder(self) -> bool:
        if self.budgethouder_is_client:
            return bool(self.achternaam and (self.bsn or self.svb_relatienummer))
        return bool(
            self.budgethouder_achternaam
            and (self.budgethouder_bsn or self.svb_relatienummer)
            and self.budgethouder_postcode
        )
