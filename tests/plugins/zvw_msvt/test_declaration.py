"""Zvw care declared in AW319 through the core run: every unit, ELV and ZG, MSVT contract lines,
one file per insurer, period and EI code, references and credits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from plugins.zvw_msvt import declaration as declaring
from portal.formats import ei
from portal.models import Registration
from portal.models.registration import REG_APPROVED
from portal.services import declarations
from tests.plugins.zvw_msvt.conftest import BSN, MARCH, UZOVI
from tests.portal.invoices import builders as b

WEEK_11 = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]  # Mon-Wed of ISO week 11


def _prestaties(message):
    return ei.parse(declaring.AW319, bytes(message.payload))


def test_wijkverpleging_in_hours_becomes_one_aw319_428_per_insurer(db, hooks, world):
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11, 120)
    db.commit()

    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    db.commit()
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid, line.tarief_cents, line.bedrag_cents) == (
        6,
        "uur",
        7600,
        45600,
    )
    assert (line.begindatum, line.einddatum) == (WEEK_11[0], WEEK_11[-1])
    assert line.productcategorie == "065" and line.productcode == "1004"
    assert prepared.declaration.nummer.startswith("ZV202503-")
    assert line.referentie == f"{prepared.declaration.nummer}-1"

    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    db.commit()
    aw319 = _prestaties(message)
    head = aw319.header
    assert (head["0102"], head["0108"], head["0116"]) == ("428", UZOVI, prepared.declaration.nummer)
    (client,) = aw319.of_type("02")
    assert (client["0203"], client["0205"]) == (BSN, "123456789")
    (p,) = aw319.of_type("04")
    assert (p["0416"], p["0417"], p.int("0418"), p["0419"]) == ("065", "1004", 6, "04")
    assert (p.int("0425"), p.signed("0429"), p["0431"]) == (7600, 45600, line.referentie)
    assert message.geadresseerde_code == UZOVI


def test_partial_hours_are_declared_in_minutes_at_the_hourly_tariff(db, hooks, world):
    world.line(world.vp, 7200)
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11, 50)
    db.commit()
    (line,) = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration.lines
    assert (line.volume, line.eenheid, line.tarief_cents, line.bedrag_cents) == (
        150,
        "minuut",
        120,
        18000,
    )


def test_minutes_contract(db, hooks, world):
    world.line(world.vp, 127, eenheid="minuut", code="1001")
    world.indicatie(world.vp, volume=360, eenheid="minuut")
    world.care(world.vp, WEEK_11, 25)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid, line.bedrag_cents) == (75, "minuut", 75 * 127)
    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    (p,) = _prestaties(message).of_type("04")
    assert (p.int("0418"), p["0419"]) == (75, "01")


def test_daytime_unit_counts_days_with_care(db, hooks, world):
    world.line(world.vp, 9500, eenheid="dag", code="1010")
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, [*WEEK_11, WEEK_11[0]], 30)  # two visits on Monday: still one day
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid, line.bedrag_cents) == (3, "dag", 3 * 9500)
    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    (p,) = _prestaties(message).of_type("04")
    assert p["0419"] == "11"


def test_month_unit_is_one_prestatie_for_the_calendar_month(db, hooks, world):
    world.line(world.vp, 150000, eenheid="maand", code="1020")
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, [date(2025, 3, 4), date(2025, 3, 12), date(2025, 3, 25)], 60)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid, line.bedrag_cents) == (1, "maand", 150000)
    assert (line.begindatum, line.einddatum) == (date(2025, 3, 1), date(2025, 3, 31))
    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    (p,) = _prestaties(message).of_type("04")
    assert p["0419"] == "31"


def test_year_unit(db, hooks, world):
    world.line(world.vp, 900000, eenheid="jaar", code="1030")
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11, 60)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid, line.begindatum, line.einddatum) == (
        1, "jaar", date(2025, 1, 1), date(2025, 12, 31),
    )  # fmt: skip
    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    (p,) = _prestaties(message).of_type("04")
    assert p["0419"] == "41"


def test_elv_is_list_068_in_etmalen(db, hooks, world):
    elv = b.product(db, "ELV-HOOG", ["zvw_msvt"], eenheid="etmaal")
    world.line(elv, 28500, lijst="068", code="ELV02", eenheid="etmaal")
    world.indicatie(elv, volume=None, eenheid=None, frequentie=None, soort="elv_hoog")
    for d in WEEK_11:
        db.add(Registration(client_id=world.client.id, product_id=elv.id, employee_id=world.emp.id,
                            datum=d, aantal=1, status=REG_APPROVED))  # fmt: skip
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid, line.productcategorie) == (3, "etmaal", "068")
    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    aw319 = _prestaties(message)
    assert aw319.header["0102"] == "428"
    (p,) = aw319.of_type("04")
    assert (p["0416"], p["0417"], p["0419"]) == ("068", "ELV02", "14")


def test_zg_goes_in_its_own_aw319_430(db, hooks, world):
    zg = b.product(db, "ZG-UUR", ["zvw_msvt"])
    world.line(world.vp, 7600)
    world.line(zg, 8000, lijst="066", code="ZG001")
    world.indicatie(world.vp, volume=6)
    world.indicatie(zg, volume=2, soort="zg")
    world.care(world.vp, WEEK_11[:1], 60)
    world.care(zg, WEEK_11[1:2], 60)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    db.commit()
    assert sorted(d.groep for d in prepared.declarations) == ["428", "430"]
    codes = {}
    for decl in prepared.declarations:
        (message,) = declarations.submit(db, decl.id, hooks)
        aw319 = _prestaties(message)
        codes[aw319.header["0102"]] = [(p["0416"], p["0417"]) for p in aw319.of_type("04")]
    assert codes == {"428": [("065", "1004")], "430": [("066", "ZG001")]}


def test_msvt_on_contract_is_declared_like_any_prestatie(db, hooks, world):
    msvt = b.product(db, "MSVT-PIJN", ["zvw_msvt"])
    world.line(msvt, 9100, code="19001")
    world.indicatie(msvt, volume=3)
    world.care(msvt, WEEK_11[:2], 60)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (message,) = declarations.submit(db, prepared.declaration.id, hooks)
    (p,) = _prestaties(message).of_type("04")
    assert (p["0416"], p["0417"], p.int("0418")) == ("065", "19001", 2)


def test_a_kind_the_contract_does_not_cover_is_skipped_with_the_reason(db, hooks, world):
    world.line(world.vp, 7600)  # only list 065
    world.indicatie(world.vp, volume=None, eenheid=None, frequentie=None, soort="elv_laag")
    world.care(world.vp, WEEK_11[:1], 60)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    assert prepared.declaration is None
    (issue,) = prepared.skipped
    assert "lijst 065" in issue.message and "lijst 068" in issue.message


def test_each_insurer_gets_its_own_file(db, hooks, world):
    other = b.client(db, "111222333", "Pietersen", geslacht="1")
    world.line(world.vp, 7600)
    world.line(world.vp, 7400, fin=world.zv2, code="V1")
    world.indicatie(world.vp, volume=6)
    world.indicatie(world.vp, client=other, fin=world.zv2, volume=6)
    world.care(world.vp, WEEK_11[:1], 60)
    world.care(world.vp, WEEK_11[:1], 60, client=other)
    db.commit()
    one = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration
    two = declarations.prepare(db, world.zv2, MARCH, hooks=hooks).declaration
    db.commit()
    assert [ln.client_id for ln in one.lines] == [world.client.id]
    assert [ln.client_id for ln in two.lines] == [other.id]
    assert one.nummer != two.nummer
    m1 = declarations.submit(db, one.id, hooks)[0]
    m2 = declarations.submit(db, two.id, hooks)[0]
    assert (_prestaties(m1).header["0108"], _prestaties(m2).header["0108"]) == (UZOVI, "7029")


def test_credit_has_a_new_reference_pointing_at_the_debit(db, hooks, world):
    from plugins.zvw_msvt import financier as insurer

    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11[:1], 60)
    db.commit()
    decl = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration
    declarations.submit(db, decl.id, hooks)
    db.commit()
    (line,) = decl.lines
    line.status = "toegekend"
    db.commit()
    (credit,) = declarations.credit(db, [line.id], hooks)
    db.commit()
    assert credit.referentie.startswith("ZC") and len(credit.referentie) <= 20
    april = declarations.prepare(db, world.zv, date(2025, 4, 1), hooks=hooks).declaration
    (m,) = declarations.submit(db, april.id, hooks)
    (p,) = _prestaties(m).of_type("04")
    assert (p["0431"], p["0432"], p.signed("0429"), p["0430"]) == (
        credit.referentie, line.referentie, -7600, "C",
    )  # fmt: skip
    assert insurer  # the reply side is tested in test_insurer.py


def test_references_stay_unique_over_many_runs(db, hooks, world):
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11[:1], 60)
    db.commit()
    first = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration
    declarations.submit(db, first.id, hooks)
    db.commit()
    world.care(world.vp, [date(2025, 3, 17)], 60)
    db.commit()
    second = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration
    assert second.nummer != first.nummer
    assert {ln.referentie for ln in second.lines}.isdisjoint({ln.referentie for ln in first.lines})
    assert select  # keep the import honest


def test_a_unit_only_wijkverpleging_has_is_refused_on_an_elv_contract_line(
    db, hooks, world, client, login_as
):
    from portal.domain import Role

    elv = b.product(db, "ELV-LAAG", ["zvw_msvt"], eenheid="etmaal")
    world.line(elv, 25000, lijst="068", code="ELV01", eenheid="maand")
    world.indicatie(elv, volume=None, eenheid=None, frequentie=None, soort="elv_laag")
    db.add(Registration(client_id=world.client.id, product_id=elv.id, employee_id=world.emp.id,
                        datum=WEEK_11[0], aantal=1, status=REG_APPROVED))  # fmt: skip
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    assert prepared.declaration is None
    (issue,) = prepared.skipped
    assert "eenheid maand bestaat alleen voor wijkverpleging (lijst 065)" in issue.message
    login_as(Role.BACKOFFICE)
    html = client.get("/f/zvw_msvt/contracten").get_data(as_text=True)
    assert "Kan niet worden gedeclareerd" in html and "alleen voor wijkverpleging" in html


def test_a_prestatiecode_longer_than_five_is_refused_before_building(db, hooks, world):
    world.line(world.vp, 7600, code="VP12345")
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11[:1], 60)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    assert prepared.declaration is None
    (issue,) = prepared.skipped
    assert "prestatiecode 'VP12345' past niet in de AW319" in issue.message


def test_a_year_tariff_is_declared_once_per_year(db, hooks, world):
    world.line(world.vp, 900000, eenheid="jaar", code="1030")
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, WEEK_11, 60)
    db.commit()
    first = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration
    declarations.submit(db, first.id, hooks)
    db.commit()
    world.care(world.vp, [date(2025, 4, 8)], 60)
    db.commit()
    april = declarations.prepare(db, world.zv, date(2025, 4, 1), hooks=hooks)
    assert april.declaration is None
    (issue,) = april.skipped
    assert "al gedeclareerde periodeprestatie" in issue.message
    assert first.lines[0].referentie in issue.message
