"""Show (issue 10): one week of care split by stacking between Wlz and particulier.

Week 5 of 2019 runs Monday 28 January to Sunday 3 February (DESIGN §6 rule 8, the week trap).
2 hours Wlz and 2 hours private care per week, 4 hours delivered: 2 before 1 February, 2 after.
The Wlz part is declared through the core's declaration run by a test plugin that declares in
Vektis EI (``tests/ei_plugin.py``, registered here only), the particulier part is invoiced by the
invoice run; a January and a February run of each; neither part is exported twice, and a credit
of the Wlz line reopens only the Wlz part.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.domain import AnswerCode, DeclarationAnswer, LineAnswer
from portal.formats import ei
from portal.models import ExportPart, Message
from portal.plugins import Hooks, get_plugin_manager
from portal.services import declarations, invoicing
from tests import ei_plugin
from tests.portal.invoices import builders as b

JAN = date(2019, 1, 1)
FEB = date(2019, 2, 1)
TODAY = date(2019, 3, 15)


@pytest.fixture
def hooks(app):
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ei_plugin, name="tests.ei_plugin")
    return Hooks(pm, app.config.get("PLUGIN_SETTINGS", {}))


@pytest.fixture
def week5(db):
    b.organisation(db)
    emp = b.employee(db)
    prod = b.product(db, "PV-UUR", ["wlz", "particulier"])
    b.stack(db, prod)
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code="5503")
    private = b.financier(db, "particulier", "client", "Cliënt zelf")
    b.contract_line(db, zk, prod, 5880, afronding_minuten=0, productcode="H126")
    b.contract_line(db, private, prod, 6200, afronding_minuten=0)
    c = b.client(db, "123456782", "Bakker", email="bakker@example.nl")
    wlz = b.legitimation(db, c, zk, "wlz", prod, priority=1, volume=2, begindatum=date(2018, 1, 1))
    prive = b.legitimation(
        db, c, private, "particulier", prod, priority=2, volume=2, tarief_cents=6200,
        begindatum=date(2018, 1, 1),
    )  # fmt: skip
    days = [date(2019, 1, 30), date(2019, 1, 31), date(2019, 2, 1), date(2019, 2, 2)]
    regs = [b.register(db, c, prod, emp, d, 60) for d in days]
    db.commit()
    return {"zk": zk, "client": c, "wlz": wlz, "prive": prive, "regs": regs}


def _parts(db):
    return sorted(
        (p.registration_id, p.financing, p.minutes, p.active, p.kind)
        for p in db.scalars(select(ExportPart))
    )


def _answer(db, hooks, message, rejected=None):
    """The zorgkantoor's AW320, read by the plugin and applied by the core."""
    payload = ei_plugin.reply(bytes(message.payload), rejected)
    outcome = ei_plugin.read_aw320(payload)
    return declarations.apply_outcome(db, outcome)


def test_week_5_is_declared_and_invoiced_once_across_two_monthly_runs(db, hooks, week5):
    zk, regs = week5["zk"], week5["regs"]
    jan_regs, feb_regs = [r.id for r in regs[:2]], [r.id for r in regs[2:]]

    # January: the Wlz run sees the whole week 5 (stacking looks at whole weeks): Wlz gets the
    # first two hours (delivered first), particulier the rest
    jan = declarations.prepare(db, zk, JAN, hooks=hooks)
    db.commit()
    (line,) = jan.declaration.lines
    assert (line.begindatum, line.einddatum) == (date(2019, 1, 28), date(2019, 2, 3))
    assert (line.volume, line.eenheid, line.bedrag_cents) == (120, "minuut", 120 * 98)
    (sent,) = declarations.submit(db, jan.declaration.id, hooks)
    db.commit()
    # a real AW319 that passes every layout check
    aw319 = ei.parse(ei_plugin.AW319, bytes(sent.payload))
    (prestatie,) = aw319.of_type("04")
    assert (prestatie.int("0418"), prestatie.signed("0429")) == (120, 120 * 98)
    assert prestatie["0431"] == line.referentie
    # the particulier part of week 5 is February's: nothing of it in January
    with pytest.raises(invoicing.InvoiceError, match="niets"):
        invoicing.create_run(
            db, hooks, "particulier", JAN, date(2019, 1, 31), today=TODAY, enqueue_render=False
        )

    # February: the Wlz run does not declare week 5 again, the invoice run invoices 2 hours
    assert declarations.prepare(db, zk, FEB, hooks=hooks).declaration is None
    run = invoicing.create_run(
        db, hooks, "particulier", FEB, date(2019, 2, 28), today=TODAY, enqueue_render=False
    )
    (invoice,) = run.invoices
    assert sum(ln.minuten for ln in invoice.lines) == 120 and invoice.totaal_cents == 2 * 6200
    assert _parts(db) == sorted(
        [(r, "wlz", 60, True, "declaratie") for r in jan_regs]
        + [(r, "particulier", 60, True, "factuur") for r in feb_regs]
    )
    # and neither again
    with pytest.raises(invoicing.InvoiceError):
        invoicing.create_run(
            db, hooks, "particulier", FEB, date(2019, 2, 28), today=TODAY, enqueue_render=False
        )
    assert declarations.prepare(db, zk, JAN, hooks=hooks).declaration is None

    # the zorgkantoor awards the line (AW320); the same answer twice changes nothing
    outcome = _answer(db, hooks, sent)
    db.commit()
    db.refresh(line)
    assert line.status == "toegekend" and "volledig toegekend" in outcome.summary
    again = _answer(db, hooks, sent)
    assert "al verwerkt" in again.summary and "niets gewijzigd" in again.summary

    # a credit of the Wlz line reopens the Wlz part only
    (credit,) = declarations.credit(db, [line.id], hooks)
    db.commit()
    # the Wlz plugin numbers credits within the 20 positions of 0431
    assert credit.debet_credit == "C" and credit.referentie == f"{line.referentie}C1"
    march = declarations.prepare(db, zk, date(2019, 3, 1), hooks=hooks).declaration
    db.commit()
    assert [x.id for x in march.lines] == [credit.id] and march.total_cents == -120 * 98
    (credit_msg,) = declarations.submit(db, march.id, hooks)
    db.commit()
    assert ei.parse(ei_plugin.AW319, bytes(credit_msg.payload)).of_type("04")[0]["0430"] == "C"
    _answer(db, hooks, credit_msg)
    db.commit()
    db.refresh(line)
    assert line.status == "gecrediteerd"
    assert _parts(db) == sorted(
        [(r, "wlz", 60, False, "declaratie") for r in jan_regs]
        + [(r, "particulier", 60, True, "factuur") for r in feb_regs]
    )
    # the Wlz part of week 5 is declared again; the invoiced part is not touched
    redo = declarations.prepare(db, zk, date(2019, 3, 1), hooks=hooks).declaration
    db.commit()
    (new_line,) = redo.lines
    assert new_line.volume == 120 and new_line.begindatum == date(2019, 1, 28)
    with pytest.raises(invoicing.InvoiceError):
        invoicing.create_run(
            db, hooks, "particulier", FEB, date(2019, 2, 28), today=TODAY, enqueue_render=False
        )
    active = [p for p in _parts(db) if p[3]]
    assert sorted(p[0] for p in active) == sorted(jan_regs + feb_regs)  # each part once


def test_an_answer_for_lines_never_sent_changes_nothing_and_says_so(db, hooks, week5):
    decl = declarations.prepare(db, week5["zk"], JAN, hooks=hooks).declaration
    db.commit()
    declarations.submit(db, decl.id, hooks)
    db.commit()
    (line,) = decl.lines
    bogus = DeclarationAnswer(
        message_reference=decl.message_reference,
        number=decl.nummer,
        lines=[
            LineAnswer(line.referentie, awarded=True),
            LineAnswer("NOOIT-VERSTUURD", awarded=False, codes=(AnswerCode("0611", "Tarief"),)),
        ],
        unlisted_awarded=False,
    )
    result = declarations.apply_answer(db, bogus)
    db.commit()
    assert "nooit in deze declaratie zijn verstuurd" in result.summary
    assert "niets gewijzigd" in result.summary and result.needs_action and not result.changed
    db.refresh(line)
    db.refresh(decl)
    assert line.status == "ingediend" and decl.status == "ingediend"
    # an answer to no declaration at all
    unknown = declarations.apply_answer(db, DeclarationAnswer(None, "ONBEKEND"))
    assert "onbekende declaratie" in unknown.summary and "niets gewijzigd" in unknown.summary


def test_a_rejected_line_releases_its_part_to_be_corrected_and_declared_again(db, hooks, week5):
    zk = week5["zk"]
    decl = declarations.prepare(db, zk, JAN, hooks=hooks).declaration
    db.commit()
    (sent,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    (line,) = decl.lines
    outcome = _answer(db, hooks, sent, rejected={line.referentie: "0611"})
    db.commit()
    db.refresh(line)
    assert line.status == "afgewezen" and line.retourcodes == ["0611"]
    assert outcome.needs_action and [i.code for i in outcome.issues] == ["0611"]
    assert all(not p[3] for p in _parts(db) if p[1] == "wlz")
    again = declarations.prepare(db, zk, date(2019, 2, 1), hooks=hooks).declaration
    db.commit()
    (redo,) = again.lines
    assert redo.volume == 120 and redo.referentie != line.referentie
    assert db.scalar(select(Message.id).where(Message.code == "AW319").offset(1)) is None
