"""The issue's story through the screens and the VECOZO stand-in: the back office enters the
indicatie, care is approved, last month is declared (AW319), the insurer's AW320 rejects the care
of a day the client was no longer insured with it, and the line is moved to particulier and
invoiced."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.domain import Role
from portal.models import Declaration, Legitimation, Message
from portal.services import invoicing
from tests.plugins.zvw_msvt.conftest import BSN, UZOVI
from tests.portal.invoices import builders as b


def test_indicatie_to_aw319_to_rejection_to_particulier(
    app, db, hooks, client, login_as, world, store, run_jobs, standin
):
    from portal.jobs.vecozo import poll_once

    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    insured_until = last_month.replace(day=14)
    world.line(world.vp, 7600)
    b.contract_line(db, world.private, world.vp, 6200, afronding_minuten=0)
    db.commit()
    store.contract(UZOVI, "065", "1004", 8000)
    store.insure(UZOVI, BSN, date(2015, 1, 1), insured_until)
    login_as(Role.BACKOFFICE)

    # 1. the indicatie of the wijkverpleegkundige, through the form
    resp = client.post(
        f"/clienten/{world.client.id}/legitimaties/nieuw",
        data={
            "financing": "zvw_msvt",
            "financier_id": str(world.zv.id),
            "begindatum": f"{last_month.replace(month=1):%d-%m-%Y}",
            "volume": "6",
            "eenheid": "uur",
            "frequentie": "week",
            "product_ids": [str(world.vp.id)],
            "sleutel_soort": "wijkverpleging",
            "sleutel_indicatiesteller": "W. de Vries",
            "sleutel_big_nummer": "19012345601",
            "sleutel_verzekerdennummer": "123456789",
            "sleutel_uren_pv_vp": "5",
            "sleutel_uren_cmd": "1",
        },
    )
    assert resp.status_code == 303
    assert db.scalar(select(Legitimation).where(Legitimation.financing == "zvw_msvt"))
    # 2. care approved: a visit on the 3rd and on the 20th of last month
    world.care(world.vp, [last_month.replace(day=3), last_month.replace(day=20)], 60)
    db.commit()

    # 3. last month declared and sent
    resp = client.post(
        "/declareren/voorbereiden",
        data={"financier_id": str(world.zv.id), "maand": f"{last_month:%Y-%m}"},
    )
    assert resp.status_code == 303
    decl = db.scalar(select(Declaration).where(Declaration.financing == "zvw_msvt"))
    assert decl is not None and len(decl.lines) == 2
    assert client.post(f"/declareren/{decl.id}/indienen").status_code == 303
    run_jobs()  # the AW319 leaves for the stand-in
    db.expire_all()  # the requests changed the declaration in their own sessions
    # 4. the insurer answers; the portal fetches the AW320 and applies it
    standin.forward()
    with app.app_context():
        assert poll_once(app, db, trigger="handmatig")["opgehaald"] == 1
    db.commit()
    return_to = "/f/zvw_msvt/"
    aw320 = db.scalar(select(Message).where(Message.code == "AW320"))
    assert aw320.financing == "zvw_msvt" and "1 afgewezen" in aw320.summary
    html = client.get(return_to).get_data(as_text=True)
    assert "0402" in html and "niet bij deze zorgverzekeraar verzekerd" in html

    # 5. moved to particulier from the worklist, and invoiced by the particulier run
    (line,) = [ln for ln in decl.lines if ln.begindatum > insured_until]
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/particulier",
        data={"aanmaken": "1", "next": return_to},
    )
    assert resp.status_code == 303
    assert "Er zijn geen afgewezen prestaties" in client.get(return_to).get_data(as_text=True)
    run = invoicing.create_run(
        db, hooks, "particulier", last_month, today.replace(day=1) - timedelta(days=1),
        today=today, enqueue_render=False,
    )  # fmt: skip
    (invoice,) = run.invoices
    assert invoice.totaal_cents == 6200
