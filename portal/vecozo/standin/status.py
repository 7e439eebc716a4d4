"""The status API: the berichtstatussen of a message or a conversation."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from portal.vecozo.standin import contract
from portal.vecozo.standin.common import STATUS_PATH_FULL, fault_delay, problem, store
from portal.vecozo.standin.lifecycle import status_of

bp = Blueprint("status", __name__)


@bp.get(STATUS_PATH_FULL)
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
            errors.update(contract.query_uuid("status", "/berichtstatussen", "get", name, value))
    if errors:
        return problem(400, "Een of meer velden zijn ongeldig.", errors)
    db = store().read()
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
