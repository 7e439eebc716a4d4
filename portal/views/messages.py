"""Berichten: inbox, outbox, one message with its history, "Nu ophalen", the VECOZO settings."""

from __future__ import annotations

import math
import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.app import hooks
from portal.auth import has_permission, requires
from portal.db import db_session
from portal.jobs import vecozo as _vecozo_jobs  # noqa: F401  (loaded before workers fork)
from portal.models import Financier, Message, PollRun
from portal.models.message import STATUS_LABELS
from portal.privacy import mask_payload
from portal.services import audit
from portal.services import messages as svc
from portal.validators import parse_date
from portal.web import render

bp = Blueprint("messages", __name__, url_prefix="/berichten")

IN_STATUSES = ("verwerkt", "onbekend", "fout")
OUT_STATUSES = (
    "wachtrij",
    "verzenden",
    "onzeker",
    "verzonden",
    "bezorgd",
    "beantwoord",
    "afgekeurd",
    "mislukt",
)


@bp.app_context_processor
def _start_page_counts():
    def message_action_counts() -> dict[str, int]:
        return svc.counts_needing_action(db_session())

    return {"message_action_counts": message_action_counts}


def _filters(direction: str) -> tuple[svc.MessageFilter, dict[str, str], dict[str, str]]:
    args = request.args
    errors: dict[str, str] = {}
    values = {
        k: (args.get(k) or "").strip()
        for k in ("status", "financiering", "financier", "van", "tot", "actie")
    }
    dates = {}
    for key in ("van", "tot"):
        try:
            dates[key] = parse_date(values[key])
        except ValueError as exc:
            errors[key] = str(exc)
            dates[key] = None
    financier_id = int(values["financier"]) if values["financier"].isdigit() else None
    f = svc.MessageFilter(
        direction=direction,
        status=values["status"] or None,
        financing=values["financiering"] or None,
        financier_id=financier_id,
        van=dates["van"],
        tot=dates["tot"],
        actie=values["actie"] == "1",
    )
    return f, values, errors


def _listing(direction: str, template: str):
    f, values, errors = _filters(direction)
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    size = current_app.config["PAGE_SIZE"]
    session = db_session()
    rows, total = svc.list_messages(session, f, page=page, page_size=size)
    financiers = session.scalars(
        select(Financier).where(Financier.actief.is_(True)).order_by(Financier.naam)
    ).all()
    context = {
        "messages": rows,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / size)),
        "values": values,
        "errors": errors,
        "financiers": financiers,
        "statuses": IN_STATUSES if direction == "in" else OUT_STATUSES,
        "direction": direction,
        "endpoint": request.endpoint,
        "status_labels": STATUS_LABELS,
    }
    if direction == "in":
        context.update(_poll_context(session))
    return render(template, "messages/_table.html", **context)


def _poll_context(session) -> dict:
    from portal.jobs.vecozo import next_poll_at

    last = session.scalar(select(PollRun).order_by(PollRun.started_at.desc()).limit(1))
    try:
        upcoming = next_poll_at(current_app)
    except ValueError:
        upcoming = None
    return {"last_run": last, "next_run": upcoming}


@bp.route("/")
@requires("messages.view")
def inbox():
    return _listing("in", "messages/inbox.html")


@bp.route("/verzonden")
@requires("messages.view")
def outbox():
    return _listing("uit", "messages/outbox.html")


def _message(message_id: int) -> Message:
    message = db_session().get(Message, message_id)
    if message is None:
        abort(404)
    return message


def _payload_for_viewer(message: Message) -> bytes:
    """The payload as this user may see it: BSNs masked without the full-BSN right."""
    if has_permission("bsn.volledig"):
        return message.payload
    return mask_payload(message.payload)


@bp.route("/<int:message_id>")
@requires("messages.view")
def show(message_id: int):
    from portal.jobs.vecozo import VECOZO_LABELS
    from portal.vecozo.readable import explain_melding, readable

    session = db_session()
    message = _message(message_id)
    answers = session.scalars(
        select(Message).where(Message.answers_id == message.id).order_by(Message.id)
    ).all()
    audit.record(
        session,
        "bericht.bekeken",
        user_id=current_user.id,
        object_type="message",
        object_id=message.id,
        client_id=message.client_ids[0] if message.client_ids else None,
        ip=request.remote_addr,
    )
    session.commit()
    from portal.models.declaration import Declaration

    # the declaration this message sent, or answered
    sent_ids = [i for i in (message.id, message.answers_id) if i]
    declarations = session.scalars(
        select(Declaration).where(Declaration.message_id.in_(sent_ids)).order_by(Declaration.id)
    ).all()
    return render(
        "messages/show.html",
        message=message,
        answers=answers,
        declarations=declarations,
        shown=readable(_payload_for_viewer(message), message.code),
        explain=explain_melding,
        vecozo_labels=VECOZO_LABELS,
        status_labels=STATUS_LABELS,
        financier=session.get(Financier, message.financier_id) if message.financier_id else None,
    )


@bp.route("/<int:message_id>/bestand")
@requires("messages.view")
def download(message_id: int):
    message = _message(message_id)
    name = message.filename or f"bericht-{message.id}-{message.code or 'onbekend'}.bin"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "bericht.bin"
    audit.record(
        db_session(),
        "bericht.gedownload",
        user_id=current_user.id,
        object_type="message",
        object_id=message.id,
        ip=request.remote_addr,
    )
    db_session().commit()
    return Response(
        _payload_for_viewer(message),
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<int:message_id>/afgehandeld", methods=["POST"])
@requires("messages.edit")
def handled(message_id: int):
    session = db_session()
    message = _message(message_id)
    svc.mark_handled(session, message, current_user.id)
    session.commit()
    flash("Het bericht is als afgehandeld gemarkeerd.", "success")
    return redirect(url_for("messages.show", message_id=message.id))


@bp.route("/ophalen", methods=["POST"])
@requires("messages.edit")
def fetch_now():
    from portal.jobs.vecozo import enqueue_poll

    job = enqueue_poll(db_session(), trigger="handmatig", user_id=current_user.id)
    flash("Berichten worden nu opgehaald bij VECOZO.", "success")
    from portal.views.jobs import local_referrer

    terug = local_referrer()
    return redirect(url_for("jobs.show", job_id=job.id, **({"terug": terug} if terug else {})))


@bp.route("/ophaalrondes")
@requires("messages.view")
def polls():
    session = db_session()
    runs = session.scalars(select(PollRun).order_by(PollRun.started_at.desc()).limit(100)).all()
    return render("messages/polls.html", runs=runs, **_poll_context(session))


@bp.route("/instellingen", methods=["GET", "POST"])
@requires("organisation")
def settings():
    from portal.vecozo.certificates import (
        CertificateError,
        active_certificate,
        expiry_state,
        store_certificate,
    )
    from portal.vecozo.client import ENVIRONMENT_LABELS, VecozoConfigError, base_url

    session = db_session()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        upload = request.files.get("certificaat")
        password = request.form.get("wachtwoord", "")
        data = upload.read() if upload else b""
        try:
            store_certificate(
                session,
                data,
                password,
                filename=(upload.filename if upload else "") or "certificaat.pfx",
                user_id=current_user.id,
            )
        except CertificateError as exc:
            session.rollback()
            errors["certificaat"] = str(exc)
            status = 422
        else:
            session.commit()
            flash("Het certificaat is opgeslagen en wordt vanaf nu gebruikt.", "success")
            return redirect(url_for("messages.settings"))
    cert = active_certificate(session)
    try:
        url = base_url(current_app.config)
    except VecozoConfigError as exc:
        url = str(exc)
    env = current_app.config.get("VECOZO_ENVIRONMENT") or "standin"
    return (
        render(
            "messages/settings.html",
            cert=cert,
            state=expiry_state(cert),
            errors=errors,
            environment=ENVIRONMENT_LABELS.get(env, env),
            base_url=url,
            poll_times=current_app.config.get("VECOZO_POLL_TIMES") or [],
            timeout=current_app.config.get("VECOZO_TIMEOUT_SECONDS"),
        ),
        status,
    )


def financing_label(code: str | None) -> str:
    return hooks().financing_label(code) if code else "—"


@bp.app_template_filter("financiering")
def _financing_filter(code: str | None) -> str:
    return financing_label(code)
