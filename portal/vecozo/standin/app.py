"""The VECOZO stand-in: the VSP-Koppeling push/pull/status APIs on the same paths and contracts.

Not part of VECOZO, only for demos and tests:

* a page (``/``) listing mailboxes, messages and fault switches, with a form to put an inbound
  message (e.g. a 301 toewijzing or an AW33) in a mailbox;
* ``/_standin/…`` JSON endpoints for tests: fault switches, placing messages, counters,
  fast-forward and reset.

Lifecycle of a submitted message (v3 statuses): ``Ontvangen`` → ``WordtVerwerkt`` (the chain
check, a moment later) → ``AfgekeurdDoorDienst`` with meldingen, or ``VerwerkingVoltooid`` →
``WordtAangeboden`` → ``Bezorgd`` when the simulated financier fetches it. The financier's answer
comes from the plugins (hook ``financier_reply``); the stand-in knows no standard itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from lxml import etree

from portal.vecozo.client import PULL_PATH, PUSH_PATH, STATUS_PATH
from portal.vecozo.standin import contract
from portal.vecozo.standin.store import FAULTS, Store, now_iso

log = logging.getLogger(__name__)

MAX_PAYLOAD = 25 * 1024 * 1024  # VECOZO refuses larger payloads (IB012)
STATUS_PATH_FULL = STATUS_PATH + "/berichtstatussen"
TERMINAL = {"AfgekeurdDoorDienst", "Bezorgd", "AanbiedenMislukt", "BezorgingAfgebroken"}

DEFAULTS: dict[str, Any] = {
    "STANDIN_DB": None,  # SQLite file; default: standin.db in the portal's instance folder
    "STANDIN_CHAIN_DELAY": 2.0,  # seconds from Ontvangen to the end of the chain check
    "STANDIN_FETCH_DELAY": 1.0,  # seconds until a simulated financier fetches (and answers)
    "STANDIN_CHECK_BERICHTSTROOM": True,  # receipt check: only configured berichtstromen
    "STANDIN_UNKNOWN_AFZENDERS": ["00000000"],  # afzender codes VECOZO does not know (BRS01)
    "STANDIN_CERT_CODES": {},  # client certificate CN → codes it may act for (empty: any)
    "STANDIN_PLUGINS_BLOCKED": [],
    "STANDIN_PLUGIN_SETTINGS": {},
}


def create_standin_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024
    app.config.update(config or {})
    if not app.config["STANDIN_DB"]:
        instance = Path(os.environ.get("PORTAL_INSTANCE") or Path.cwd() / "instance")
        instance.mkdir(parents=True, exist_ok=True)
        app.config["STANDIN_DB"] = str(instance / "standin.db")
    store = Store(app.config["STANDIN_DB"])
    app.extensions["standin_store"] = store
    app.jinja_env.filters["fromjson"] = json.loads

    from portal.plugins import Hooks, get_plugin_manager

    pm = get_plugin_manager(blocked=app.config["STANDIN_PLUGINS_BLOCKED"])
    app.extensions["hooks"] = Hooks(pm, app.config["STANDIN_PLUGIN_SETTINGS"])
    _routes(app, store)
    return app


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def problem(status: int, title: str, errors: dict[str, list[str]] | None = None, **extra: Any):
    body: dict[str, Any] = {
        "type": f"https://httpstatuses.io/{status}",
        "title": title,
        "status": status,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _client_cn() -> str | None:
    sock = request.environ.get("werkzeug.socket")
    getpeercert = getattr(sock, "getpeercert", None)
    if getpeercert is None:
        return None
    cert = getpeercert() or {}
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def _allowed_codes(app: Flask) -> list[str] | None:
    """The codes the caller's certificate may act for; None = not restricted."""
    mapping = app.config["STANDIN_CERT_CODES"]
    if not mapping:
        return None
    return list(mapping.get(_client_cn() or "", []))


def chain_check(payload: bytes) -> list[dict[str, str]]:
    """The stand-in's generic ketencontrole (structure only; it knows no standard)."""
    if payload.lstrip()[:1] == b"<":
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            etree.fromstring(payload, parser)
        except etree.XMLSyntaxError as exc:
            return [
                {
                    "code": "KC01",
                    "omschrijving": "Het bericht is geen welgevormde XML.",
                    "toelichting": str(exc)[:250] or "XML-fout",
                }
            ]
        return []
    if not payload.endswith(b"\r\n") or b"\n" in payload.replace(b"\r\n", b""):
        return [
            {
                "code": "KC02",
                "omschrijving": "Elk record moet eindigen met CR/LF.",
            }
        ]
    lengths = {len(r) for r in payload[:-2].split(b"\r\n")}
    if len(lengths) > 1:
        return [
            {
                "code": "KC03",
                "omschrijving": "Niet alle records hebben dezelfde lengte.",
                "toelichting": "Gevonden lengtes: " + ", ".join(map(str, sorted(lengths))),
            }
        ]
    return []


def metadata_of(row, base: str) -> dict[str, Any]:
    ref: dict[str, Any] = {"conversatieId": row["conversatie_id"], "traceerId": row["traceer_id"]}
    if row["als_antwoord_op"]:
        ref["alsAntwoordOp"] = row["als_antwoord_op"]
    if row["referentie_id"]:
        ref["referentieId"] = row["referentie_id"]
    afzender = {"rol": row["afzender_rol"]}
    if row["afzender_code"]:
        afzender["code"] = row["afzender_code"]
    data: dict[str, Any] = {
        "basisgegevens": {
            "ontvangenOp": row["ontvangen_op"],
            "payload": {
                "url": f"{base}{PULL_PATH}/berichten/{row['traceer_id']}/payload",
                "grootte": row["grootte"],
                "checksum": {"algoritme": "SHA256", "waarde": row["sha256"]},
            },
        },
        "routeringgegevens": {
            "afzender": afzender,
            "geadresseerden": json.loads(row["geadresseerden"]),
            "berichtstroom": json.loads(row["berichtstroom"]),
        },
        "referentiegegevens": ref,
    }
    if row["verwerkingscontext"]:
        data["verwerkingscontext"] = json.loads(row["verwerkingscontext"])
    return data


def status_of(row) -> dict[str, Any]:
    ref: dict[str, Any] = {"conversatieId": row["conversatie_id"], "traceerId": row["traceer_id"]}
    if row["als_antwoord_op"]:
        ref["alsAntwoordOp"] = row["als_antwoord_op"]
    if row["referentie_id"]:
        ref["referentieId"] = row["referentie_id"]
    data: dict[str, Any] = {
        "referentiegegevens": ref,
        "berichtstroom": json.loads(row["berichtstroom"]),
        "berichtstatus": row["status"],
        "berichtstatusGewijzigdOp": row["status_op"],
        "berichtOntvangenOp": row["ontvangen_op"],
    }
    meldingen = json.loads(row["meldingen"] or "[]")
    if meldingen:
        data["meldingen"] = meldingen
    return data


# ---------------------------------------------------------------------------------------------
# the lifecycle engine
# ---------------------------------------------------------------------------------------------


def advance(app: Flask, store: Store, now: float | None = None) -> int:
    """Move every message whose next step is due; returns how many steps were taken."""
    now = time.time() if now is None else now
    chain = float(app.config["STANDIN_CHAIN_DELAY"])
    fetch = float(app.config["STANDIN_FETCH_DELAY"])
    steps = 0
    with store.write() as db:
        for row in store.due(db, now):
            steps += 1
            tid, status = row["traceer_id"], row["status"]
            if status == "Ontvangen":
                store.set_status(db, tid, "WordtVerwerkt", stap_op=now + chain / 2)
            elif status == "WordtVerwerkt":
                meldingen = chain_check(bytes(row["payload"]))
                forced = store.take_fault("ketenafkeur", db)
                if forced and not meldingen:
                    meldingen = [
                        {
                            "code": forced.get("code") or "KC99",
                            "omschrijving": "Afgekeurd in de ketencontrole (storingsschakelaar).",
                        }
                    ]
                if meldingen:
                    store.set_status(
                        db, tid, "AfgekeurdDoorDienst", stap_op=None, meldingen=meldingen
                    )
                    store.bump(db, "afgekeurd")
                else:
                    store.set_status(db, tid, "VerwerkingVoltooid", stap_op=None)
                    store.set_status(db, tid, "WordtAangeboden", stap_op=now + fetch)
            elif status == "WordtAangeboden" and row["herkomst"] == "ingediend":
                # the simulated financier fetches the message and (maybe) answers it
                store.set_status(db, tid, "Bezorgd", stap_op=None)
                db.execute(
                    "UPDATE bericht SET opgehaald = 1, keer_opgehaald = keer_opgehaald + 1 "
                    "WHERE traceer_id = ?",
                    (tid,),
                )
                _financier_answers(app, store, db, row)
            else:
                db.execute("UPDATE bericht SET stap_op = NULL WHERE traceer_id = ?", (tid,))
    return steps


def _financier_answers(app: Flask, store: Store, db, row) -> None:
    from portal.vecozo.berichtstromen import berichtstroom_for

    try:
        drafts = app.extensions["hooks"].financier_reply(bytes(row["payload"]))
    except Exception:
        log.exception("financier_reply failed for %s", row["traceer_id"])
        store.bump(db, "financier_fout")
        return
    if drafts is None:
        store.bump(db, "niet_beantwoord")
        return
    heen_stroom = json.loads(row["berichtstroom"])
    for draft in drafts:
        stroom = berichtstroom_for(draft.code) or {
            **heen_stroom,
            "berichtsubtype": (draft.code or "Retour")[:60],
            "actie": "Retour",
        }
        afzender = draft.afzender or (row["mailbox_rol"], row["mailbox"])
        geadresseerde = draft.geadresseerde or (row["afzender_rol"], row["afzender_code"])
        insert_ready(
            store,
            db,
            payload=bytes(draft.payload),
            afzender=afzender,
            geadresseerde=geadresseerde,
            berichtstroom=stroom,
            conversatie_id=draft.conversation_id or row["conversatie_id"],
            als_antwoord_op=draft.answers_to or row["traceer_id"],
            referentie_id=draft.reference,
            herkomst="financier",
        )
        store.bump(db, "antwoorden")


def insert_ready(
    store: Store,
    db,
    *,
    payload: bytes,
    afzender: tuple[str, str | None],
    geadresseerde: tuple[str, str],
    berichtstroom: dict[str, Any],
    conversatie_id: str | None = None,
    als_antwoord_op: str | None = None,
    referentie_id: str | None = None,
    herkomst: str = "geplaatst",
) -> str:
    """Put a message ready for pulling in the mailbox of ``geadresseerde``."""
    tid = str(uuid.uuid4())
    op = now_iso()
    store.insert(
        db,
        {
            "traceer_id": tid,
            "conversatie_id": conversatie_id or str(uuid.uuid4()),
            "als_antwoord_op": als_antwoord_op,
            "referentie_id": (referentie_id or None) and str(referentie_id)[:150],
            "afzender_rol": afzender[0],
            "afzender_code": afzender[1],
            "mailbox_rol": geadresseerde[0],
            "mailbox": geadresseerde[1],
            "geadresseerden": [{"rol": geadresseerde[0], "code": geadresseerde[1]}],
            "berichtstroom": berichtstroom,
            "payload": payload,
            "grootte": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "herkomst": herkomst,
            "ontvangen_op": op,
            "status": "Ontvangen",
            "status_op": op,
            "stap_op": None,
        },
    )
    store.set_status(db, tid, "VerwerkingVoltooid", stap_op=None)
    store.set_status(db, tid, "WordtAangeboden", stap_op=None)
    return tid


# ---------------------------------------------------------------------------------------------
# routes
# ---------------------------------------------------------------------------------------------


def _routes(app: Flask, store: Store) -> None:
    def fault_delay(group: str) -> Response | None:
        slow = store.take_fault("traag")
        if slow:
            time.sleep(slow["seconden"])
        if store.take_fault(f"{group}_500"):
            return Response(
                json.dumps({"title": "Interne serverfout (storingsschakelaar)", "status": 500}),
                status=500,
                mimetype="application/json",
            )
        waited = store.take_fault(f"{group}_timeout")
        if waited:
            time.sleep(waited["seconden"])
        return None

    timing = {"verzoeken": 0, "seconden": 0.0}
    timing_lock = threading.Lock()
    app.extensions["standin_timing"] = timing

    last_advance = [0.0]

    @app.before_request
    def _advance() -> None:
        started = request.environ["standin.start"] = time.perf_counter()
        # the lifecycle moves on with the requests; at most every 50 ms per process
        if request.endpoint != "static" and started - last_advance[0] >= 0.05:
            last_advance[0] = started
            advance(app, store)

    @app.after_request
    def _time(response: Response) -> Response:
        started = request.environ.get("standin.start")
        if started is not None and request.path.startswith("/berichtenservice"):
            with timing_lock:
                timing["verzoeken"] += 1
                timing["seconden"] += time.perf_counter() - started
        return response

    # -- push ------------------------------------------------------------------------------

    @app.post(PUSH_PATH + "/berichten")
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
        if afzender.get("code") in app.config["STANDIN_UNKNOWN_AFZENDERS"] or not afzender.get(
            "code"
        ):
            errors["routeringgegevens.afzender"] = ["Afzender is niet bekend bij VECOZO (BRS01)."]
            meldingen.append({"code": "BRS01", "omschrijving": "Afzender is niet bekend"})
        allowed = _allowed_codes(app)
        if allowed is not None and afzender.get("code") not in allowed:
            errors["routeringgegevens.afzender.code"] = [
                "Geen toestemmingsverklaring voor deze afzender (IB009)."
            ]
        if not route["geadresseerden"] or not all(g.get("code") for g in route["geadresseerden"]):
            errors["routeringgegevens.geadresseerden"] = [
                "Geadresseerde is niet aangesloten (IB010)."
            ]
        if app.config["STANDIN_CHECK_BERICHTSTROOM"]:
            from portal.vecozo.berichtstromen import code_for

            if code_for(route["berichtstroom"]) is None:
                errors["routeringgegevens.berichtstroom"] = ["Onbekende berichtstroom."]
        if errors:
            return problem(422, "Ontvangstcontrole mislukt.", errors)
        tid = ref["traceerId"]
        op = now_iso()
        with store.write() as db:
            existing = store.get(tid, db)
            if existing is not None:
                db.execute(
                    "UPDATE bericht SET keer_ingediend = keer_ingediend + 1 WHERE traceer_id = ?",
                    (tid,),
                )
                store.bump(db, "dubbel_ingediend")
                # (committed on purpose: the count shows a client that resends)
                duplicate = True
            else:
                duplicate = False
                first = route["geadresseerden"][0]
                store.insert(
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
                        "indiener": _client_cn(),
                        "ontvangen_op": op,
                        "status": "Ontvangen",
                        "status_op": op,
                        "stap_op": time.time() + float(app.config["STANDIN_CHAIN_DELAY"]) / 2,
                    },
                )
                store.bump(db, "ingediend")
        if duplicate:
            return problem(
                422,
                "Ontvangstcontrole mislukt.",
                {"referentiegegevens.traceerId": ["TraceerId is niet uniek (IB016)."]},
            )
        if store.take_fault("push_verbreken"):
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
        return Response(status=204)

    # -- pull ------------------------------------------------------------------------------

    def _ready_query(extra: str = "", args: tuple = ()) -> tuple[str, list[Any]]:
        sql = (
            "SELECT * FROM bericht WHERE herkomst != 'ingediend' AND opgehaald = 0 "
            "AND status = 'WordtAangeboden'" + extra
        )
        params: list[Any] = list(args)
        allowed = _allowed_codes(app)
        if allowed is not None:
            sql += f" AND mailbox IN ({', '.join('?' for _ in allowed) or 'NULL'})"
            params.extend(allowed)
        return sql + " ORDER BY seq LIMIT ?", params

    def _listing(extra: str = "", args: tuple = ()):
        limit, errors = contract.query_int(
            "pull", "/berichten", "get", "limit", request.args.get("limit")
        )
        if errors:
            return None, problem(400, "Een of meer velden zijn ongeldig.", errors)
        sql, params = _ready_query(extra, args)
        base = request.host_url.rstrip("/")
        with store.write() as db:
            rows = db.execute(sql, [*params, limit]).fetchall()
            result = []
            for row in rows:
                result.append(metadata_of(row, base))
                if (
                    len(result) < limit
                    and not row["gedupliceerd"]
                    and store.take_fault("dubbel", db)
                ):
                    # deliver it twice: in this list, and once more after acknowledging
                    result.append(metadata_of(row, base))
                    db.execute(
                        "UPDATE bericht SET extra_leveringen = extra_leveringen + 1, "
                        "gedupliceerd = 1 WHERE traceer_id = ?",
                        (row["traceer_id"],),
                    )
        return result[:limit], None

    @app.get(PULL_PATH + "/berichten")
    def pull_list():
        failed = fault_delay("pull")
        if failed is not None:
            return failed
        result, error = _listing()
        return error or jsonify(result)

    @app.post(PULL_PATH + "/berichten/zoeken")
    def pull_search():
        failed = fault_delay("pull")
        if failed is not None:
            return failed
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return problem(400, "Zoekpad ontbreekt.", {"$": ["Verwacht een JSON-object."]})
        kind = body.get("zoekpadType")
        variant = contract.zoekpad_schema(kind) if isinstance(kind, str) else None
        if variant is None:
            return problem(
                400,
                "Een of meer velden zijn ongeldig.",
                {"zoekpadType": ["Onbekend of ontbrekend zoekpadType."]},
            )
        errors = contract.errors_for(body, variant)
        if errors:
            return problem(400, "Een of meer velden zijn ongeldig.", errors)
        if kind == "ZoekpadOpConversatieId":
            extra, args = " AND conversatie_id = ?", (body["conversatieId"],)
        elif kind == "ZoekpadOpAlsAntwoordOp":
            extra, args = " AND als_antwoord_op = ?", (body["alsAntwoordOp"],)
        else:
            parts, values = [], []
            for key in ("berichttype", "berichtsubtype", "berichtversie", "berichtsubversie"):
                if key in body:
                    parts.append(f" AND json_extract(berichtstroom, '$.{key}') = ?")
                    values.append(body[key])
            if "actie" in body:
                parts.append(" AND json_extract(berichtstroom, '$.actie') = ?")
                values.append(body["actie"])
            if "geadresseerdeRol" in body:
                parts.append(" AND mailbox_rol = ?")
                values.append(body["geadresseerdeRol"])
            if "geadresseerdeCode" in body:
                parts.append(" AND mailbox = ?")
                values.append(body["geadresseerdeCode"])
            extra, args = "".join(parts), tuple(values)
        result, error = _listing(extra, args)
        return error or jsonify(result)

    def _visible(row) -> bool:
        if row is None or row["herkomst"] == "ingediend" or row["opgehaald"]:
            return False
        if row["status"] != "WordtAangeboden":
            return False
        allowed = _allowed_codes(app)
        return allowed is None or row["mailbox"] in allowed

    @app.get(PULL_PATH + "/berichten/<uuid:traceer_id>/payload")
    def pull_payload(traceer_id):
        traceer_id = str(traceer_id)
        failed = fault_delay("pull")
        if failed is not None:
            return failed
        row = store.get(traceer_id)
        if not _visible(row):
            return Response(status=404)
        with store.write() as db:
            db.execute(
                "UPDATE bericht SET keer_opgehaald = keer_opgehaald + 1 WHERE traceer_id = ?",
                (traceer_id,),
            )
        return Response(bytes(row["payload"]), mimetype="application/octet-stream")

    @app.delete(PULL_PATH + "/berichten/<uuid:traceer_id>")
    def pull_ack(traceer_id):
        traceer_id = str(traceer_id)
        failed = fault_delay("pull")
        if failed is not None:
            return failed
        with store.write() as db:
            row = store.get(traceer_id, db)
            if not _visible(row):
                return Response(status=404)
            if row["extra_leveringen"] > 0:  # the duplicate-delivery fault: it comes back once
                db.execute(
                    "UPDATE bericht SET extra_leveringen = extra_leveringen - 1 "
                    "WHERE traceer_id = ?",
                    (traceer_id,),
                )
            else:
                db.execute("UPDATE bericht SET opgehaald = 1 WHERE traceer_id = ?", (traceer_id,))
                store.set_status(db, traceer_id, "Bezorgd", stap_op=None)
            store.bump(db, "bevestigd")
        return Response(status=202)

    # -- status ----------------------------------------------------------------------------

    @app.get(STATUS_PATH_FULL)
    def statuses():
        failed = fault_delay("status")
        if failed is not None:
            return failed
        tid, cid = request.args.get("traceerId"), request.args.get("conversatieId")
        errors: dict[str, list[str]] = {}
        if (tid is None) == (cid is None):
            errors["traceerId"] = ["Geef precies één van traceerId of conversatieId op."]
        for name, value in (("traceerId", tid), ("conversatieId", cid)):
            if value is not None:
                errors.update(
                    contract.query_uuid("status", "/berichtstatussen", "get", name, value)
                )
        if errors:
            return problem(400, "Een of meer velden zijn ongeldig.", errors)
        db = store.read()
        if tid is not None:
            rows = db.execute(
                "SELECT * FROM bericht WHERE traceer_id = ? OR als_antwoord_op = ? "
                "ORDER BY seq LIMIT 250",
                (tid, tid),
            ).fetchall()
        else:
            rows = db.execute(
                "SELECT * FROM bericht WHERE conversatie_id = ? ORDER BY seq LIMIT 250", (cid,)
            ).fetchall()
        return jsonify([status_of(r) for r in rows])

    # -- the stand-in's own page and test endpoints (not part of VECOZO) -------------------

    @app.get("/")
    def index():
        mailbox = request.args.get("postbus") or None
        return render_template(
            "standin/index.html",
            mailboxes=store.mailboxes(),
            messages=store.recent(mailbox),
            mailbox=mailbox,
            faults=store.faults(),
            fault_names=FAULTS,
            counters=store.counters(),
            message=request.args.get("melding"),
        )

    @app.get("/_standin/berichten/<traceer_id>")
    def show(traceer_id: str):
        row = store.get(traceer_id)
        if row is None:
            abort(404)
        return render_template(
            "standin/show.html",
            row=row,
            history=store.history(traceer_id),
            payload=bytes(row["payload"]).decode("utf-8", "replace"),
            meldingen=json.loads(row["meldingen"] or "[]"),
        )

    @app.post("/_standin/plaatsen")
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
                return redirect(url_for("index", melding="Niet geplaatst: " + str(errors)))
            return problem(400, "Bericht niet geplaatst.", errors)
        with store.write() as db:
            tid = insert_ready(
                store,
                db,
                payload=payload,
                afzender=(data.get("afzender_rol") or "Gemeente", data["afzender_code"]),
                geadresseerde=(data.get("postbus_rol") or "Instelling", data["postbus"]),
                berichtstroom=stroom,
                conversatie_id=data.get("conversatieId") or None,
                als_antwoord_op=data.get("alsAntwoordOp") or None,
                referentie_id=data.get("referentieId") or None,
            )
            store.bump(db, "geplaatst")
        if from_form:
            return redirect(url_for("index", melding=f"Bericht {tid} geplaatst."))
        return jsonify({"traceerId": tid}), 201

    @app.post("/_standin/fouten")
    def set_fault():
        data = request.get_json(silent=True) if request.is_json else None
        from_form = data is None
        data = data or request.form.to_dict()
        try:
            store.set_fault(
                data["naam"],
                int(data.get("aantal", 1)),
                float(data.get("seconden", 0) or 0),
                data.get("code") or None,
            )
        except (KeyError, ValueError):
            if from_form:
                return redirect(url_for("index", melding="Onbekende storing."))
            return problem(400, "Onbekende storing.", {"naam": list(FAULTS)})
        if from_form:
            return redirect(url_for("index", melding="Storingsschakelaar ingesteld."))
        return jsonify(store.faults())

    @app.delete("/_standin/fouten")
    def clear_faults():
        store.clear_faults()
        return jsonify([])

    @app.get("/_standin/tellers")
    def counters():
        return jsonify(
            {
                "tellers": store.counters(),
                "ingediend": store.submitted_counts(),
                "tijd": dict(timing),  # time spent answering API requests (this process)
            }
        )

    @app.post("/_standin/vooruit")
    def fast_forward():
        seconds = float(request.args.get("seconden", "60"))
        steps = 0
        for _ in range(6):  # each step may schedule the next one
            with store.write() as db:
                db.execute(
                    "UPDATE bericht SET stap_op = stap_op - ? WHERE stap_op IS NOT NULL", (seconds,)
                )
            steps += advance(app, store)
        return jsonify({"stappen": steps})

    @app.post("/_standin/reset")
    def reset():
        store.reset()
        return jsonify({"ok": True})
