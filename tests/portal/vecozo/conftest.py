"""Fixtures: the real stand-in on a free port (in a thread), wired to the session's portal app,
with the "Proef" test plugin registered on both sides."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from portal.vecozo.standin.server import make_standin_server
from tests.portal.vecozo.proef import ProefPlugin


class StandIn:
    def __init__(self, server):
        self.server = server
        self.app = server.app
        self.store = self.app.extensions["standin_store"]
        scheme = "https" if getattr(server, "ssl_context", None) else "http"
        self.url = f"{scheme}://127.0.0.1:{server.server_port}"

    def fault(self, name: str, aantal: int = 1, seconden: float = 0, code: str | None = None):
        self.store.set_fault(name, aantal, seconden, code)

    def forward(self, seconds: float = 60) -> None:
        requests.post(f"{self.url}/_standin/vooruit", params={"seconden": seconds}, timeout=10)

    def place(self, **data) -> str:
        resp = requests.post(f"{self.url}/_standin/plaatsen", json=data, timeout=10)
        assert resp.status_code == 201, resp.text
        return resp.json()["traceerId"]

    def submitted(self) -> dict[str, int]:
        return self.store.submitted_counts()

    def ready(self) -> int:
        return (
            self.store.read()
            .execute("SELECT COUNT(*) FROM bericht WHERE herkomst != 'ingediend' AND opgehaald = 0")
            .fetchone()[0]
        )


@pytest.fixture(scope="session")
def standin_server(tmp_path_factory) -> Iterator[StandIn]:
    db = tmp_path_factory.mktemp("standin") / "standin.db"
    server = make_standin_server(
        config={"STANDIN_DB": str(db), "STANDIN_CHAIN_DELAY": 0.2, "STANDIN_FETCH_DELAY": 0.1}
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandIn(server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proef_plugin() -> ProefPlugin:
    return ProefPlugin()


@pytest.fixture
def standin(standin_server, app, proef_plugin) -> Iterator[StandIn]:
    """A clean stand-in, the portal pointed at it, the Proef plugin on both sides."""
    standin_server.store.reset()
    portal_pm = app.extensions["hooks"].pm
    standin_pm = standin_server.app.extensions["hooks"].pm
    portal_pm.register(proef_plugin, name="proef-portal")
    standin_pm.register(proef_plugin, name="proef-standin")
    saved = {k: app.config.get(k) for k in _OVERRIDES}
    app.config.update(_OVERRIDES, VECOZO_BASE_URL=standin_server.url)
    try:
        yield standin_server
    finally:
        portal_pm.unregister(name="proef-portal")
        standin_pm.unregister(name="proef-standin")
        app.config.update(saved)
        standin_server.store.clear_faults()


_OVERRIDES = {
    "VECOZO_BASE_URL": None,
    "VECOZO_TIMEOUT_SECONDS": 1.5,
    "VECOZO_FIRST_CHECK_SECONDS": 0,
    "VECOZO_UNCERTAIN_CHECK_SECONDS": 0,
    "VECOZO_RESEND_GRACE_SECONDS": 0,
    "VECOZO_REQUEUE_SECONDS": 0,
}
