"""Declaring: lines from approved care, the 323, the gemeente's 325, rejections and credits."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from plugins.wmo_jw import chain, financier
from plugins.wmo_jw import declaration as declaring
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IWMO
from portal.app import hooks
from portal.models import ContractLine, ExportPart, Message
from portal.services import declarations as svc
from tests.plugins.wmo_jw.factories import AGB, BSN2, GEMEENTE, TODAY, persoon, toewijzing


def prepare(*args, **kwargs):
    kwargs.setdefault("hooks", hooks())
    return svc.prepare(*args, **kwargs)


def process(db, payload):
    """An incoming message as the receive job handles it: the plugin reads, the core applies."""
    return svc.apply_outcome(db, chain.process(db, payload, today=TODAY))


# --- product periods (property tests) ---------------------------------------------------------

days = st.dates(min_value=date(2021, 1, 1), max_value=date(2030, 12, 31))


@given(days, st.integers(0, 500), days, st.one_of(st.none(), st.integers(0, 500)))
def test_split_period_cuts_at_months_and_toewijzing(begin, length, t_begin, t_length):
    end = begin + timedelta(days=length)
    t_end = None if t_length is None else t_begin + timedelta(days=t_length)
    periods = declaring.split_period(begin, end, t_begin, t_end)
    covered = []
    for a, b in periods:
        assert a <= b and (a.year, a.month) == (b.year, b.month)  # within one month
        assert a.day == 1 or a == max(begin, t_begin)  # starts on day 1 unless the start is later
        next_day = b + timedelta(days=1)
        assert next_day.day == 1 or b == (min(end, t_end) if t_end else end)
        covered.extend(a + timedelta(days=i) for i in range((b - a).days + 1))
    expected_start, expected_end = max(begin, t_begin), min(end, t_end) if t_end else end
    expected = [
        expected_start + timedelta(days=i) for i in range((expected_end - expected_start).days + 1)
    ]
    assert covered == expected  # no gaps, no overlaps, nothing outside


def test_split_period_example_from_iv089():
    assert declaring.split_period(
        date(2026, 1, 1), date(2026, 12, 31), date(2026, 4, 8), date(2026, 6, 17)
    ) == [
        (date(2026, 4, 8), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 31)),
        (date(2026, 6, 1), date(2026, 6, 17)),
    ]


# --- the whole flow ----------------------------------------------------------------------------


def care(setup, *items):
    return [
        svc.Delivered(
            client_id=setup["legs"][nr].client_id,
            product_id=setup["product"].id,
            datum=day,
            minutes=minutes,
            registration_id=None,
        )
        for nr, day, minutes in items
    ]


def test_lines_aggregate_per_client_toewijzing_product_and_period(db, setup):
    prepared = prepare(
        db,
        setup["fin"],
        date(2026, 10, 1),
        care=care(
            setup,
            ("5001", date(2026, 10, 2), 60),
            ("5001", date(2026, 10, 20), 120),
            ("5001", date(2026, 4, 9), 90),  # late: its own product period in April
            ("5002", date(2026, 10, 3), 45),
        ),
    )
    db.commit()
    decl = prepared.declaration
    assert decl.periode_begin == date(2026, 10, 1) and decl.periode_eind == date(2026, 10, 31)
    got = sorted(
        (
            line.legitimation.toewijzingnummer,
            line.begindatum,
            line.einddatum,
            line.volume,
            line.eenheid,
            line.bedrag_cents,
        )
        for line in decl.lines
    )
    assert got == [
        ("5001", date(2026, 4, 8), date(2026, 4, 30), 90, "minuut", 90 * 83),
        ("5001", date(2026, 10, 1), date(2026, 10, 31), 3, "uur", 15000),
        ("5002", date(2026, 10, 1), date(2026, 10, 31), 45, "minuut", 45 * 83),
    ]
    assert decl.total_cents == 90 * 83 + 15000 + 45 * 83
    assert len({line.referentie for line in decl.lines}) == 3
    assert hooks().validate_declaration(decl) == []


@pytest.mark.parametrize(
    ("step", "how", "volume", "eenheid", "bedrag"),
    [
        (0, "dichtstbij", 125, "minuut", 125 * 83),  # no rounding: 50 + 75 minutes
        (15, "omhoog", 135, "minuut", 135 * 83),  # 60 + 75, at the minute tariff
        (15, "omlaag", 2, "uur", 10000),  # 45 + 75 = 2 uur
        (30, "dichtstbij", 150, "minuut", 150 * 83),  # 60 + 90: half a step rounds up
        (60, "dichtstbij", 2, "uur", 10000),  # 60 + 60 (75 → 60)
    ],
)
def test_contract_rounding_applies_to_each_unit_of_care(
    db, setup, step, how, volume, eenheid, bedrag
):
    contract_line = db.scalar(select(ContractLine))
    contract_line.afronding_minuten, contract_line.afronding_wijze = step, how
    db.flush()
    decl = prepare(
        db,
        setup["fin"],
        date(2026, 10, 1),
        care=care(setup, ("5001", date(2026, 10, 2), 50), ("5001", date(2026, 10, 9), 75)),
    ).declaration
    (line,) = decl.lines
    assert (line.volume, line.eenheid, line.bedrag_cents) == (volume, eenheid, bedrag)


def test_round_minutes():
    assert declaring.round_minutes(7, 5, "dichtstbij") == 5
    assert declaring.round_minutes(8, 5, "dichtstbij") == 10
    assert declaring.round_minutes(61, 15, "omhoog") == 75
    assert declaring.round_minutes(74, 15, "omlaag") == 60
    assert declaring.round_minutes(90, 30, "omhoog") == 90
    assert declaring.round_minutes(0, 15, "omhoog") == 0


def test_care_outside_any_toewijzing_is_reported_not_declared(db, setup):
    prepared = prepare(
        db, setup["fin"], date(2026, 4, 1), care=care(setup, ("5001", date(2026, 4, 1), 60))
    )
    assert prepared.declaration is None
    assert [i.code for i in prepared.skipped] == ["legitimatie"]


def _submit_and_answer(db, setup, decl, code="WMO323"):
    messages = svc.submit(db, decl.id, hooks(), user_id=None)
    db.commit()
    (msg,) = messages
    assert msg.code == code and msg.direction == "uit"
    (answer,) = financier.reply(msg.payload, setup["settings"])
    outcome = process(db, answer.payload)
    db.commit()
    return msg, answer, outcome


def test_fully_awarded_declaration(db, setup):
    decl = prepare(
        db,
        setup["fin"],
        date(2026, 10, 1),
        care=care(setup, ("5001", date(2026, 10, 2), 120), ("5002", date(2026, 10, 2), 60)),
    ).declaration
    db.commit()
    _msg, answer, outcome = _submit_and_answer(db, setup, decl)
    parsed = m.parse(answer.payload)
    assert parsed.declaratie.retourcodes == ["8001"] and parsed.declaratie.prestaties == []
    assert parsed.header.declaratie_identificatie == decl.message_reference
    assert outcome.answers_reference == decl.message_reference
    db.refresh(decl)
    assert decl.status == "beantwoord" and decl.awarded_cents == decl.total_cents == 15000
    assert {line.status for line in decl.lines} == {"toegekend"}
    assert "volledig toegekend" in outcome.summary and not outcome.needs_action
    # the 325 again (VECOZO duplicate): nothing changes
    assert "al verwerkt" in process(db, answer.payload).summary
    # a double click on "indienen" never sends twice
    with pytest.raises(svc.DeclarationError):
        svc.submit(db, decl.id, hooks())
    assert db.scalar(select(Message.id).where(Message.code == "WMO323").offset(1)) is None


def test_rejected_line_with_its_code_then_corrected_and_redeclared_and_credit(db, setup):
    # the gemeente pays 51 euro for this code: our contract says 50 -> 0611 on every line
    financier.store_for(setup["settings"]).set_tarief(GEMEENTE, "07", "07A05", 5100)
    decl = prepare(
        db, setup["fin"], date(2026, 10, 1), care=care(setup, ("5001", date(2026, 10, 2), 120))
    ).declaration
    db.commit()
    _msg, _answer, outcome = _submit_and_answer(db, setup, decl)
    (line,) = decl.lines
    assert line.status == "afgewezen" and line.retourcodes == ["0611"]
    assert outcome.needs_action and [i.code for i in outcome.issues] == ["0611"]
    with pytest.raises(svc.DeclarationError):
        svc.credit(db, [line.id], hooks())  # only awarded lines can be credited
    # fix the contract tariff and declare again: a new line with a new reference
    cl = db.scalar(select(ContractLine))
    cl.tarief_cents = 5100
    db.commit()
    decl2 = prepare(
        db, setup["fin"], date(2026, 11, 1), care=care(setup, ("5001", date(2026, 10, 2), 120))
    ).declaration
    db.commit()
    (line2,) = decl2.lines
    assert line2.referentie != line.referentie and line2.begindatum == date(2026, 10, 1)
    _submit_and_answer(db, setup, decl2)
    db.refresh(line2)
    assert line2.status == "toegekend"
    # credit the awarded line: it joins the next declaration and nets out
    (credit,) = svc.credit(db, [line2.id], hooks())
    db.commit()
    assert credit.debet_credit == "C" and credit.credit_of_id == line2.id
    with pytest.raises(svc.DeclarationError):
        svc.credit(db, [line2.id], hooks())  # only one credit per original
    decl3 = prepare(db, setup["fin"], date(2026, 11, 1), care=[]).declaration
    db.commit()
    assert [x.id for x in decl3.lines] == [credit.id] and decl3.total_cents == -10200
    msg3, _answer3, _ = _submit_and_answer(db, setup, decl3)
    built = m.parse(msg3.payload)
    assert (
        built.declaratie.debet_credit == "C"
        and built.declaratie.prestaties[0].vorig_referentie == line2.referentie
    )
    db.refresh(line2)
    assert line2.status == "gecrediteerd"


def test_preview_blocks_what_the_gemeente_would_refuse(db, setup):
    decl = prepare(
        db, setup["fin"], date(2026, 10, 1), care=care(setup, ("5001", date(2026, 10, 2), 60))
    ).declaration
    line = decl.lines[0]
    line.productcode = "07A06"  # differs from the toewijzing
    db.commit()
    issues = hooks().validate_declaration(decl)
    assert "9340" in {i.code for i in issues}
    with pytest.raises(svc.DeclarationError) as exc:
        svc.submit(db, decl.id, hooks())
    assert "9340" in {i.code for i in exc.value.issues}
    assert db.scalar(select(Message.id)) is None  # nothing left


def test_approved_registrations_become_lines_and_are_marked_declared(db, setup, make_user):
    from portal.models.registration import Registration

    user = make_user("zorgprofessional")
    client_id = setup["legs"]["5001"].client_id
    regs = [
        Registration(
            client_id=client_id,
            product_id=setup["product"].id,
            employee_id=user.id,
            datum=date(2026, 10, d),
            starttijd=time(9),
            duur_minuten=60,
            status="gefiatteerd",
        )
        for d in (5, 6)
    ] + [
        Registration(
            client_id=client_id,
            product_id=setup["product"].id,
            employee_id=user.id,
            datum=date(2026, 10, 7),
            starttijd=time(9),
            duur_minuten=60,
            status="concept",
        )
    ]
    db.add_all(regs)
    db.commit()
    decl = prepare(db, setup["fin"], date(2026, 10, 1)).declaration
    (line,) = decl.lines
    assert line.volume == 2 and sorted(line.registration_ids) == sorted(r.id for r in regs[:2])
    svc.submit(db, decl.id, hooks())
    db.commit()
    parts = db.execute(
        select(ExportPart.registration_id, ExportPart.declaration_line_id, ExportPart.active)
    ).all()
    assert sorted(parts) == sorted((r.id, line.id, True) for r in regs[:2])
    assert prepare(db, setup["fin"], date(2026, 10, 1)).declaration is None  # nothing twice


# --- rules across declarations: TR318 (the next month), TR322 (the total), TR381 -------------


def test_a_skipped_month_with_care_blocks_until_it_is_declared(db, setup):
    august = prepare(
        db, setup["fin"], date(2026, 8, 1), care=care(setup, ("5001", date(2026, 8, 3), 60))
    ).declaration
    db.commit()
    _submit_and_answer(db, setup, august)
    # October, with care in September that was never declared
    later = care(setup, ("5001", date(2026, 9, 3), 60), ("5001", date(2026, 10, 1), 60))
    october = prepare(db, setup["fin"], date(2026, 10, 1), care=later).declaration
    db.commit()
    blocking = [i for i in hooks().validate_declaration(october) if i.blocking]
    assert [i.code for i in blocking] == ["8214"]
    assert "declareer eerst september 2026" in blocking[0].message
    with pytest.raises(svc.DeclarationError):
        svc.submit(db, october.id, hooks())
    # September first, then October: both go and the gemeente awards both
    september = prepare(db, setup["fin"], date(2026, 9, 1), care=later[:1]).declaration
    db.commit()
    assert [i for i in hooks().validate_declaration(september) if i.blocking] == []
    _submit_and_answer(db, setup, september)
    october = prepare(db, setup["fin"], date(2026, 10, 1), care=later[1:]).declaration
    db.commit()
    assert [i for i in hooks().validate_declaration(october) if i.blocking] == []
    _msg, _answer, outcome = _submit_and_answer(db, setup, october)
    assert "volledig toegekend" in outcome.summary


def test_the_gemeente_refuses_a_skipped_month_with_8214(db, setup):
    """The gemeente checks TR318 too: a 323 sent past the portal's own check is refused whole."""
    august = prepare(
        db, setup["fin"], date(2026, 8, 1), care=care(setup, ("5001", date(2026, 8, 3), 60))
    ).declaration
    db.commit()
    _submit_and_answer(db, setup, august)
    later = care(setup, ("5001", date(2026, 9, 3), 60), ("5001", date(2026, 10, 1), 60))
    october = prepare(db, setup["fin"], date(2026, 10, 1), care=later).declaration
    db.commit()
    payload = declaring.drafts(october, db, TODAY)[0].payload  # built without the portal's check
    (answer,) = financier.reply(payload, setup["settings"], today=TODAY)
    assert m.parse(answer.payload).declaratie.retourcodes == ["8214"]


def _totaal(db, setup, volume=5):
    """Toewijzing 5002 becomes ``volume`` hours in total (frequentie 6) from a newer 301."""
    draft = financier.issue_301(
        setup["settings"],
        IWMO,
        GEMEENTE,
        AGB,
        persoon(BSN2),
        [toewijzing("5002", frequentie="6", volume=volume, toewijzingsdatum=date(2026, 4, 2))],
        today=TODAY,
    )
    chain.process(db, draft.payload, today=TODAY)
    db.commit()


def test_the_total_of_a_toewijzing_counts_over_declarations(db, setup):
    _totaal(db, setup, volume=5)
    october = prepare(
        db, setup["fin"], date(2026, 10, 1), care=care(setup, ("5002", date(2026, 10, 2), 180))
    ).declaration
    db.commit()
    assert [i for i in hooks().validate_declaration(october) if i.code == "9322"] == []
    _submit_and_answer(db, setup, october)
    # 3 hours awarded; 3 more in November cross the total of 5
    november = prepare(
        db, setup["fin"], date(2026, 11, 1), care=care(setup, ("5002", date(2026, 11, 2), 180))
    ).declaration
    db.commit()
    (warning,) = [i for i in hooks().validate_declaration(november) if i.code == "9322"]
    assert not warning.blocking and "toewijzing 5002" in warning.message
    _submit_and_answer(db, setup, november)
    (line,) = november.lines
    db.refresh(line)
    assert line.status == "afgewezen" and line.retourcodes == ["9322"]
    ((code, meaning, fix),) = declaring.rejected_explanation(line)
    assert code == "9322" and "toegewezen volume" in meaning and "317" in fix


def test_period_choices_never_go_before_the_last_declared_month():
    # TR137: on 5 November, November has not ended and is not on offer
    choices = declaring.period_choices({"laatste_periode": "2026-08", "vandaag": "2026-11-05"})
    assert choices == [
        ("2026-10", "oktober 2026"),
        ("2026-09", "september 2026 (volgt op de vorige declaratie)"),
        ("2026-08", "augustus 2026 (aanvulling op de vorige declaratie)"),
    ]
    # on the last day of the month the month itself may be declared
    last_day = declaring.period_choices({"laatste_periode": "2026-08", "vandaag": "2026-11-30"})
    assert last_day[0] == ("2026-11", "november 2026")
    fresh = declaring.period_choices({"laatste_periode": "", "vandaag": "2026-01-15"})
    assert fresh[0] == ("2025-12", "december 2025") and fresh[-1] == ("2024-12", "december 2024")
    assert len(fresh) == 13


def test_the_month_field_narrows_to_the_chosen_gemeente(db, setup, client, login_as):
    from portal.domain import Role

    august = prepare(
        db, setup["fin"], date(2026, 8, 1), care=care(setup, ("5001", date(2026, 8, 3), 60))
    ).declaration
    db.commit()
    _submit_and_answer(db, setup, august)
    login_as(Role.BACKOFFICE)
    page = client.get("/declareren/").get_data(as_text=True)
    assert 'hx-get="/declareren/maanden"' in page
    field = client.get(f"/declareren/maanden?financier_id={setup['fin'].id}").get_data(as_text=True)
    assert 'value="2026-09" selected' in field and "volgt op de vorige declaratie" in field
    assert 'value="2026-07"' not in field and 'value="2026-08"' in field
    # a month before the last declared one, posted anyway, is refused in Dutch
    resp = client.post(
        "/declareren/voorbereiden",
        data={"financier_id": setup["fin"].id, "maand": "2026-07"},
        follow_redirects=True,
    )
    text = resp.get_data(as_text=True)
    assert "Deze maand kan niet gekozen worden" in text and "augustus 2026" in text
    from portal.models.declaration import Declaration

    assert db.scalar(select(Declaration).where(Declaration.status == "concept")) is None


def _jeugdwet_for_5002(db, setup):
    """Client 2's toewijzing becomes Jeugdwet (45A48, iJw 301); the same own product is
    contracted under that code too, at 60 euro an hour."""
    from plugins.wmo_jw.standard import IJW

    draft = financier.issue_301(
        setup["settings"],
        IJW,
        GEMEENTE,
        AGB,
        persoon(BSN2),
        [toewijzing("5002", cat="45", code="45A48", toewijzingsdatum=date(2026, 4, 2))],
        today=TODAY,
    )
    chain.process(db, draft.payload, today=TODAY)
    db.add(
        ContractLine(
            contract_id=db.scalar(select(ContractLine.contract_id)),
            product_id=setup["product"].id,
            productcategorie="45",
            productcode="45A48",
            eenheid="uur",
            tarief_cents=6000,
            begindatum=date(2026, 1, 1),
        )
    )
    financier.store_for(setup["settings"]).set_tarief(GEMEENTE, "45", "45A48", 6000)
    db.commit()


def test_a_jeugdwet_toewijzing_is_declared_in_ijw(db, setup):
    from plugins.wmo_jw.standard import IJW

    _jeugdwet_for_5002(db, setup)
    decl = prepare(
        db, setup["fin"], date(2026, 10, 1), care=care(setup, ("5002", date(2026, 10, 5), 120))
    ).declaration
    db.commit()
    assert [i for i in hooks().validate_declaration(decl) if i.blocking] == []
    msg, _answer, outcome = _submit_and_answer(db, setup, decl, code="JW323")
    built = m.parse(msg.payload)
    assert built.std is IJW and built.declaratie.prestaties[0].code == "45A48"
    assert built.declaratie.totaal == 12000 and "volledig toegekend" in outcome.summary


def test_wmo_and_jeugdwet_at_one_gemeente_are_two_declarations(db, setup):
    """One own product, Wmo for one client and Jeugdwet for another, at the same gemeente: a
    WMO323 and a JW323 (separate messages, numbers and month sequences), both awarded."""

    _jeugdwet_for_5002(db, setup)
    both = care(setup, ("5001", date(2026, 10, 5), 60), ("5002", date(2026, 10, 5), 120))
    prepared = prepare(db, setup["fin"], date(2026, 10, 1), care=both, hooks=hooks())
    db.commit()
    jw, wmo = prepared.declarations
    assert (jw.groep, wmo.groep) == ("ijw", "iwmo") and wmo.nummer != jw.nummer
    assert [(x.productcode, x.bedrag_cents) for x in wmo.lines] == [("07A05", 5000)]
    assert [(x.productcode, x.bedrag_cents) for x in jw.lines] == [("45A48", 12000)]
    for decl, code in ((wmo, "WMO323"), (jw, "JW323")):
        assert [i for i in hooks().validate_declaration(decl) if i.blocking] == []
        _msg, _answer, outcome = _submit_and_answer(db, setup, decl, code=code)
        assert "volledig toegekend" in outcome.summary
    # each law goes on month after month by itself: November for the Wmo only is fine
    nov = prepare(
        db,
        setup["fin"],
        date(2026, 11, 1),
        care=care(setup, ("5001", date(2026, 11, 2), 60)),
        hooks=hooks(),
    ).declaration
    db.commit()
    assert nov.groep == "iwmo"
    assert [i for i in hooks().validate_declaration(nov) if i.blocking] == []
