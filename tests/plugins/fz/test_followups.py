"""The core's follow-ups for forensische zorg: a line DJI rejected is corrected and declared again
(from the fz screen too), moved to particulier (money counted once), or an awarded line credited
in the next GDS801 and awarded by DJI."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.fz import financier, formats
from portal.models import Contract, ContractLine, Financier, Legitimation
from portal.models.declaration import DeclarationLine
from portal.services import declarations as svc
from portal.services import followups
from tests.plugins.fz.conftest import answer, approved, place, started

FEB = date(2026, 2, 1)


@pytest.fixture
def rejected(db, hooks, dji_settings, master, make_user):
    """Jansen's February verblijf (3 days), rejected by DJI with 0611."""
    worker = make_user()
    leg = place(db, hooks, dji_settings)
    started(db, hooks, dji_settings, leg, date(2026, 1, 5))
    for day in (2, 3, 4):
        approved(db, worker.id, leg.client_id, master["verblijf"], date(2026, 2, day), aantal=1)
    db.commit()
    financier.store_for(dji_settings).set_tarief("FZV02", 44000)
    (decl,) = svc.prepare(db, master["dji"], FEB, hooks=hooks).declarations
    (msg,) = svc.submit(db, decl.id, hooks)
    db.commit()
    answer(db, hooks, dji_settings, msg)
    (line,) = decl.lines
    db.refresh(line)
    assert line.status == "afgewezen"
    return {"line": line, "leg": leg, "worker": worker, **master}


def test_corrected_from_the_fz_screen_goes_with_the_next_run(
    db, client, backoffice, hooks, dji_settings, rejected
):
    line = rejected["line"]
    page = client.get("/f/fz/afgewezen", follow_redirects=True).get_data(as_text=True)
    assert "0611" in page and "Gecorrigeerd: volgende declaratie" in page
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/gecorrigeerd",
        data={"next": "/f/fz/?lijst=afgewezen"},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/f/fz/?lijst=afgewezen")
    db.expire_all()
    assert svc.rejected_lines(db, "fz") == []
    cl = db.scalar(select(ContractLine).where(ContractLine.productcode == "FZV02"))
    cl.tarief_cents = 44000
    db.commit()
    (again,) = svc.prepare(db, rejected["dji"], FEB, hooks=hooks).declarations
    (msg,) = svc.submit(db, again.id, hooks)
    db.commit()
    answer(db, hooks, dji_settings, msg)
    db.refresh(again)
    assert [(x.volume, x.bedrag_cents, x.status) for x in again.lines] == [
        (3, 3 * 44000, "toegekend")
    ]


def test_awarded_line_credited_in_the_next_gds801(db, hooks, dji_settings, rejected):
    cl = db.scalar(select(ContractLine).where(ContractLine.productcode == "FZV02"))
    cl.tarief_cents = 44000
    db.commit()
    (decl,) = svc.prepare(db, rejected["dji"], FEB, hooks=hooks).declarations
    (msg,) = svc.submit(db, decl.id, hooks)
    db.commit()
    answer(db, hooks, dji_settings, msg)
    (awarded,) = decl.lines
    db.refresh(awarded)
    assert awarded.status == "toegekend"

    credit = followups.credit(db, awarded.id, hooks)
    db.commit()
    (next_decl,) = svc.prepare(db, rejected["dji"], date(2026, 3, 1), hooks=hooks).declarations
    assert next_decl.groep == "GDS801"
    (msg2,) = svc.submit(db, next_decl.id, hooks)
    db.commit()
    sent = formats.active("GDS801").read(bytes(msg2.payload))
    (p,) = sent["prestaties"]
    assert (p["debet_credit"], p["vorige_referentie"]) == ("C", awarded.referentie)
    assert p["plaatsingsnummer"] == "PB-2026-0001"
    answer(db, hooks, dji_settings, msg2)
    db.refresh(credit)
    db.refresh(awarded)
    assert credit.status == "toegekend" and awarded.status == "gecrediteerd"


def test_rejected_forensic_care_moved_to_particulier_once(db, hooks, rejected):
    line = rejected["line"]
    private = Financier(financing="particulier", soort="client", naam="Cliënt zelf")
    db.add(private)
    db.flush()
    contract = Contract(financier_id=private.id, naam="Particulier", begindatum=date(2026, 1, 1))
    contract.lines.append(
        ContractLine(
            product_id=rejected["verblijf"].id,
            eenheid="dag",
            tarief_cents=39000,
            begindatum=date(2026, 1, 1),
        )
    )
    db.add(contract)
    client = rejected["leg"].client
    client.straat, client.huisnummer, client.postcode, client.plaats = (
        "Dorpsstraat",
        "1",
        "3511AA",
        "Utrecht",
    )
    db.commit()
    followups.move_to_particulier(db, line.id, hooks, create=True)
    db.commit()
    with pytest.raises(followups.FollowupError):
        followups.move_to_particulier(db, line.id, hooks, create=True)
    db.rollback()
    leg = db.scalar(
        select(Legitimation).where(
            Legitimation.financing == "particulier", Legitimation.client_id == client.id
        )
    )
    assert leg is not None
    # DJI's next run never declares the moved care again
    assert svc.prepare(db, rejected["dji"], FEB, hooks=hooks).declaration is None
    assert db.scalar(select(DeclarationLine).where(DeclarationLine.id == line.id)).vervolg == (
        "particulier"
    )
