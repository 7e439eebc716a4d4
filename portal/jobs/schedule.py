"""Periodic work through RQ's own cron scheduler (no home-made loops)."""

from __future__ import annotations

import importlib

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
        },
        *_vecozo_jobs(app),
        # API webhooks: new changes go out to the koppelingen within a minute
        {"func": "portal.jobs.webhooks.tick", "cron": "* * * * *", "queue": "default"},
    ]


def _vecozo_jobs(app: Flask) -> list[dict]:
    """VECOZO: fetch at each VECOZO_POLL_TIMES entry; follow outstanding messages."""
    from portal.jobs.vecozo import poll_cron_entries

    return poll_cron_entries(app)


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
        func = job["func"]
        if isinstance(func, str):  # rq's register() needs the function itself, not its path
            module_name, _, func_name = func.rpartition(".")
            func = getattr(importlib.import_module(module_name), func_name)
        cron.register(
            func,
            queue_name=queue_name(job["queue"], app),
            args=job.get("args"),
            cron=job.get("cron"),
            interval=job.get("interval"),
        )
    cron.start()
