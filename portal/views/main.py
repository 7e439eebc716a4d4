from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, url_for
from sqlalchemy import func, select

from portal.app import hooks
from portal.auth import AUTHENTICATED, has_permission, requires
from portal.db import db_session
from portal.models import BackgroundJob, Client, Legitimation
from portal.services import dashboard
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
    actions = []
    if has_permission("clients.view"):  # the back office's day; care staff get their button
        actions = [
            (item, url_for(item.endpoint, **item.params))
            for item in dashboard.action_counts(s, hooks(), date.today())
            if item.endpoint in current_app.view_functions
            and (item.permission == AUTHENTICATED or has_permission(item.permission))
        ]
    return render_template(
        "main/index.html", org=get_organisation(s), stats=stats, jobs=jobs, actions=actions
    )
