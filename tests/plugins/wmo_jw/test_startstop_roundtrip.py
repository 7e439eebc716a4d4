"""Start and stop of care (305/307 → 306/308) from the screens, through the real VECOZO stand-in:
the back office posts the forms on the client's toewijzingen page, the workers send, the simulated
gemeente answers, "Nu ophalen" fetches and processes the retour, and the page shows the result.

Covers the corrections of the standard too: withdrawing a start (StatusAanlevering 3) and a new
start after it, a stop the gemeente rejects and a new stop, the iJw reason list, a double click,
and a hostile or oversized 308 in the mailbox.
"""

from __future__ import annotations

import base64
import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from plugins.wmo_jw import chain, financier
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IJW, IWMO
from portal.domain import Role
from portal.models import Legitimation, Message
from tests.conftest import login
from tests.plugins.wmo_jw.factories import AGB, GEMEENTE, persoon, toewijzing
from tests.plugins.wmo_jw.test_standin import _fetch, standin  # noqa: F401
from tests.portal.vecozo.conftest import standin_server  # noqa: F401

BSN3 = "999900043"  # a third test BSN (11-proef)


def _page(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _text(html: str) -> str:
    """The page as a user reads it: tags out, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _client_page(client, leg) -> str:
    return _page(client.get(f"/f/wmo_jw/clienten/{leg.client_id}"))


def _card(client, leg) -> str:
    """The part of the client page about this one toewijzing."""
    page = _client_page(client, leg)
    found = re.search(
        rf'<section class="card" id="toewijzing-{leg.id}">(.*?)</section>', page, re.S
    )
    assert found, page
    return found.group(1)


def _act(client, leg, action: str, **form) -> str:
    resp = client.post(
        f"/f/wmo_jw/toewijzingen/{leg.id}/{action}", data=form, follow_redirects=True
    )
    return _page(resp)


def _exchange(client, vecozo, run_jobs) -> None:
    """The 305/307 leaves, the gemeente answers, Berichten → Nu ophalen processes the retour."""
    run_jobs()
    vecozo.forward()
    resp = client.post("/berichten/ophalen")
    assert resp.status_code in (302, 303)
    run_jobs()


def _count(db, code: str) -> int:
    return db.scalar(select(func.count()).select_from(Message).where(Message.code == code))


def _ijw_toewijzing(db, settings) -> Legitimation:
    """An iJw 301 (jeugdhulp ambulant) for a third client, processed as the portal does."""
    draft = financier.issue_301(
        settings,
        IJW,
        GEMEENTE,
        AGB,
        persoon(BSN3),
        [toewijzing("6001", cat="45", code="45A48")],
        today=date(2026, 11, 5),
    )
    chain.process(db, draft.payload, today=date(2026, 11, 5))
    db.commit()
    return db.scalar(select(Legitimation).where(Legitimation.toewijzingnummer == "6001"))


@pytest.fixture
def vecozo(standin):  # noqa: F811
    """The real stand-in with the simulated gemeente of ``setup`` behind it."""
    return standin


@pytest.fixture
def office(db, client, setup, vecozo, make_user):
    user = make_user(Role.BACKOFFICE)
    assert login(client, user.email).status_code == 302
    return user


def _started(db, client, leg, vecozo, run_jobs, begin="2026-04-08") -> None:
    page = _act(client, leg, "start", begindatum=begin)
    assert "is verstuurd naar de gemeente" in page
    _exchange(client, vecozo, run_jobs)
    assert "Gestart" in _card(client, leg)


def test_start_and_stop_with_an_iwmo_reason(db, client, setup, vecozo, office, run_jobs):
    leg = setup["legs"]["5001"]
    card = _card(client, leg)
    assert "Nog niet gestart" in card and "Start zorg melden (305)" in card
    assert "Stop zorg melden" not in card

    page = _act(client, leg, "start", begindatum="08-04-2026")
    assert "Start zorg per 08-04-2026 is verstuurd naar de gemeente" in page
    card = _card(client, leg)
    assert "Start verzonden" in card and "wacht op het antwoord van de gemeente" in card
    assert "Start zorg melden" not in card and "Stop zorg melden" not in card
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Gestart" in card and "Stop zorg melden (307)" in card and "Start intrekken" in card
    assert "Start zorg melden" not in card

    # the stop form lists the iWmo reasons: 31 means a move to another gemeente there
    assert re.search(r'<option value="31"[^>]*>31 Verhuizing naar een andere gemeente', card)
    assert 'min="2026-04-08"' in card  # the einddatum input cannot go before the start
    page = _act(client, leg, "stop", einddatum="2026-11-30", reden="19")
    assert "Stop zorg per 30-11-2026 is verstuurd naar de gemeente" in page
    assert "Stop verzonden" in _card(client, leg)
    _exchange(client, vecozo, run_jobs)

    card = _text(_card(client, leg))
    assert "Gestopt per 30-11-2026 (19 Levering volgens plan beeindigd)" in card
    assert "Start zorg melden" not in card and "Stop zorg melden" not in card
    assert "Start intrekken" not in card
    answer = db.scalar(select(Message).where(Message.code == "WMO308"))
    stop = db.scalar(select(Message).where(Message.code == "WMO307"))
    assert answer.status == "verwerkt" and "Stop zorg geaccepteerd" in answer.summary
    assert answer.answers_id == stop.id and not answer.needs_action
    # nothing is offered any more, and a forged post is refused without sending anything
    page = _act(client, leg, "start", begindatum="2026-12-01")
    assert "kan nu niet" in page
    assert _count(db, "WMO305") == 1 and _count(db, "WMO307") == 1


def test_a_temporary_stop_allows_a_new_start_after_it(db, client, setup, vecozo, office, run_jobs):
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs)
    _act(client, leg, "stop", einddatum="2026-09-30", reden="20")
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Gestopt" in _text(card) and "Levering is tijdelijk beeindigd" in card
    assert "Start zorg melden (305)" in card and "Stop zorg melden" not in card
    assert 'min="2026-10-01"' in card  # the new start lies after the stop
    page = _act(client, leg, "start", begindatum="2026-09-15")
    assert "Niet verstuurd" in page and "na de einddatum van de vorige levering" in page
    assert _count(db, "WMO305") == 1
    page = _act(client, leg, "start", begindatum="2026-10-12")
    assert "Start zorg per 12-10-2026 is verstuurd" in page
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Gestart" in card and "Stop zorg melden (307)" in card


def test_ijw_stop_offers_only_ijw_reasons(db, client, setup, vecozo, office, run_jobs):
    leg = _ijw_toewijzing(db, setup["settings"])
    assert chain.standard_of(leg) is IJW
    _started(db, client, leg, vecozo, run_jobs)
    assert db.scalar(select(Message).where(Message.code == "JW305")) is not None
    card = _card(client, leg)
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>\d+ ([^<]*)</option>', card))
    assert options == IJW.codes("LDT_RedenBeeindiging")
    assert options["31"] == "Levering is volgens plan beeindigd."  # iWmo: verhuizing
    assert "19" not in options and "21" not in options  # iWmo-only reasons
    assert "Verhuizing" not in card

    page = _act(client, leg, "stop", einddatum="2026-11-30", reden="19")  # iWmo: volgens plan
    assert "Niet verstuurd" in page and "Reden 19 hoort niet bij de Jeugdwet (iJw)" in page
    assert _count(db, "JW307") == 0
    assert "Gestart" in _card(client, leg)

    _act(client, leg, "stop", einddatum="2026-11-30", reden="31")
    _exchange(client, vecozo, run_jobs)
    card = _text(_card(client, leg))
    assert "Gestopt per 30-11-2026 (31 Levering is volgens plan beeindigd.)" in card
    answer = db.scalar(select(Message).where(Message.code == "JW308"))
    assert answer.status == "verwerkt" and "geaccepteerd" in answer.summary


def test_stop_form_explains_a_bad_einddatum(db, client, setup, vecozo, office, run_jobs):
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs)
    page = _act(client, leg, "stop", einddatum="2026-04-01", reden="19")
    assert "Niet verstuurd" in page
    assert "De einddatum (01-04-2026) ligt vóór de begindatum van de zorg (08-04-2026)" in page
    page = _act(client, leg, "stop", einddatum="31-13-2026", reden="19")
    assert "Vul een geldige einddatum in" in page
    page = _act(client, leg, "stop", einddatum="", reden="19")
    assert "Vul een geldige einddatum in" in page
    page = _act(client, leg, "stop", einddatum="2026-11-30", reden="")
    assert "Kies een reden van beëindiging" in page
    assert _count(db, "WMO307") == 0 and "Gestart" in _card(client, leg)
    # the same care for a bad begindatum of a start
    other = setup["legs"]["5002"]
    page = _act(client, other, "start", begindatum="8 april")
    assert "Vul een geldige begindatum in" in page
    page = _act(client, other, "start", begindatum="2026-04-01")
    assert "vóór de ingangsdatum van de toewijzing" in page
    assert _count(db, "WMO305") == 1 and "Nog niet gestart" in _card(client, other)


def test_withdraw_a_start_and_start_again_with_a_corrected_date(
    db, client, setup, vecozo, office, run_jobs
):
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs, begin="2026-04-10")  # the wrong date

    page = _act(client, leg, "start_intrekken")
    assert "Het intrekken van de start is verstuurd" in page
    card = _card(client, leg)
    assert "Start verzonden" in card  # waiting for the gemeente: nothing else is offered
    assert "Start zorg melden" not in card and "Stop zorg melden" not in card
    page = _act(client, leg, "start", begindatum="2026-04-08")
    assert (
        "Dit kan nu niet: het intrekken van de start is al verstuurd. Wacht op het antwoord" in page
    )
    withdrawal = m.parse(
        db.scalars(select(Message).where(Message.code == "WMO305").order_by(Message.id))
        .all()[-1]
        .payload
    )
    (product,) = withdrawal.producten
    assert product.status == "3" and product.begindatum == date(2026, 4, 10)
    _exchange(client, vecozo, run_jobs)

    card = _card(client, leg)
    assert "Nog niet gestart" in card and "Start zorg melden (305)" in card
    assert "ingetrokken" in card
    assert _count(db, "WMO306") == 2
    page = _act(client, leg, "start", begindatum="2026-04-08")
    assert "Start zorg per 08-04-2026 is verstuurd" in page
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Gestart" in card and "Stop zorg melden (307)" in card
    last = db.scalars(select(Message).where(Message.code == "WMO306").order_by(Message.id)).all()
    assert len(last) == 3 and "geaccepteerd" in last[-1].summary
    db.expire_all()
    assert [(s["begindatum"], s["status"]) for s in chain.starts(db.get(Legitimation, leg.id))] == [
        ("2026-04-10", "ingetrokken"),
        ("2026-04-08", "geaccepteerd"),
    ]


def test_withdrawal_refused_by_the_gemeente_leaves_the_start(
    db, client, setup, vecozo, office, run_jobs
):
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs)
    financier.store_for(setup["settings"]).q("DELETE FROM start WHERE nummer = ?", "5001")
    _act(client, leg, "start_intrekken")
    _exchange(client, vecozo, run_jobs)
    card = _text(_card(client, leg))
    assert "Gestart per 08-04-2026; intrekken afgewezen: 9063" in card
    assert "Stop zorg melden (307)" in card and "Start intrekken" in card
    answer = db.scalars(select(Message).where(Message.code == "WMO306").order_by(Message.id))
    assert answer.all()[-1].needs_action


def test_stop_rejected_by_the_gemeente_then_a_new_stop(db, client, setup, vecozo, office, run_jobs):
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs)
    # the gemeente loses its record of the start (a restored backup)
    store = financier.store_for(setup["settings"])
    store.q("DELETE FROM start WHERE nummer = ?", "5001")

    _act(client, leg, "stop", einddatum="2026-11-30", reden="23")
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Stop afgewezen" in card and "9069" in card
    assert IWMO.meaning("LDT_RetourCode", "9069") in card  # "Er is geen actueel startbericht…"
    assert "Stop zorg melden (307)" in card  # the user can send a new stop
    answer = db.scalar(select(Message).where(Message.code == "WMO308"))
    assert answer.needs_action and "Stop zorg afgewezen" in answer.summary
    index = _page(client.get("/f/wmo_jw/"))
    row = re.search(r"<tr>(?:(?!</tr>).)*>5001 <small(?:(?!</tr>).)*</tr>", index, re.S).group(0)
    assert f"/f/wmo_jw/clienten/{leg.client_id}" in row
    assert "Stop afgewezen" in row and "9069" in row

    # after a phone call the gemeente has the start again; the new stop is accepted
    store.q("INSERT INTO start VALUES (?, ?, ?)", "5001", "2026-04-08", None)
    page = _act(client, leg, "stop", einddatum="2026-11-28", reden="23")
    assert "Stop zorg per 28-11-2026 is verstuurd" in page
    card = _card(client, leg)
    assert "Stop verzonden" in card and "9069" not in card  # the old code is not current
    _exchange(client, vecozo, run_jobs)
    card = _text(_card(client, leg))
    assert "Gestopt per 28-11-2026" in card and "9069" not in card
    assert _count(db, "WMO307") == 2 and _count(db, "WMO308") == 2
    index = _page(client.get("/f/wmo_jw/"))
    assert "Stop afgewezen" not in index and ">5001 <small" not in index


def test_double_click_on_start_sends_one_message(db, client, setup, vecozo, office, app):
    leg = setup["legs"]["5001"]
    second = app.test_client()
    assert login(second, office.email).status_code == 302
    gate = threading.Barrier(2)
    pages: list[str] = []

    def click(c):
        gate.wait()
        pages.append(_act(c, leg, "start", begindatum="2026-04-08"))

    threads = [threading.Thread(target=click, args=(c,)) for c in (client, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(pages) == 2
    assert _count(db, "WMO305") == 1
    sent = [p for p in pages if "Start zorg per 08-04-2026 is verstuurd" in p]
    refused = [
        p for p in pages if "Dit kan nu niet: de start is al verstuurd. Wacht op het antwoord" in p
    ]
    assert len(sent) == 1 and len(refused) == 1
    # and a plain second click after the first was done
    page = _act(client, leg, "start", begindatum="2026-04-08")
    assert "Dit kan nu niet: de start is al verstuurd. Wacht op het antwoord" in page
    assert _count(db, "WMO305") == 1
    db.expire_all()
    assert len(chain.starts(db.get(Legitimation, leg.id))) == 1


def _308_for(db, stop: Message) -> bytes:
    """A valid 308 rejecting ``stop`` (as a gemeente would build it)."""
    return m.build_retour(
        IWMO,
        stop.payload,
        identificatie="EVIL0001",
        dagtekening=date.today(),
        codes={("StopProduct", 0): ["9069"]},
    )


def test_hostile_or_huge_308_is_refused_and_changes_nothing(
    app, db, client, setup, vecozo, office, run_jobs
):
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs)
    _act(client, leg, "stop", einddatum="2026-11-30", reden="19")
    stop = db.scalar(select(Message).where(Message.code == "WMO307"))  # queued, not yet sent
    real = _308_for(db, stop)
    ns = IWMO.ns("308").encode()
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<wmo308:Bericht xmlns:wmo308="' + ns + b'">&b;</wmo308:Bericht>'
    )
    huge = real.replace(b"</", b"<!--" + b" " * (26 * 1024 * 1024) + b"--></", 1)
    assert len(huge) > m.MAX_BYTES
    for payload in (bomb, huge):
        vecozo.place(
            payload_base64=base64.b64encode(payload).decode(),
            code="WMO308",
            postbus=AGB,
            afzender_code=GEMEENTE,
        )
    assert _fetch(app, db)["opgehaald"] == 2  # a poll before the 307 has even left
    db.commit()

    refused = db.scalars(
        select(Message).where(Message.direction == "in").order_by(Message.id)
    ).all()[-2:]
    assert [r.code for r in refused] == ["WMO308", "WMO308"]
    assert all(r.needs_action and r.summary.startswith("Geweigerd") for r in refused)
    summaries = " ".join(r.summary for r in refused)
    assert "DOCTYPE" in summaries and "te groot" in summaries
    assert {bytes(r.payload) for r in refused} == {bomb, huge}  # kept as received
    inbox = _page(client.get("/berichten/", query_string={"actie": "1"}))
    assert inbox.count("Geweigerd") >= 2
    card = _card(client, leg)
    assert "Stop verzonden" in card and "9069" not in card  # nothing changed
    db.expire_all()
    (item,) = chain.starts(db.get(Legitimation, leg.id))
    assert item["stop_status"] == "verzonden"

    _exchange(client, vecozo, run_jobs)  # now the 307 leaves and the gemeente's 308 counts
    assert "Gestopt per 30-11-2026" in _text(_card(client, leg))


def test_withdraw_a_wrong_stop_and_stop_again(db, client, setup, vecozo, office, run_jobs):
    """StatusAanlevering 3 on a 307: the wrong stop is withdrawn, care counts as started again,
    and the right stop goes; all through the gemeente."""
    leg = setup["legs"]["5001"]
    _started(db, client, leg, vecozo, run_jobs)
    page = _act(client, leg, "stop", einddatum="2026-09-30", reden="19")  # the wrong date
    assert "Stop zorg per 30-09-2026 is verstuurd" in page
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Gestopt" in card and "Stop intrekken (307, verwijderen)" in card

    page = _act(client, leg, "stop_intrekken")
    assert "Het intrekken van de stop is verstuurd" in page
    card = _card(client, leg)
    assert "intrekken van de stop" in card and "Stop intrekken" not in card
    page = _act(client, leg, "stop", einddatum="2026-10-31", reden="19")
    assert "het intrekken van de stop is al verstuurd" in page  # nothing else while waiting
    withdrawal = m.parse(
        db.scalars(select(Message).where(Message.code == "WMO307").order_by(Message.id))
        .all()[-1]
        .payload
    )
    (product,) = withdrawal.producten
    assert (product.status, product.einddatum, product.reden) == ("3", date(2026, 9, 30), "19")
    _exchange(client, vecozo, run_jobs)

    card = _card(client, leg)
    assert "Gestart" in card and "Stop zorg melden (307)" in card
    db.expire_all()
    assert db.get(Legitimation, leg.id).status == "actief"
    page = _act(client, leg, "stop", einddatum="2026-10-31", reden="19")
    assert "Stop zorg per 31-10-2026 is verstuurd" in page
    _exchange(client, vecozo, run_jobs)
    card = _card(client, leg)
    assert "Gestopt" in card and "31-10-2026" in card
    answers = db.scalars(select(Message).where(Message.code == "WMO308").order_by(Message.id))
    assert [("geaccepteerd" in a.summary) for a in answers] == [True, True, True]
