"""AW319 out through the core's declaration run, AW320 back, with the zorgkantoor of the stand-in.

Week 5 of 2019 runs Monday 28 January to Sunday 3 February (DESIGN §6, the week trap): a client
with 2 hours PV per week from the zorgkantoor (AW33, functie 31, klasse K1) and 2 hours private
care per week gets 4 hours, 2 before and 2 after 1 February.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.wlz import chain, financier
from plugins.wlz import declaration as d
from plugins.wlz import messages as msgs
from portal.formats import ei
from portal.models import DeclarationLine, ExportPart, Legitimation
from portal.services import declarations
from tests.plugins.wlz.factories import ZK, persoon
from tests.portal.invoices import builders as b

JAN, FEB = date(2019, 1, 1), date(2019, 2, 1)
TODAY = date(2019, 3, 15)
AGB = "73730001"  # the builders' organisation
BESLUIT = "300012345"


@pytest.fixture
def settings(tmp_path):
    return {"wlz": {"zorgkantoor_db": str(tmp_path / "zk.db")}}


@pytest.fixture
def week5(db, hooks, settings):
    b.organisation(db)
    emp = b.employee(db)
    prod = b.product(db, "PV-UUR", ["wlz", "particulier"])
    b.stack(db, prod)
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code=ZK)
    private = b.financier(db, "particulier", "client", "Cliënt zelf")
    line = b.contract_line(db, zk, prod, 5880, productcategorie="31", productcode="H126")
    line.begindatum = line.contract.begindatum = date(2018, 1, 1)
    b.contract_line(db, private, prod, 6200, afronding_minuten=0)
    store = financier.store_for(settings)
    store.reset()
    store.set_tarief(ZK, "H126", 5880)
    aw33 = financier.issue_aw33(
        settings,
        ZK,
        AGB,
        persoon("123456782", "Bakker"),
        msgs.Indicatie(
            BESLUIT,
            date(2018, 12, 1),
            date(2019, 1, 1),
            toewijzingen=[msgs.Toewijzing("functie", "31", AGB, ZK, date(2019, 1, 1), klasse="K1")],
        ),
        today=date(2019, 1, 2),
    )
    outcome = chain.process(db, aw33.payload, today=date(2019, 1, 2))
    assert len(outcome.client_ids) == 1
    wlz = db.scalar(select(Legitimation).where(Legitimation.financing == "wlz"))
    assert (wlz.volume, wlz.eenheid) == (2, "uur") and [p.code for p in wlz.products] == ["PV-UUR"]
    c = wlz.client
    b.legitimation(
        db, c, private, "particulier", prod, priority=2, volume=2, tarief_cents=6200,
        begindatum=date(2018, 1, 1),
    )  # fmt: skip
    days = [date(2019, 1, 30), date(2019, 1, 31), date(2019, 2, 1), date(2019, 2, 2)]
    regs = [b.register(db, c, prod, emp, day, 60) for day in days]
    db.commit()
    return {"zk": zk, "client": c, "wlz": wlz, "regs": regs, "prod": prod, "emp": emp}


def _answer(db, sent, settings):
    drafts = financier.reply(bytes(sent.payload), settings, today=TODAY)
    return drafts, declarations.apply_outcome(db, d.read_aw320(drafts[0].payload))


def test_week_5_aw319_from_the_aw33_and_awarded(db, hooks, week5, settings):
    zk = week5["zk"]
    jan = declarations.prepare(db, zk, JAN, hooks=hooks)
    db.commit()
    (line,) = jan.declaration.lines
    # Wlz first: the 2 hours delivered first (30 and 31 January); the rest is particulier's
    assert (line.begindatum, line.einddatum) == (date(2019, 1, 30), date(2019, 1, 31))
    assert (line.volume, line.eenheid, line.bedrag_cents) == (2, "uur", 2 * 5880)
    assert jan.declaration.nummer.startswith(f"{ZK}1901") and len(jan.declaration.nummer) == 12
    (sent,) = declarations.submit(db, jan.declaration.id, hooks)
    db.commit()
    aw319 = ei.parse(d.AW319, bytes(sent.payload))
    assert aw319.header["0102"] == "187"
    (client,) = aw319.of_type("02")
    (p,) = aw319.of_type("04")
    assert (client["0224"], client["0225"]) == (ZK, "123456782")
    assert (p["0410"], p["0411"], p["0412"], p["0413"]) == ("300012345", "300012345", "31", "000")
    assert (p["0416"], p["0417"], p.int("0418"), p["0419"]) == ("055", "H126", 2, "04")
    assert p["0431"] == line.referentie
    assert aw319.trailer.int("9904") == 1 and aw319.trailer.signed("9907") == 2 * 5880
    # February: week 5 is not declared again
    assert declarations.prepare(db, zk, FEB, hooks=hooks).declaration is None
    _drafts, _outcome = _answer(db, sent, settings)
    db.commit()
    db.refresh(line)
    assert line.status == "toegekend"


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda s: s.set_tarief(ZK, "H126", 5000), "0611", "niet volgens contract"),
        (
            lambda s: (
                s.reset(),
                s.save(
                    ZK,
                    AGB,
                    "123456782",
                    "300099999",
                    msgs.Toewijzing("functie", "31", AGB, ZK, date(2019, 1, 1)),
                ),
            ),
            "0551",
            "Geen (geldige) zorgtoewijzing",
        ),
        (
            lambda s: (
                s.reset(),
                s.save(
                    ZK,
                    AGB,
                    "123456782",
                    BESLUIT,
                    msgs.Toewijzing("functie", "31", AGB, ZK, date(2019, 1, 31)),
                ),
            ),
            "0553",
            "buiten de toegewezen periode",
        ),
        (
            lambda s: (
                s.reset(),
                s.save(
                    ZK,
                    AGB,
                    "123456782",
                    BESLUIT,
                    msgs.Toewijzing("functie", "41", AGB, ZK, date(2019, 1, 1)),
                ),
            ),
            "1113",
            "koppeltabel",
        ),
    ],
    ids=["tarief", "geen-toewijzing", "buiten-periode", "functie-niet-toegewezen"],
)
def test_aw320_rejects_with_dutch_meaning_and_releases_the_care(
    db, hooks, week5, settings, change, code, words
):
    zk = week5["zk"]
    jan = declarations.prepare(db, zk, JAN, hooks=hooks)
    (sent,) = declarations.submit(db, jan.declaration.id, hooks)
    db.commit()
    change(financier.store_for(settings))
    _drafts, outcome = _answer(db, sent, settings)
    db.commit()
    (line,) = db.scalars(select(DeclarationLine)).all()
    assert line.status == "afgewezen" and line.retourcodes == [code]
    assert words in d.meaning(code) and "opnieuw" in d.meaning(code)
    assert any(i.code == code and words in i.message for i in outcome.issues)
    assert hooks.retourcode_meaning("wlz", code) == d.retourcodes()[code].betekenis
    # the rejected line's care is free again: the next run declares it again
    assert not any(p.active for p in db.scalars(select(ExportPart)))


def test_aw320_for_unknown_lines_changes_nothing(db, hooks, week5, settings):
    zk = week5["zk"]
    jan = declarations.prepare(db, zk, JAN, hooks=hooks)
    (sent,) = declarations.submit(db, jan.declaration.id, hooks)
    db.commit()
    drafts = financier.reply(bytes(sent.payload), settings, today=TODAY)
    ref = jan.declaration.lines[0].referentie
    forged = drafts[0].payload.replace(ref.encode(), ref[:-1].encode() + b"9")
    outcome = declarations.apply_outcome(db, d.read_aw320(forged))
    db.commit()
    assert "niets gewijzigd" in outcome.summary
    (line,) = db.scalars(select(DeclarationLine)).all()
    assert line.status == "ingediend"


@pytest.mark.parametrize(
    "payload",
    [b"01188" + b"x" * 300 + b"\r\n", b"01188" + b"0" * (30 * 1024 * 1024)],
    ids=["malformed", "huge"],
)
def test_hostile_aw320_is_refused_and_nothing_changes(db, hooks, week5, payload):
    outcome = d.parse_aw320(payload)
    assert outcome.summary.startswith("Geweigerd, niets verwerkt")
    assert outcome.declaration_answer is None


def test_four_week_contract_groups_by_period(db, hooks, week5, settings):
    assert d.four_week_period(date(2019, 1, 30)) == (date(2019, 1, 28), date(2019, 2, 24))
    assert d.four_week_period(date(2020, 12, 31)) == (date(2020, 11, 30), date(2021, 1, 3))
    zk = week5["zk"]
    wlz = week5["wlz"]
    # 2 more hours on Monday 4 February: week 6 (Wlz volume 2 h)
    b.register(db, week5["client"], week5["prod"], week5["emp"], date(2019, 2, 4), 120)
    db.commit()
    monthly = declarations.prepare(db, zk, FEB, hooks=hooks)
    assert [(x.begindatum, x.einddatum) for x in monthly.declaration.lines] == [
        (date(2019, 1, 30), date(2019, 1, 31)),
        (date(2019, 2, 4), date(2019, 2, 4)),
    ]
    db.rollback()
    four = declarations.prepare(
        db, zk, FEB, hooks=hooks.__class__(hooks.pm, {"wlz": {"vierwekenperiode": [ZK]}})
    )
    assert [(x.begindatum, x.einddatum, x.volume) for x in four.declaration.lines] == [
        (date(2019, 1, 30), date(2019, 2, 4), 4)
    ]
    assert wlz.id == four.declaration.lines[0].legitimation_id


def test_indicatie_without_aw33_is_skipped_with_reason(db, hooks, week5):
    wlz = week5["wlz"]
    wlz.sleutels = {}
    db.commit()
    prepared = declarations.prepare(db, week5["zk"], JAN, hooks=hooks)
    assert prepared.declaration is None
    assert any(i.code == "0551" and "AW33" in i.message for i in prepared.skipped)


def test_zzp_is_declared_per_etmaal_with_its_code(db, hooks, week5, settings):
    from portal.models.registration import REG_APPROVED, Registration

    zk = week5["zk"]
    zzp = b.product(db, "ZZP4VG", ["wlz"], eenheid="etmaal")
    line = b.contract_line(
        db, zk, zzp, 21450, eenheid="etmaal", productcategorie="804", productcode="Z804"
    )
    line.begindatum = line.contract.begindatum = date(2018, 1, 1)
    aw33 = financier.issue_aw33(
        settings,
        ZK,
        AGB,
        persoon("123456782", "Bakker"),
        msgs.Indicatie(
            BESLUIT,
            date(2018, 12, 1),
            date(2019, 1, 1),
            toewijzingen=[
                msgs.Toewijzing("functie", "31", AGB, ZK, date(2019, 1, 1), klasse="K1"),
                msgs.Toewijzing("zzp", "804", AGB, ZK, date(2019, 1, 14), leveringsvorm="4"),
            ],
        ),
        today=date(2019, 1, 14),
    )
    chain.process(db, aw33.payload, today=date(2019, 1, 14))
    for n in range(14, 21):  # a week of stay from Monday 14 January
        db.add(
            Registration(
                client_id=week5["client"].id,
                product_id=zzp.id,
                uursoort_id=zzp.uursoort_id,
                employee_id=week5["emp"].id,
                datum=date(2019, 1, n),
                aantal=1,
                status=REG_APPROVED,
            )
        )
    db.commit()
    prepared = declarations.prepare(db, zk, JAN, hooks=hooks)
    lines = {x.productcode: x for x in prepared.declaration.lines}
    etmalen = lines["Z804"]
    assert (etmalen.volume, etmalen.eenheid, etmalen.bedrag_cents) == (7, "etmaal", 7 * 21450)
    (sent,) = declarations.submit(db, prepared.declaration.id, hooks)
    records = {r["0417"]: r for r in ei.parse(d.AW319, bytes(sent.payload)).of_type("04")}
    assert (records["Z804"]["0413"], records["Z804"]["0412"], records["Z804"]["0419"]) == (
        "804",
        "00",
        "14",
    )


def test_an_aw320_sent_twice_is_applied_once(db, hooks, week5, settings):
    jan = declarations.prepare(db, week5["zk"], JAN, hooks=hooks)
    (sent,) = declarations.submit(db, jan.declaration.id, hooks)
    db.commit()
    store = financier.store_for(settings)
    while store.next("aw320-" + ZK) % 5 != 4:
        pass  # the zorgkantoor's next AW320 is its fifth: it comes twice
    drafts = financier.reply(bytes(sent.payload), settings, today=TODAY)
    assert len(drafts) == 2 and drafts[0].payload == drafts[1].payload
    first = declarations.apply_outcome(db, d.read_aw320(drafts[0].payload))
    db.commit()
    second = declarations.apply_outcome(db, d.read_aw320(drafts[1].payload))
    db.commit()
    assert "al verwerkt" in second.summary and "niets gewijzigd" in second.summary
    assert first.summary != second.summary
    (line,) = db.scalars(select(DeclarationLine)).all()
    assert line.status == "toegekend"
