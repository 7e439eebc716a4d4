from __future__ import annotations

from flask import Blueprint, abort, render_template
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
    return render("jobs/show.html", "jobs/_progress.html", job=job)


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
