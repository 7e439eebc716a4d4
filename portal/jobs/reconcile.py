"""Keep the job table in step with RQ, and rebuild the queues from the database.

Runs every ``JOB_RECONCILE_SECONDS`` (20 s) from the scheduler, and can be called directly:

1. RQ's own abandoned-job detection, now: ``StartedJobRegistry.cleanup()`` of every queue. A job
   whose worker died (SIGKILL, power cut) stops sending heartbeats; once its entry in the
   started registry expired (60 s plus the worker's monitoring interval) RQ retries it if it has
   retries left and otherwise moves it to the failed jobs. RQ does this by itself only at a
   worker's maintenance round (every 10 minutes); here it happens within one reconcile round.
2. Rows "wachtend"/"bezig" follow RQ: failed there → "mislukt" here (with a Dutch message saying
   the worker stopped); retried there → "wachtend" here.
3. Redis lost the job (data wiped, or a Redis without persistence restarted): the row records
   what to run (``func``, ``args``), so the job goes back on its queue under the same id. Jobs are
   safe to run twice (a send claims its message first; a PDF that exists is skipped), so this
   loses nothing and doubles nothing. Rows without ``func`` (progress rows of a run, rows from
   before migration 0019) are left to :mod:`portal.jobs.housekeeping`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.jobs import QUEUES, put_on_queue, queue_name, redis_connection
from portal.models import BackgroundJob
from portal.models._base import utcnow

log = logging.getLogger(__name__)

ABANDONED = (
    "De worker is gestopt tijdens deze taak (afgebroken). Wat al klaar was, is bewaard; "
    "start de taak opnieuw."
)
RETRYING = "De worker is gestopt tijdens deze taak; de taak wordt automatisch opnieuw geprobeerd."
REQUEUED = "De taak was uit de wachtrij verdwenen (Redis); opnieuw ingepland."


def _aware(value):
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=utcnow().tzinfo)
    return value


def reconcile(app: Flask, session: Session) -> dict[str, int]:
    conn = redis_connection(app)
    for q in QUEUES:  # 1. RQ's abandoned-job detection
        StartedJobRegistry(queue_name(q, app), connection=conn).cleanup()

    now = utcnow()
    # a row is committed just before its job reaches Redis: give enqueue a moment
    new_grace = timedelta(seconds=app.config.get("JOB_ENQUEUE_GRACE_SECONDS", 30))
    # a running job whose Redis data was wiped may still be running in its worker
    running_grace = timedelta(seconds=app.config.get("JOB_LOST_RUNNING_SECONDS", 120))
    done = {"mislukt": 0, "opnieuw": 0, "teruggezet": 0}
    rows = session.scalars(
        select(BackgroundJob)
        .where(BackgroundJob.status.in_(("wachtend", "bezig")), BackgroundJob.func.is_not(None))
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        try:
            job = Job.fetch(row.id, connection=conn)
            status = job.get_status(refresh=False)
        except NoSuchJobError:
            job, status = None, None
        if job is None:  # 3. lost with Redis
            since = _aware(row.started_at if row.status == "bezig" else row.created_at)
            grace = running_grace if row.status == "bezig" else new_grace
            if since is not None and now - since < grace:
                continue
            row.status, row.message = "wachtend", REQUEUED
            session.commit()
            put_on_queue(row, app=app)
            done["teruggezet"] += 1
            log.warning("job %s was lost from Redis; put back on %s", row.id, row.queue)
        elif status == JobStatus.FAILED:  # 2. failed in RQ (abandoned, or failed for good)
            result = job.latest_result()
            text = (result.exc_string if result else "") or ""
            row.status, row.finished_at = "mislukt", now
            if "AbandonedJobError" in text:
                row.message, row.error = ABANDONED, "AbandonedJobError: worker gestopt"
            else:
                row.message = "Mislukt."
                row.error = row.error or (text.strip().splitlines() or [""])[-1] or None
            done["mislukt"] += 1
        elif row.status == "bezig" and status in (
            JobStatus.SCHEDULED,
            JobStatus.QUEUED,
            JobStatus.DEFERRED,
        ):
            row.status, row.message = "wachtend", RETRYING
            done["opnieuw"] += 1
    session.commit()
    return done


def reconcile_scheduled() -> dict[str, int]:
    """Runs from RQ's cron scheduler every JOB_RECONCILE_SECONDS."""
    from portal.jobs.runner import worker_app

    app = worker_app()
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        try:
            return reconcile(app, session)
        finally:
            session.close()
