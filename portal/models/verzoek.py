"""A provider's request to a financier for a (changed) legitimation, and what became of it.

Generic on purpose: iWmo/iJw send a 315 (verzoek om toewijzing) or a 317 (verzoek om wijziging);
other standards (iWlz) have requests too. The financing plugin fills ``soort``, ``codes``,
``details`` and ``antwoord`` in its own terms; the core only shows them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models._base import Base, Timestamped

# verzonden → ontvangen (retour without remarks) or afgekeurd (retourcodes);
# then afgewezen / in_onderzoek (answer of the financier) or toegekend (a legitimation came).
STATUS_LABELS: dict[str, str] = {
    "verzonden": "Verzonden",
    "ontvangen": "Ontvangen door de financier",
    "afgekeurd": "Afgekeurd",
    "in_onderzoek": "In onderzoek",
    "afgewezen": "Afgewezen",
    "toegekend": "Toegekend",
}
STATUS_BADGES: dict[str, str] = {
    "verzonden": "off",
    "ontvangen": "ok",
    "afgekeurd": "err",
    "in_onderzoek": "warn",
    "afgewezen": "err",
    "toegekend": "ok",
}
# A request still waiting for its outcome: while one is open no new one is sent (iWmo TR374).
OPEN = ("verzonden", "ontvangen", "in_onderzoek")


class Verzoek(Timestamped, Base):
    """One request sent to a financier for one client."""

    __tablename__ = "verzoek"
    __table_args__ = (UniqueConstraint("financing", "referentie", name="uq_verzoek_referentie"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    financier_id: Mapped[int] = mapped_column(ForeignKey("financier.id"), index=True)
    financing: Mapped[str] = mapped_column(String(40), index=True)
    soort: Mapped[str] = mapped_column(String(20))  # e.g. "315", "317"
    referentie: Mapped[str] = mapped_column(String(40))  # ReferentieAanbieder
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="verzonden", index=True)
    codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # retourcodes
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what was asked
    antwoord: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the financier's answer
    legitimation_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)

    client = relationship("Client")
    financier = relationship("Financier")
    message = relationship("Message")

    @property
    def open(self) -> bool:
        return self.status in OPEN

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def badge(self) -> str:
        return STATUS_BADGES.get(self.status, "off")
