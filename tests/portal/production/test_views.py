"""The screens: registering (zorgprofessional), approving (backoffice), the stacking week view
and configuration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.models import ApprovalRun, Registration, StackRule
from tests.conftest import form_errors
from tests.portal.production.factory import organisation, registration, seed_client


@pytest.fixture
def org(db):
    return organisation(db)


def test_register_via_the_screen(client, db, org, zorgprofessional):
    c, _w, _p = seed_client(db, org)
    db.commit()
    page = client.get("/registreren/")
    assert page.status_code == 200 and "Zorg registreren" in page.get_data(as_text=True)
    found = client.get("/registreren/clienten?q=jan", headers={"HX-Request": "true"})
    html = found.get_data(as_text=True)
    assert "Jansen, J." in html and c.bsn not in html and "5503" not in html
    yesterday = date.today() - timedelta(days=1)
    r = client.post(
        "/registreren/nieuw",
        data={
            "client_id": c.id,
            "product_id": org.pv.id,
            "datum": yesterday.strftime("%d-%m-%Y"),
            "starttijd": "08:30",
            "duur": "1:15",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert "Opgeslagen: Jansen, J." in r.get_data(as_text=True)
    reg = db.query(Registration).one()
    assert reg.duur_minuten == 75 and reg.employee_id is not None


def test_register_errors_are_shown_per_field(client, db, org, zorgprofessional):
    c, _w, _p = seed_client(db, org)
    db.commit()
    tomorrow = date.today() + timedelta(days=1)
    r = client.post(
        "/registreren/nieuw",
        data={
            "client_id": c.id,
            "product_id": org.pv.id,
            "datum": tomorrow.strftime("%d-%m-%Y"),
            "starttijd": "08:30",
            "duur": "25:00",
        },
    )
    assert r.status_code == 422
    errors = form_errors(r.get_data(as_text=True))
    assert "Je kunt geen zorg registreren op een datum na vandaag." in errors
    assert "De duur mag niet langer zijn dan 24 uur." in errors
    assert db.query(Registration).count() == 0


def test_care_staff_cannot_approve_or_see_declarations(client, zorgprofessional):
    assert client.get("/fiatteren/").status_code == 403
    assert client.get("/stapelen/").status_code == 403


def test_backoffice_week_5_refusal_and_whole_week_approval(client, db, org, backoffice, make_user):
    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org)
    registration(db, c, org.pv, employee.id, date(2019, 1, 29), 120, status="concept")
    registration(db, c, org.pv, employee.id, date(2019, 2, 2), 120, status="concept")
    db.commit()
    page = client.get("/fiatteren/?van=28-01-2019&tot=31-01-2019").get_data(as_text=True)
    assert "Gestapeld financieren staat aan" in page
    assert "zondag 03-02-2019" in page
    r = client.post(
        "/fiatteren/",
        data={"van": "28-01-2019", "tot": "31-01-2019", "token": "t1"},
        follow_redirects=True,
    )
    assert "fiatteren gaat per hele week" in r.get_data(as_text=True)
    assert db.query(ApprovalRun).count() == 0
    preview = client.get("/fiatteren/?van=28-01-2019&tot=03-02-2019").get_data(as_text=True)
    assert "2 registratie(s), 4:00 uur" in preview
    r = client.post(
        "/fiatteren/",
        data={"van": "28-01-2019", "tot": "03-02-2019", "token": "t2"},
        follow_redirects=True,
    )
    assert "2 registratie(s) gefiatteerd" in r.get_data(as_text=True)
    week = client.get(f"/stapelen/client/{c.id}?week=2019-W05").get_data(as_text=True)
    assert 'data-financing="wlz"' in week and 'data-financing="particulier"' in week
    assert week.count(">2:00<") >= 2
    # withdraw from the screen
    run = db.query(ApprovalRun).one()
    r = client.post(f"/fiatteren/{run.id}/intrekken", follow_redirects=True)
    assert "ingetrokken" in r.get_data(as_text=True)
    db.expire_all()
    assert {x.status for x in db.query(Registration)} == {"concept"}


def test_stack_configuration_refuses_what_the_rules_forbid(client, db, org, backoffice):
    db.commit()
    r = client.post(
        "/stapelen/regels",
        data={"product_id": org.dag.id, "onto_product_id": org.pv.id},
        follow_redirects=True,
    )
    assert "Alleen producten met een tijdseenheid" in r.get_data(as_text=True)
    r = client.post(
        "/stapelen/regels",
        data={"product_id": org.pv.id, "onto_product_id": org.bg.id},
        follow_redirects=True,
    )
    assert "Stapelregel opgeslagen" in r.get_data(as_text=True)
    r = client.post(
        "/stapelen/regels",
        data={"product_id": org.pv.id, "onto_product_id": org.pv.id},
        follow_redirects=True,
    )
    assert "kan niet naar meerdere onderliggende producten" in r.get_data(as_text=True)
    assert db.query(StackRule).count() == 1


def test_stack_rule_refused_for_wmo_products(client, db, org, backoffice):
    from tests.portal.production.factory import legitimation, new_client

    c = new_client(db)
    legitimation(db, c, org.gemeente, [org.bg])
    db.commit()
    r = client.post(
        "/stapelen/regels",
        data={"product_id": org.bg.id, "onto_product_id": org.bg.id},
        follow_redirects=True,
    )
    assert "niet geschikt voor de financieringsstromen Wmo en Jeugdwet" in r.get_data(as_text=True)
    assert db.query(StackRule).count() == 0


def test_niet_gedekt_actions_list(client, db, org, backoffice, make_user):
    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org)
    monday = date.today() - timedelta(days=date.today().weekday() + 7)
    registration(db, c, org.pv, employee.id, monday, 300)
    db.commit()
    page = client.get("/stapelen/").get_data(as_text=True)
    assert "Jansen, J." in page and "1:00 uur" in page


def test_credit_from_the_week_view_after_export(client, db, org, backoffice, make_user, hooks):
    from portal.services import stacking

    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org)
    reg = registration(db, c, org.pv, employee.id, date(2019, 1, 29), 60)
    db.commit()
    plan = stacking.export_plan(
        db, hooks=hooks, financing="wlz", start=date(2019, 1, 28), end=date(2019, 2, 3)
    )
    stacking.record_export(db, "AW319", "wlz", plan.new)
    db.commit()
    week = client.get(f"/stapelen/client/{c.id}?week=2019-W05").get_data(as_text=True)
    assert "Crediteren" in week
    r = client.post(
        f"/fiatteren/registratie/{reg.id}/crediteren",
        data={"reden": "Dubbel geregistreerd", "week": "2019-W05"},
        follow_redirects=True,
    )
    assert "De registratie is gecrediteerd." in r.get_data(as_text=True)
    db.expire_all()
    assert db.get(Registration, reg.id).status == "gecrediteerd"
    again = client.post(
        f"/fiatteren/registratie/{reg.id}/crediteren",
        data={"reden": "nogmaals", "week": "2019-W05"},
        follow_redirects=True,
    )
    assert "al gecrediteerd" in again.get_data(as_text=True)
