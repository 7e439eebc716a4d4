"""Follow-ups of a rejected line with a stacking financing (issue 10, step 7).

Week 5 of 2019 (DESIGN §6 rule 8): 2 hours Wlz and 2 hours particulier per week, 4 hours
delivered. The Wlz part is declared in Vektis EI by the test plugin (``tests/ei_plugin.py``), the
zorgkantoor rejects it in a real AW320, and the line's care is moved to particulier: the next
particulier invoice run invoices it once, the Wlz run never declares it again, parallel move
requests make one move.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.domain import Role
from portal.models import AuditEvent, DeclarationLine, ExportPart, Legitimation
from portal.plugins import Hooks, get_plugin_manager
from portal.services import declarations, followups, invoicing, statuses, worklists
from tests import ei_plugin
from tests.concurrency import parallel_posts
from tests.conftest import login
from tests.portal.invoices import builders as b

JAN = date(2019, 1, 1)
FEB = date(2019, 2, 1)
MAR = date(2019, 3, 1)
TODAY = date(2019, 5, 15)


@pytest.fixture
def hooks(app):
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ei_plugin, name="tests.ei_plugin")
    return Hooks(pm, app.config.get("PLUGIN_SETTINGS", {}))


@pytest.fixture
def week5(db):
    b.organisation(db)
    emp = b.employee(db)
    prod = b.product(db, "PV-UUR", ["wlz", "particulier"])
    b.stack(db, prod)
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code="5503")
    private = b.financier(db, "particulier", "client", "Cliënt zelf")
    b.contract_line(db, zk, prod, 5880, afronding_minuten=0, productcode="H126")
    # the organisation's particulier contract: its tariff for this product since 2018
    b.contract_line(db, private, prod, 6200, afronding_minuten=0).begindatum = date(2018, 1, 1)
    c = b.client(db, "123456782", "Bakker", email="bakker@example.nl")
    wlz = b.legitimation(db, c, zk, "wlz", prod, priority=1, volume=2, begindatum=date(2018, 1, 1))
    prive = b.legitimation(
        db, c, private, "particulier", prod, priority=2, volume=2, tarief_cents=6200,
        begindatum=date(2018, 1, 1),
    )  # fmt: skip
    days = [date(2019, 1, 30), date(2019, 1, 31), date(2019, 2, 1), date(2019, 2, 2)]
    regs = [b.register(db, c, prod, emp, d, 60) for d in days]
    db.commit()
    return {"zk": zk, "client": c, "wlz": wlz, "prive": prive, "regs": regs, "product": prod}


def _rejected_line(db, hooks, zk):
    """January's Wlz run, sent, and the zorgkantoor's AW320 rejecting its one line (0611)."""
    decl = declarations.prepare(db, zk, JAN, hooks=hooks).declaration
    db.commit()
    (sent,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    (line,) = decl.lines
    payload = ei_plugin.reply(bytes(sent.payload), {line.referentie: "0611"})
    declarations.apply_outcome(db, ei_plugin.read_aw320(payload))
    db.commit()
    db.refresh(line)
    assert line.status == "afgewezen" and line.retourcodes == ["0611"]
    return line


def _invoice(db, hooks, start, end):
    return invoicing.create_run(
        db, hooks, "particulier", start, end, today=TODAY, enqueue_render=False
    )


def _moved_rows(db):
    return db.scalars(select(ExportPart).where(ExportPart.kind == "verplaatst")).all()


def test_rejected_wlz_care_moved_to_particulier_is_invoiced_once(db, hooks, week5):
    zk, regs = week5["zk"], week5["regs"]
    line = _rejected_line(db, hooks, zk)
    # February's particulier part of week 5 is invoiced as usual (2 hours)
    feb = _invoice(db, hooks, FEB, date(2019, 2, 28))
    assert feb.invoices[0].totaal_cents == 2 * 6200

    # the line needs action; the screen explains it and offers the client's particulier
    # legitimation
    (row,) = followups.open_lines(db, hooks, "wlz")
    assert row.line.id == line.id and [c for c, _m in row.codes] == ["0611"]
    assert (row.minutes, row.n_parts) == (120, 2) and row.can_move
    assert row.target.legitimation.id == week5["prive"].id

    moved = followups.move_to_particulier(db, line.id, hooks, user_id=None)
    db.commit()
    assert (moved.parts, moved.minutes, moved.created) == (2, 120, False)
    db.refresh(line)
    assert line.vervolg == "particulier"
    assert declarations.rejected_lines(db, "wlz") == []  # no longer "vraagt actie"
    assert declarations.count_rejected(db) == 0
    # nor on the worklist and the start page, which count the same lines
    assert db.scalar(select(func.count(DeclarationLine.id)).where(*worklists.open_rejected())) == 0
    # a connected system sees it too (the API's status read-model)
    (status,) = statuses.line_statuses(db, [line.id])
    assert (status.status, status.vervolg) == ("afgewezen", "particulier")
    assert status.vervolg_omschrijving == "Naar particulier verplaatst"
    # a double click: refused, nothing moved twice
    with pytest.raises(followups.FollowupError, match="al naar particulier"):
        followups.move_to_particulier(db, line.id, hooks)
    db.rollback()
    assert len(_moved_rows(db)) == 2

    # the Wlz run never declares the moved care again
    assert declarations.prepare(db, zk, MAR, hooks=hooks).declaration is None
    db.rollback()

    # the next particulier invoice run (March) invoices it: 2 hours of 30/31 January
    march = _invoice(db, hooks, MAR, date(2019, 3, 31))
    (inv,) = march.invoices
    assert inv.client_id == week5["client"].id
    assert sorted((ln.datum, ln.minuten) for ln in inv.lines) == [
        (date(2019, 1, 30), 60),
        (date(2019, 1, 31), 60),
    ]
    assert inv.totaal_cents == 2 * 6200
    assert {p.invoice_line_id for p in _moved_rows(db)} == {ln.id for ln in inv.lines}
    # and never again, in no later run
    with pytest.raises(invoicing.InvoiceError, match="niets"):
        _invoice(db, hooks, date(2019, 4, 1), date(2019, 4, 30))
    db.rollback()
    # every registration's part is counted once: Jan regs moved (their Wlz key stays blocked),
    # Feb regs invoiced as particulier
    active = db.execute(
        select(ExportPart.registration_id, ExportPart.kind).where(ExportPart.active.is_(True))
    ).all()
    assert sorted(active) == sorted(
        [(r.id, "verplaatst") for r in regs[:2]] + [(r.id, "factuur") for r in regs[2:]]
    )
    # audited
    assert (
        db.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "declaratie.vervolg.particulier",
                AuditEvent.object_id == str(line.id),
            )
        )
        == 1
    )


def test_a_creditnota_of_moved_care_leaves_it_particulier_to_invoice_again(db, hooks, week5):
    line = _rejected_line(db, hooks, week5["zk"])
    followups.move_to_particulier(db, line.id, hooks)
    db.commit()
    (inv,) = _invoice(db, hooks, FEB, date(2019, 2, 28)).invoices
    moved_total = sum(ln.bedrag_cents for ln in inv.lines if ln.datum < FEB)
    assert moved_total == 2 * 6200 and inv.totaal_cents == 4 * 6200
    invoicing.credit_invoice(db, hooks, inv.id, reden="Adres fout", enqueue_render=False)
    # still moved (active, blocking Wlz), no longer invoiced
    rows = _moved_rows(db)
    assert [(r.active, r.invoice_line_id) for r in rows] == [(True, None)] * 2
    assert declarations.prepare(db, week5["zk"], MAR, hooks=hooks).declaration is None
    db.rollback()
    (again,) = _invoice(db, hooks, MAR, date(2019, 3, 31)).invoices
    assert again.totaal_cents == 2 * 6200


def test_corrected_line_is_declared_again_by_the_next_run(db, hooks, week5):
    zk = week5["zk"]
    line = _rejected_line(db, hooks, zk)
    followups.mark_corrected(db, line.id, user_id=None)
    db.commit()
    assert declarations.rejected_lines(db, "wlz") == []
    followups.mark_corrected(db, line.id)  # a second click changes nothing
    # the parts were released on rejection: the next run takes the care again
    redo = declarations.prepare(db, zk, FEB, hooks=hooks).declaration
    db.commit()
    (new_line,) = redo.lines
    assert new_line.volume == 120 and new_line.begindatum == date(2019, 1, 28)
    # moving it now is refused by the database: its care is declared again
    db.refresh(line)
    line.vervolg = None  # as if nobody had clicked "gecorrigeerd"
    db.commit()
    with pytest.raises(followups.FollowupError, match="opnieuw gedeclareerd"):
        followups.move_to_particulier(db, line.id, hooks)
    db.rollback()
    assert _moved_rows(db) == []


def test_redeclare_at_once_makes_a_concept_with_the_care(db, hooks, week5):
    zk = week5["zk"]
    line = _rejected_line(db, hooks, zk)
    prepared = followups.redeclare_now(db, line.id, hooks, MAR)
    db.commit()
    (new_line,) = prepared.declaration.lines
    assert prepared.declaration.status == "concept"
    assert (new_line.volume, new_line.begindatum) == (120, date(2019, 1, 28))
    db.refresh(line)
    assert line.vervolg == "opnieuw"


def test_without_particulier_legitimation_offer_from_contract_or_refuse(db, hooks, week5):
    line = _rejected_line(db, hooks, week5["zk"])
    prive = week5["prive"]
    prive.einddatum = date(2018, 12, 31)  # ended before the care
    db.commit()
    with pytest.raises(followups.NeedsLegitimation) as exc:
        followups.move_to_particulier(db, line.id, hooks)
    assert "particuliere afspraak" in str(exc.value) and exc.value.offer.tarief_cents == 6200
    db.rollback()
    moved = followups.move_to_particulier(db, line.id, hooks, create=True)
    db.commit()
    leg = moved.legitimation
    assert moved.created and leg.financing == "particulier" and leg.tarief_cents == 6200
    assert (leg.begindatum, leg.einddatum) == (date(2019, 1, 30), date(2019, 1, 31))
    assert [p.id for p in leg.products] == [week5["product"].id]
    (inv,) = _invoice(db, hooks, FEB, date(2019, 2, 28)).invoices
    assert sum(ln.minuten for ln in inv.lines if ln.legitimation_id == leg.id) == 120


def test_without_particulier_contract_the_move_is_refused_in_dutch(db, hooks, week5):
    line = _rejected_line(db, hooks, week5["zk"])
    db.delete(week5["prive"])
    db.commit()
    from portal.models import ContractLine

    for cl in db.scalars(select(ContractLine)).all():
        if cl.contract.financier.financing == "particulier":
            db.delete(cl)
    db.commit()
    with pytest.raises(followups.FollowupError, match="geen particulier contract"):
        followups.move_to_particulier(db, line.id, hooks, create=True)
    db.rollback()
    assert _moved_rows(db) == []
    assert db.scalar(select(func.count(Legitimation.id))) == 1


def test_parallel_move_requests_make_one_move(app, db, hooks, week5, make_user):
    line = _rejected_line(db, hooks, week5["zk"])
    user = make_user(Role.BACKOFFICE)
    results = parallel_posts(
        app, user.email, 8, f"/declareren/vervolg/regels/{line.id}/particulier", {}
    )
    pages = [page for _status, page in results]
    assert all(status == 200 for status, _page in results)
    assert sum("is naar particulier verplaatst" in p for p in pages) == 1, pages
    assert (
        sum(
            "al naar particulier" in p or "al verplaatst of opnieuw gedeclareerd" in p
            for p in pages
        )
        == 7
    )
    db.expire_all()
    assert len(_moved_rows(db)) == 2
    (inv,) = _invoice(db, hooks, FEB, date(2019, 2, 28)).invoices
    assert inv.totaal_cents == 4 * 6200  # the Feb part plus the moved part, each once


def test_the_screen_shows_the_line_and_moves_it(app, db, hooks, week5, client, login_as, make_user):
    line = _rejected_line(db, hooks, week5["zk"])
    # a role that may look but not declare sees the line and cannot act on it
    reader = app.test_client()
    assert login(reader, make_user(Role.ALLEEN_LEZEN).email).status_code == 302
    page = reader.get("/declareren/vervolg/wlz").get_data(as_text=True)
    assert f"Prestatie {line.referentie}" in page and "Naar particulier</button>" not in page
    assert reader.post(f"/declareren/vervolg/regels/{line.id}/particulier").status_code == 403
    assert _moved_rows(db) == []

    login_as(Role.BACKOFFICE)
    page = client.get("/declareren/vervolg/wlz").get_data(as_text=True)
    assert f"Prestatie {line.referentie}" in page and "0611" in page and "Bakker" in page
    assert "Naar particulier</button>" in page
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/particulier", data={}, follow_redirects=True
    )
    page = resp.get_data(as_text=True)
    assert "is naar particulier verplaatst" in page
    assert "geen afgewezen prestaties die nog actie vragen" in page
    assert "Naar particulier verplaatst" in page  # under "Afgehandeld"
    # the declaration page says what was done with the line
    page = client.get(f"/declareren/{line.declaration_id}").get_data(as_text=True)
    assert "Naar particulier verplaatst" in page


def test_a_registration_split_by_stacking_moves_its_wlz_part_next_to_its_particulier_part(
    db, hooks, week5
):
    """One registration of 3 hours in a week with 2 hours Wlz: 2 h on Wlz, 1 h particulier. The
    Wlz line is rejected and moved: the particulier invoice has the 1 h of the stack and the 2 h
    moved, each once, although both are the same registration on the same legitimation."""
    zk, emp = week5["zk"], week5["regs"][0].employee_id
    from portal.models import Registration

    reg = Registration(
        client_id=week5["client"].id,
        product_id=week5["product"].id,
        employee_id=emp,
        datum=date(2019, 1, 15),
        duur_minuten=180,
        status="gefiatteerd",
    )
    db.add(reg)
    db.commit()
    decl = declarations.prepare(db, zk, JAN, hooks=hooks).declaration
    db.commit()
    split = next(ln for ln in decl.lines if ln.begindatum == date(2019, 1, 14))
    assert split.volume == 120
    (sent,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    payload = ei_plugin.reply(bytes(sent.payload), {split.referentie: "0611"})
    declarations.apply_outcome(db, ei_plugin.read_aw320(payload))
    db.commit()
    followups.move_to_particulier(db, split.id, hooks)
    db.commit()
    run = _invoice(db, hooks, JAN, date(2019, 1, 31))
    (inv,) = run.invoices
    mine = sorted(ln.minuten for ln in inv.lines if ln.datum == date(2019, 1, 15))
    assert mine == [60, 120]  # the stack's particulier hour, and the moved Wlz hours
    rows = db.execute(
        select(ExportPart.kind, ExportPart.legitimation_id, ExportPart.minutes).where(
            ExportPart.registration_id == reg.id, ExportPart.active.is_(True)
        )
    ).all()
    assert sorted(rows) == sorted(
        [("factuur", week5["prive"].id, 60), ("verplaatst", week5["wlz"].id, 120)]
    )
    with pytest.raises(invoicing.InvoiceError):  # and neither again
        _invoice(db, hooks, JAN, date(2019, 1, 31))
    db.rollback()


@pytest.mark.parametrize(
    ("rounding", "rejected", "expected"),
    [
        (0, 60, [("H126", 60)]),
        (0, 90, [("H127", 90)]),
        # rounded to 30 minutes: 50 -> 60 and 80 -> 90; the week's 20 rounding minutes were
        # declared on the last day's line (VP), so they go again only with that line
        (30, 50, [("H126", 50)]),
        (30, 100, [("H127", 100)]),
    ],
)
def test_correcting_one_of_two_lines_of_a_week_declares_only_that_line_again(
    db, hooks, rounding, rejected, expected
):
    """A stacked week with two products is two lines; the zorgkantoor rejects one. The next run
    declares that line's care again (with the week's rounding only if that line held it), and
    nothing of the other line (still awarded) twice."""
    b.organisation(db)
    emp = b.employee(db)
    pv = b.product(db, "PV-UUR", ["wlz", "particulier"])
    vp = b.product(db, "VP-UUR", ["wlz", "particulier"])
    b.stack(db, pv)
    b.stack(db, vp)
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code="5503")
    for prod, code in ((pv, "H126"), (vp, "H127")):
        cl = b.contract_line(db, zk, prod, 6000, afronding_minuten=rounding, productcode=code)
        cl.begindatum = cl.contract.begindatum = date(2018, 1, 1)
    c = b.client(db, "123456782", "Bakker")
    wlz = b.legitimation(db, c, zk, "wlz", pv, volume=10, begindatum=date(2018, 1, 1))
    wlz.products = [pv, vp]
    minutes = (60, 90) if not rounding else (50, 80)
    b.register(db, c, pv, emp, date(2019, 1, 8), minutes[0])
    b.register(db, c, vp, emp, date(2019, 1, 9), minutes[1])
    db.commit()
    decl = declarations.prepare(db, zk, JAN, hooks=hooks).declaration
    db.commit()
    assert sum(ln.volume for ln in decl.lines) == 150
    (sent,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    line = next(ln for ln in decl.lines if ln.volume == rejected)
    payload = ei_plugin.reply(bytes(sent.payload), {line.referentie: "0611"})
    declarations.apply_outcome(db, ei_plugin.read_aw320(payload))
    db.commit()
    followups.mark_corrected(db, line.id)
    db.commit()
    again = declarations.prepare(db, zk, FEB, hooks=hooks).declaration
    db.commit()
    assert [(ln.productcode, ln.volume) for ln in again.lines] == expected


def test_a_rejected_credit_is_credited_again(db, hooks, week5, client, login_as):
    zk = week5["zk"]
    decl = declarations.prepare(db, zk, JAN, hooks=hooks).declaration
    db.commit()
    (sent,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    declarations.apply_outcome(db, ei_plugin.read_aw320(ei_plugin.reply(bytes(sent.payload))))
    db.commit()
    (line,) = decl.lines
    (credit,) = declarations.credit(db, [line.id], hooks)
    db.commit()
    march = declarations.prepare(db, zk, MAR, hooks=hooks).declaration
    db.commit()
    (credit_msg,) = declarations.submit(db, march.id, hooks)
    db.commit()
    payload = ei_plugin.reply(bytes(credit_msg.payload), {credit.referentie: "0611"})
    declarations.apply_outcome(db, ei_plugin.read_aw320(payload))
    db.commit()
    db.refresh(credit)
    assert credit.status == "afgewezen"
    # the debet follow-ups do not apply to it; the screen offers to credit again
    with pytest.raises(followups.FollowupError, match="creditregel"):
        followups.move_to_particulier(db, credit.id, hooks)
    db.rollback()
    login_as(Role.BACKOFFICE)
    page = client.get("/declareren/vervolg/wlz").get_data(as_text=True)
    assert f"Prestatie {credit.referentie}" in page and "Opnieuw crediteren" in page
    again = followups.credit_again(db, credit.id, hooks)
    db.commit()
    assert again.credit_of_id == line.id and again.referentie != credit.referentie
    assert declarations.rejected_lines(db, "wlz") == []
    with pytest.raises(followups.FollowupError, match="al opnieuw gecrediteerd"):
        followups.credit_again(db, credit.id, hooks)
    db.rollback()
    april = declarations.prepare(db, zk, date(2019, 4, 1), hooks=hooks).declaration
    db.commit()
    assert [ln.id for ln in april.lines] == [again.id]
    (msg,) = declarations.submit(db, april.id, hooks)
    db.commit()
    declarations.apply_outcome(db, ei_plugin.read_aw320(ei_plugin.reply(bytes(msg.payload))))
    db.commit()
    db.refresh(line)
    assert line.status == "gecrediteerd"


def test_a_move_not_invoiced_yet_can_be_taken_back(db, hooks, week5, client, login_as):
    zk = week5["zk"]
    line = _rejected_line(db, hooks, zk)
    followups.move_to_particulier(db, line.id, hooks)
    db.commit()
    login_as(Role.BACKOFFICE)
    page = client.get("/declareren/vervolg/wlz").get_data(as_text=True)
    assert "Terugzetten" in page
    resp = client.post(f"/declareren/vervolg/regels/{line.id}/particulier-terug")
    assert resp.status_code == 303
    db.expire_all()
    assert [r.active for r in _moved_rows(db)] == [False, False]
    assert [ln.id for ln in declarations.rejected_lines(db, "wlz")] == [line.id]  # needs action
    # the care is Wlz's again: the next run declares it, the particulier run has nothing of it
    again = declarations.prepare(db, zk, FEB, hooks=hooks).declaration
    db.commit()
    assert [ln.volume for ln in again.lines] == [120]
    (inv,) = _invoice(db, hooks, FEB, date(2019, 2, 28)).invoices
    assert all(ln.datum >= FEB for ln in inv.lines)


def test_an_invoiced_move_cannot_be_taken_back(db, hooks, week5):
    line = _rejected_line(db, hooks, week5["zk"])
    followups.move_to_particulier(db, line.id, hooks)
    db.commit()
    _invoice(db, hooks, FEB, date(2019, 2, 28))
    with pytest.raises(followups.FollowupError, match="al particulier gefactureerd"):
        followups.undo_move(db, line.id)
    db.rollback()
    assert [r.active for r in _moved_rows(db)] == [True, True]
