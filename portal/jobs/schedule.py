"""Periodic work through RQ's own cron scheduler (no home-made loops)."""

from __future__ import annotations

from flask import Flask
from rq.cron import CronScheduler

from portal.jobs import queue_name, redis_connection


def periodic_jobs(app: Flask) -> list[dict]:
    """What runs by itself. Each entry becomes a CronScheduler registration.

    Features add theirs here (VECOZO polling at ``VECOZO_POLL_TIMES``).
    """
    return [
        {
            "func": "portal.jobs.schedule.enqueue_tracked",
            "args": (
                "housekeeping",
                "portal.jobs.housekeeping.sweep_stale_jobs",
                "Opruimen vastgelopen taken",
            ),
            "cron": "*/10 * * * *",
            "queue": "default",
        }
    ]


def enqueue_tracked(kind: str, func_path: str, label: str) -> str:
    """Runs on the worker: turn a cron tick into a normal tracked job (row + progress)."""
    from portal.db import session_scope
    from portal.jobs import enqueue
    from portal.jobs.runner import worker_app

    app = worker_app()
    with app.app_context(), session_scope() as session:
        row = enqueue(session, func_path, kind=kind, label=label)
        return row.id


def run_scheduler(app: Flask) -> None:
    cron = CronScheduler(
        connection=redis_connection(app), name=f"portal-{queue_name('default', app)}"
    )
    for job in periodic_jobs(app):
        cron.register(
            job["func"],
            queue_name=queue_name(job["queue"], app),
            args=job.get("args"),
            cron=job.get("cron"),
            interval=job.get("interval"),
        )
    cron.start()
