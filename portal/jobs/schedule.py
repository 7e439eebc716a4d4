"""Periodic work through RQ's own cron scheduler (no home-made loops)."""

from __future__ import annotations

import importlib
import logging
import time

from flask import Flask
from rq.cron import CronScheduler

from portal.jobs import queue_name, redis_connection

log = logging.getLogger(__name__)


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
        {
            "func": "portal.jobs.reconcile.reconcile_scheduled",
            "interval": int(app.config.get("JOB_RECONCILE_SECONDS") or 20),
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
    """Run RQ's cron scheduler; when Redis goes away (restarted, wiped) wait for it and register
    again, rather than leaving the portal without polling and housekeeping."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from rq.exceptions import DuplicateSchedulerError

    while True:
        try:
            _start_cron(app)
            return  # stopped on request (SIGTERM, Ctrl-C)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("scheduler lost Redis (%s); registering again in 2 s", exc)
            time.sleep(2)
        except DuplicateSchedulerError:
            if _take_over_stale(app):
                continue
            log.warning("another scheduler is running for these queues; waiting")
            time.sleep(10)


def scheduler_name(app: Flask) -> str:
    return f"portal-{queue_name('default', app)}"


def _take_over_stale(app: Flask, stale_seconds: float = 90) -> bool:
    """A scheduler killed hard stays registered under our name: take over once its heartbeat
    (every loop, at most every JOB_RECONCILE_SECONDS) is older than ``stale_seconds``."""
    from rq import cron_scheduler_registry

    conn = redis_connection(app)
    beat = conn.zscore(cron_scheduler_registry.get_registry_key(), scheduler_name(app))
    if beat is None or time.time() - beat > stale_seconds:
        conn.zrem(cron_scheduler_registry.get_registry_key(), scheduler_name(app))
        log.warning("took over from a scheduler that stopped sending heartbeats")
        return True
    return False


def _start_cron(app: Flask) -> None:
    cron = CronScheduler(connection=redis_connection(app), name=scheduler_name(app))
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
