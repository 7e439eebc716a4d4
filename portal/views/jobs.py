from __future__ import annotations

from flask import Blueprint, abort, render_template

from portal.auth import requires
from portal.db import db_session
from portal.models import BackgroundJob
from portal.web import render

bp = Blueprint("jobs", __name__, url_prefix="/taken")


@bp.route("/<job_id>")
@requires("jobs.view", "registration")
def show(job_id: str):
    """A job's progress: the page, or the fragment that polls itself until the job is done."""
    job = db_session().get(BackgroundJob, job_id)
    if job is None:
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
