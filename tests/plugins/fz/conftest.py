from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from plugins.fz import financier
from portal.domain import MessageDraft
from portal.models import (
    Contract,
    ContractLine,
    Financier,
    Legitimation,
    Message,
    Organisation,
    OrganisationAgb,
    Product,
)
from portal.services.messages import receive_payload
from portal.vecozo.berichtstromen import berichtstroom_for
from tests.portal.vecozo.conftest import standin_server  # noqa: F401

AGB = "73730001"
BSN = "999993653"
BSN2 = "999990019"
TODAY = date(2026, 3, 10)


def person(bsn: str = BSN, achternaam: str = "Jansen") -> dict:
    return {
        "bsn": bsn,
        "geboortedatum": date(1985, 4, 2),
        "geslacht": "1",
        "achternaam": achternaam,
        "voorletters": "P",
    }


@pytest.fixture
def org(db):
    org = Organisation(naam="Forensisch Zorg BV")
    org.agb_codes.append(OrganisationAgb(agb_code=AGB, locatie="Hoofdlocatie", hoofd=True))
    db.add(org)
    db.commit()
    return org


@pytest.fixture
def dji_settings(tmp_path, app):
    """A fresh store for the simulated DJI, shared by the portal's hooks and the tests."""
    settings = {"fz": {"dji_db": str(tmp_path / "dji.db")}}
    hooks = app.extensions["hooks"]
    saved = hooks.settings
    hooks.settings = settings
    try:
        yield settings
    finally:
        hooks.settings = saved


@pytest.fixture
def master(db, org):
    """DJI, two own products and a contract: klinisch verblijf per dag (GDS801) and
    ambulante begeleiding per uur (FZ303)."""
    dji = Financier(financing="fz", soort="dji", code="9992", naam="Dienst Justitiële Inrichtingen")
    verblijf = Product(code="FZ-VERBLIJF", naam="Verblijf forensisch", eenheid="dag")
    begeleiding = Product(code="FZ-BEG", naam="Forensische begeleiding", eenheid="uur")
    db.add_all([dji, verblijf, begeleiding])
    db.flush()
    contract = Contract(financier_id=dji.id, naam="DJI 2026", begindatum=date(2026, 1, 1))
    contract.lines.append(
        ContractLine(
            product_id=verblijf.id,
            productcode="FZV02",
            eenheid="dag",
            tarief_cents=45000,
            begindatum=date(2026, 1, 1),
        )
    )
    contract.lines.append(
        ContractLine(
            product_id=begeleiding.id,
            productcode="FZ3A",
            eenheid="uur",
            tarief_cents=9800,
            begindatum=date(2026, 1, 1),
        )
    )
    db.add(contract)
    db.commit()
    return {"dji": dji, "verblijf": verblijf, "begeleiding": begeleiding, "contract": contract}


def receive(db, hooks, draft: MessageDraft, answers_to: str | None = None) -> Message:
    """A message as VECOZO delivers it to the portal (the real inbox path)."""
    payload = bytes(draft.payload)
    metadata = {
        "basisgegevens": {
            "payload": {
                "grootte": len(payload),
                "checksum": {"algoritme": "SHA256", "waarde": hashlib.sha256(payload).hexdigest()},
            }
        },
        "routeringgegevens": {
            "afzender": {"rol": "DJI", "code": "9992"},
            "geadresseerden": [{"rol": "Instelling", "code": AGB}],
            "berichtstroom": berichtstroom_for(draft.code, "fz"),
        },
        "referentiegegevens": {
            "conversatieId": str(uuid.uuid4()),
            "traceerId": str(uuid.uuid4()),
            "alsAntwoordOp": answers_to,
        },
    }
    message = receive_payload(db, metadata=metadata, payload=payload, hooks=hooks)
    db.commit()
    return message


def place(
    db,
    hooks,
    settings,
    *,
    bsn=BSN,
    nummer="PB-2026-0001",
    titel="VI",
    code="FZV02",
    begin=date(2026, 1, 1),
    eind=date(2026, 12, 31),
    naam="Jansen",
) -> Legitimation:
    """DJI places a client: an FZ821 through the inbox."""
    draft = financier.issue_821(
        settings,
        agb=AGB,
        client=person(bsn, naam),
        nummer=nummer,
        titel=titel,
        prestatiecode=code,
        begin=begin,
        eind=eind,
        today=TODAY,
    )
    msg = receive(db, hooks, draft)
    assert msg.financing == "fz", msg.summary
    return db.scalar(select(Legitimation).where(Legitimation.referentienummer == nummer))


def answer(db, hooks, settings, message: Message, today=TODAY) -> list[Message]:
    """DJI answers an outgoing message (the stand-in's financier) and the portal reads it."""
    drafts = financier.reply(bytes(message.payload), settings, today=today)
    assert drafts is not None
    return [receive(db, hooks, d, answers_to=message.traceer_id) for d in drafts]


def approved(db, employee_id: int, client_id: int, product, datum, *, minutes=None, aantal=None):
    """An approved (gefiatteerde) registration."""
    from portal.models.registration import REG_APPROVED, Registration

    reg = Registration(
        client_id=client_id,
        product_id=product.id,
        employee_id=employee_id,
        datum=datum,
        duur_minuten=minutes,
        aantal=aantal,
        status=REG_APPROVED,
    )
    db.add(reg)
    db.flush()
    return reg


def started(db, hooks, settings, leg, day) -> None:
    """Report the start and let DJI accept it."""
    from plugins.fz import placements

    sent = placements.report_start(db, leg, day, settings=settings, today=TODAY)
    db.commit()
    answer(db, hooks, settings, sent)
    db.refresh(leg)
    assert leg.keten_stand == placements.GESTART


@pytest.fixture
def standin(standin_server, app, dji_settings):  # noqa: F811
    """The real VECOZO stand-in with DJI (this plugin's financier) sharing the test's DJI store;
    the portal pointed at it."""
    from tests.portal.vecozo.conftest import _OVERRIDES

    standin_server.store.reset()
    standin_hooks = standin_server.app.extensions["hooks"]
    saved_settings = standin_hooks.settings
    standin_hooks.settings = dji_settings
    saved = {k: app.config.get(k) for k in _OVERRIDES}
    app.config.update(_OVERRIDES, VECOZO_BASE_URL=standin_server.url)
    try:
        yield standin_server
    finally:
        standin_hooks.settings = saved_settings
        app.config.update(saved)
        standin_server.store.clear_faults()
