from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped


class Organisation(Timestamped, Base):
    """The care provider using the portal (one per installation)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    naam: Mapped[str] = mapped_column(String(200))
    kvk_nummer: Mapped[str | None] = mapped_column(String(8))
    iban: Mapped[str | None] = mapped_column(String(34))
    btw_nummer: Mapped[str | None] = mapped_column(String(20))
    straat: Mapped[str | None] = mapped_column(String(200))
    huisnummer: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(7))
    plaats: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    telefoon: Mapped[str | None] = mapped_column(String(30))
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False)

    agb_codes: Mapped[list[OrganisationAgb]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationAgb.id"
    )

    @property
    def main_agb(self) -> str | None:
        for agb in self.agb_codes:
            if agb.hoofd:
                return agb.agb_code
        return self.agb_codes[0].agb_code if self.agb_codes else None


class OrganisationAgb(Base):
    """An AGB code of the organisation or one of its locations."""

    __tablename__ = "organisation_agb"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    agb_code: Mapped[str] = mapped_column(String(8), unique=True)
    locatie: Mapped[str] = mapped_column(String(200))
    hoofd: Mapped[bool] = mapped_column(Boolean, default=False)

    organisation: Mapped[Organisation] = relationship(back_populates="agb_codes")
