"""The screens: guided start/stop per toewijzing, the declaration flow and rejected lines."""

from __future__ import annotations

import re
from datetime import date, time

from sqlalchemy import func, select

from plugins.wmo_jw import chain, financier
from portal.db import db_session
from portal.domain import Role
from portal.models import Message
from portal.models.registration import Registration
from portal.services import declarations as svc
from tests.plugins.wmo_jw.factories import TODAY


def _count(db, code):
    return db.scalar(select(func.count(Message.id)).where(Message.code == code))


def _latest(db, code) -> Message:
    return db.scalar(select(Message).where(Message.code == code).order_by(Message.id.desc()))


def test_start_is_offered_once_then_stop_after_acceptance(client, db, setup, login_as):
    login_as(Role.BACKOFFICE)
    leg = setup["legs"]["5001"]
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Nog niet gestart" in page and "Start zorg melden (305)" in page
    assert "Stop zorg melden" not in page
    url = f"/f/wmo_jw/toewijzingen/{leg.id}/start"
    resp = client.post(url, data={"begindatum": "2026-04-08"}, follow_redirects=True)
    assert "is verstuurd naar de gemeente" in resp.get_data(as_text=True)
    # a double click: refused, still one message
    resp = client.post(url, data={"begindatum": "2026-04-08"}, follow_redirects=True)
    assert "kan nu niet" in resp.get_data(as_text=True)
    assert _count(db, "WMO305") == 1
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Start verzonden" in page and "wacht op het antwoord" in page
    # the gemeente accepts: now stop (with the iWmo reasons) and withdraw are offered
    # the answer arrives; processed in the session the screens use (one app context in tests)
    web = db_session()
    (retour,) = financier.reply(_latest(web, "WMO305").payload, setup["settings"])
    assert "geaccepteerd" in chain.process(web, retour.payload, today=TODAY).summary
    web.commit()
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Gestart" in page and "Stop zorg melden (307)" in page
    assert "Start zorg melden (305)" not in page
    assert "Verhuizing naar een andere gemeente" in page  # iWmo list, read from the XSD
    resp = client.post(
        f"/f/wmo_jw/toewijzingen/{leg.id}/stop",
        data={"einddatum": "2026-10-31", "reden": "23"},
        follow_redirects=True,
    )
    assert "Stop zorg per 31-10-2026 is verstuurd" in resp.get_data(as_text=True)
    assert _count(db, "WMO307") == 1


def test_a_reader_sees_but_cannot_start(client, db, setup, login_as):
    login_as(Role.ALLEEN_LEZEN)
    leg = setup["legs"]["5001"]
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Toewijzing 5001" in page and "Start zorg melden" not in page
    assert client.post(f"/f/wmo_jw/toewijzingen/{leg.id}/start").status_code == 403
    assert _count(db, "WMO305") == 0


def test_declaration_flow_from_the_screens(client, db, setup, login_as, make_user):
    user = login_as(Role.BACKOFFICE)
    worker = make_user(Role.ZORGPROFESSIONAL)
    for nr in ("5001", "5002"):
        db.add(
            Registration(
                client_id=setup["legs"][nr].client_id,
                product_id=setup["product"].id,
                employee_id=worker.id,
                datum=date(2026, 10, 6),
                starttijd=time(9),
                duur_minuten=120,
                status="gefiatteerd",
            )
        )
    db.commit()
    page = client.get("/declareren/").get_data(as_text=True)
    assert "Gemeente 0363" in page and "oktober 2026" in page
    resp = client.post(
        "/declareren/voorbereiden",
        data={"financier_id": setup["fin"].id, "maand": "2026-10"},
        follow_redirects=True,
    )
    page = resp.get_data(as_text=True)
    assert "Alle controles zijn goed" in page
    assert "€ 200,00" in page or "200,00" in page  # 2 × 2 uur × € 50
    decl_id = int(re.search(r"/declareren/(\d+)/indienen", page).group(1))
    # the gemeente pays 51 for this code: both lines will come back with 0611
    financier.store_for(setup["settings"]).set_tarief("0363", "07", "07A05", 5100)
    resp = client.post(f"/declareren/{decl_id}/indienen", follow_redirects=True)
    assert "is verstuurd" in resp.get_data(as_text=True)
    resp = client.post(f"/declareren/{decl_id}/indienen", follow_redirects=True)
    assert "al ingediend" in resp.get_data(as_text=True)
    assert _count(db, "WMO323") == 1
    web = db_session()
    (answer,) = financier.reply(_latest(web, "WMO323").payload, setup["settings"])
    svc.apply_outcome(web, chain.process(web, answer.payload, today=TODAY))
    web.commit()
    page = client.get(f"/declareren/{decl_id}").get_data(as_text=True)
    assert "Afgewezen" in page and "0611" in page and "Crediteren" not in page
    page = client.get("/f/wmo_jw/afgewezen").get_data(as_text=True)
    assert "Het ingediende tarief komt niet overeen met het contractuele tarief" in page
    assert "Pas het tarief in het contract aan" in page
    assert user.id


def test_care_still_started_on_an_ended_toewijzing_asks_for_a_stop(client, db, setup, login_as):
    """The gemeente ended toewijzing 5001 (e.g. a changed omvang assigned anew) while care was
    started: the worklist says 'Stop nog melden' and the stop is offered."""
    from datetime import timedelta

    leg = setup["legs"]["5001"]
    chain._save_starts(
        leg, [{"begindatum": "2026-04-08", "status": "geaccepteerd", "codes": [], "bericht": "X"}]
    )
    leg.einddatum = date.today() - timedelta(days=3)
    db.commit()
    login_as(Role.BACKOFFICE)
    worklist = client.get("/f/wmo_jw/").get_data(as_text=True)
    assert "Stop nog melden" in worklist
    assert f"de toewijzing eindigde op {leg.einddatum:%d-%m-%Y}" in worklist
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert f"/f/wmo_jw/toewijzingen/{leg.id}/stop" in page
    # once stopped, it leaves the worklist
    chain._save_starts(
        leg,
        [
            {
                "begindatum": "2026-04-08",
                "status": "geaccepteerd",
                "codes": [],
                "bericht": "X",
                "einddatum": leg.einddatum.isoformat(),
                "reden": "19",
                "stop_status": "geaccepteerd",
            }
        ],
    )
    db.commit()
    assert "Stop nog melden" not in client.get("/f/wmo_jw/").get_data(as_text=True)


def test_keten_stand_follows_every_start_and_stop_and_the_migration_agrees():
    """The worklist selects on Legitimation.keten_stand; migration 0010 filled it for existing
    rows with its own copy of the mapping: both must agree on every state."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[3] / "migrations" / "versions" / "0010_keten_stand.py"
    spec = importlib.util.spec_from_file_location("m0010", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    base = {"begindatum": "2026-04-08", "codes": [], "bericht": "X"}
    cases = {
        "start_verzonden": [{**base, "status": "verzonden"}],
        "gestart": [{**base, "status": "geaccepteerd"}],
        "start_afgewezen": [{**base, "status": "afgewezen"}],
        "start_ingetrokken": [{**base, "status": "ingetrokken"}],
        "stop_verzonden": [{**base, "status": "geaccepteerd", "stop_status": "verzonden"}],
        "gestopt": [{**base, "status": "geaccepteerd", "stop_status": "geaccepteerd"}],
        "stop_afgewezen": [{**base, "status": "geaccepteerd", "stop_status": "afgewezen"}],
    }
    # a withdrawn stop: started again
    withdrawn_stop = [{**base, "status": "geaccepteerd", "stop_status": "ingetrokken"}]
    assert chain.keten_stand(withdrawn_stop) == migration.stand(withdrawn_stop) == "gestart"
    assert chain.keten_stand([]) is None and migration.stand([]) is None
    for expected, items in cases.items():
        assert chain.keten_stand(items) == migration.stand(items) == expected, expected
