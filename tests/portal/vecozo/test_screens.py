"""The Berichten screens: inbox/outbox filters, a message page, Nu ophalen, VECOZO settings."""

from __future__ import annotations

import trustme
from flask import current_app
from sqlalchemy import func, select

from portal.domain import Role
from portal.models import BackgroundJob, Message, VecozoCertificate
from portal.services.messages import create_outgoing, receive_payload
from portal.vecozo.readable import register_layout
from tests.conftest import form_errors
from tests.portal.vecozo import proef
from tests.portal.vecozo.certs import client_pfx


def _inbound(db, payload: bytes, **meta) -> Message:
    import hashlib
    import uuid

    metadata = {
        "basisgegevens": {
            "ontvangenOp": "2026-11-20T10:00:00+01:00",
            "payload": {
                "url": "http://x/",
                "grootte": len(payload),
                "checksum": {"algoritme": "SHA256", "waarde": hashlib.sha256(payload).hexdigest()},
            },
        },
        "routeringgegevens": {
            "afzender": {"rol": "Gemeente", "code": "0363"},
            "geadresseerden": [{"rol": "Instelling", "code": "12345678"}],
            "berichtstroom": {
                "berichttype": "WMO",
                "berichtsubtype": "WMO301",
                "berichtversie": 3,
                "berichtsubversie": 2,
                "actie": "Toewijzing",
            },
        },
        "referentiegegevens": {"conversatieId": str(uuid.uuid4()), "traceerId": str(uuid.uuid4())},
    }
    metadata.update(meta)
    message = receive_payload(
        db, metadata=metadata, payload=payload, hooks=current_app.extensions["hooks"]
    )
    db.commit()
    return message


def test_inbox_lists_and_filters(client, db, backoffice, app):
    with app.app_context():
        unknown = _inbound(db, b"<bericht><a>1</a></bericht>")
    resp = client.get("/berichten/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "WMO301" in html and "Onbekend bericht" in html and "Nu ophalen" in html
    assert "Nog niet opgehaald" in html
    # needs-action filter keeps it; a status filter for "verwerkt" hides it
    assert "WMO301" in client.get("/berichten/?actie=1").get_data(as_text=True)
    html = client.get("/berichten/?status=verwerkt").get_data(as_text=True)
    assert "Geen berichten gevonden met deze filters" in html
    # a wrong date is explained at the field, not a crash
    html = client.get("/berichten/?van=31-02-2026").get_data(as_text=True)
    assert form_errors(html) == ["31-02-2026 is geen datum: februari 2026 heeft 28 dagen."]
    # htmx asks for the table only
    frag = client.get("/berichten/?actie=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<h1>" not in frag and "WMO301" in frag
    assert unknown.needs_action


def test_message_page_pretty_xml_and_history(client, db, backoffice, app):
    with app.app_context():
        message = _inbound(
            db, b'<?xml version="1.0"?><bericht><client><bsn>1</bsn></client></bericht>'
        )
    html = client.get(f"/berichten/{message.id}").get_data(as_text=True)
    assert "&lt;bericht&gt;\n  &lt;client&gt;\n    &lt;bsn&gt;1&lt;/bsn&gt;" in html
    assert "Opgehaald bij VECOZO" in html  # status history
    assert "Markeer als afgehandeld" in html
    resp = client.post(f"/berichten/{message.id}/afgehandeld")
    assert resp.status_code == 302
    db.refresh(message)
    assert message.needs_action is False


def test_xml_with_entities_is_not_expanded(client, db, backoffice, app):
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with app.app_context():
        message = _inbound(db, evil)
    html = client.get(f"/berichten/{message.id}").get_data(as_text=True)
    assert "root:" not in html


def test_fixed_width_records_are_split_into_named_fields(client, db, backoffice, app):
    register_layout(
        "TESTRETOUR", "R", [("Recordsoort", 1, 1), ("Referentie", 2, 10), ("Retourcode", 12, 4)]
    )
    with app.app_context():
        message = _inbound(db, b"RREF00000018001\r\n")
        message.code = "TESTRETOUR"
        db.commit()
    html = client.get(f"/berichten/{message.id}").get_data(as_text=True)
    assert "<dt>Referentie</dt><dd><code>REF0000001</code></dd>" in html
    assert "<dt>Retourcode</dt><dd><code>8001</code></dd>" in html


def test_outbox_shows_meldingen_explained(client, db, backoffice, app, standin, run_jobs):
    draft = proef.draft("REF0000009", 5)
    draft.afzender = ("Instelling", "00000000")
    with app.app_context():
        message = create_outgoing(db, draft, financing="wmo_jw")
        db.commit()
    run_jobs()
    html = client.get("/berichten/verzonden?status=afgekeurd").get_data(as_text=True)
    assert "REF0000009" in html and "Afgekeurd" in html
    html = client.get(f"/berichten/{message.id}").get_data(as_text=True)
    assert "Meldingen van VECOZO" in html
    assert "Afzender is niet bekend bij VECOZO (BRS01)" in html


def test_start_page_counts_what_needs_action(client, db, backoffice, app):
    with app.app_context():
        _inbound(db, b"<x/>")
    html = client.get("/").get_data(as_text=True)
    assert "Berichten: vraagt actie" in html
    assert '<a href="/berichten/?actie=1">1</a>' in html


def test_fetch_now_double_click_is_one_job(client, db, backoffice):
    first = client.post("/berichten/ophalen")
    second = client.post("/berichten/ophalen")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    n = db.scalar(select(func.count()).where(BackgroundJob.kind == "vecozo.ophalen"))
    assert n == 1


def test_fetch_now_runs_a_poll(client, db, backoffice, standin, run_jobs):
    standin.place(postbus="12345678", afzender_code="0363", code="WMO301", payload="<x/>")
    client.post("/berichten/ophalen")
    run_jobs()
    html = client.get("/berichten/").get_data(as_text=True)
    assert "1 nieuw, 0 al binnen, 0 mislukt" in html
    assert standin.ready() == 0


def test_reader_cannot_fetch_or_configure(client, lezer):
    assert client.get("/berichten/").status_code == 200
    assert client.post("/berichten/ophalen").status_code == 403
    assert client.get("/berichten/instellingen").status_code == 403


def test_certificate_upload_encrypted_and_expiry_warning(client, db, beheerder):
    ca = trustme.CA()
    resp = client.post(
        "/berichten/instellingen",
        data={
            "certificaat": (__import__("io").BytesIO(client_pfx(ca, "fout")), "s.pfx"),
            "wachtwoord": "geheim",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "wachtwoord klopt niet" in form_errors(resp.get_data(as_text=True))[0]
    assert db.scalar(select(func.count()).select_from(VecozoCertificate)) == 0

    pfx = client_pfx(ca, "geheim", days=20)
    resp = client.post(
        "/berichten/instellingen",
        data={
            "certificaat": (__import__("io").BytesIO(pfx), "systeem.pfx"),
            "wachtwoord": "geheim",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    row = db.scalar(select(VecozoCertificate))
    assert pfx not in row.pfx_encrypted and b"geheim" not in row.password_encrypted
    html = client.get("/berichten/instellingen").get_data(as_text=True)
    assert "binnen een maand" in html
    assert "Zorg BV systeem" in html
    assert "geheim" not in html


def test_backoffice_has_no_settings(client, login_as):
    login_as(Role.BACKOFFICE)
    assert client.get("/berichten/instellingen").status_code == 403


def test_fetch_now_after_a_killed_poll_starts_a_new_one(client, db, backoffice, app):
    from datetime import timedelta

    from portal.models import PollRun
    from portal.models._base import utcnow

    client.post("/berichten/ophalen")
    stuck = db.scalar(select(BackgroundJob).where(BackgroundJob.kind == "vecozo.ophalen"))
    stuck.status = "bezig"  # its worker was killed: no heartbeat for minutes
    db.add(
        PollRun(trigger="handmatig", job_id=stuck.id, heartbeat_at=utcnow() - timedelta(minutes=5))
    )
    db.commit()
    resp = client.post("/berichten/ophalen")
    assert stuck.id not in resp.headers["Location"]
    db.expire_all()
    assert db.get(BackgroundJob, stuck.id).status == "mislukt"
    assert db.scalar(select(func.count()).where(BackgroundJob.kind == "vecozo.ophalen")) == 2


def test_download_gives_the_exact_payload(client, db, backoffice, app):
    payload = b'<?xml version="1.0"?><bericht>\xc3\xa9</bericht>'
    with app.app_context():
        message = _inbound(db, payload)
        message.filename = 'rare "naam"\r\n.xml'
        db.commit()
    resp = client.get(f"/berichten/{message.id}/bestand")
    assert resp.status_code == 200 and resp.data == payload
    assert resp.headers["Content-Disposition"] == 'attachment; filename="rare__naam___.xml"'
