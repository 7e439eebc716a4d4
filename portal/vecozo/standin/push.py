"""The push API: submitting a message (``POST /berichten``) and the receipt check."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from typing import Any

from flask import Blueprint, Response, current_app, request

from portal.vecozo.client import PUSH_PATH
from portal.vecozo.standin import contract
from portal.vecozo.standin.common import (
    MAX_PAYLOAD,
    allowed_codes,
    client_cn,
    fault_delay,
    problem,
    store,
)
from portal.vecozo.standin.store import now_iso

bp = Blueprint("push", __name__)


@bp.post(PUSH_PATH + "/berichten")
def push():
    failed = fault_delay("push")
    if failed is not None:
        return failed
    if request.mimetype != "multipart/form-data":
        return problem(
            400,
            "Verzoek moet multipart/form-data zijn.",
            {"$": ["Verwacht multipart/form-data met berichtMetadata en payload."]},
        )
    raw_meta = request.form.get("berichtMetadata")
    if raw_meta is None and "berichtMetadata" in request.files:
        raw_meta = request.files["berichtMetadata"].read().decode("utf-8", "replace")
    if "payload" in request.files:
        payload = request.files["payload"].read()
    elif "payload" in request.form:
        payload = request.form["payload"].encode("utf-8")
    else:
        payload = None
    errors: dict[str, list[str]] = {}
    if raw_meta is None:
        errors["berichtMetadata"] = ["Dit veld is verplicht."]
    if payload is None:
        errors["payload"] = ["Dit veld is verplicht."]
    meta: Any = None
    if raw_meta is not None:
        try:
            meta = json.loads(raw_meta)
        except ValueError:
            errors["berichtMetadata"] = ["Geen geldige JSON."]
        else:
            errors.update(
                contract.errors_for(
                    meta, contract.schema("push", "BerichtMetadata"), "berichtMetadata"
                )
            )
    if errors:
        return problem(400, "Een of meer velden zijn ongeldig.", errors)
    assert payload is not None
    return _receive(meta, payload)


def _receive(meta: dict[str, Any], payload: bytes):
    route, ref = meta["routeringgegevens"], meta["referentiegegevens"]
    afzender = route["afzender"]
    errors: dict[str, list[str]] = {}
    meldingen: list[dict[str, str]] = []
    if not payload:
        errors["payload"] = ["Het bericht is leeg."]
    elif len(payload) > MAX_PAYLOAD:
        errors["payload"] = ["Het bericht is groter dan 25 MB (IB012)."]
    if afzender.get("code") in current_app.config["STANDIN_UNKNOWN_AFZENDERS"] or not afzender.get(
        "code"
    ):
        errors["routeringgegevens.afzender"] = ["Afzender is niet bekend bij VECOZO (BRS01)."]
        meldingen.append({"code": "BRS01", "omschrijving": "Afzender is niet bekend"})
    allowed = allowed_codes(current_app)
    if allowed is not None and afzender.get("code") not in allowed:
        errors["routeringgegevens.afzender.code"] = [
            "Geen toestemmingsverklaring voor deze afzender (IB009)."
        ]
    if not route["geadresseerden"] or not all(g.get("code") for g in route["geadresseerden"]):
        errors["routeringgegevens.geadresseerden"] = ["Geadresseerde is niet aangesloten (IB010)."]
    if current_app.config["STANDIN_CHECK_BERICHTSTROOM"]:
        from portal.vecozo.berichtstromen import code_for

        if code_for(route["berichtstroom"]) is None:
            errors["routeringgegevens.berichtstroom"] = ["Onbekende berichtstroom."]
    if errors:
        return problem(422, "Ontvangstcontrole mislukt.", errors)
    tid = ref["traceerId"]
    op = now_iso()
    with store().write() as db:
        existing = store().get(tid, db)
        if existing is not None:
            db.execute(
                "UPDATE bericht SET keer_ingediend = keer_ingediend + 1 WHERE traceer_id = ?",
                (tid,),
            )
            store().bump(db, "dubbel_ingediend")
            # (committed on purpose: the count shows a client that resends)
            duplicate = True
        else:
            duplicate = False
            first = route["geadresseerden"][0]
            store().insert(
                db,
                {
                    "traceer_id": tid,
                    "conversatie_id": ref["conversatieId"],
                    "als_antwoord_op": ref.get("alsAntwoordOp"),
                    "referentie_id": ref.get("referentieId"),
                    "afzender_rol": afzender["rol"],
                    "afzender_code": afzender.get("code"),
                    "mailbox_rol": first["rol"],
                    "mailbox": first["code"],
                    "geadresseerden": route["geadresseerden"],
                    "berichtstroom": route["berichtstroom"],
                    "verwerkingscontext": meta.get("verwerkingscontext"),
                    "payload": payload,
                    "grootte": len(payload),
                    "sha256": hashlib.sha256(payload).hexdigest(),
                    "herkomst": "ingediend",
                    "indiener": client_cn(),
                    "ontvangen_op": op,
                    "status": "Ontvangen",
                    "status_op": op,
                    "stap_op": time.time() + float(current_app.config["STANDIN_CHAIN_DELAY"]) / 2,
                },
            )
            store().bump(db, "ingediend")
    if duplicate:
        return problem(
            422,
            "Ontvangstcontrole mislukt.",
            {"referentiegegevens.traceerId": ["TraceerId is niet uniek (IB016)."]},
        )
    if store().take_fault("push_verbreken"):
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
    return Response(status=204)
