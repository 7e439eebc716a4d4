"""A thuiszorg organisation with two insurers, its products and Zvw indicaties (March 2025)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from plugins.zvw_msvt import financier as insurer
from portal.models import Legitimation
from portal.services import declarations
from portal.services.messages import receive_payload
from tests.portal.invoices import builders as b
from tests.portal.vecozo.conftest import _OVERRIDES, standin_server  # noqa: F401

TODAY = date(2025, 4, 10)
MARCH = date(2025, 3, 1)
AGB = "73730001"
UZOVI = "3311"
UZOVI2 = "7029"
BSN = "123456782"
BSN2 = "111222333"
DAYS = [date(2025, 3, 10), date(2025, 3, 17)]  # weeks 11 and 12


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.fixture
def insurer_settings(tmp_path):
    """Plugin settings with a fresh store for the simulated insurers."""
    return {"zvw_msvt": {"verzekeraar_db": str(tmp_path / "verzekeraar.db")}}


@pytest.fixture
def store(insurer_settings):
    return insurer.store_for(insurer_settings)


class World:
    """The builders of one test: add products, contract lines, indicaties and care."""

    def __init__(self, db):
        self.db = db
        b.organisation(db)
        self.emp = b.employee(db)
        self.zv = b.financier(
            db, "zvw_msvt", "zorgverzekeraar", "Zorgverzekeraar Midden", code=UZOVI
        )
        self.zv2 = b.financier(
            db, "zvw_msvt", "zorgverzekeraar", "Zorgverzekeraar Noord", code=UZOVI2
        )
        self.private = b.financier(db, "particulier", "client", "Cliënt zelf")
        self.vp = b.product(db, "VP-UUR", ["zvw_msvt", "particulier"])
        self.client = b.client(db, BSN, "Jansen", geslacht="2")

    def line(self, product, tarief, *, fin=None, lijst="065", code="1004", eenheid="uur", **kw):
        return b.contract_line(
            self.db, fin or self.zv, product, tarief, productcategorie=lijst, productcode=code,
            eenheid=eenheid, afronding_minuten=kw.pop("afronding_minuten", 0), **kw,
        )  # fmt: skip

    def indicatie(self, product, *, client=None, fin=None, volume=6, soort="wijkverpleging", **kw):
        leg = b.legitimation(
            self.db, client or self.client, fin or self.zv, "zvw_msvt", product, volume=volume,
            priority=kw.pop("priority", 1), **kw,
        )  # fmt: skip
        leg.sleutels = {
            "soort": soort,
            "indicatiesteller": "W. de Vries",
            "verzekerdennummer": "123456789",
            **kw.pop("sleutels", {}),
        }
        self.db.flush()
        return leg

    def private_agreement(self, product, volume=2, client=None):
        b.contract_line(self.db, self.private, product, 6200, afronding_minuten=0)
        return b.legitimation(
            self.db, client or self.client, self.private, "particulier", product, priority=2,
            volume=volume, tarief_cents=6200,
        )  # fmt: skip

    def care(self, product, days, minutes, client=None):
        return [
            b.register(self.db, client or self.client, product, self.emp, d, minutes) for d in days
        ]

    def legitimation(self, leg_id) -> Legitimation:
        return self.db.get(Legitimation, leg_id)


@pytest.fixture
def world(db):
    return World(db)


@pytest.fixture
def sent(db, hooks, world, store):
    """Two clients, two weeks each, declared to UZOVI 3311; the insurer knows its contract."""
    other = b.client(db, BSN2, "Pietersen", geslacht="1")
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=6)
    world.indicatie(world.vp, client=other, volume=6)
    world.care(world.vp, DAYS, 60)
    world.care(world.vp, DAYS, 60, client=other)
    db.commit()
    store.contract(UZOVI, "065", "1004", 8000)
    store.insure(UZOVI, BSN, date(2024, 1, 1))
    store.insure(UZOVI, BSN2, date(2024, 1, 1), date(2025, 3, 14))  # insured until 14 March
    decl = declarations.prepare(db, world.zv, MARCH, hooks=hooks).declaration
    (message,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    return {"decl": decl, "message": message, "other": other}


@pytest.fixture
def answered(db, hooks, sent, insurer_settings):
    """``sent``, answered by the insurer: the client not insured after 14 March is rejected."""
    (answer,) = insurer.reply(bytes(sent["message"].payload), insurer_settings, today=TODAY)
    receive_payload(
        db,
        metadata={"referentiegegevens": {"traceerId": str(uuid.uuid4())}},
        payload=answer.payload,
        hooks=hooks,
    )
    db.commit()
    return sent


@pytest.fixture
def standin(standin_server, app, insurer_settings):  # noqa: F811
    standin_server.store.reset()
    standin_hooks = standin_server.app.extensions["hooks"]
    saved_settings = standin_hooks.settings
    standin_hooks.settings = insurer_settings  # the insurer's memory for this test
    saved = {k: app.config.get(k) for k in _OVERRIDES}
    app.config.update(_OVERRIDES, VECOZO_BASE_URL=standin_server.url)
    try:
        yield standin_server
    finally:
        standin_hooks.settings = saved_settings
        app.config.update(saved)
        standin_server.store.clear_faults()
