"""The insurer in the stand-in answers an AW319 with an AW320; the portal processes it line by
line; bad AW320s are refused and change nothing."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from plugins.zvw_msvt import declaration as declaring
from plugins.zvw_msvt import financier as insurer
from portal.formats import ei
from portal.models import DeclarationLine, Message
from portal.services.messages import receive_payload
from tests.plugins.zvw_msvt.conftest import BSN, DAYS, TODAY, UZOVI


def _receive(db, hooks, payload: bytes) -> Message:
    """The AW320 as fetched from VECOZO: stored, routed, parsed by the plugin, applied."""
    metadata = {
        "referentiegegevens": {"traceerId": str(uuid.uuid4())},
        "routeringgegevens": {"afzender": {"rol": "Zorgverzekeraar", "code": UZOVI}},
    }
    return receive_payload(db, metadata=metadata, payload=payload, hooks=hooks)


def _process(db, hooks, payload: bytes) -> Message:
    return _receive(db, hooks, payload)


def _lines(db, decl):
    return {
        (ln.client_id, ln.begindatum): (ln.status, ln.retourcodes)
        for ln in db.scalars(
            select(DeclarationLine).where(DeclarationLine.declaration_id == decl.id)
        )
    }


def test_the_insurer_rejects_a_client_not_insured_on_that_date(db, hooks, sent, insurer_settings):
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    assert answer.code == "AW320" and answer.payload[2:5] == b"429"
    outcome = _process(db, hooks, answer.payload)
    db.commit()
    me, other = sent["decl"].lines[0].client_id, sent["other"].id
    assert _lines(db, sent["decl"]) == {
        (me, DAYS[0]): ("toegekend", []),
        (me, DAYS[1]): ("toegekend", []),
        (other, DAYS[0]): ("toegekend", []),
        (other, DAYS[1]): ("afgewezen", ["0402"]),  # after 14 March not insured with 3311
    }
    assert "3 prestaties toegekend, 1 afgewezen" in outcome.summary
    (issue,) = outcome.issues
    assert issue["code"] == "0402" and "niet bij deze zorgverzekeraar verzekerd" in issue["message"]
    assert outcome.financing == "zvw_msvt" and outcome.status == "verwerkt"
    assert hooks.retourcode_meaning("zvw_msvt", "0402").startswith("Cliënt is op de datum")


def test_a_prestatiecode_not_in_the_contract_and_a_tariff_above_the_maximum(
    db, hooks, sent, store, insurer_settings
):
    store.contract(UZOVI, "065", "1004", 7000)  # the maximum is now below our 76,00
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    retour = ei.parse(declaring.AW320, answer.payload)
    assert {p["0485"] for p in retour.of_type("04") if p["0403"] == BSN} == {"0611"}
    store.conn.execute("DELETE FROM contract")
    store.conn.commit()
    # a new AW319 (a new invoice number) for a code the insurer has no contract for
    again = ei.parse(declaring.AW319, bytes(sent["message"].payload))
    records = [(r.type, dict(r.values)) for r in again.records if r.type != "99"]
    records[0][1]["0116"] = "ZV202503-99"
    payload = ei.build(declaring.AW319, records)
    (answer,) = insurer.reply(payload, insurer_settings, today=TODAY)
    codes = {p["0485"] for p in ei.parse(declaring.AW320, answer.payload).of_type("04")}
    assert codes <= {"0613", "0402"} and "0613" in codes


def test_a_period_in_the_future_is_rejected(db, hooks, sent, insurer_settings):
    (answer,) = insurer.reply(
        bytes(sent["message"].payload), insurer_settings, today=date(2025, 3, 12)
    )
    codes = [p["0485"] for p in ei.parse(declaring.AW320, answer.payload).of_type("04")]
    assert codes.count("8176") == 2  # the week of 17 March lies after "today"


def test_the_same_invoice_number_twice_is_rejected_whole(db, hooks, sent, insurer_settings):
    payload = bytes(sent["message"].payload)
    insurer.reply(payload, insurer_settings, today=TODAY)
    (second,) = insurer.reply(payload, insurer_settings, today=TODAY)
    retour = ei.parse(declaring.AW320, second.payload)
    assert retour.header["0183"] == "0030"


def test_an_answer_applied_twice_changes_nothing(db, hooks, sent, insurer_settings):
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    _process(db, hooks, answer.payload)
    db.commit()
    before = _lines(db, sent["decl"])
    outcome = _process(db, hooks, answer.payload)
    db.commit()
    assert "al verwerkt" in outcome.summary and _lines(db, sent["decl"]) == before


def test_an_aw320_with_a_wrong_record_length_is_refused_and_changes_nothing(
    db, hooks, sent, insurer_settings
):
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    broken = answer.payload.replace(b"\r\n", b" \r\n", 1)  # the first record one position long
    outcome = _process(db, hooks, broken)
    db.commit()
    assert outcome.needs_action and "AW320 geweigerd, er is niets gewijzigd" in outcome.summary
    assert "371" in outcome.summary or "lengte" in outcome.summary.lower()
    assert {s for s, _ in _lines(db, sent["decl"]).values()} == {"ingediend"}


def test_an_aw320_naming_unknown_references_is_refused_and_changes_nothing(
    db, hooks, sent, insurer_settings
):
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    retour = ei.parse(declaring.AW320, answer.payload)
    records = [(r.type, dict(r.values)) for r in retour.records if r.type != "99"]
    for kind, values in records:
        if kind == "04":
            values["0431"] = "ONBEKEND-" + values["0431"][-5:]
            break
    outcome = _process(db, hooks, ei.build(declaring.AW320, records))
    db.commit()
    assert outcome.needs_action and "nooit in deze declaratie zijn verstuurd" in outcome.summary
    assert "er is niets gewijzigd" in outcome.summary
    assert {s for s, _ in _lines(db, sent["decl"]).values()} == {"ingediend"}


def test_an_aw320_for_an_unknown_invoice_is_ignored_with_a_message(
    db, hooks, sent, insurer_settings
):
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    retour = ei.parse(declaring.AW320, answer.payload)
    records = [(r.type, dict(r.values)) for r in retour.records if r.type != "99"]
    records[0][1]["0116"] = "ZV199901-1"
    outcome = _process(db, hooks, ei.build(declaring.AW320, records))
    assert "onbekende declaratie" in outcome.summary and "niets gewijzigd" in outcome.summary
    assert {s for s, _ in _lines(db, sent["decl"]).values()} == {"ingediend"}


def test_only_zvw_claims_its_aw320(db, hooks, sent, insurer_settings):
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    message = _receive(db, hooks, answer.payload)
    assert [c.financing for c in hooks.recognise_message(message, db)] == ["zvw_msvt"]
    assert message.financing == "zvw_msvt" and message.code == "AW320"


def test_a_whole_file_rejection_rejects_every_line_with_its_meaning(
    db, hooks, sent, insurer_settings
):
    payload = bytes(sent["message"].payload)
    insurer.reply(payload, insurer_settings, today=TODAY)  # the insurer saw this number before
    (second,) = insurer.reply(payload, insurer_settings, today=TODAY)
    message = _process(db, hooks, second.payload)
    db.commit()
    assert "is afgekeurd" in message.summary and "niet uniek" in message.summary
    assert {s for s, _ in _lines(db, sent["decl"]).values()} == {"afgewezen"}


def test_an_aw320_that_is_not_latin_text_is_refused(db, hooks, sent):
    garbage = b"01429" + bytes(range(200, 256)) * 6 + b"\r\n"
    message = _process(db, hooks, garbage)
    db.commit()
    assert message.needs_action and "AW320 geweigerd" in message.summary
    assert {s for s, _ in _lines(db, sent["decl"]).values()} == {"ingediend"}
