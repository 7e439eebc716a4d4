"""Each business rule the portal checks has a test that breaks it (and the clean case passes)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.wmo_jw import rules
from plugins.wmo_jw.messages import StartStop, Wijziging
from plugins.wmo_jw.standard import IJW, IWMO
from tests.plugins.wmo_jw.factories import BSN, BSN2, TODAY, bericht, declaratie, prestatie


def codes(issues):
    return {i.code for i in issues}


def test_clean_messages_pass_every_rule():
    for std in (IWMO, IJW):
        for kind in ("301", "305", "307", "315", "317", "319", "323"):
            assert rules.check_message(bericht(std, kind), TODAY) == [], (std.key, kind)


def _decl(*prestaties):
    b = bericht(IWMO, "323")
    b.declaratie = declaratie(list(prestaties))
    return b


def _mut_total(b):
    b.declaratie.totaal += 1


def _mut_period(b):
    b.declaratie.periode_eind = date(2026, 10, 30)


def _mut_number(b):
    b.declaratie.nummer = "2026-10"


def _mut_dagtekening(b):
    b.header.dagtekening = date(2026, 10, 30)  # October has not ended on the message's date


DECL_CASES = {
    "CS340": _mut_period,
    "CS319": _mut_number,
    "TR137": _mut_dagtekening,
    "TR358": _mut_total,
}


@pytest.mark.parametrize("code", sorted(DECL_CASES))
def test_declaration_level_rules(code):
    b = bericht(IWMO, "323")
    DECL_CASES[code](b)
    found = rules.check_message(b, TODAY)
    assert code in codes(found)
    issue = next(i for i in found if i.code == code)
    assert issue.field and issue.message  # names the field, in Dutch


PRESTATIE_CASES = {
    "CS337": dict(begin=date(2026, 9, 20), end=date(2026, 10, 5)),
    "CS100": dict(begin=date(2020, 12, 1), end=date(2020, 12, 31)),
    "TR319": dict(begin=date(2026, 11, 1), end=date(2026, 11, 3)),
    "TR335": dict(begin=date(2021, 1, 1), end=date(2021, 1, 31)),
    "CS325": dict(volume=0, bedrag=0, debet_credit="C", vorig_referentie="R0"),
    "CS339": dict(eenheid="83", tarief=None, volume=100, bedrag=200),
    "CD087": dict(eenheid="83", tarief=100, volume=100, bedrag=100),
    "9346": dict(bedrag=49999),
    "CD060": dict(debet_credit="C"),
}


@pytest.mark.parametrize("code", sorted(PRESTATIE_CASES))
def test_prestatie_rules(code):
    b = _decl(prestatie("R1", **PRESTATIE_CASES[code]))
    b.header.dagtekening = TODAY
    b.declaratie.dagtekening = TODAY
    if code == "TR335":
        b.header.dagtekening = b.declaratie.dagtekening = date(2026, 11, 5)
    assert code in codes(rules.check_message(b, TODAY))


def test_tr101_looks_within_one_client():
    # the same reference twice for one client: TR101
    same_client = _decl(
        prestatie("R1"), prestatie("R1", begin=date(2026, 9, 1), end=date(2026, 9, 30))
    )
    assert "TR101" in codes(rules.check_message(same_client, TODAY))
    # the same reference for two clients is not TR101 (it looks within one client) but breaks
    # the reference's uniqueness per provider (TR314)
    two_clients = codes(rules.check_message(_decl(prestatie("R1"), prestatie("R1", BSN2)), TODAY))
    assert "TR101" not in two_clients and "TR314" in two_clients
    # two clients with their own references: clean
    assert rules.check_message(_decl(prestatie("R1"), prestatie("R2", BSN2)), TODAY) == []


def test_duplicate_references_and_credits_in_one_message():
    two_credits = _decl(
        prestatie("R1", debet_credit="C", vorig_referentie="R0"),
        prestatie("R2", debet_credit="C", vorig_referentie="R0", toewijzingnummer="5002"),
    )
    assert "TR315" in codes(rules.check_message(two_credits, TODAY))
    same_message = _decl(prestatie("R1"), prestatie("R2", debet_credit="C", vorig_referentie="R1"))
    assert "TR316" in codes(rules.check_message(same_message, TODAY))
    two_debets = _decl(prestatie("R1"), prestatie("R2"))
    assert "TR416" in codes(rules.check_message(two_debets, TODAY))


def test_future_dagtekening_and_bad_bsn():
    b = bericht(IWMO, "305")
    b.header.dagtekening = date(2026, 11, 6)
    b.client.bsn = "123456789"
    assert {"TR135", "CS002"} <= codes(rules.check_message(b, TODAY))


def test_start_stop_rules():
    b = bericht(IWMO, "305")
    b.producten[0].status = "2"
    assert "CS058" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "305")
    b.producten[0].toewijzingnummer = None
    assert "9019" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "305")
    b.producten.append(b.producten[0])
    assert "TR101" in codes(rules.check_message(b, TODAY))
    # a stop's end before its begin: TR018 (the rule of the 307; CS003 is for 301/315/317)
    b = bericht(IWMO, "307")
    b.producten[0].einddatum = date(2026, 4, 1)
    assert codes(rules.check_message(b, TODAY)) == {"TR018"}


def test_request_rules():
    b = bericht(IWMO, "315")
    b.aanvragen.append(b.aanvragen[0])
    assert "TR383" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "315")
    b.aanvragen[0].einddatum = date(2026, 1, 1)
    assert "CS003" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "315")
    b.aanvragen[0].volume = None
    assert "CD041" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "315")
    b.aanvragen[0].budget = 1000
    assert {"CD077", "CD078"} <= codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "317")
    b.verzoek.ongewijzigd = ["5002"]
    b.verzoek.te_wijzigen = []
    assert codes(rules.check_message(b, TODAY)) == {"TR353"}  # nothing changed or asked
    # only a new product, no current toewijzing named: that is a 315's job (TR352)
    b = bericht(IWMO, "317")
    b.verzoek.nieuw = [
        Wijziging(
            categorie="07",
            code="07A05",
            ingangsdatum=date(2026, 12, 1),
            einddatum=date(2027, 5, 31),
            volume=2,
            eenheid="04",
            frequentie="2",
        )
    ]
    assert rules.check_message(b, TODAY) == []
    b.verzoek.te_wijzigen = []
    assert codes(rules.check_message(b, TODAY)) == {"TR352"}
    b = bericht(IWMO, "317")
    b.verzoek.ongewijzigd = ["5002", "5002"]
    assert "TR101" in codes(rules.check_message(b, TODAY))
    b = bericht(IJW, "319")
    b.antwoord.reden_afwijzing = "8"
    assert "TR377" in codes(rules.check_message(b, TODAY))
    b.antwoord.woonplaats_gemeente = "0599"
    assert rules.check_message(b, TODAY) == []


def test_301_rules():
    b = bericht(IWMO, "301")
    b.toewijzingen.append(b.toewijzingen[0])
    assert "TR101" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "301")
    b.toewijzingen[0].einddatum = date(2026, 1, 1)
    assert "CS003" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "301")
    b.toewijzingen[0].volume = None
    assert "CD041" in codes(rules.check_message(b, TODAY))


# --- rules against state ----------------------------------------------------------------------


def _state(**kw):
    st = rules.DeclarationState(
        toewijzingen={
            "5001": rules.ToewijzingState(
                "5001", BSN, date(2026, 4, 8), None, "07", "07A05", "04", 4, "2"
            ),
            "5002": rules.ToewijzingState(
                "5002", BSN2, date(2026, 4, 8), date(2026, 10, 20), "07", "07A05", "04", 4, "2"
            ),
        },
        tarieven={("07", "07A05"): 5000},
    )
    for k, v in kw.items():
        setattr(st, k, v)
    return st


def _deleted_toewijzing():
    """Toewijzing 5001 as the gemeente deleted it (RedenWijziging 13)."""
    t = rules.ToewijzingState("5001", BSN, date(2026, 4, 8), None, "07", "07A05", "04", 4, "2")
    t.reden_wijziging = "13"
    return {"5001": t}


STATE_CASES = {
    "8021": (dict(), dict(known_references={"R1"})),
    "8017": (dict(debet_credit="C", vorig_referentie="R0"), dict()),
    "9390": (dict(debet_credit="C", vorig_referentie="R0"), dict(awarded={"R0"}, credited={"R0"})),
    "9338": (dict(toewijzingnummer="7777"), dict()),
    "8187": (dict(bsn=BSN2), dict()),
    "9307": (dict(begin=date(2026, 3, 1), end=date(2026, 3, 31)), dict()),
    "9308": (dict(toewijzingnummer="5002", bsn=BSN2), dict()),
    "9387": (dict(begin=date(2026, 10, 2)), dict()),
    "9388": (dict(end=date(2026, 10, 30)), dict()),
    "9339": (dict(categorie="02"), dict()),
    "9340": (dict(code="07A06"), dict()),
    "9341": (dict(eenheid="14"), dict()),
    "0611": (dict(tarief=5100, bedrag=51000), dict()),
    # 4 hours a week: October 2026 touches 5 ISO weeks, so at most 20 hours in one prestatie
    "9321": (dict(volume=21, bedrag=21 * 5000), dict()),
    "9384": (dict(), dict(toewijzingen=_deleted_toewijzing())),
    "S329": (dict(code="02A01"), dict(products={("07", "07A05"), ("02", "02A01")})),
}


@pytest.mark.parametrize("code", sorted(STATE_CASES))
def test_cross_message_rules(code):
    line, state = STATE_CASES[code]
    p = prestatie("R1", **line)
    found = rules.check_prestatie_state(p, _state(**state))
    assert code in codes(found), found
    assert rules.check_prestatie_state(prestatie("R1"), _state()) == []


def test_minutes_on_an_hours_toewijzing_are_allowed_with_the_minute_tariff():
    p = prestatie("R1", volume=90, eenheid="01", tarief=83, bedrag=90 * 83)
    assert rules.check_prestatie_state(p, _state()) == []
    p = prestatie("R1", volume=90, eenheid="01", tarief=90, bedrag=90 * 90)
    assert codes(rules.check_prestatie_state(p, _state())) == {"0611"}


def test_volume_bound_per_frequency():
    t = rules.ToewijzingState("5001", BSN, date(2026, 1, 1), volume=2, eenheid="04")
    oct1, oct31 = date(2026, 10, 1), date(2026, 10, 31)
    expected = {"1": 62, "2": 10, "4": 2, "6": 2}  # per dag, per week (5 weeks), maand, totaal
    for freq, bound in expected.items():
        t.frequentie = freq
        assert rules.allowed_volume(t, oct1, oct31) == bound, freq
    t.frequentie = "2"
    assert rules.allowed_volume(t, date(2026, 10, 5), date(2026, 10, 11)) == 2  # Mon-Sun
    assert rules.allowed_volume(t, date(2026, 10, 4), date(2026, 10, 5)) == 4  # Sun+Mon
    # minutes on an hours toewijzing count as hours
    assert rules.volume_in_toewijzing_unit(90, "01", "04") == 1.5
    assert rules.volume_in_toewijzing_unit(90, "14", "04") is None


def _totaal_state(**kw):
    """Toewijzing 5001: 30 hours in total, and a budget of 1,000 euro."""
    st = _state(**kw)
    t = st.toewijzingen["5001"]
    t.frequentie, t.volume, t.budget = "6", 30, 100000
    return st


def test_cumulative_volume_tr322_counts_earlier_prestaties_and_credits():
    b = bericht(IWMO, "323")
    b.declaratie.prestaties = [prestatie("R1", volume=10, bedrag=50000)]
    # 25 hours were declared before: 10 more crosses the total of 30
    _top, per_line = rules.check_323_state(b, _totaal_state(declared_volume={"5001": 25}))
    assert codes(per_line["R1"]) == {"9322"}
    assert "25" in per_line["R1"][0].message and "30" in per_line["R1"][0].message
    # 20 before: 10 more fits exactly
    _top, per_line = rules.check_323_state(b, _totaal_state(declared_volume={"5001": 20}))
    assert per_line == {}
    # a credit of an earlier 10-hour prestatie in the same message makes room first
    b.declaratie.prestaties = [
        prestatie("R1", volume=10, bedrag=50000),
        prestatie("C1", volume=10, bedrag=50000, debet_credit="C", vorig_referentie="R0"),
    ]
    _top, per_line = rules.check_323_state(
        b, _totaal_state(declared_volume={"5001": 25}, awarded={"R0"})
    )
    assert per_line == {}
    # two new prestaties: the one that crosses the total is rejected, the other is not
    b.declaratie.prestaties = [
        prestatie("R1", volume=10, bedrag=50000),
        prestatie("R2", begin=date(2026, 11, 1), end=date(2026, 11, 30), volume=10, bedrag=50000),
    ]
    _top, per_line = rules.check_323_state(b, _totaal_state(declared_volume={"5001": 15}))
    assert set(per_line) == {"R2"} and codes(per_line["R2"]) == {"9322"}


def test_cumulative_budget_tr369():
    b = bericht(IWMO, "323")
    b.declaratie.prestaties = [prestatie("R1", volume=4, bedrag=20000)]
    _top, per_line = rules.check_323_state(b, _totaal_state(declared_cents={"5001": 90000}))
    assert codes(per_line["R1"]) == {"9369"}
    assert "900,00" in per_line["R1"][0].message and "1.000,00" in per_line["R1"][0].message
    _top, per_line = rules.check_323_state(b, _totaal_state(declared_cents={"5001": 80000}))
    assert per_line == {}


def test_period_must_follow_the_previous_one_when_there_was_care_tr318():
    b = bericht(IWMO, "323")  # October 2026
    b.declaratie.prestaties = [
        prestatie("R1"),
        prestatie("R2", begin=date(2026, 9, 1), end=date(2026, 9, 30)),
    ]
    # the last period was August: September had care and was skipped
    top, _ = rules.check_323_state(b, _state(last_period=date(2026, 8, 1)))
    assert codes(top) == {"8214"} and "declareer eerst september 2026" in top[0].message
    # no care in September: October may follow August
    b.declaratie.prestaties = [prestatie("R1")]
    top, _ = rules.check_323_state(b, _state(last_period=date(2026, 8, 1)))
    assert top == []
    # September was declared: October follows it; late care for July is allowed
    b.declaratie.prestaties = [
        prestatie("R1"),
        prestatie("R3", begin=date(2026, 7, 1), end=date(2026, 7, 31)),
    ]
    top, _ = rules.check_323_state(b, _state(last_period=date(2026, 9, 1)))
    assert top == []


def test_declaration_number_and_period_against_state():
    b = bericht(IWMO, "323")
    top, _ = rules.check_323_state(
        b, _state(declaration_numbers={b.declaratie.nummer}, last_period=date(2026, 11, 1))
    )
    # a period before the last one declared does not follow it (TR318)
    assert codes(top) == {"9333", "8214"}


def test_start_stop_state_rules():
    st = rules.StartState(
        toewijzingen={"5001": rules.ToewijzingState("5001", BSN, date(2026, 4, 8))}
    )
    start = StartStop(toewijzingnummer="5001", begindatum=date(2026, 4, 8), status="1")
    assert codes(
        rules.check_startstop_state(
            "305", StartStop(toewijzingnummer="9", begindatum=date(2026, 4, 8)), st
        )
    ) == {"9019"}
    assert codes(rules.check_startstop_state("307", start, st)) == {"9069"}
    assert rules.check_startstop_state("305", start, st) == []
    rules.apply_startstop("305", start, st)
    assert codes(rules.check_startstop_state("305", start, st)) == {"9074"}
    later = StartStop(toewijzingnummer="5001", begindatum=date(2026, 5, 1), status="1")
    assert codes(rules.check_startstop_state("305", later, st)) == {"9326"}
    stop = StartStop(
        toewijzingnummer="5001",
        begindatum=date(2026, 4, 8),
        einddatum=date(2026, 4, 30),
        reden="02",
        status="1",
    )
    assert rules.check_startstop_state("307", stop, st) == []
    rules.apply_startstop("307", stop, st)
    delete = StartStop(toewijzingnummer="5001", begindatum=date(2026, 4, 8), status="3")
    assert codes(rules.check_startstop_state("305", delete, st)) == {"9071"}
    assert rules.check_startstop_state("305", later, st) == []
    # deleting a start or a stop that was never sent
    unknown = StartStop(toewijzingnummer="5001", begindatum=date(2026, 6, 1), status="3")
    assert codes(rules.check_startstop_state("305", unknown, st)) == {"9063"}
    st2 = rules.StartState(
        toewijzingen={"5001": rules.ToewijzingState("5001", BSN, date(2026, 4, 8))}
    )
    rules.apply_startstop("305", start, st2)
    withdraw_stop = StartStop(
        toewijzingnummer="5001",
        begindatum=date(2026, 4, 8),
        einddatum=date(2026, 4, 30),
        reden="02",
        status="3",
    )
    assert codes(rules.check_startstop_state("307", withdraw_stop, st2)) == {"9063"}


def test_vow_must_list_every_current_toewijzing():
    b = bericht(IWMO, "317")
    assert codes(rules.check_317_state(b, {"5001", "5003"})) == {"9349"}
    assert codes(rules.check_317_state(b, {"5003"})) == {"9351", "9349"}
    b.verzoek.ongewijzigd = ["7"]
    assert "9350" in codes(rules.check_317_state(b, {"5001"}))
    assert rules.check_317_state(bericht(IWMO, "317"), {"5001"}) == []


def test_vow_dates_tr357_and_budget_tr373():
    b = bericht(IWMO, "317")  # dagtekening TODAY
    (w,) = b.verzoek.te_wijzigen
    original = {w.toewijzingnummer: date(2026, 4, 8)}
    w.ingangsdatum = TODAY
    assert codes(rules.check_317_dates(b, original)) == {"9357"}
    w.ingangsdatum = date(2026, 4, 8)  # from the toewijzing's own start: allowed
    assert rules.check_317_dates(b, original) == []
    w.volume = w.eenheid = w.frequentie = None
    w.budget = 150000  # a new budget holds for the whole toewijzing
    assert rules.check_317_dates(b, original) == []
    w.ingangsdatum = TODAY + timedelta(days=7)
    found = rules.check_317_dates(b, original)
    assert codes(found) == {"9373"} and "08-04-2026" in found[0].message
    # a new total over the toewijzing's period holds for all of it as well (TR373)
    w.budget, w.volume, w.eenheid, w.frequentie = None, 40, "04", "6"
    found = rules.check_317_dates(b, original)
    assert codes(found) == {"9373"} and "totaal" in found[0].message


def test_every_rule_in_rules_py_has_a_test_that_names_it():
    """A guard for the issue's demand 'each rule you implement has a test that breaks it': every
    code rules.py can emit must appear in an assertion somewhere in this plugin's tests."""
    import re
    from pathlib import Path

    source = Path(rules.__file__).read_text(encoding="utf-8")
    emitted = set(re.findall(r'_issue\(\s*"([A-Z0-9]{4,5})"', source))
    emitted |= set(re.findall(r'^\s+"([A-Z0-9]{4,5})",$', source, flags=re.M))
    assert len(emitted) > 40
    here = Path(__file__).parent
    tests = "".join(
        p.read_text(encoding="utf-8") for p in here.glob("test_*.py") if p.name != "conftest.py"
    )
    untested = sorted(code for code in emitted if f'"{code}"' not in tests)
    assert untested == []
