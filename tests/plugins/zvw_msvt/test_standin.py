"""The full round trip through the real VECOZO stand-in: the portal sends the AW319, the
simulated insurer (this plugin's ``financier_reply``) answers with an AW320, the portal fetches
it, routes it to Zvw and applies it line by line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import DeclarationLine, Message
from tests.portal.vecozo.conftest import _OVERRIDES, standin_server  # noqa: F401


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


def test_aw319_out_aw320_back_through_the_standin(app, db, sent, standin, run_jobs):
    from portal.jobs.vecozo import poll_once

    run_jobs()  # the AW319 leaves
    db.refresh(sent["message"])
    assert sent["message"].status == "verzonden"
    standin.forward()  # the insurer fetches it and answers
    with app.app_context():
        assert poll_once(app, db, trigger="handmatig")["opgehaald"] == 1
    db.commit()
    aw320 = db.scalar(select(Message).where(Message.direction == "in"))
    assert (aw320.code, aw320.financing, aw320.status) == ("AW320", "zvw_msvt", "verwerkt")
    assert aw320.answers_id == sent["message"].id
    assert "3 prestaties toegekend, 1 afgewezen" in aw320.summary
    statuses = sorted(
        db.scalars(
            select(DeclarationLine.status).where(DeclarationLine.declaration_id == sent["decl"].id)
        )
    )
    assert statuses == ["afgewezen", "toegekend", "toegekend", "toegekend"]
