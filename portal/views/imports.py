"""Upload screen for the CSV import of clients and legitimations."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.services import imports as svc
from portal.web import render

bp = Blueprint("imports", __name__, url_prefix="/import")

KINDS = {"clienten": "Cliënten", "legitimaties": "Legitimaties"}


def _max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES") or svc.MAX_BYTES)


@bp.route("/")
@requires("import")
def index():
    return render("imports/index.html", kinds=KINDS, max_kb=_max_bytes() // 1024)


@bp.route("/<kind>", methods=["POST"])
@requires("import")
def upload(kind: str):
    if kind not in KINDS:
        return render("imports/index.html", kinds=KINDS, max_kb=_max_bytes() // 1024), 404
    upload = request.files.get("bestand")
    problem = None
    report = None
    if upload is None or not upload.filename:
        problem = "Kies een CSV-bestand."
    else:
        # Read one byte more than allowed: enough to know it is too large, never the whole file.
        data = upload.stream.read(_max_bytes() + 1)
        session = db_session()
        try:
            if kind == "clienten":
                report = svc.import_clients(
                    session, data, user_id=current_user.id, max_bytes=_max_bytes()
                )
            else:
                report = svc.import_legitimations(
                    session, hooks(), data, user_id=current_user.id, max_bytes=_max_bytes()
                )
        except svc.ImportFileError as exc:
            session.rollback()
            problem = str(exc)
        else:
            if report.ok:
                session.commit()
            else:
                session.rollback()
    status = 200 if report is not None and report.ok else 422
    return render(
        "imports/report.html",
        kind=kind,
        kinds=KINDS,
        report=report,
        problem=problem,
        filename=upload.filename if upload else "",
        max_kb=_max_bytes() // 1024,
    ), status
