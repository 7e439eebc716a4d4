"""The iWlz chain on the real 2.2 XSDs: AW33 in → client and legitimations → AW34; AW35/AW39
out after the checks; AW36/AW310 in; withdrawal and resending."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree
from sqlalchemy import func, select

from plugins.wlz import chain
from plugins.wlz import messages as msgs
from plugins.wlz.standard import current
from portal.models import Client, Legitimation
from tests.plugins.wlz import factories as f
from tests.plugins.wlz.factories import AGB, BAD_BSN, BSN, BSN2, TODAY


def _aw34(outcome):
    (reply,) = outcome.replies
    assert reply.code == "AW34"
    _rel, message, root = msgs.load(reply.payload)  # valid against the AW34 XSD
    assert message == "AW34"
    return root


def _codes(root, path):
    ns = {"m": current().ns("AW34")}
    return [el.text for el in root.findall(path + "/m:RetourCodes/m:RetourCode", ns)]


def _legs(db):
    return {
        (leg.sleutels["soort"], leg.sleutels["code"]): leg
        for leg in db.scalars(select(Legitimation).where(Legitimation.financing == "wlz"))
    }


def test_aw33_creates_client_and_legitimations_and_answers_aw34(db, zk):
    payload = f.aw33([f.zzp("804"), f.functie("31", "K3"), f.functie("82", "KD04")])
    outcome = chain.process(db, payload, today=TODAY)
    db.commit()
    client = db.scalar(select(Client).where(Client.bsn == BSN))
    assert client.achternaam == "Jansen" and client.postcode == "3511AB"
    legs = _legs(db)
    assert set(legs) == {("zzp", "804"), ("functie", "31"), ("functie", "82")}
    zzp, pv, bg = legs[("zzp", "804")], legs[("functie", "31")], legs[("functie", "82")]
    assert zzp.toewijzingnummer == "300012345" and zzp.begindatum == f.START
    assert [p.code for p in zzp.products] == ["ZZP4VG"] and zzp.productcode == "Z804"
    assert (pv.volume, pv.eenheid, pv.frequentie) == (7, "uur", "week")  # K3: 4 tot 7 uur
    assert (bg.volume, bg.eenheid) == (4, "dagdeel")
    assert zzp.keten_stand == "nieuw"  # a start (AW35) is due
    root = _aw34(outcome)
    assert _codes(root, "m:Header") == ["0200"]
    assert _codes(root, "m:Clienten/m:Client") == ["0200"]
    assert "3 " not in outcome.summary and "nieuw: ZZP 804" in outcome.summary


def test_the_same_aw33_twice_changes_nothing(db, zk):
    payload = f.aw33()
    chain.process(db, payload, today=TODAY)
    db.commit()
    before = {k: (leg.id, dict(leg.sleutels)) for k, leg in _legs(db).items()}
    outcome = chain.process(db, payload, today=TODAY)
    db.commit()
    assert {k: (leg.id, dict(leg.sleutels)) for k, leg in _legs(db).items()} == before
    assert "niets gewijzigd" in outcome.summary
    assert db.scalar(select(func.count(Client.id))) == 1


def test_changed_and_dropped_toewijzing_are_updated_and_kept(db, zk):
    chain.process(db, f.aw33([f.zzp("804"), f.functie("31", "K3")]), today=TODAY)
    db.commit()
    changed = f.aw33([f.zzp("804", einde=date(2026, 6, 30))], ident="ZK0000000002")
    outcome = chain.process(db, changed, today=TODAY)
    db.commit()
    legs = _legs(db)
    assert legs[("zzp", "804")].einddatum == date(2026, 6, 30)
    assert "einddatum" in legs[("zzp", "804")].sleutels["historie"][-1]["tekst"]
    # the functie is no longer in the snapshot: kept, shown, not deleted
    pv = legs[("functie", "31")]
    assert pv.status == "vervallen"
    assert outcome.needs_action and any(i.code == "vervallen" for i in outcome.issues)


def test_ended_toewijzing_with_reden_intrekking(db, zk):
    chain.process(db, f.aw33([f.zzp("804")]), today=TODAY)
    db.commit()
    ended = f.aw33(
        [f.zzp("804", einde=date(2026, 3, 1), reden_intrekking="1")], ident="ZK0000000003"
    )
    chain.process(db, ended, today=TODAY)
    db.commit()
    leg = _legs(db)[("zzp", "804")]
    assert leg.status == "ingetrokken" and leg.einddatum == date(2026, 3, 1)
    assert chain.actions(leg, TODAY) == [] or all(
        a["action"] != "start" for a in chain.actions(leg, TODAY)
    )


def test_bsn_failing_11_proef_rejects_only_that_client(db, zk):
    payload = f.aw33(
        [f.zzp("804")],
        bsn=BAD_BSN,
        extra_clients=[f.extra_client(BSN2, "300099999", [f.functie("31")])],
    )
    outcome = chain.process(db, payload, today=TODAY)
    db.commit()
    assert db.scalar(select(Client).where(Client.bsn == BAD_BSN)) is None
    assert db.scalar(select(Client).where(Client.bsn == BSN2)) is not None
    root = _aw34(outcome)
    assert _codes(root, "m:Clienten/m:Client") == ["S002", "0200"]
    assert any("11-proef" in i.message for i in outcome.issues)


def test_aw33_for_another_provider_changes_nothing(db, zk):
    outcome = chain.process(db, f.aw33(ontvanger="41999999"), today=TODAY)
    db.commit()
    assert db.scalar(select(func.count(Client.id))) == 0
    root = _aw34(outcome)
    assert _codes(root, "m:Header") == ["0001"]
    assert _codes(root, "m:Clienten/m:Client") == ["0233"]
    assert "niet aan een AGB-code van deze organisatie" in outcome.summary


def test_unknown_zzp_code_is_refused_with_0001(db, zk):
    good = f.aw33([f.zzp("804")])
    bad = good.replace(b"<aw33:ZzpCode>804</aw33:ZzpCode>", b"<aw33:ZzpCode>123</aw33:ZzpCode>")
    outcome = chain.process(db, bad, today=TODAY)
    db.commit()
    assert db.scalar(select(func.count(Client.id))) == 0
    assert "XSD" in outcome.summary and outcome.needs_action
    root = _aw34(outcome)
    assert _codes(root, "m:Header") == ["0001"]
    assert root.find(f"{{{current().ns('AW34')}}}Clienten") is None


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<aw33:Bericht xmlns:aw33="http://www.istandaarden.nl/iwlz/2_2/aw33/schema">&a;</aw33:Bericht>',
        b'<aw33:Bericht xmlns:aw33="http://www.istandaarden.nl/iwlz/2_2/aw33/schema">'
        + b" " * (msgs.MAX_BYTES + 1)
        + b"</aw33:Bericht>",
    ],
    ids=["entity", "huge"],
)
def test_hostile_or_huge_aw33_is_refused(db, zk, payload):
    outcome = chain.process(db, payload, today=TODAY)
    db.commit()
    assert outcome.summary.startswith("Geweigerd, niets verwerkt")
    assert outcome.replies == []
    assert db.scalar(select(func.count(Legitimation.id))) == 0


# --- AW35 / AW36 / AW39 / AW310 -------------------------------------------------------------------


@pytest.fixture
def legs(db, zk):
    chain.process(db, f.aw33([f.zzp("804"), f.functie("31", "K3")]), today=TODAY)
    db.commit()
    return _legs(db)


def _answer(db, draft, codes=None):
    """The zorgkantoor's retour on a melding: 0200 everywhere, or ``codes`` on the line."""
    rel, message, root = msgs.load(draft.payload)
    ns = {"m": rel.ns(message)}
    lines = [
        e
        for e in root.iter()
        if isinstance(e.tag, str)
        and etree.QName(e).localname in msgs._LINES
        and etree.QName(e).namespace == ns["m"]
    ]
    retour = msgs.build_retour(
        rel,
        message,
        root,
        codes={msgs.path_of(e): codes for e in lines} if codes else {},
        header_codes=["0200"],
        identificatie="R" + draft.reference[:11],
        dagtekening=TODAY,
    )
    return chain.process(db, retour, today=TODAY)


def test_start_checks_explain_in_dutch(db, legs):
    leg = legs[("zzp", "804")]
    with pytest.raises(chain.RuleError) as exc:
        chain.start_draft(db, leg, date(2026, 1, 15), today=TODAY)
    assert exc.value.issues[0].code == "0699"
    assert "vóór de ingangsdatum van de toewijzing" in exc.value.issues[0].message
    with pytest.raises(chain.RuleError) as exc:
        chain.start_draft(db, leg, date(2026, 4, 1), today=TODAY)
    assert "toekomst" in str(exc.value)
    with pytest.raises(chain.RuleError) as exc:
        chain.start_draft(db, leg, date(2026, 2, 3), etmalen="3,5", today=TODAY)
    assert "deeltijdverblijf" in str(exc.value)


def test_start_aw35_then_aw36_accepts_it(db, legs):
    leg = legs[("zzp", "804")]
    draft = chain.start_draft(db, leg, date(2026, 2, 3), today=TODAY)
    db.commit()
    rel, message, root = msgs.load(draft.payload)  # valid AW35
    assert message == "AW35" and draft.geadresseerde == ("Zorgkantoor", f.ZK)
    ns = {"m": rel.ns("AW35")}
    line = root.find(".//m:GeleverdZorgzwaartepakket", ns)
    assert line.findtext("m:Besluitnummer", namespaces=ns) == "300012345"
    assert line.findtext("m:ToewijzingIngangsdatum", namespaces=ns) == "2026-02-02"
    assert line.findtext("m:Leveringsvorm", namespaces=ns) == "4"
    assert line.findtext("m:Leveringsstatus", namespaces=ns) == "4"
    assert root.findtext("m:Header/m:Afzender", namespaces=ns) == AGB
    assert leg.keten_stand == "start_verzonden"
    with pytest.raises(chain.RuleError, match="al gemeld"):
        chain.start_draft(db, leg, date(2026, 2, 3), today=TODAY)
    outcome = _answer(db, draft)
    db.commit()
    assert "1 geaccepteerd" in outcome.summary
    assert leg.keten_stand == "gestart" and chain.started_on(leg) == date(2026, 2, 3)


def test_rejected_start_shows_the_code_and_can_be_sent_again(db, legs):
    leg = legs[("functie", "31")]
    draft = chain.start_draft(db, leg, date(2026, 2, 3), today=TODAY)
    outcome = _answer(db, draft, ["0699"])
    db.commit()
    assert leg.keten_stand == "start_afgewezen"
    assert "STARTDATUM levering ontbreekt of is onjuist" in outcome.issues[0].message
    again = chain.start_draft(db, leg, date(2026, 2, 4), today=TODAY)
    assert again.code == "AW35"


def test_mutatie_rules_and_end_of_care(db, legs):
    leg = legs[("zzp", "804")]
    with pytest.raises(chain.RuleError, match="alleen als de zorg is gestart"):
        chain.mutatie_draft(db, leg, "19", date(2026, 3, 1), leveringsstatus="5", today=TODAY)
    start = chain.start_draft(db, leg, date(2026, 2, 3), today=TODAY)
    _answer(db, start)
    with pytest.raises(chain.RuleError) as exc:
        chain.mutatie_draft(db, leg, "19", date(2026, 2, 1), leveringsstatus="5", today=TODAY)
    assert exc.value.issues[0].code == "1156" and "vóór de start" in exc.value.issues[0].message
    with pytest.raises(chain.RuleError, match="leveringsstatus past niet"):
        chain.mutatie_draft(db, leg, "19", date(2026, 3, 1), leveringsstatus="1", today=TODAY)
    draft = chain.mutatie_draft(db, leg, "19", date(2026, 3, 1), leveringsstatus="5", today=TODAY)
    rel, message, root = msgs.load(draft.payload)
    assert message == "AW39"
    ns = {"m": rel.ns("AW39")}
    assert root.findtext(".//m:MutatieZorgzwaartepakket/m:Mutatiecode", namespaces=ns) == "19"
    outcome = _answer(db, draft)
    db.commit()
    assert outcome.code == "AW310" and "1 geaccepteerd" in outcome.summary
    assert leg.status == "beeindigd" and leg.keten_stand == "beeindigd"


def test_not_yet_before_start_and_withdraw_and_resend(db, legs):
    leg = legs[("functie", "31")]
    draft = chain.mutatie_draft(db, leg, "18", date(2026, 2, 5), today=TODAY)
    _answer(db, draft)
    assert leg.keten_stand == "wacht"
    withdraw = chain.withdraw_draft(db, leg, "mutatie", today=TODAY)
    rel, _message, root = msgs.load(withdraw.payload)
    ns = {"m": rel.ns("AW39")}
    assert root.findtext(".//m:StatusAanlevering", namespaces=ns) == "3"
    _answer(db, withdraw)
    assert leg.sleutels["mutatie"]["status"] == "ingetrokken"
    start = chain.start_draft(db, leg, date(2026, 2, 9), today=TODAY)
    _answer(db, start)
    w = chain.withdraw_draft(db, leg, "start", today=TODAY)
    _answer(db, w)
    assert leg.sleutels["start"]["status"] == "ingetrokken"
    resend = chain.start_draft(db, leg, date(2026, 2, 10), today=TODAY)
    assert resend.code == "AW35"


def test_retour_for_unknown_lines_changes_nothing(db, legs):
    leg = legs[("zzp", "804")]
    draft = chain.start_draft(db, leg, date(2026, 2, 3), today=TODAY)
    db.commit()
    other = draft.payload.replace(b"300012345", b"300099999")
    rel, message, root = msgs.load(other)
    retour = msgs.build_retour(
        rel,
        message,
        root,
        codes={},
        header_codes=["0200"],
        identificatie="X1",
        dagtekening=TODAY,
    )
    outcome = chain.process(db, retour, today=TODAY)
    assert "niet herkend" in outcome.summary
    assert leg.keten_stand == "start_verzonden"


def test_end_of_care_with_aanvraag_for_an_adjusted_toewijzing(db, legs):
    leg = legs[("zzp", "804")]
    _answer(db, chain.start_draft(db, leg, date(2026, 2, 3), today=TODAY))
    aanvraag = msgs.Aanvraag(
        besluitnummer="300012345",
        afgiftedatum=date(2026, 1, 20),
        instelling=AGB,
        zzp="806",
        leveringsvorm="4",
        ingangsdatum=date(2026, 3, 2),
    )
    draft = chain.mutatie_draft(
        db, leg, "20", date(2026, 3, 1), leveringsstatus="5", aanvraag=aanvraag, today=TODAY
    )
    rel, _message, root = msgs.load(draft.payload)  # valid AW39 with its Aanvraag
    ns = {"m": rel.ns("AW39")}
    assert root.findtext(".//m:Aanvraag/m:ZzpCode", namespaces=ns) == "806"
    assert root.findtext(".//m:AanvraagInstelling/m:ToewijzingIngangsdatum", namespaces=ns) == (
        "2026-03-02"
    )
    outcome = _answer(db, draft)
    assert "1 geaccepteerd" in outcome.summary and leg.sleutels["mutatie"]["aanvraag"] is True
