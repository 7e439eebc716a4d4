"""A declaration whose lines are all rejected is not a green "Beantwoord"; the declaration, its
message (AW319) and the answer (AW320) link to each other; a task page leads back."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from portal.plugins import Hooks, get_plugin_manager
from portal.services import declarations, messages
from tests import ei_plugin
from tests.portal.invoices import builders as b

JAN = date(2019, 1, 1)


@pytest.fixture
def ei_hooks(app):
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ei_plugin, name="tests.ei_plugin")
    return Hooks(pm, app.config.get("PLUGIN_SETTINGS", {}))


def _declared_and_answered(db, hooks, reject: bool):
    """January declared to the zorgkantoor (AW319 through the real message service) and its
    AW320 received as a fetched message that answers it, rejecting every line or none."""
    b.organisation(db)
    emp = b.employee(db)
    prod = b.product(db, "PV-UUR", ["wlz"])
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code="5503")
    b.contract_line(db, zk, prod, 5880, afronding_minuten=0, productcode="H126")
    for bsn, naam in [("123456782", "Bakker"), ("111222333", "Smit")]:
        c = b.client(db, bsn, naam)
        b.legitimation(db, c, zk, "wlz", prod, volume=4, begindatum=date(2018, 1, 1))
        b.register(db, c, prod, emp, date(2019, 1, 15), 60)
    db.commit()
    decl = declarations.prepare(db, zk, JAN, hooks=hooks).declaration
    db.commit()
    (sent,) = declarations.submit(db, decl.id, hooks)
    db.commit()
    rejected = {line.referentie: "0611" for line in decl.lines} if reject else {}
    payload = ei_plugin.reply(bytes(sent.payload), rejected)
    answer = messages.receive_payload(
        db,
        metadata={
            "referentiegegevens": {
                "traceerId": str(uuid.uuid4()),
                "alsAntwoordOp": sent.traceer_id,
            },
            "routeringgegevens": {"berichtstroom": {"berichttype": "AW320"}},
        },
        payload=payload,
        hooks=hooks,
    )
    if decl.status != "beantwoord":  # the test plugin reads the answer; apply it as the job does
        declarations.apply_outcome(db, ei_plugin.read_aw320(payload))
    db.commit()
    db.refresh(decl)
    return decl, sent, answer


def test_all_rejected_is_not_a_green_beantwoord_and_pages_link(db, ei_hooks, client, backoffice):
    decl, sent, answer = _declared_and_answered(db, ei_hooks, reject=True)
    assert decl.status == "beantwoord" and decl.awarded_cents == 0 and decl.total_cents > 0
    page = client.get(f"/declareren/{decl.id}").get_data(as_text=True)
    badge = re.search(r'<span class="badge (\w+)" data-testid="declaratie-status">([^<]+)<', page)
    assert badge.groups() == ("err", "Beantwoord: alles afgewezen")
    # the declaration links to its message and the answer, and back
    assert f'href="/berichten/{sent.id}" data-testid="declaratie-bericht"' in page
    assert f'href="/berichten/{answer.id}" data-testid="declaratie-antwoord"' in page
    for message in (sent, answer):
        page = client.get(f"/berichten/{message.id}").get_data(as_text=True)
        assert f'href="/declareren/{decl.id}" data-testid="bericht-declaratie"' in page
        assert "Beantwoord: alles afgewezen" in page
    listing = client.get("/declareren/").get_data(as_text=True)
    assert '<span class="badge err">Beantwoord: alles afgewezen</span>' in listing


def test_awarded_in_full_stays_green(db, ei_hooks, client, backoffice):
    decl, _sent, _answer = _declared_and_answered(db, ei_hooks, reject=False)
    assert decl.awarded_cents == decl.total_cents
    page = client.get(f"/declareren/{decl.id}").get_data(as_text=True)
    assert '<span class="badge ok" data-testid="declaratie-status">Beantwoord</span>' in page


def test_a_task_page_leads_back_to_where_it_was_started(db, client, backoffice, hooks):
    b.particulier_scenario(db)
    from portal.services import invoicing

    run = invoicing.create_run(
        db, hooks, "particulier", b.OCT_START, b.OCT_END, today=date(2025, 11, 5)
    )
    page = client.get(f"/taken/{run.job_id}").get_data(as_text=True)
    assert f'<a href="/facturen/run/{run.id}" data-testid="taak-terug">' in page
    # "Nu ophalen" from the messages page: the task page leads back to it
    resp = client.post("/berichten/ophalen", headers={"Referer": "http://localhost/berichten/?f=1"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'href="/berichten/?f=1" data-testid="taak-terug"' in page
    # a link elsewhere is never followed
    job_url = resp.headers["Location"].split("?")[0]
    page = client.get(f"{job_url}?terug=//evil.example/").get_data(as_text=True)
    assert "evil.example" not in page
    assert 'href="/berichten/" data-testid="taak-terug"' in page
