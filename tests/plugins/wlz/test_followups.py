"""The demo story's end (issue 11): a Wlz prestatie of stacked care is rejected in the AW320 with
its Dutch reason, then corrected and declared again (awarded), or moved to particulier and
invoiced once — with the core's follow-ups, for Wlz."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.wlz import declaration as d
from plugins.wlz import financier
from portal.models import DeclarationLine
from portal.services import declarations, followups, invoicing
from tests.plugins.wlz.factories import ZK
from tests.plugins.wlz.test_declaration import JAN, TODAY, settings, week5  # noqa: F401

MAR = date(2019, 3, 1)


@pytest.fixture
def rejected(db, hooks, week5, settings):  # noqa: F811
    """January's AW319; the zorgkantoor's contract says 50 euro an hour, ours 58,80: 0611."""
    jan = declarations.prepare(db, week5["zk"], JAN, hooks=hooks)
    (sent,) = declarations.submit(db, jan.declaration.id, hooks)
    db.commit()
    financier.store_for(settings).set_tarief(ZK, "H126", 5000)
    drafts = financier.reply(bytes(sent.payload), settings, today=TODAY)
    declarations.apply_outcome(db, d.read_aw320(drafts[0].payload))
    db.commit()
    (line,) = db.scalars(select(DeclarationLine)).all()
    assert line.status == "afgewezen" and line.retourcodes == ["0611"]
    return line


def test_rejected_line_explained_corrected_and_awarded(db, hooks, week5, settings, rejected):  # noqa: F811
    (row,) = followups.open_lines(db, hooks, "wlz")
    assert row.codes[0][0] == "0611" and "niet volgens contract" in row.codes[0][1]
    # the zorgkantoor's contract is corrected (the tariff agreed for 2019); declared again
    financier.store_for(settings).set_tarief(ZK, "H126", 5880)
    prepared = followups.redeclare_now(db, rejected.id, hooks, MAR)
    db.commit()
    (again,) = prepared.declaration.lines
    assert again.referentie != rejected.referentie
    assert sorted(again.registration_ids) == sorted(rejected.registration_ids)
    (sent,) = declarations.submit(db, prepared.declaration.id, hooks)
    db.commit()
    drafts = financier.reply(bytes(sent.payload), settings, today=TODAY)
    declarations.apply_outcome(db, d.read_aw320(drafts[0].payload))
    db.commit()
    db.refresh(again)
    assert again.status == "toegekend"


def test_rejected_line_moved_to_particulier_and_invoiced_once(db, hooks, week5, rejected):  # noqa: F811
    moved = followups.move_to_particulier(db, rejected.id, hooks, user_id=None)
    db.commit()
    assert (moved.parts, moved.minutes) == (2, 120)
    # Wlz never declares that care again
    assert declarations.prepare(db, week5["zk"], MAR, hooks=hooks).declaration is None
    db.rollback()
    run = invoicing.create_run(
        db, hooks, "particulier", date(2019, 2, 1), date(2019, 2, 28), today=TODAY,
        enqueue_render=False,
    )  # fmt: skip
    (invoice,) = run.invoices
    # the moved January hours and the February part of week 5 that was particulier's already
    assert sum(ln.minuten for ln in invoice.lines) == 240
    assert invoice.totaal_cents == 4 * 6200
    with pytest.raises(invoicing.InvoiceError):
        invoicing.create_run(
            db, hooks, "particulier", date(2019, 2, 1), date(2019, 2, 28), today=TODAY,
            enqueue_render=False,
        )  # fmt: skip
