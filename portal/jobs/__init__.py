"""Background work on RQ: queues, the job table, and the one way to enqueue.

Jobs are enqueued by dotted path with ids (never ORM objects). Every job has a row in
``background_job`` that people see (status, progress, outcome); an explicit id makes enqueueing
idempotent: the same id twice is one job.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from sqlalchemy.orm import Session

from portal.models import BackgroundJob

QUEUES = ("vecozo", "pdf", "default")


def init_app(app: Flask) -> None:
    app.extensions["redis_url"] = app.config["REDIS_URL"]


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    conn = app.extensions.get("redis_conn")
    if conn is None:
        url = app.config["REDIS_URL"]
        if not url:
            from portal.runtime import embedded_redis_url

            url = embedded_redis_url(app.instance_path)
            app.config["REDIS_URL"] = url
        conn = Redis.from_url(url)
        app.extensions["redis_conn"] = conn
    return conn


def queue_name(name: str, app: Flask | None = None) -> str:
    app = app or current_app
    return f"{app.config['RQ_QUEUE_PREFIX']}-{name}"


def job_key(name: str, app: Flask | None = None) -> str:
    """A deterministic job id (``vecozo-send-12-0``) made unique for this installation: RQ keeps
    jobs under their bare id in Redis, so two portals (or test runs) sharing one Redis with
    their own queue prefixes would otherwise overwrite each other's jobs."""
    app = app or current_app
    return f"{app.config['RQ_QUEUE_PREFIX']}-{name}"


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    app = app or current_app
    return Queue(queue_name(name, app), connection=redis_connection(app))


def enqueue(
    session: Session,
    func: str,
    *args: Any,
    kind: str,
    label: str,
    queue: str = "default",
    job_id: str | None = None,
    created_by: int | None = None,
    total: int | None = None,
    retries: int = 3,
    timeout: int = 1800,
    at_front: bool = False,
) -> BackgroundJob:
    """Record the job and put it on its queue. The same ``job_id`` again returns the first job."""
    job_id = job_id or uuid.uuid4().hex
    existing = session.get(BackgroundJob, job_id)
    if existing is not None and existing.status != "mislukt":
        return existing
    if existing is None:
        row = BackgroundJob(
            id=job_id, kind=kind, queue=queue, label=label, created_by=created_by, total=total
        )
        session.add(row)
    else:  # a failed job asked for again: run it again under the same id
        row = existing
        row.status, row.error, row.progress = "wachtend", None, 0
    row.func, row.args, row.retries, row.timeout = func, list(args), retries, timeout
    session.commit()  # the row exists before any worker can pick the job up
    put_on_queue(row, at_front=at_front)
    return row


def put_on_queue(row: BackgroundJob, *, at_front: bool = False, app: Flask | None = None) -> None:
    """Put the job of ``row`` on its RQ queue under the row's id, from what the row records
    (also used to rebuild the queue from the database when Redis lost it)."""
    retries = row.retries if row.retries is not None else 3
    get_queue(row.queue, app).enqueue(
        "portal.jobs.runner.run_job",
        row.id,
        row.func,
        list(row.args or []),
        job_id=row.id,
        retry=Retry(max=retries, interval=[5, 30, 120]) if retries else None,
        job_timeout=row.timeout or 1800,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        at_front=at_front,
    )
