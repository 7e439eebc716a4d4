"""The stand-in's own page (not part of VECOZO): mailboxes, messages, and placing an inbound
message in a mailbox."""

from __future__ import annotations

import base64
import binascii
import json

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from portal.vecozo.standin.common import problem, store
from portal.vecozo.standin.lifecycle import insert_ready
from portal.vecozo.standin.store import FAULTS

bp = Blueprint("admin", __name__)


@bp.get("/")
def index():
    mailbox = request.args.get("postbus") or None
    return render_template(
        "standin/index.html",
        mailboxes=store().mailboxes(),
        messages=store().recent(mailbox),
        mailbox=mailbox,
        faults=store().faults(),
        fault_names=FAULTS,
        counters=store().counters(),
        message=request.args.get("melding"),
    )


@bp.get("/_standin/berichten/<traceer_id>")
def show(traceer_id: str):
    row = store().get(traceer_id)
    if row is None:
        abort(404)
    return render_template(
        "standin/show.html",
        row=row,
        history=store().history(traceer_id),
        payload=bytes(row["payload"]).decode("utf-8", "replace"),
        meldingen=json.loads(row["meldingen"] or "[]"),
    )


@bp.post("/_standin/plaatsen")
def place():
    """Put an inbound message in a mailbox (JSON for tests, or the page's form)."""
    data = request.get_json(silent=True) if request.is_json else None
    from_form = data is None
    data = data or request.form.to_dict()
    errors: dict[str, list[str]] = {}
    payload = b""
    if data.get("payload_base64"):
        try:
            payload = base64.b64decode(data["payload_base64"], validate=True)
        except (binascii.Error, ValueError):
            errors["payload_base64"] = ["Geen geldige base64."]
    elif "bestand" in request.files:
        payload = request.files["bestand"].read()
    else:
        payload = (data.get("payload") or "").replace("\r\n", "\n").encode("utf-8")
        if payload and not payload.lstrip().startswith(b"<"):
            payload = payload.replace(b"\n", b"\r\n")
    if not payload:
        errors["payload"] = ["Geef de inhoud van het bericht."]
    from portal.vecozo.berichtstromen import berichtstroom_for

    stroom = data.get("berichtstroom") or berichtstroom_for(data.get("code"))
    if isinstance(stroom, str):
        try:
            stroom = json.loads(stroom)
        except ValueError:
            stroom = None
    if not stroom:
        errors["code"] = ["Onbekende berichtcode; geef een berichtstroom op."]
    for key in ("postbus", "afzender_code"):
        if not data.get(key):
            errors[key] = ["Dit veld is verplicht."]
    if errors:
        if from_form:
            return redirect(url_for("admin.index", melding="Niet geplaatst: " + str(errors)))
        return problem(400, "Bericht niet geplaatst.", errors)
    with store().write() as db:
        tid = insert_ready(
            store(),
            db,
            payload=payload,
            afzender=(data.get("afzender_rol") or "Gemeente", data["afzender_code"]),
            geadresseerde=(data.get("postbus_rol") or "Instelling", data["postbus"]),
            berichtstroom=stroom,
            conversatie_id=data.get("conversatieId") or None,
            als_antwoord_op=data.get("alsAntwoordOp") or None,
            referentie_id=data.get("referentieId") or None,
        )
        store().bump(db, "geplaatst")
    if from_form:
        return redirect(url_for("admin.index", melding=f"Bericht {tid} geplaatst."))
    return jsonify({"traceerId": tid}), 201
