"""What every area of the stand-in shares: problem responses, the caller's certificate, fault
switches that slow down or break a request."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Flask, Response, current_app, request

from portal.vecozo.client import STATUS_PATH
from portal.vecozo.standin.store import Store

MAX_PAYLOAD = 25 * 1024 * 1024  # VECOZO refuses larger payloads (IB012)
STATUS_PATH_FULL = STATUS_PATH + "/berichtstatussen"
TERMINAL = {"AfgekeurdDoorDienst", "Bezorgd", "AanbiedenMislukt", "BezorgingAfgebroken"}


def store() -> Store:
    return current_app.extensions["standin_store"]


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


def client_cn() -> str | None:
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


def allowed_codes(app: Flask) -> list[str] | None:
    """The codes the caller's certificate may act for; None = not restricted."""
    mapping = app.config["STANDIN_CERT_CODES"]
    if not mapping:
        return None
    return list(mapping.get(client_cn() or "", []))


def fault_delay(group: str) -> Response | None:
    """Apply the fault switches of ``group`` (push/pull/status): slow, 500, timeout."""
    faults = store()
    slow = faults.take_fault("traag")
    if slow:
        time.sleep(slow["seconden"])
    if faults.take_fault(f"{group}_500"):
        return Response(
            json.dumps({"title": "Interne serverfout (storingsschakelaar)", "status": 500}),
            status=500,
            mimetype="application/json",
        )
    waited = faults.take_fault(f"{group}_timeout")
    if waited:
        time.sleep(waited["seconden"])
    return None
