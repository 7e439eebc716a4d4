"""Follow-ups of a rejected Wmo line (a financing that does not stack): the gemeente's 325
rejects a prestatie of approved registrations, its care is moved to particulier (a particulier
legitimation made from the organisation's particulier contract), the particulier invoice run
invoices it once, and Wmo never declares it again."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from plugins.wmo_jw import chain, financier
from portal.app import hooks
from portal.models import (
    AuditEvent,
    Client,
    Contract,
    ContractLine,
    ExportPart,
    Financier,
    Legitimation,
)
from portal.models.registration import Registration
from portal.services import declarations as svc
from portal.services import followups, invoicing
from tests.plugins.wmo_jw.factories import GEMEENTE, TODAY

OCT = date(2026, 10, 1)
AFTER = date(2026, 12, 15)  # the day the particulier run is made


@pytest.fixture
def rejected(db, setup, make_user):
    """Two approved registrations in October, declared in a 323; the gemeente pays 51 euro an
    hour where our contract says 50, so its 325 rejects the line with 0611."""
    user = make_user("zorgprofessional")
    client_id = setup["legs"]["5001"].client_id
    regs = [
        Registration(
            client_id=client_id,
            product_id=setup["product"].id,
            employee_id=user.id,
            datum=date(2026, 10, d),
            starttijd=time(9),
            duur_minuten=90,
            status="gefiatteerd",
        )
        for d in (5, 6)
    ]
    db.add_all(regs)
    financier.store_for(setup["settings"]).set_tarief(GEMEENTE, "07", "07A05", 5100)
    db.commit()
    decl = svc.prepare(db, setup["fin"], OCT, hooks=hooks()).declaration
    db.commit()
    (msg,) = svc.submit(db, decl.id, hooks())
    db.commit()
    (answer,) = financier.reply(msg.payload, setup["settings"])
    svc.apply_outcome(db, chain.process(db, answer.payload, today=TODAY))
    db.commit()
    (line,) = decl.lines
    db.refresh(line)
    assert line.status == "afgewezen" and line.retourcodes == ["0611"]
    # the organisation's particulier contract (a price per hour for the same product)
    prive = Financier(financing="particulier", soort="client", naam="Cliënt zelf")
    contract = Contract(financier=prive, naam="Particulier 2026", begindatum=date(2026, 1, 1))
    contract.lines.append(
        ContractLine(
            product_id=setup["product"].id,
            eenheid="uur",
            tarief_cents=6000,
            begindatum=date(2026, 1, 1),
        )
    )
    db.add(contract)
    org = setup_org(db)
    org.kvk_nummer, org.iban = "41234567", "NL91ABNA0417164300"  # to invoice the client
    org.straat, org.huisnummer, org.postcode, org.plaats = "Lindelaan", "12", "3511AB", "Utrecht"
    db.commit()
    return {"line": line, "regs": regs, "client": db.get(Client, client_id), **setup}


def setup_org(db):
    from portal.models import Organisation

    return db.scalar(select(Organisation))


def _run(db, start, end):
    return invoicing.create_run(
        db, hooks(), "particulier", start, end, today=AFTER, enqueue_render=False
    )


def test_rejected_wmo_line_moved_to_particulier_and_invoiced_once(db, rejected):
    line, client = rejected["line"], rejected["client"]
    # the screen's explanation: the code with the iWmo meaning, and the offer from the contract
    (row,) = followups.open_lines(db, hooks(), "wmo_jw")
    assert row.codes[0][0] == "0611" and row.codes[0][1]  # a Dutch meaning from the code list
    assert row.minutes == 180 and row.target.legitimation is None
    assert row.target.offer.tarief_cents == 6000

    # without a particulier legitimation: the offer, nothing changed
    with pytest.raises(followups.NeedsLegitimation):
        followups.move_to_particulier(db, line.id, hooks())
    db.rollback()
    # a legitimation that would not be valid is refused with the plugin's Dutch reason
    postcode = client.postcode
    client.postcode = None
    db.commit()
    with pytest.raises(followups.FollowupError, match="adres"):
        followups.move_to_particulier(db, line.id, hooks(), create=True)
    db.rollback()
    assert db.scalar(select(func.count()).where(Legitimation.financing == "particulier")) == 0
    client = db.get(Client, client.id)
    client.postcode = postcode or "1234AB"
    client.huisnummer = client.huisnummer or "1"
    db.commit()

    moved = followups.move_to_particulier(db, line.id, hooks(), create=True, user_id=None)
    db.commit()
    assert moved.created and (moved.parts, moved.minutes) == (2, 180)
    assert svc.rejected_lines(db, "wmo_jw") == []
    # a double click
    with pytest.raises(followups.FollowupError, match="al naar particulier"):
        followups.move_to_particulier(db, line.id, hooks(), create=True)
    db.rollback()

    # Wmo never declares the care again
    assert svc.prepare(db, rejected["fin"], date(2026, 11, 1), hooks=hooks()).declaration is None
    db.rollback()
    # the next particulier invoice run (November) invoices it, once
    (inv,) = _run(db, date(2026, 11, 1), date(2026, 11, 30)).invoices
    assert inv.client_id == client.id
    assert sorted((ln.datum, ln.minuten) for ln in inv.lines) == [
        (date(2026, 10, 5), 90),
        (date(2026, 10, 6), 90),
    ]
    assert inv.totaal_cents == 3 * 6000
    with pytest.raises(invoicing.InvoiceError):
        _run(db, date(2026, 11, 1), date(2026, 11, 30))
    db.rollback()
    active = db.execute(
        select(ExportPart.registration_id, ExportPart.kind, ExportPart.invoice_line_id).where(
            ExportPart.active.is_(True)
        )
    ).all()
    assert sorted((r, k) for r, k, _i in active) == sorted(
        (r.id, "verplaatst") for r in rejected["regs"]
    )
    assert all(i is not None for _r, _k, i in active)
    assert (
        db.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "declaratie.vervolg.particulier"
            )
        )
        == 1
    )


def test_corrected_wmo_line_is_taken_by_the_next_run(db, rejected):
    line = rejected["line"]
    followups.mark_corrected(db, line.id)
    db.commit()
    assert svc.count_rejected(db) == 0
    # the rejection released its parts: the next run declares the registrations again
    again = svc.prepare(db, rejected["fin"], date(2026, 11, 1), hooks=hooks()).declaration
    db.commit()
    (new_line,) = again.lines
    assert sorted(new_line.registration_ids) == sorted(r.id for r in rejected["regs"])
    assert new_line.referentie != line.referentie


def test_the_generic_screen_lists_the_wmo_line(db, rejected, client, login_as):
    login_as("backoffice")
    page = client.get("/declareren/vervolg/wmo_jw").get_data(as_text=True)
    line = rejected["line"]
    assert f"Prestatie {line.referentie}" in page and "0611" in page
    assert "Afspraak aanmaken en naar particulier" in page
    resp = client.post(f"/declareren/vervolg/regels/{line.id}/gecorrigeerd", follow_redirects=True)
    assert "gaat mee in de volgende declaratie" in resp.get_data(as_text=True)
    assert svc.rejected_lines(db, "wmo_jw") == []


def test_the_plugins_own_screen_acts_through_the_core_and_comes_back(
    db, rejected, client, login_as
):
    login_as("backoffice")
    line = rejected["line"]
    page = client.get("/f/wmo_jw/afgewezen").get_data(as_text=True)
    assert line.referentie in page and "Naar particulier</button>" in page
    # no particulier legitimation yet: sent to the generic screen, where it can be made
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/particulier", data={"next": "/f/wmo_jw/afgewezen"}
    )
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/declareren/vervolg/wmo_jw#regel-{line.id}")
    # a next outside the portal is not followed
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/gecorrigeerd",
        data={"next": "//evil.example/x"},
    )
    assert resp.headers["Location"].endswith("/declareren/vervolg/wmo_jw")
    # the action took effect; the plugin's screen no longer lists the line
    page = client.get("/f/wmo_jw/afgewezen").get_data(as_text=True)
    assert "Er zijn geen afgewezen prestaties" in page
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/gecorrigeerd",
        data={"next": "/f/wmo_jw/afgewezen"},
    )
    assert resp.headers["Location"].endswith("/f/wmo_jw/afgewezen")
