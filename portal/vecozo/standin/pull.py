"""The pull API: listing, searching, downloading and acknowledging ready messages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from portal.vecozo.client import PULL_PATH
from portal.vecozo.standin import contract
from portal.vecozo.standin.common import allowed_codes, fault_delay, problem, store
from portal.vecozo.standin.lifecycle import metadata_of

bp = Blueprint("pull", __name__)


def _ready_query(extra: str = "", args: tuple = ()) -> tuple[str, list[Any]]:
    sql = (
        "SELECT * FROM bericht WHERE herkomst != 'ingediend' AND opgehaald = 0 "
        "AND status = 'WordtAangeboden'" + extra
    )
    params: list[Any] = list(args)
    allowed = allowed_codes(current_app)
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
    with store().write() as db:
        rows = db.execute(sql, [*params, limit]).fetchall()
        result = []
        for row in rows:
            result.append(metadata_of(row, base))
            if len(result) < limit and not row["gedupliceerd"] and store().take_fault("dubbel", db):
                # deliver it twice: in this list, and once more after acknowledging
                result.append(metadata_of(row, base))
                db.execute(
                    "UPDATE bericht SET extra_leveringen = extra_leveringen + 1, "
                    "gedupliceerd = 1 WHERE traceer_id = ?",
                    (row["traceer_id"],),
                )
    return result[:limit], None


@bp.get(PULL_PATH + "/berichten")
def pull_list():
    failed = fault_delay("pull")
    if failed is not None:
        return failed
    result, error = _listing()
    return error or jsonify(result)


@bp.post(PULL_PATH + "/berichten/zoeken")
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
    allowed = allowed_codes(current_app)
    return allowed is None or row["mailbox"] in allowed


@bp.get(PULL_PATH + "/berichten/<uuid:traceer_id>/payload")
def pull_payload(traceer_id):
    traceer_id = str(traceer_id)
    failed = fault_delay("pull")
    if failed is not None:
        return failed
    row = store().get(traceer_id)
    if not _visible(row):
        return Response(status=404)
    with store().write() as db:
        db.execute(
            "UPDATE bericht SET keer_opgehaald = keer_opgehaald + 1 WHERE traceer_id = ?",
            (traceer_id,),
        )
    return Response(bytes(row["payload"]), mimetype="application/octet-stream")


@bp.delete(PULL_PATH + "/berichten/<uuid:traceer_id>")
def pull_ack(traceer_id):
    traceer_id = str(traceer_id)
    failed = fault_delay("pull")
    if failed is not None:
        return failed
    with store().write() as db:
        row = store().get(traceer_id, db)
        if not _visible(row):
            return Response(status=404)
        if row["extra_leveringen"] > 0:  # the duplicate-delivery fault: it comes back once
            db.execute(
                "UPDATE bericht SET extra_leveringen = extra_leveringen - 1 WHERE traceer_id = ?",
                (traceer_id,),
            )
        else:
            db.execute("UPDATE bericht SET opgehaald = 1 WHERE traceer_id = ?", (traceer_id,))
            store().set_status(db, traceer_id, "Bezorgd", stap_op=None)
        store().bump(db, "bevestigd")
    return Response(status=202)
