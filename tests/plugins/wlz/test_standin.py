"""Round trips through the real VECOZO stand-in: the zorgkantoor (this plugin's
``financier_reply``) issues an AW33, the portal fetches it and answers with an AW34, sends an
AW35 and processes the AW36; an AW319 goes out and its AW320 comes back and is applied."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy import select

from plugins.wlz import chain, financier
from plugins.wlz import messages as msgs
from portal.models import DeclarationLine, Legitimation, Message
from portal.services import declarations
from portal.services.messages import create_outgoing
from tests.plugins.wlz import factories as f
from tests.plugins.wlz.factories import AGB, ZK
from tests.plugins.wlz.test_declaration import JAN, week5  # noqa: F401
from tests.portal.vecozo.conftest import _OVERRIDES, standin_server  # noqa: F401


@pytest.fixture
def settings(tmp_path):
    return {"wlz": {"zorgkantoor_db": str(tmp_path / "zk.db")}}


@pytest.fixture
def standin(standin_server, app, settings):  # noqa: F811
    standin_server.store.reset()
    standin_hooks = standin_server.app.extensions["hooks"]
    saved_settings = standin_hooks.settings
    standin_hooks.settings = settings  # the zorgkantoor's memory for this test
    saved = {k: app.config.get(k) for k in _OVERRIDES}
    app.config.update(_OVERRIDES, VECOZO_BASE_URL=standin_server.url)
    try:
        yield standin_server
    finally:
        standin_hooks.settings = saved_settings
        app.config.update(saved)
        standin_server.store.clear_faults()


def _fetch(app, db):
    from portal.jobs.vecozo import poll_once

    with app.app_context():
        return poll_once(app, db, trigger="handmatig")


def test_aw33_aw34_aw35_aw36_through_the_standin(app, db, zk, standin, settings, run_jobs):
    today = date.today()
    start = today.replace(day=1)
    draft = financier.issue_aw33(
        settings,
        ZK,
        AGB,
        f.persoon(),
        msgs.Indicatie("300012345", start, start, toewijzingen=[f.zzp("804", ingang=start)]),
        today=today,
    )
    standin.place(
        payload_base64=base64.b64encode(draft.payload).decode(),
        code="AW33",
        postbus=AGB,
        afzender_rol="Zorgkantoor",
        afzender_code=ZK,
    )
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    inbound = db.scalar(select(Message).where(Message.direction == "in"))
    assert inbound.status == "verwerkt" and inbound.code == "AW33" and inbound.financing == "wlz"
    assert "nieuw: ZZP 804" in inbound.summary
    aw34 = db.scalar(select(Message).where(Message.code == "AW34"))
    assert aw34.direction == "uit" and aw34.answers_id == inbound.id
    run_jobs()  # the AW34 leaves
    standin.forward()  # the zorgkantoor fetches it (no answer)
    leg = db.scalar(select(Legitimation).where(Legitimation.productcategorie == "804"))
    sent = create_outgoing(db, chain.start_draft(db, leg, start), financing="wlz")
    db.commit()
    run_jobs()
    standin.forward()  # the zorgkantoor fetches the AW35 and answers with an AW36
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    answer = db.scalar(select(Message).where(Message.code == "AW36"))
    assert answer.status == "verwerkt" and "1 geaccepteerd" in answer.summary
    assert answer.answers_id == sent.id
    db.refresh(leg)
    assert leg.keten_stand == "gestart"


def test_aw319_and_its_aw320_through_the_standin(app, db, hooks, week5, standin, run_jobs):  # noqa: F811
    prepared = declarations.prepare(db, week5["zk"], JAN, hooks=hooks)
    (sent,) = declarations.submit(db, prepared.declaration.id, hooks)
    db.commit()
    assert sent.code == "AW319" and sent.berichtstroom["berichttype"] == "EI"
    run_jobs()
    standin.forward()  # the zorgkantoor fetches the AW319 and answers with an AW320
    assert _fetch(app, db)["opgehaald"] >= 1
    db.commit()
    answer = db.scalar(select(Message).where(Message.code == "AW320"))
    assert answer.status == "verwerkt" and answer.financing == "wlz"
    (line,) = db.scalars(select(DeclarationLine)).all()
    assert line.status == "toegekend"
