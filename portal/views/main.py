from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from portal.auth import AUTHENTICATED, has_permission, requires
from portal.db import db_session
from portal.models import BackgroundJob, Client, Legitimation
from portal.services.organisation import get_organisation

bp = Blueprint("main", __name__)


@bp.route("/")
@requires(AUTHENTICATED)
def index():
    s = db_session()
    stats = {}
    if has_permission("clients.view"):
        stats["clienten"] = s.scalar(select(func.count()).select_from(Client).where(Client.actief))
        stats["legitimaties"] = s.scalar(
            select(func.count()).select_from(Legitimation).where(Legitimation.status == "actief")
        )
    jobs = []
    if has_permission("jobs.view"):
        jobs = s.scalars(
            select(BackgroundJob).order_by(BackgroundJob.created_at.desc()).limit(5)
        ).all()
    return render_template("main/index.html", org=get_organisation(s), stats=stats, jobs=jobs)
