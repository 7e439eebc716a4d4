from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.domain import Unit
from portal.models._base import Base, Timestamped


class Uursoort(Timestamped, Base):
    """A kind of hours (PV, VP, BG…) with the ordered financings that may pay for it."""

    __tablename__ = "uursoort"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    naam: Mapped[str] = mapped_column(String(200))
    actief: Mapped[bool] = mapped_column(Boolean, default=True)

    financings: Mapped[list[UursoortFinancing]] = relationship(
        back_populates="uursoort",
        order_by="UursoortFinancing.position",
        cascade="all, delete-orphan",
    )

    @property
    def financing_codes(self) -> list[str]:
        return [f.financing for f in self.financings]


class UursoortFinancing(Base):
    """One entry of an uursoort's financieringsprioriteit (position 1 comes first)."""

    __tablename__ = "uursoort_financing"
    __table_args__ = (
        UniqueConstraint("uursoort_id", "financing", name="uq_uursoort_financing_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uursoort_id: Mapped[int] = mapped_column(ForeignKey("uursoort.id", ondelete="CASCADE"))
    financing: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)

    uursoort: Mapped[Uursoort] = relationship(back_populates="financings")


class Product(Timestamped, Base):
    """The organisation's own product: what care staff register against."""

    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    naam: Mapped[str] = mapped_column(String(200))
    eenheid: Mapped[str] = mapped_column(String(10))
    uursoort_id: Mapped[int | None] = mapped_column(ForeignKey("uursoort.id"))
    actief: Mapped[bool] = mapped_column(Boolean, default=True)

    uursoort: Mapped[Uursoort | None] = relationship()

    @property
    def unit(self) -> Unit:
        return Unit(self.eenheid)

    @property
    def is_time(self) -> bool:
        return self.unit.is_time
