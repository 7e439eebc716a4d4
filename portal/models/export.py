"""What has been exported: one row per part of a registration that a declaration or an invoice
counted (DESIGN §2, "each part of a registration exported once").

A registration's time can fall to several legitimations (stacking: part Wlz, part particulier).
Each such part is exported once, by a declaration line or an invoice line; the row says which.
``active`` stays true while the export counts; a credit (or a rejection, or replacing a concept)
releases exactly that part, so a later run may take it again.

"Exported once" is a guarantee of the database: a partial unique index allows one active row per
(registration, legitimation), so two runs at the same moment cannot both export the same part —
the second one's insert fails, whatever it checked before.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models._base import Base, utcnow

EXPORT_DECLARATION = "declaratie"
EXPORT_INVOICE = "factuur"
# care of a rejected declaration line moved to another legitimation (naar particulier): the row
# keeps the original (registration, legitimation) actively exported, so the first financing never
# declares it again, and is invoiced once on ``naar_legitimation_id`` (``invoice_line_id``)
EXPORT_MOVED = "verplaatst"


class ExportPart(Base):
    """One part of one registration, counted by one export (a declaration line or an invoice
    line). Simple to query: registration, financing, legitimation, minutes or quantity, the line
    it went into, and whether it still counts."""

    __tablename__ = "export_part"
    __table_args__ = (
        Index(
            "uq_export_part_active",
            "registration_id",
            "legitimation_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        Index("ix_export_part_client_week", "client_id", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    # client and legitimation are copies for querying (the registration and the line are the
    # references); no foreign keys, so a month's hundreds of thousands of parts go in fast
    client_id: Mapped[int] = mapped_column(Integer)
    financing: Mapped[str] = mapped_column(String(40))
    legitimation_id: Mapped[int] = mapped_column(Integer)
    datum: Mapped[date] = mapped_column(Date)
    week_start: Mapped[date] = mapped_column(Date)  # Monday of the ISO week of ``datum``
    minutes: Mapped[int] = mapped_column(Integer, default=0)  # this part's exact minutes
    aantal: Mapped[int] = mapped_column(Integer, default=0)  # quantity (non-time products)
    kind: Mapped[str] = mapped_column(String(20))  # declaratie | factuur
    declaration_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("declaration_line.id", ondelete="CASCADE"), index=True
    )
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # kind ``verplaatst``: the legitimation the care is billed on now
    naar_legitimation_id: Mapped[int | None] = mapped_column(Integer, index=True)
