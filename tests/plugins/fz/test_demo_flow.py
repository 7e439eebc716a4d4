"""The story of issue 13 through the screens and the real VECOZO stand-in: DJI places a client
(FZ821) → the back office reports the start (FZ823, DJI accepts with FZ824) → care is approved →
GDS801 → DJI's GDS802 rejects the line (0611) → corrected → declared again and awarded; and while
the format is provisional, nothing goes to a real VECOZO environment."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta

from sqlalchemy import select

from plugins.fz import financier, placements
from portal.domain import Role
from portal.models import ContractLine, Legitimation
from portal.models.declaration import Declaration
from tests.conftest import login
from tests.plugins.fz.conftest import AGB, BSN, answer, approved, person


def _page(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _fetch_mail(client, run_jobs):
    resp = client.post("/berichten/ophalen")
    assert resp.status_code in (302, 303)
    run_jobs()
    run_jobs()


def _declare_and_send(client, run_jobs, standin, fin, month) -> int:
    resp = client.post(
        "/declareren/voorbereiden",
        data={"financier_id": fin.id, "maand": f"{month:%Y-%m}"},
        follow_redirects=True,
    )
    page = _page(resp)
    assert "GDS801 gebruikt een voorlopig formaat" in page  # said before sending
    decl_id = int(re.search(r"/declareren/(\d+)/indienen", page).group(1))
    resp = client.post(f"/declareren/{decl_id}/indienen", follow_redirects=True)
    assert "is verstuurd" in _page(resp)
    run_jobs()
    standin.forward()
    _fetch_mail(client, run_jobs)
    return decl_id


def test_story_from_placement_to_awarded_declaration(
    app, db, client, dji_settings, master, standin, run_jobs, make_user, org
):
    office = make_user(Role.BACKOFFICE)
    worker = make_user(Role.ZORGPROFESSIONAL)
    login(client, office.email)
    today = date.today()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month
    financier.store_for(dji_settings).set_tarief("FZV02", 44000)  # DJI agreed € 440 a day

    # 1. DJI places a client: an FZ821 in the mailbox
    draft = financier.issue_821(
        dji_settings,
        agb=AGB,
        client=person(BSN),
        nummer="PB-2026-7001",
        titel="VI",
        prestatiecode="FZV02",
        begin=first - timedelta(days=20),
        eind=None,
    )
    standin.place(
        payload_base64=base64.b64encode(draft.payload).decode(),
        code="FZ821",
        postbus=AGB,
        afzender_code="9992",
    )
    _fetch_mail(client, run_jobs)
    leg = db.scalar(select(Legitimation).where(Legitimation.referentienummer == "PB-2026-7001"))
    assert leg is not None and leg.financing == "fz"
    page = _page(client.get("/f/fz/?lijst=aanvang"))
    assert "PB-2026-7001" in page and "voorlopig formaat" in page

    # 2. report the start; DJI accepts it
    page = _page(client.get(f"/f/fz/clienten/{leg.client_id}"))
    assert "Aanvang zorg melden (FZ823)" in page and "Einde zorg melden" not in page
    resp = client.post(
        f"/f/fz/plaatsingen/{leg.id}/aanvang",
        data={"datum": leg.begindatum.isoformat()},
        follow_redirects=True,
    )
    assert "is verstuurd naar DJI" in _page(resp)
    run_jobs()
    standin.forward()
    _fetch_mail(client, run_jobs)
    page = _page(client.get(f"/f/fz/clienten/{leg.client_id}"))
    assert "zorg gestart" in page and "Einde zorg melden (FZ825)" in page
    assert "PB-2026-7001" not in _page(client.get("/f/fz/?lijst=aanvang"))

    # 3. care approved: three days of klinisch verblijf last month
    for d in range(3):
        approved(
            db, worker.id, leg.client_id, master["verblijf"], first + timedelta(days=d), aantal=1
        )
    db.commit()

    # 4. GDS801 → DJI's GDS802 rejects the line: the tariff is not the agreed one
    decl_id = _declare_and_send(client, run_jobs, standin, master["dji"], first)
    page = _page(client.get("/f/fz/?lijst=afgewezen"))
    assert "0611" in page and "niet volgens de afspraak met DJI" in page
    assert db.get(Declaration, decl_id).lines[0].status == "afgewezen"

    # 5. corrected in the contract; declared again and awarded
    cl = db.scalar(select(ContractLine).where(ContractLine.productcode == "FZV02"))
    cl.tarief_cents = 44000
    db.commit()
    decl2 = _declare_and_send(client, run_jobs, standin, master["dji"], first)
    assert decl2 != decl_id
    db.expire_all()
    assert [x.status for x in db.get(Declaration, decl2).lines] == ["toegekend"]
    assert "Er zijn geen afgewezen prestaties" in _page(client.get("/f/fz/?lijst=afgewezen"))

    # 6. a real VECOZO environment: the provisional format is refused, in Dutch
    app.config["VECOZO_ENVIRONMENT"] = "productie"
    try:
        resp = client.post(
            f"/f/fz/plaatsingen/{leg.id}/einde",
            data={"datum": today.isoformat(), "reden": "01"},
            follow_redirects=True,
        )
    finally:
        app.config["VECOZO_ENVIRONMENT"] = "standin"
    page = _page(resp)
    assert "FZ825 wordt niet verstuurd naar VECOZO (productie)" in page
    db.expire_all()
    assert db.get(Legitimation, leg.id).keten_stand == placements.GESTART


def test_demo_seed_has_forensic_clients_in_every_stand(db, hooks, dji_settings, client, backoffice):
    from portal.demo import seed

    assert seed(db, hooks=hooks)
    db.commit()
    legs = {
        leg.referentienummer: leg
        for leg in db.scalars(select(Legitimation).where(Legitimation.bron == "FZ821"))
    }
    assert len(legs) == 4
    stands = sorted(placements.stand(x) for x in legs.values())
    assert stands == ["geplaatst", "gestart", "gestart", "gestart"]
    page = _page(client.get("/f/fz/?lijst=aanvang"))
    assert "Bakker" in page
    assert "Visser" in _page(client.get("/f/fz/?lijst=einde"))
    home = _page(client.get("/"))
    assert "Beëindigde plaatsingen zonder melding einde zorg" in home
    # a placement the core demo typed in by hand is known to the simulated DJI: its start is
    # accepted
    typed = db.scalar(
        select(Legitimation).where(Legitimation.financing == "fz", Legitimation.bron == "handmatig")
    )
    sent = placements.report_start(db, typed, typed.begindatum, settings=dji_settings)
    db.commit()
    answer(db, hooks, dji_settings, sent, today=date.today())
    db.refresh(typed)
    assert typed.keten_stand == placements.GESTART
