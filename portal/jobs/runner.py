"""What runs inside a worker: the wrapper around every job, and the worker's app."""

from __future__ import annotations

import importlib
import logging
import traceback
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from portal.models import BackgroundJob
from portal.models._base import utcnow

log = logging.getLogger(__name__)
_worker_app: Flask | None = None


def worker_app() -> Flask:
    """The app of this worker process, built once (the worker command sets it)."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from portal.app import create_app

        _worker_app = create_app()
    return _worker_app


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app


@dataclass
class JobContext:
    """Handed to every job function: its own session, its row, and a progress reporter."""

    app: Flask
    session: Session
    job_id: str

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress in a separate short transaction, so screens see it at once."""
        sm = self.app.extensions["db_sessionmaker"]
        with sm() as s:
            row = s.get(BackgroundJob, self.job_id)
            if row is None:
                return
            row.progress = done
            if total is not None:
                row.total = total
            if message is not None:
                row.message = message
            s.commit()


def run_job(job_id: str, func_path: str, args: list[Any]) -> dict[str, Any]:
    """Run ``func_path(ctx, *args)`` for the job row ``job_id``; safe to run twice."""
    app = worker_app()
    sm = app.extensions["db_sessionmaker"]
    with app.app_context():
        with sm() as s:
            row = s.get(BackgroundJob, job_id)
            if row is None:
                log.warning("job %s has no row; skipped", job_id)
                return {"skipped": "geen taakregel"}
            if row.status == "klaar":
                return dict(row.result or {})
            row.status, row.started_at, row.error = "bezig", utcnow(), None
            row.attempts = (row.attempts or 0) + 1
            s.commit()

        module_name, _, func_name = func_path.rpartition(".")
        func = getattr(importlib.import_module(module_name), func_name)
        session = sm()
        ctx = JobContext(app=app, session=session, job_id=job_id)
        try:
            result = func(ctx, *args) or {}
            session.commit()
        except Exception as exc:
            session.rollback()
            session.close()
            with sm() as s:
                row = s.get(BackgroundJob, job_id)
                row.status, row.finished_at = "mislukt", utcnow()
                row.error = f"{type(exc).__name__}: {exc}"
                row.message = "Mislukt; wordt zo nodig automatisch opnieuw geprobeerd."
                s.commit()
            log.error("job %s (%s) failed:\n%s", job_id, func_path, traceback.format_exc())
            raise
        session.close()
        with sm() as s:
            row = s.get(BackgroundJob, job_id)
            row.status, row.finished_at, row.result = "klaar", utcnow(), result
            if row.total:
                row.progress = row.total
            s.commit()
        return result
