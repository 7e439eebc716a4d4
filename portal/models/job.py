from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models._base import Base, utcnow

JOB_STATUS_LABELS = {
    "wachtend": "In de wachtrij",
    "bezig": "Bezig",
    "klaar": "Klaar",
    "mislukt": "Mislukt",
}


class BackgroundJob(Base):
    """A unit of background work as people see it: what, progress, outcome."""

    __tablename__ = "background_job"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    queue: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="wachtend", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # what RQ runs (dotted path, arguments, retries, time-out): with these the job can be put back
    # on its queue from the database alone when Redis lost it (see portal.jobs.reconcile)
    func: Mapped[str | None] = mapped_column(String(200))
    args: Mapped[list[Any] | None] = mapped_column(JSON)
    retries: Mapped[int | None] = mapped_column(Integer)
    timeout: Mapped[int | None] = mapped_column(Integer)

    @property
    def done(self) -> bool:
        return self.status in ("klaar", "mislukt")

    @property
    def percent(self) -> int:
        if self.status == "klaar":
            return 100
        if not self.total:
            return 0
        return min(100, int(self.progress * 100 / self.total))

    @property
    def status_label(self) -> str:
        return JOB_STATUS_LABELS.get(self.status, self.status)
