"""The demo: wijkverpleging clients at two insurers with declared months, and the story of the
issue through the run, the stand-in's insurer and the follow-up: a client not insured on the
date is rejected (0402), moved to particulier and invoiced."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from plugins.zvw_msvt import declaration as declaring
from plugins.zvw_msvt import financier as insurer
from portal import demo
from portal.models import Declaration, Financier, Legitimation, Message
from portal.services import declarations, followups, invoicing


def test_demo_story(db, hooks, app):
    settings = app.config.get("PLUGIN_SETTINGS", {})
    today = date.today()
    assert demo.seed(db, hooks=hooks)
    db.commit()
    insurers = db.scalars(select(Financier).where(Financier.financing == "zvw_msvt")).all()
    assert sorted(f.code for f in insurers) == ["3311", "7029"]
    per = dict(
        db.execute(
            select(Legitimation.financier_id, func.count())
            .where(Legitimation.financing == "zvw_msvt")
            .group_by(Legitimation.financier_id)
        ).all()
    )
    assert len(per) == 2
    history = db.scalars(select(Declaration).where(Declaration.financing == "zvw_msvt")).all()
    if today.month > 4:  # three months of this year lie before the registration window
        assert len({d.periode_begin for d in history}) == 3
        assert {d.status for d in history} == {"beantwoord"}
        assert db.scalar(select(func.count(Message.id)).where(Message.code == "AW320")) >= 3
    # the story: last month for the first insurer; the insurer rejects the care after the 14th
    # for the client whose insurance ended then
    first = next(f for f in insurers if f.code == "3311")
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    prepared = declarations.prepare(db, first, last_month, hooks=hooks)
    db.commit()
    assert prepared.declaration is not None
    messages = [m for d in prepared.declarations for m in declarations.submit(db, d.id, hooks)]
    db.commit()
    for m in messages:
        (answer,) = insurer.reply(bytes(m.payload), settings, today=today)
        declarations.apply_outcome(db, declaring.read_aw320(answer.payload))
    db.commit()
    rejected = declarations.rejected_lines(db, "zvw_msvt")
    assert rejected and {c for ln in rejected for c in ln.retourcodes} == {"0402"}
    for line in rejected:
        followups.move_to_particulier(db, line.id, hooks, create=True)
    db.commit()
    assert declarations.rejected_lines(db, "zvw_msvt") == []
    run = invoicing.create_run(
        db, hooks, "particulier", last_month, today.replace(day=1) - timedelta(days=1),
        today=today, enqueue_render=False,
    )  # fmt: skip
    clients = {ln.client_id for ln in rejected}
    assert clients <= {inv.client_id for inv in run.invoices}
