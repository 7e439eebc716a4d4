"""Who sees which client: care staff only their own, masked BSNs for readers, the audit screen."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from datetime import date, timedelta

import pytest

from portal.domain import Role
from portal.models import AuditEvent, BackgroundJob, ClientAssignment, Message, Registration
from portal.privacy import mask_all, mask_partly, mask_payload
from tests.conftest import PASSWORD, login
from tests.portal.production.factory import new_client, organisation


def text(resp) -> str:
    return resp.get_data(as_text=True)


# -- care staff see only the clients they may register for ----------------------------------------


@pytest.fixture
def org(db):
    return organisation(db)


def test_search_finds_only_own_team_and_assigned_clients(client, db, org, zorgprofessional):
    own = new_client(db, "Jansen", team="Team Noord")
    other = new_client(db, "Janssen", team="Team Zuid")
    assigned = new_client(db, "Jansma", team="Team Zuid")
    db.add(ClientAssignment(client_id=assigned.id, user_id=zorgprofessional.id))
    db.commit()
    html = text(client.get("/registreren/clienten?q=jans", headers={"HX-Request": "true"}))
    assert "Jansen" in html and "Jansma" in html
    assert "Janssen" not in html
    # Each client shown is in the audit trail, with who saw it.
    seen = {
        e.client_id
        for e in db.query(AuditEvent).filter_by(
            user_id=zorgprofessional.id, action="zorg.client-gezocht"
        )
    }
    assert seen == {own.id, assigned.id}
    assert other.id not in seen


def test_posting_another_clients_id_reveals_nothing(client, db, org, zorgprofessional):
    other = new_client(db, "Geheimhouden", team="Team Zuid")
    db.commit()
    yesterday = date.today() - timedelta(days=1)
    resp = client.post(
        "/registreren/nieuw",
        data={
            "client_id": other.id,
            "product_id": org.pv.id,
            "datum": yesterday.strftime("%d-%m-%Y"),
            "starttijd": "08:30",
            "duur": "1:00",
        },
    )
    assert resp.status_code == 422
    html = text(resp)
    assert "Kies een cliënt." in html
    assert "Geheimhouden" not in html and "02-03-1940" not in html
    # Exactly the answer for an id that does not exist.
    missing = client.post(
        "/registreren/nieuw",
        data={"client_id": 987654, "product_id": org.pv.id, "datum": "01-01-2026"},
    )
    assert "Kies een cliënt." in text(missing) and "Geheimhouden" not in text(missing)
    assert db.query(Registration).count() == 0


def test_back_office_assigns_a_professional_to_a_client(
    app, db, org, make_user, backoffice, client
):
    care = make_user(Role.ZORGPROFESSIONAL, team="Team Zuid", naam="Zorg Zuid")
    patient = new_client(db, "Pietersen", team="Team Noord")
    db.commit()
    page = text(client.get(f"/clienten/{patient.id}/medewerkers"))
    assert "Zorg Zuid" in page
    resp = client.post(f"/clienten/{patient.id}/medewerkers", data={"user_id": care.id})
    assert resp.status_code == 303
    assert db.query(ClientAssignment).filter_by(client_id=patient.id, user_id=care.id).count() == 1
    # The professional now finds the client.
    phone = app.test_client()
    assert login(phone, care.email).status_code == 302
    found = text(phone.get("/registreren/clienten?q=piet", headers={"HX-Request": "true"}))
    assert "Pietersen" in found
    # Removing the assignment hides the client again.
    client.post(f"/clienten/{patient.id}/medewerkers/{care.id}/verwijderen")
    found = text(phone.get("/registreren/clienten?q=piet", headers={"HX-Request": "true"}))
    assert "Pietersen" not in found
    actions = {e.action for e in db.query(AuditEvent).filter_by(client_id=patient.id)}
    assert {"client.medewerker-toegewezen", "client.medewerker-verwijderd"} <= actions


def test_a_reader_cannot_assign(client, db, org, lezer, make_user):
    care = make_user(Role.ZORGPROFESSIONAL)
    patient = new_client(db)
    db.commit()
    assert client.get(f"/clienten/{patient.id}/medewerkers").status_code == 200
    resp = client.post(f"/clienten/{patient.id}/medewerkers", data={"user_id": care.id})
    assert resp.status_code == 403


# -- masked BSNs for roles without the full-BSN right ---------------------------------------------


def _message(db, bsn: str) -> Message:
    payload = (
        f'<?xml version="1.0"?><Bericht><Client><Bsn>{bsn}</Bsn>'
        f"<Naam>Jansen</Naam></Client><Opmerking>BSN {bsn[:3]}.{bsn[3:6]}.{bsn[6:]}"
        "</Opmerking></Bericht>"
    ).encode()
    message = Message(
        direction="in",
        financing="wmo_jw",
        standard="iWmo",
        code="WMO301",
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        filename="301.xml",
        traceer_id=str(uuid.uuid4()),
        conversatie_id=str(uuid.uuid4()),
        status="onbekend",
    )
    db.add(message)
    db.commit()
    return message


@pytest.mark.parametrize("role", [Role.ALLEEN_LEZEN])
def test_readers_see_masked_bsns_in_messages_and_downloads(client, db, login_as, role):
    patient = new_client(db)
    message = _message(db, patient.bsn)
    login_as(role)
    shown = text(client.get(f"/berichten/{message.id}"))
    download = client.get(f"/berichten/{message.id}/bestand").get_data()
    for body in (shown, download.decode()):
        assert patient.bsn not in body
        assert f"{patient.bsn[:3]}.{patient.bsn[3:6]}" not in body
        assert "******" + patient.bsn[-3:] in body


def test_back_office_sees_the_full_bsn(client, db, backoffice):
    patient = new_client(db)
    message = _message(db, patient.bsn)
    assert patient.bsn in text(client.get(f"/berichten/{message.id}"))
    assert patient.bsn.encode() in client.get(f"/berichten/{message.id}/bestand").get_data()


def test_masking_helpers():
    assert mask_partly("BSN 158.813.996 en 158813996") == "BSN ******996 en ******996"
    assert mask_all("158 813 996") == "*********"
    assert mask_all("factuur 123456789") == "factuur 123456789"  # fails the 11-proef: kept
    assert b"<Bsn>******996</Bsn>" in mask_payload(b"<a><Bsn>158813996</Bsn></a>")


def test_bsns_with_dots_or_spaces_are_masked_in_logs(caplog):
    from portal.logging import BsnFilter

    logger = logging.getLogger("portal.test.privacy")
    handler_filter = BsnFilter()
    with caplog.at_level(logging.INFO, logger="portal.test.privacy"):
        caplog.handler.addFilter(handler_filter)
        try:
            logger.info("client 158.813.996 and %s", "158 813 996")
        finally:
            caplog.handler.removeFilter(handler_filter)
    assert "158.813.996" not in caplog.text and "158 813 996" not in caplog.text
    assert "*********" in caplog.text


# -- the audit trail screen -------------------------------------------------------------------


def test_beheerder_searches_who_looked_at_a_client(app, client, db, make_user, beheerder):
    patient = new_client(db, "Vos")
    other = new_client(db, "Visser")
    db.commit()
    nosy = make_user(Role.BACKOFFICE, naam="Nieuwsgierige Nel")
    c = app.test_client()
    assert login(c, nosy.email).status_code == 302
    assert c.get(f"/clienten/{patient.id}").status_code == 200
    assert c.get(f"/clienten/{other.id}").status_code == 200
    # Search by BSN: the form posts, the BSN stays out of the address bar.
    resp = client.post("/beheer/audit/", data={"client": patient.bsn})
    assert resp.status_code == 200
    html = text(resp)
    assert "Nieuwsgierige Nel" in html and "Cliënt bekeken" in html
    assert "Visser" not in html
    # Search by surname: redirected to a GET address.
    resp = client.post("/beheer/audit/", data={"client": "Visser"})
    assert resp.status_code == 303 and patient.bsn not in resp.headers["Location"]
    html = text(client.get(resp.headers["Location"]))
    assert "Visser" in html and "Vos," not in html
    # Searching the trail is recorded too, without the BSN.
    searches = db.query(AuditEvent).filter_by(user_id=beheerder.id, action="audit.bekeken").all()
    assert searches and all(patient.bsn not in str(e.detail) for e in searches)


def test_the_trail_is_exported_as_csv(client, db, make_user, beheerder):
    patient = new_client(db, "Vos")
    db.commit()
    client.get(f"/clienten/{patient.id}")
    resp = client.post("/beheer/audit/", data={"client": patient.bsn, "export": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][0] == "tijdstip"
    assert any(r[3] == "client.bekeken" and r[5] == str(patient.id) for r in rows[1:])
    assert db.query(AuditEvent).filter_by(action="audit.geexporteerd").count() == 1


def test_privacy_officer_reads_the_trail_and_nothing_else(client, db, login_as):
    login_as(Role.PRIVACY)
    assert client.get("/beheer/audit/").status_code == 200
    assert client.get("/clienten/").status_code == 403
    assert client.get("/beheer/gebruikers").status_code == 403
    assert client.get("/berichten/").status_code == 403


def test_odd_dates_in_the_audit_search_get_a_dutch_message(client, beheerder):
    resp = client.get("/beheer/audit/?van=31-02-2026&tot=9999-12-31")
    assert resp.status_code == 422 and "Vul een datum in als dd-mm-jjjj." in text(resp)


def test_others_cannot_read_the_trail(client, backoffice):
    assert client.get("/beheer/audit/").status_code == 403


def test_bsn_searches_are_in_the_audit_trail(client, db, backoffice):
    patient = new_client(db)
    db.commit()
    resp = client.post("/clienten/", data={"q": patient.bsn})
    assert resp.status_code == 200
    events = (
        db.query(AuditEvent).filter_by(user_id=backoffice.id, action="client.bsn-gezocht").all()
    )
    assert [e.client_id for e in events] == [patient.id]
    assert all(patient.bsn not in str(e.detail) for e in events)


# -- job pages ----------------------------------------------------------------------------------


def test_job_pages_are_for_their_starter_and_the_back_office(app, db, make_user):
    starter = make_user(Role.ZORGPROFESSIONAL)
    colleague = make_user(Role.ZORGPROFESSIONAL)
    boss = make_user(Role.BACKOFFICE)
    job = BackgroundJob(
        id=uuid.uuid4().hex, kind="import", queue="default", label="Import", created_by=starter.id
    )
    db.add(job)
    db.commit()
    for user, expected in ((starter, 200), (colleague, 404), (boss, 200)):
        c = app.test_client()
        assert login(c, user.email, PASSWORD).status_code == 302
        assert c.get(f"/taken/{job.id}").status_code == expected, user.role
