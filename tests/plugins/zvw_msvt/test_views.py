"""The screens: the worklist, an insurer's month at a glance, the client's Zvw section and the
contracts with the MSVT route — as a back-office user sees them."""

from __future__ import annotations

from datetime import date

from portal.domain import Role
from portal.services import declarations
from tests.plugins.zvw_msvt.conftest import TODAY, UZOVI
from tests.portal.invoices import builders as b


def test_worklist_explains_the_rejection_and_what_to_do(client, login_as, answered):
    login_as(Role.BACKOFFICE)
    html = client.get("/f/zvw_msvt/").get_data(as_text=True)
    assert "Pietersen" in html and "0402" in html
    assert "niet bij deze zorgverzekeraar verzekerd" in html
    assert "zet de zorg over naar particulier" in html


def test_insurer_month_at_a_glance(client, login_as, db, world, answered):
    login_as(Role.BACKOFFICE)
    # one more week of care, approved, not declared yet
    world.care(world.vp, [date(2025, 3, 24)], 120)
    db.commit()
    html = client.get(f"/f/zvw_msvt/verzekeraars/{world.zv.id}?maand=2025-03").get_data(
        as_text=True
    )
    assert "Zorgverzekeraar Midden (3311)" in html
    assert '<dd id="gedeclareerd">€ 304,00</dd>' in html  # 4 hours of 76,00
    assert '<dd id="toegekend">€ 228,00</dd>' in html
    assert '<dd id="afgewezen">€ 76,00</dd>' in html
    # still to declare: the new week (2 hours) and the rejected hour, released to be corrected
    # and declared again
    assert "€ 228,00 (2 prestaties)" in html
    assert answered["decl"].nummer in html


def test_insurer_month_shows_niet_gedekt(client, login_as, db, world):
    login_as(Role.BACKOFFICE)
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=1)
    world.care(world.vp, [date(2025, 3, 10), date(2025, 3, 11)], 60)
    db.commit()
    html = client.get(f"/f/zvw_msvt/verzekeraars/{world.zv.id}?maand=2025-03").get_data(
        as_text=True
    )
    assert 'id="niet-gedekt"' in html and "1:00 is niet gedekt" in html
    assert "€ 0,00 (0 prestaties)" in html


def test_client_section(client, login_as, db, world, answered):
    login_as(Role.BACKOFFICE)
    other = answered["other"]
    html = client.get(f"/f/zvw_msvt/clienten/{other.id}").get_data(as_text=True)
    assert "Wijkverpleging — Zorgverzekeraar Midden (3311)" in html
    assert "W. de Vries" in html and "123456789" in html
    assert "0402" in html and "Afgewezen" in html and "Toegekend" in html


def test_contracts_say_which_way_msvt_goes(client, login_as, db, world):
    login_as(Role.BACKOFFICE)
    msvt = b.product(db, "MSVT-PIJN", ["zvw_msvt"])
    world.line(world.vp, 7600)
    world.line(msvt, 9100, code="19001")
    world.line(world.vp, 7400, fin=world.zv2, code="V1")
    db.commit()
    html = client.get("/f/zvw_msvt/contracten").get_data(as_text=True)
    midden = html.split(f'id="verzekeraar-{UZOVI}"')[1].split("</section>")[0]
    noord = html.split('id="verzekeraar-7029"')[1].split("</section>")[0]
    assert "MSVT via het contract met deze zorgverzekeraar (prestatiecodes 19001)" in midden
    assert "Prestatiecodelijst wijkverpleging" in midden and "04 uren" in midden
    assert "het ziekenhuis declareert" in noord and "onderaanneming" in noord


def test_care_staff_do_not_see_the_zvw_screens(client, login_as, world, db):
    db.commit()
    login_as(Role.ZORGPROFESSIONAL)
    assert client.get("/f/zvw_msvt/").status_code == 403
    assert client.get(f"/f/zvw_msvt/verzekeraars/{world.zv.id}").status_code == 403


def test_start_page_counts_rejections(db, hooks, answered):
    counts = {c.key: c.count for c in hooks.action_counts(db, TODAY)}
    assert counts["zvw_msvt.afgewezen"] == 1
    assert declarations.count_rejected(db, "zvw_msvt") == 1


def test_a_client_not_insured_is_moved_to_particulier_and_invoiced_once(
    client, login_as, db, hooks, world, answered
):
    from portal.models import DeclarationLine
    from portal.services import invoicing

    login_as(Role.BACKOFFICE)
    b.contract_line(db, world.private, world.vp, 6200, afronding_minuten=0)
    db.commit()
    (line,) = declarations.rejected_lines(db, "zvw_msvt")
    html = client.get("/f/zvw_msvt/").get_data(as_text=True)
    assert f"/declareren/vervolg/regels/{line.id}/particulier" in html
    resp = client.post(
        f"/declareren/vervolg/regels/{line.id}/particulier",
        data={"aanmaken": "1", "next": "/f/zvw_msvt/"},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/f/zvw_msvt/")
    # a double click changes nothing
    client.post(
        f"/declareren/vervolg/regels/{line.id}/particulier",
        data={"aanmaken": "1", "next": "/f/zvw_msvt/"},
    )
    db.expire_all()
    assert declarations.rejected_lines(db, "zvw_msvt") == []
    assert "Er zijn geen afgewezen prestaties" in client.get("/f/zvw_msvt/").get_data(as_text=True)
    # the particulier run invoices the hour at the private tariff; the next Zvw run does not
    # declare it again
    run = invoicing.create_run(
        db, hooks, "particulier", date(2025, 3, 1), date(2025, 3, 31), today=TODAY,
        enqueue_render=False,
    )  # fmt: skip
    (invoice,) = run.invoices
    assert invoice.totaal_cents == 6200
    again = declarations.prepare(db, world.zv, date(2025, 3, 1), hooks=hooks)
    assert again.declaration is None or all(
        ln.client_id != line.client_id or ln.begindatum != line.begindatum
        for ln in again.declaration.lines
    )
    assert db.get(DeclarationLine, line.id).status == "afgewezen"
