from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from portal.auth import has_permission, polling, requires
from portal.db import db_session
from portal.models import BackgroundJob
from portal.web import render

bp = Blueprint("jobs", __name__, url_prefix="/taken")


@bp.route("/<job_id>")
@requires("jobs.view", "registration")
@polling
def show(job_id: str):
    """A job's progress: the page, or the fragment that polls itself until the job is done.

    The one who started a job may follow it; other people's jobs only the back-office roles
    (``jobs.view``). Anyone else gets a 404, as for a job that does not exist.
    """
    job = db_session().get(BackgroundJob, job_id) if len(job_id) <= 64 else None
    if job is None or not (job.created_by == current_user.id or has_permission("jobs.view")):
        abort(404)
    return render("jobs/show.html", "jobs/_progress.html", job=job, back=_back(job))


def local_referrer() -> str | None:
    """The page a form was posted from, as a local path (for "terug" links), or None."""
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if _safe(path) else None


def _safe(path: str) -> bool:
    return (
        path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and len(path) <= 300
        and not path.startswith("/taken/")
    )


def _back(job: BackgroundJob) -> tuple[str, str] | None:
    """Where the task was started: the page given in ``?terug=``, else the page of what the job
    works on (an invoice run, the overdue invoices, the messages)."""
    terug = request.args.get("terug") or ""
    if _safe(terug):
        return terug, "Terug naar waar u was"
    run = re.search(r"invoice-run-(\d{1,9})(?:-|$)", job.id)
    if run:
        return url_for("invoices.run", run_id=int(run.group(1))), "Terug naar de factuurrun"
    invoice = re.search(r"-invoice-(\d{1,9})$", job.id)
    if invoice:
        return url_for("invoices.show", invoice_id=int(invoice.group(1))), "Terug naar de factuur"
    if job.kind == "herinneringen":
        return url_for("invoices.overdue"), "Terug naar de vervallen facturen"
    if job.kind.startswith("vecozo"):
        return url_for("messages.inbox"), "Terug naar de berichten"
    return None


@bp.route("/")
@requires("jobs.view")
def index():
    from sqlalchemy import select

    jobs = (
        db_session()
        .scalars(select(BackgroundJob).order_by(BackgroundJob.created_at.desc()).limit(100))
        .all()
    )
    return render_template("jobs/index.html", jobs=jobs)
