"""Webhook deliveries on the RQ workers: a cron tick looks for koppelingen with new changes and
enqueues one delivery job each, with a deterministic id (the koppeling and its cursor), so a
tick that comes again while a delivery waits for its retry adds nothing. A failed delivery is
retried with back-off (``Retry``), and after that by the next tick."""

from __future__ import annotations

from sqlalchemy import select

from portal.jobs.runner import JobContext
from portal.models import ApiKoppeling
from portal.services import webhooks

RETRIES = 3


def tick() -> int:
    """Runs on a worker every minute (``schedule.periodic_jobs``)."""
    from portal.db import session_scope
    from portal.jobs import enqueue, job_key
    from portal.jobs.runner import worker_app

    app = worker_app()
    n = 0
    with app.app_context(), session_scope() as session:
        for koppeling in session.scalars(
            select(ApiKoppeling).where(
                ApiKoppeling.actief.is_(True), ApiKoppeling.webhook_url.is_not(None)
            )
        ):
            if not webhooks.pending(session, koppeling):
                continue
            enqueue(
                session,
                "portal.jobs.webhooks.deliver",
                koppeling.id,
                kind="webhook",
                label=f"Wijzigingen naar {koppeling.naam}",
                job_id=job_key(f"webhook-{koppeling.id}-{koppeling.webhook_cursor or 'begin'}"),
                retries=RETRIES,
                timeout=120,
            )
            n += 1
    return n


def deliver(ctx: JobContext, koppeling_id: int) -> dict:
    koppeling = ctx.session.get(ApiKoppeling, koppeling_id)
    if koppeling is None:
        return {"afgeleverd": 0}
    delivered = webhooks.deliver(ctx.session, koppeling)
    return {"afgeleverd": delivered, "cursor": koppeling.webhook_cursor}
