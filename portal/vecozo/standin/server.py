"""Serving the stand-in: plain http for the demo, or TLS with required client certificates."""

from __future__ import annotations

import ipaddress
import ssl
import sys
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.vecozo.standin.app import create_standin_app


class StandinExposed(ValueError):
    """The stand-in was asked to listen where other machines could read its mailboxes."""


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class _KeepAlive(WSGIRequestHandler):
    """HTTP/1.1, so clients keep their connection (as they would with VECOZO)."""

    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:  # no product versions in the Server header
        return "VECOZO-stand-in"


def tls_context(cert: str, key: str, client_ca: str | None) -> ssl.SSLContext:
    """Server TLS; with ``client_ca`` a client certificate signed by it is required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return ctx


def make_standin_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    config: dict[str, Any] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> BaseWSGIServer:
    """A threaded server for the stand-in (port 0: a free port; see ``server.server_port``).

    The stand-in shows the messages in its mailboxes, BSNs included, to whoever asks, as a test
    double does. So it listens only on this machine (loopback), unless TLS with required client
    certificates keeps strangers out.
    """
    requires_client_cert = ssl_context is not None and ssl_context.verify_mode == ssl.CERT_REQUIRED
    if not is_loopback(host) and not requires_client_cert:
        raise StandinExposed(
            f"De VECOZO-stand-in toont BSN's zonder inloggen en luistert daarom alleen op "
            f"127.0.0.1, niet op {host}. Op een ander adres alleen met TLS en verplichte "
            "clientcertificaten (--cert, --key en --client-ca)."
        )
    app = create_standin_app(config)
    server = make_server(
        host, port, app, threaded=True, ssl_context=ssl_context, request_handler=_KeepAlive
    )
    server.app = app  # type: ignore[attr-defined]
    return server


def serve(
    *,
    host: str,
    port: int,
    db_path: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    client_ca: str | None = None,
    chain_delay: float = 2.0,
    fetch_delay: float = 1.0,
) -> None:
    config = {"STANDIN_CHAIN_DELAY": chain_delay, "STANDIN_FETCH_DELAY": fetch_delay}
    if db_path:
        config["STANDIN_DB"] = db_path
    context = tls_context(cert, key, client_ca) if cert and key else None
    try:
        server = make_standin_server(host, port, config=config, ssl_context=context)
    except StandinExposed as exc:
        print(f"  {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
    scheme = "https" if context else "http"
    print(f"  VECOZO-stand-in draait op {scheme}://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
