"""Mutual TLS: the stand-in requires a client certificate from its CA (made with trustme)."""

from __future__ import annotations

import threading
import uuid

import pytest
import trustme

from portal.vecozo.client import VecozoClient, VecozoUnavailable, client_for
from portal.vecozo.standin.server import make_standin_server, tls_context
from tests.portal.vecozo.certs import client_pfx


@pytest.fixture
def tls_standin(tmp_path, app):
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_pem, key_pem, ca_pem = tmp_path / "s.pem", tmp_path / "s.key", tmp_path / "ca.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    server_cert.private_key_pem.write_to_path(str(key_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    server = make_standin_server(
        # a long chain delay: the test reads the first status, which must not move on while a
        # loaded machine is slow between the submit and the status request
        config={"STANDIN_DB": str(tmp_path / "standin.db"), "STANDIN_CHAIN_DELAY": 30},
        ssl_context=tls_context(str(cert_pem), str(key_pem), str(ca_pem)),
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = {k: app.config.get(k) for k in ("VECOZO_BASE_URL", "VECOZO_CA_BUNDLE")}
    app.config["VECOZO_BASE_URL"] = f"https://127.0.0.1:{server.server_port}"
    app.config["VECOZO_CA_BUNDLE"] = str(ca_pem)
    try:
        yield ca, server
    finally:
        app.config.update(saved)
        server.shutdown()
        server.server_close()


def test_without_client_certificate_the_connection_fails(app, tls_standin):
    client = VecozoClient(
        app.config["VECOZO_BASE_URL"], verify=app.config["VECOZO_CA_BUNDLE"], timeout=5
    )
    with pytest.raises(VecozoUnavailable):
        client.list_ready()


def test_uploaded_certificate_is_used_for_mutual_tls(app, db, tls_standin):
    from portal.vecozo.certificates import store_certificate

    ca, server = tls_standin
    with app.app_context():
        store_certificate(db, client_pfx(ca, "geheim"), "geheim", filename="s.pfx", user_id=None)
        db.commit()
        tid = str(uuid.uuid4())
        metadata = {
            "routeringgegevens": {
                "afzender": {"rol": "Instelling", "code": "12345678"},
                "geadresseerden": [{"rol": "Gemeente", "code": "0363"}],
                "berichtstroom": {
                    "berichttype": "Test",
                    "berichtsubtype": "Test",
                    "berichtversie": 1,
                    "berichtsubversie": 0,
                    "actie": "Indienen",
                },
            },
            "referentiegegevens": {"conversatieId": str(uuid.uuid4()), "traceerId": tid},
        }
        with client_for(app, db) as client:
            client.submit(metadata, b"H\r\n")
            assert client.statuses(traceer_id=tid)[0]["berichtstatus"] == "Ontvangen"
    row = server.app.extensions["standin_store"].get(tid)
    assert row["indiener"] == "Zorg BV systeem"  # the certificate identified the indiener


def test_a_foreign_ca_certificate_is_refused(app, db, tls_standin):
    from portal.vecozo.certificates import store_certificate

    with app.app_context():
        store_certificate(db, client_pfx(trustme.CA(), "x"), "x", filename="s.pfx", user_id=None)
        db.commit()
        with client_for(app, db) as client, pytest.raises(VecozoUnavailable):
            client.list_ready()
