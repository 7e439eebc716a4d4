"""The full round trip through the real VECOZO stand-in: the portal sends the AW319, the
simulated insurer (this plugin's ``financier_reply``) answers with an AW320, the portal fetches
it, routes it to Zvw and applies it line by line."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import DeclarationLine, Message


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
