"""The demo's Wmo year: what the portal shows, the stand-in's gemeenten agree with.

Seeds the whole demo (core and every plugin's ``seed_demo``) as ``portal demo`` does, then
checks it against the simulated gemeenten's own store and declares the open month through the
real stand-in logic.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from plugins.wmo_jw import chain, financier, rules
from portal.demo import history_start, seed
from portal.models import (
    Client,
    Declaration,
    DeclarationLine,
    Financier,
    Legitimation,
    Message,
    Registration,
)
from portal.services import declarations as svc
from portal.services.messages import receive_payload

TODAY = date.today()


@pytest.fixture(autouse=True)
def fresh_instance(tmp_path, monkeypatch):
    """A fresh instance folder: the stand-in's financiers (every plugin's store there) start
    from nothing, as on a new machine, and other tests' stores are left alone."""
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))


def _seeded(db, hooks):
    assert seed(db, hooks=hooks)
    db.commit()
    return financier.store_for(hooks.settings)


def test_the_gemeenten_know_every_demo_toewijzing_and_it_came_as_a_301(db, hooks):
    store = _seeded(db, hooks)
    legs = db.scalars(select(Legitimation).where(Legitimation.financing == "wmo_jw")).all()
    assert len(legs) >= 20
    agb = chain.own_agb(db)
    for leg in legs:
        gemeente = db.get(Financier, leg.financier_id).code
        known = {t.nummer: t for t in store.toewijzingen(gemeente, agb, leg.client.bsn)}
        assert leg.toewijzingnummer in known, leg.toewijzingnummer
        assert known[leg.toewijzingnummer].code == leg.productcode
        assert leg.bron == "301" and leg.status == "actief"
        # the start was sent and accepted by the gemeente
        assert chain.starts(leg)[-1]["status"] == "geaccepteerd"
        assert store.start_state(leg.toewijzingnummer).starts[leg.toewijzingnummer]
    codes = dict(
        db.execute(
            select(Message.code, func.count())
            .where(Message.financing == "wmo_jw")
            .group_by(Message.code)
        ).all()
    )
    for kind in ("301", "302", "305", "306", "323", "325"):
        assert codes.get(f"WMO{kind}", 0) > 0, (kind, codes)
        # children under the Jeugdwet: their own iJw messages
        assert codes.get(f"JW{kind}", 0) > 0, (kind, codes)
    youth = [leg for leg in legs if leg.productcategorie == "45"]
    assert youth and all(leg.client.geboortedatum.year >= 2010 for leg in youth)
    # the history is not sent again: every outgoing message is delivered or answered
    statuses = set(
        db.scalars(
            select(Message.status).where(Message.financing == "wmo_jw", Message.direction == "uit")
        )
    )
    assert statuses <= {"bezorgd", "beantwoord"}, statuses


def test_a_year_declared_and_answered_with_fixable_rejections(db, hooks):
    _seeded(db, hooks)
    first = history_start(TODAY)
    open_month = rules.next_month(TODAY.replace(day=1), -1)
    decls = db.scalars(
        select(Declaration).where(Declaration.financing == "wmo_jw").order_by(Declaration.id)
    ).all()
    months = {d.periode_begin for d in decls}
    assert min(months) == first and max(months) == rules.next_month(open_month, -1)
    assert len(months) == 12
    assert all(d.status != "concept" for d in decls)
    lines = db.scalars(select(DeclarationLine).where(DeclarationLine.financing == "wmo_jw")).all()
    by_status: dict[str, list[DeclarationLine]] = {}
    for line in lines:
        by_status.setdefault(line.status, []).append(line)
    assert len(by_status["toegekend"]) > 10 * len(by_status.get("afgewezen", []))
    rejected = by_status["afgewezen"]
    codes = {c for line in rejected for c in line.retourcodes}
    assert {"0611", "9321"} <= codes, codes
    # the tariff rejection was fixed: the same care declared again, at the contract tariff,
    # and awarded
    hh = [line for line in rejected if "0611" in line.retourcodes]
    for line in hh:
        again = db.scalars(
            select(DeclarationLine).where(
                DeclarationLine.client_id == line.client_id,
                DeclarationLine.begindatum == line.begindatum,
                DeclarationLine.productcode == line.productcode,
                DeclarationLine.id != line.id,
            )
        ).all()
        assert [a.status for a in again] == ["toegekend"]
        assert again[0].tarief_cents < line.tarief_cents
    # the volume rejection is open: the care is free to be corrected and declared again
    (open_line,) = [line for line in rejected if "9321" in line.retourcodes]
    assert open_line.begindatum.replace(day=1) == rules.next_month(open_month, -1)
    # only that declaration's messages still ask for action (start page, message list)
    open_decl = db.get(Declaration, open_line.declaration_id)
    acting = db.scalars(
        select(Message).where(Message.financing == "wmo_jw", Message.needs_action.is_(True))
    ).all()
    assert {m.code for m in acting} == {"WMO323", "WMO325"}
    assert all(open_decl.message_id in (m.id, m.answers_id) for m in acting)
    # every answer is dated on its own day in the history, and shows in the portal
    answers = db.scalars(select(Message).where(Message.code.in_(("WMO325", "JW325")))).all()
    assert len(answers) == len(decls)
    assert min(m.created_at.date() for m in answers) < TODAY - timedelta(days=300)


def test_declaring_the_open_month_is_awarded_by_the_stand_in(db, hooks):
    store = _seeded(db, hooks)
    open_month = rules.next_month(TODAY.replace(day=1), -1)
    awarded_months = set()
    for gemeente in db.scalars(
        select(Financier).where(Financier.financing == "wmo_jw").order_by(Financier.code)
    ):
        prepared = svc.prepare(db, gemeente, open_month, hooks=hooks)
        db.commit()
        for decl in prepared.declarations:
            (message,) = svc.submit(db, decl.id, hooks)
            db.commit()
            # the stand-in's gemeente answers exactly as it does in the running demo
            (answer,) = financier.reply(bytes(message.payload), hooks.settings)
            receive_payload(
                db,
                metadata={
                    "referentiegegevens": {
                        "traceerId": f"demo-test-{decl.id}",
                        "alsAntwoordOp": message.traceer_id,
                    },
                    "routeringgegevens": {"afzender": {"rol": "Gemeente", "code": gemeente.code}},
                },
                payload=bytes(answer.payload),
                hooks=hooks,
            )
            db.commit()
            db.refresh(decl)
            assert decl.status != "afgekeurd", (gemeente.code, decl.retourcodes)
            this_month = [line for line in decl.lines if line.begindatum >= open_month]
            assert this_month
            assert {line.status for line in this_month} == {"toegekend"}, [
                (line.productcode, line.retourcodes) for line in this_month
            ]
            awarded_months.add(open_month)
    assert awarded_months == {open_month}
    assert store.state(gemeente.code, chain.own_agb(db)).last_period == open_month


def test_names_fit_the_gender_and_the_seed_adds_nothing_twice(db, hooks):
    from portal.demo import MEN, WOMEN

    _seeded(db, hooks)
    clients = db.scalars(select(Client).where(Client.clientnummer.like("C1%"))).all()
    assert len(clients) >= 50
    for c in clients:
        first = c.voornamen.split()[0]
        assert first in (MEN if c.geslacht == "1" else WOMEN), (c.voornamen, c.geslacht)
        assert c.voorletters.startswith(first[0])
    counts = [
        db.scalar(select(func.count()).select_from(model))
        for model in (Client, Legitimation, Message, Declaration, Registration)
    ]
    assert seed(db, hooks=hooks) is False
    db.commit()
    assert [
        db.scalar(select(func.count()).select_from(model))
        for model in (Client, Legitimation, Message, Declaration, Registration)
    ] == counts
