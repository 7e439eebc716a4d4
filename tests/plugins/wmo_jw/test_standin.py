"""Full round trips through the real VECOZO stand-in: the portal sends, the simulated gemeente
(this plugin's ``financier_reply``) answers, the portal fetches and processes the answer."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from sqlalchemy import select

from plugins.wmo_jw import chain, financier
from plugins.wmo_jw.standard import IWMO
from portal.models import Legitimation, Message
from tests.plugins.wmo_jw.factories import AGB, GEMEENTE, persoon, toewijzing
from tests.portal.vecozo.conftest import _OVERRIDES, standin_server  # noqa: F401


@pytest.fixture
def standin(standin_server, app, gemeente_settings):  # noqa: F811
    standin_server.store.reset()
    standin_hooks = standin_server.app.extensions["hooks"]
    saved_settings = standin_hooks.settings
    standin_hooks.settings = gemeente_settings  # the gemeente's memory for this test
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


def test_301_302_305_306_through_the_standin(app, db, org, standin, gemeente_settings, run_jobs):
    draft = financier.issue_301(
        gemeente_settings, IWMO, GEMEENTE, AGB, persoon(), [toewijzing("5001")], today=date.today()
    )
    standin.place(
        payload_base64=base64.b64encode(draft.payload).decode(),
        code="WMO301",
        postbus=AGB,
        afzender_code=GEMEENTE,
    )
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    inbound = db.scalar(select(Message).where(Message.direction == "in"))
    assert inbound.status == "verwerkt" and inbound.code == "WMO301"
    assert "1 nieuw" in inbound.summary
    leg = db.scalar(select(Legitimation).where(Legitimation.toewijzingnummer == "5001"))
    assert leg is not None and leg.financier.code == GEMEENTE
    retour = db.scalar(select(Message).where(Message.code == "WMO302"))
    assert retour.direction == "uit" and retour.answers_id == inbound.id
    run_jobs()  # the 302 leaves
    db.refresh(retour)
    assert retour.status == "verzonden"

    start = chain.start_draft(db, leg, date(2026, 4, 8))
    from portal.services.messages import create_outgoing

    sent = create_outgoing(db, start, financing="wmo_jw")
    db.commit()
    run_jobs()
    standin.forward()  # the gemeente fetches the 305 and answers with a 306
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    answer = db.scalar(select(Message).where(Message.code == "WMO306"))
    assert answer.status == "verwerkt" and "geaccepteerd" in answer.summary
    assert answer.answers_id == sent.id
    db.refresh(leg)
    assert chain.starts(leg)[0]["status"] == "geaccepteerd"


def test_323_325_through_the_standin(app, db, setup, standin, run_jobs):
    from portal.app import hooks
    from portal.services import declarations as svc

    care = [
        svc.Delivered(
            client_id=setup["legs"]["5001"].client_id,
            product_id=setup["product"].id,
            datum=date(2026, 10, 6),
            minutes=120,
        )
    ]
    decl = svc.prepare(db, setup["fin"], date(2026, 10, 1), care=care, hooks=hooks()).declaration
    db.commit()
    (sent,) = svc.submit(db, decl.id, hooks())
    db.commit()
    run_jobs()
    standin.forward()
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    answer = db.scalar(select(Message).where(Message.code == "WMO325"))
    assert answer.status == "verwerkt" and "volledig toegekend" in answer.summary
    assert answer.answers_id == sent.id
    db.refresh(decl)
    assert decl.status == "beantwoord" and decl.lines[0].status == "toegekend"


def test_hostile_325_is_refused_and_logged_nothing_else_breaks(app, db, setup, standin):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<wmo325:Bericht xmlns:wmo325="http://www.istandaarden.nl/iwmo/3_2/wmo325/schema">&b;'
        b"</wmo325:Bericht>"
    )
    standin.place(
        payload_base64=base64.b64encode(bomb).decode(),
        code="WMO325",
        postbus="12345678",
        afzender_code=GEMEENTE,
    )
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    inbound = db.scalar(select(Message).where(Message.direction == "in"))
    assert inbound.needs_action and inbound.summary.startswith("Geweigerd")
    assert "DOCTYPE" in inbound.summary
    assert inbound.payload == bomb  # kept as received, for the record


def test_demo_gemeente_sends_a_301_from_the_screen(app, db, client, setup, standin, login_as):
    from portal.domain import Role

    login_as(Role.BACKOFFICE)
    page = client.get("/f/wmo_jw/").get_data(as_text=True)
    assert "Gemeente stuurt toewijzing" in page
    resp = client.post("/f/wmo_jw/demo/toewijzing", data={"tarief_afwijkend": "1"})
    assert resp.status_code == 303
    assert _fetch(app, db)["opgehaald"] == 1
    db.commit()
    inbound = db.scalar(select(Message).where(Message.direction == "in"))
    assert inbound.code == "WMO301" and "1 nieuw" in inbound.summary
    assert db.scalar(select(Message).where(Message.code == "WMO302")) is not None
