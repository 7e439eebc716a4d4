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

One blueprint per area: :mod:`~portal.vecozo.standin.push`, :mod:`~portal.vecozo.standin.pull`,
:mod:`~portal.vecozo.standin.status` (the VECOZO APIs), :mod:`~portal.vecozo.standin.admin` (the
page and placing messages) and :mod:`~portal.vecozo.standin.faults` (test controls); the
lifecycle engine is :mod:`~portal.vecozo.standin.lifecycle`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from portal.vecozo.standin import admin, faults, pull, push, status
from portal.vecozo.standin.common import MAX_PAYLOAD, STATUS_PATH_FULL, TERMINAL, problem
from portal.vecozo.standin.lifecycle import advance, chain_check, insert_ready
from portal.vecozo.standin.store import Store

__all__ = [
    "DEFAULTS",
    "MAX_PAYLOAD",
    "STATUS_PATH_FULL",
    "TERMINAL",
    "advance",
    "chain_check",
    "create_standin_app",
    "insert_ready",
    "problem",
]

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
    _lifecycle_and_timing(app, store)
    for area in (push, pull, status, admin, faults):
        app.register_blueprint(area.bp)
    return app


def _lifecycle_and_timing(app: Flask, store: Store) -> None:
    """Every request moves the lifecycle on; API requests are timed (for the benchmarks)."""
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
