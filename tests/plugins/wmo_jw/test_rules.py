"""Each business rule the portal checks has a test that breaks it (and the clean case passes)."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.wmo_jw import rules
from plugins.wmo_jw.messages import StartStop
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
    b.declaratie.dagtekening = date(2026, 9, 30)


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
    "9319": dict(begin=date(2026, 11, 1), end=date(2026, 11, 30)),
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


def test_duplicate_references_and_credits_in_one_message():
    assert "TR101" in codes(
        rules.check_message(_decl(prestatie("R1"), prestatie("R1", BSN2)), TODAY)
    )
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
    assert "TR019" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "305")
    b.producten.append(b.producten[0])
    assert "TR101" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "307")
    b.producten[0].einddatum = date(2026, 4, 1)
    assert "TR018" in codes(rules.check_message(b, TODAY))
    # iWmo reason 19 (volgens plan) does not exist in iJw
    b = bericht(IJW, "307")
    b.producten[0].reden = "19"
    assert "CS079" in codes(rules.check_message(b, TODAY))
    b.std = IWMO
    assert "CS079" not in codes(rules.check_message(b, TODAY))


def test_request_rules():
    b = bericht(IWMO, "315")
    b.aanvragen.append(b.aanvragen[0])
    assert "TR347" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "315")
    b.aanvragen[0].einddatum = date(2026, 1, 1)
    assert "TR018" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "315")
    b.aanvragen[0].volume = None
    assert "CD044" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "315")
    b.aanvragen[0].budget = 1000
    assert "CD045" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "317")
    b.verzoek.te_wijzigen = []
    assert "TR352" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "317")
    b.verzoek.ongewijzigd = ["5001"]
    assert "TR101" in codes(rules.check_message(b, TODAY))
    b = bericht(IJW, "319")
    b.antwoord.reden_afwijzing = "8"
    assert "TR377" in codes(rules.check_message(b, TODAY))
    b.antwoord.woonplaats_gemeente = "0599"
    assert rules.check_message(b, TODAY) == []


def test_301_rules():
    b = bericht(IWMO, "301")
    b.toewijzingen.append(b.toewijzingen[0])
    assert "9332" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "301")
    b.toewijzingen[0].einddatum = date(2026, 1, 1)
    assert "TR018" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "301")
    b.toewijzingen[0].volume = None
    assert "9411" in codes(rules.check_message(b, TODAY))


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


def test_declaration_number_and_period_against_state():
    b = bericht(IWMO, "323")
    top, _ = rules.check_323_state(
        b, _state(declaration_numbers={b.declaratie.nummer}, last_period=date(2026, 11, 1))
    )
    assert codes(top) == {"9333", "9319"}


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


def test_vow_must_list_every_current_toewijzing():
    b = bericht(IWMO, "317")
    assert codes(rules.check_317_state(b, {"5001", "5003"})) == {"9349"}
    assert codes(rules.check_317_state(b, {"5003"})) == {"9351", "9349"}
    b.verzoek.ongewijzigd = ["7"]
    assert "9350" in codes(rules.check_317_state(b, {"5001"}))
    assert rules.check_317_state(bericht(IWMO, "317"), {"5001"}) == []
