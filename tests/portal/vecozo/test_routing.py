"""Inbound routing is explicit: the financing of an incoming message follows from what it answers
or from the one plugin that claims it, never from the name of its standard.

Two test financings both read AW320 retours (built with the inferred AW320 layout table); each
claims only the retours on the invoice numbers of AW319s it sent, as Wlz and Zvw will.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from flask import current_app

from portal import hookimpl
from portal.domain import (
    FinancierKind,
    FinancingInfo,
    Issue,
    ParseOutcome,
    Recognition,
    Severity,
    Unit,
)
from portal.formats import ei
from portal.models import Message
from portal.services.messages import create_outgoing, financings_that_sent, receive_payload
from portal.vecozo.berichtstromen import berichtstroom_for, code_for
from tests.portal.formats.ei_samples import client, header, prestatie

AW320 = ei.load_layout("aw320", "1.4-afgeleid")


def aw320(invoice: str, toegekend: int = 45000, **trailer) -> bytes:
    tail = {"0182": "20260301", "0183": "0000"}
    line = prestatie("999999990", "REF-0001", 45000, quantity=3)[1]
    line.update({"0481": 45000, "0483": toegekend, "0485": "0000" if toegekend else "0611"})
    records = [
        ("01", {**header(**{"0102": 188, "0116": invoice})[1], **tail}),
        ("02", {**client("999999990", "Jansen")[1], "0281": "0000"}),
        ("04", line),
    ]
    if trailer:
        records.append(("99", trailer))
    return ei.build(AW320, records, check=not trailer)


class RetourPlugin:
    """A financing that declares with AW319 and reads AW320 retours."""

    def __init__(self, code: str, label: str):
        self.code, self.label = code, label
        self.parsed: list[str] = []
        self.asked = 0

    @hookimpl
    def financing_info(self, settings):
        return FinancingInfo(
            code=self.code,
            label=self.label,
            financier_kinds=(FinancierKind.ZORGKANTOOR,),
            units=(Unit.STUK,),
            can_stack=False,
            standards=("AW319/AW320",),
        )

    def _invoice(self, payload: bytes) -> str | None:
        if ei.identify(payload) is not AW320:
            return None
        return payload[80:92].decode("latin-1").strip()

    @hookimpl
    def recognise_message(self, message, session, settings):
        self.asked += 1
        invoice = self._invoice(bytes(message.payload))
        if invoice and self.code in financings_that_sent(session, reference=invoice, code="AW319"):
            return Recognition(self.code, "AW320", "AW320 (Vektis EI)")
        return None

    @hookimpl
    def parse_message(self, message, session, settings):
        payload = bytes(message.payload)
        if self._invoice(payload) is None:
            return None
        try:
            retour = ei.parse(AW320, payload)
        except ei.EiError as exc:  # refused: nothing is applied
            return ParseOutcome(
                standard="AW320",
                code="AW320",
                summary=str(exc),
                needs_action=True,
                issues=[Issue(i.rule, str(i), i.field, Severity.BLOCKING) for i in exc.issues],
            )
        self.parsed.append(retour.header["0116"])
        return ParseOutcome(
            standard="AW320", code="AW320", summary=f"AW320 door {self.label} verwerkt"
        )


@pytest.fixture
def two_financings(app) -> Iterator[tuple[RetourPlugin, RetourPlugin]]:
    hooks = app.extensions["hooks"]
    a = RetourPlugin("proef_wlz", "Proef Wlz")
    b = RetourPlugin("proef_zvw", "Proef Zvw")
    hooks.pm.register(a, name="proef-wlz")
    hooks.pm.register(b, name="proef-zvw")
    hooks.__dict__.pop("_by_code", None)  # the facade caches who provides which financing
    try:
        yield a, b
    finally:
        hooks.pm.unregister(name="proef-wlz")
        hooks.pm.unregister(name="proef-zvw")
        hooks.__dict__.pop("_by_code", None)


def receive(db, payload: bytes, answers_to: str | None = None) -> Message:
    metadata = {
        "basisgegevens": {
            "payload": {
                "grootte": len(payload),
                "checksum": {"algoritme": "SHA256", "waarde": hashlib.sha256(payload).hexdigest()},
            }
        },
        "routeringgegevens": {
            "afzender": {"rol": "Zorgkantoor", "code": "5501"},
            "geadresseerden": [{"rol": "Instelling", "code": "41000017"}],
            "berichtstroom": berichtstroom_for("AW320", "wlz"),
        },
        "referentiegegevens": {
            "conversatieId": str(uuid.uuid4()),
            "traceerId": str(uuid.uuid4()),
            "alsAntwoordOp": answers_to,
        },
    }
    message = receive_payload(
        db, metadata=metadata, payload=payload, hooks=current_app.extensions["hooks"]
    )
    db.commit()
    return message


def sent(db, financing: str, invoice: str) -> Message:
    message = create_outgoing(db, ei_draft(invoice), financing=financing)
    db.commit()
    return message


def test_the_one_claiming_financing_gets_the_message(app, db, two_financings):
    a, b = two_financings
    sent(db, "proef_wlz", "F2026-0001")
    sent(db, "proef_zvw", "F2026-0002")
    message = receive(db, aw320("F2026-0002"))
    assert (message.financing, message.code, message.status) == ("proef_zvw", "AW320", "verwerkt")
    assert b.parsed == ["F2026-0002"] and a.parsed == []
    assert message.summary == "AW320 door Proef Zvw verwerkt"


def test_what_it_answers_decides_before_any_claim(app, db, two_financings):
    a, b = two_financings
    heen = sent(db, "proef_wlz", "F2026-0001")
    sent(db, "proef_zvw", "F2026-0002")
    # the payload names B's invoice, but VECOZO says it answers A's AW319: A's plugin reads it,
    # B is neither asked to claim it nor to parse it
    message = receive(db, aw320("F2026-0002"), answers_to=heen.traceer_id)
    assert message.financing == "proef_wlz" and message.answers_id == heen.id
    assert (a.asked, b.asked) == (0, 0)
    assert a.parsed == ["F2026-0002"] and b.parsed == []
    assert message.status == "verwerkt"


def test_two_claims_are_left_for_a_person(app, db, two_financings):
    a, b = two_financings
    sent(db, "proef_wlz", "F2026-0001")  # invoice numbers are unique per financing only
    sent(db, "proef_zvw", "F2026-0001")
    message = receive(db, aw320("F2026-0001"))
    assert message.status == "onbekend" and message.needs_action
    assert message.financing is None
    assert "Meer dan één financiering herkent dit bericht (Proef Wlz, Proef Zvw)" in message.summary
    assert a.parsed == [] and b.parsed == []


def test_a_broken_retour_is_refused_in_dutch_and_applies_nothing(app, db, two_financings):
    a, _b = two_financings
    sent(db, "proef_wlz", "F2026-0001")
    payload = aw320("F2026-0001", **{"9907": 1, "9908": "D", "9909": 45000, "9910": "D"})
    message = receive(db, payload)
    assert message.financing == "proef_wlz" and message.needs_action
    assert a.parsed == []
    assert "veld 9907 (TOTAAL INGEDIEND DECLARATIEBEDRAG)" in message.summary
    assert "totaal is € 0,01 D, maar de bedragen in veld 0429 tellen op tot € 450,00 D" in (
        message.summary
    )
    assert [i["field"] for i in message.issues] == ["9907"]


def ei_draft(invoice: str):
    from portal.domain import MessageDraft

    return MessageDraft(
        standard="AW319",
        code="AW319",
        payload=b"x",
        reference=invoice,
        afzender=("Instelling", "41000017"),
        geadresseerde=("Zorgkantoor", "5501"),
    )


def test_vecozo_settings_are_keyed_by_financing_and_message(app):
    with app.app_context():
        assert berichtstroom_for("AW319", "wlz")["berichtsubtype"] == "AW319"
        assert berichtstroom_for("WMO323", "wmo_jw")["berichtsubtype"] == "WMO323"
        app.config["VECOZO_BERICHTSTROMEN"] = {
            "zvw_msvt/AW319": {
                "berichttype": "EI",
                "berichtsubtype": "AW319",
                "berichtversie": 2,
                "berichtsubversie": 4,
                "actie": "Declaratie",
            }
        }
        try:
            assert berichtstroom_for("AW319", "zvw_msvt")["berichtsubversie"] == 4
            assert berichtstroom_for("AW319", "wlz")["berichtsubversie"] == 3
            assert code_for(berichtstroom_for("AW319", "zvw_msvt")) == "AW319"
        finally:
            app.config["VECOZO_BERICHTSTROMEN"] = {}
