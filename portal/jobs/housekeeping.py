"""Periodic checks that keep the job table honest."""

from __future__ import annotations

from datetime import timedelta

from rq.job import Job
from sqlalchemy import select

from portal.jobs import redis_connection
from portal.models import BackgroundJob
from portal.models._base import utcnow


def sweep_stale_jobs(ctx) -> dict:
    """Jobs marked 'bezig' whose RQ job is gone (worker killed hard) become visible as failed."""
    cutoff = utcnow() - timedelta(minutes=30)
    stale = ctx.session.scalars(
        select(BackgroundJob).where(
            BackgroundJob.status == "bezig", BackgroundJob.started_at < cutoff
        )
    ).all()
    conn = redis_connection(ctx.app)
    marked = 0
    for row in stale:
        if Job.exists(row.id, connection=conn):
            status = Job.fetch(row.id, connection=conn).get_status(refresh=True)
            if status in ("started", "queued", "scheduled", "deferred"):
                continue
        row.status, row.finished_at = "mislukt", utcnow()
        row.message = "De verwerking is onderbroken (worker gestopt). Start de taak opnieuw."
        marked += 1
    return {"gemarkeerd": marked}
