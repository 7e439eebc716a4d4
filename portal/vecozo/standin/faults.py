"""Test controls (not part of VECOZO): fault switches, counters, fast-forward and reset."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from portal.vecozo.standin.common import problem, store
from portal.vecozo.standin.lifecycle import advance
from portal.vecozo.standin.store import FAULTS

bp = Blueprint("faults", __name__)


@bp.post("/_standin/fouten")
def set_fault():
    data = request.get_json(silent=True) if request.is_json else None
    from_form = data is None
    data = data or request.form.to_dict()
    try:
        store().set_fault(
            data["naam"],
            int(data.get("aantal", 1)),
            float(data.get("seconden", 0) or 0),
            data.get("code") or None,
        )
    except (KeyError, ValueError):
        if from_form:
            return redirect(url_for("admin.index", melding="Onbekende storing."))
        return problem(400, "Onbekende storing.", {"naam": list(FAULTS)})
    if from_form:
        return redirect(url_for("admin.index", melding="Storingsschakelaar ingesteld."))
    return jsonify(store().faults())


@bp.delete("/_standin/fouten")
def clear_faults():
    store().clear_faults()
    return jsonify([])


@bp.get("/_standin/tellers")
def counters():
    return jsonify(
        {
            "tellers": store().counters(),
            "ingediend": store().submitted_counts(),
            "tijd": dict(
                current_app.extensions["standin_timing"]
            ),  # time spent answering API requests (this process)
        }
    )


@bp.post("/_standin/vooruit")
def fast_forward():
    seconds = float(request.args.get("seconden", "60"))
    steps = 0
    for _ in range(6):  # each step may schedule the next one
        with store().write() as db:
            db.execute(
                "UPDATE bericht SET stap_op = stap_op - ? WHERE stap_op IS NOT NULL", (seconds,)
            )
        steps += advance(current_app, store())
    return jsonify({"stappen": steps})


@bp.post("/_standin/reset")
def reset():
    store().reset()
    return jsonify({"ok": True})
