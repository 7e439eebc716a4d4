"""Requests to a gemeente: verzoek om toewijzing (315) and verzoek om wijziging (317), their
retours (316/318), the gemeente's answer (319 → our 320) and the 301 that honours them (TR379).

Screens through the test client; round trips through the real VECOZO stand-in, whose simulated
gemeente (this plugin's ``financier_reply``) answers what the portal sent.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from plugins.wmo_jw import chain, financier, verzoeken
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IJW, IWMO
from portal.domain import Role
from portal.models import ContractLine, Legitimation, Message, Product, Verzoek
from tests.plugins.wmo_jw.factories import AGB, BSN, GEMEENTE, persoon, toewijzing
from tests.portal.vecozo.conftest import _OVERRIDES, standin_server  # noqa: F401

TOMORROW = date.today() + timedelta(days=1)
NEXT_WEEK = date.today() + timedelta(days=7)


@pytest.fixture
def standin(standin_server, app, gemeente_settings):  # noqa: F811
    """The real stand-in with this test's gemeente memory; the portal pointed at it."""
    standin_server.store.reset()
    standin_hooks = standin_server.app.extensions["hooks"]
    saved_settings = standin_hooks.settings
    standin_hooks.settings = gemeente_settings
    saved = {k: app.config.get(k) for k in _OVERRIDES}
    app.config.update(_OVERRIDES, VECOZO_BASE_URL=standin_server.url)
    try:
        yield standin_server
    finally:
        standin_hooks.settings = saved_settings
        app.config.update(saved)
        standin_server.store.clear_faults()


@pytest.fixture
def jeugd(db, setup):
    """The same gemeente's contract also buys youth care: iJw 45 (ambulant), code 45A48."""
    product = Product(code="JGD", naam="Jeugdhulp ambulant", eenheid="uur")
    db.add(product)
    db.flush()
    line = ContractLine(
        contract_id=db.scalar(select(ContractLine.contract_id).limit(1)),
        product_id=product.id,
        productcategorie="45",
        productcode="45A48",
        eenheid="uur",
        tarief_cents=7500,
        begindatum=date(2026, 1, 1),
    )
    db.add(line)
    db.commit()
    return line


def _client_id(setup, nummer="5001") -> int:
    return setup["legs"][nummer].client_id


def _fetch(app, db) -> int:
    from portal.jobs.vecozo import poll_once

    with app.app_context():
        found = poll_once(app, db, trigger="handmatig")["opgehaald"]
    db.commit()
    return found


def _options(page: str, name: str) -> list[str]:
    select_html = re.search(rf'<select id="f-{name}".*?</select>', page, re.S)
    assert select_html, f"no select {name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', select_html.group(0)) if v]


def _form_315(setup, **kw) -> dict:
    data = {
        "gemeente": str(setup["fin"].id),
        "wet": "iwmo",
        "categorie": "07",
        "productcode": "07A05",
        "ingangsdatum": NEXT_WEEK.isoformat(),
        # weekly omvang: with an end date (CD076)
        "einddatum": (NEXT_WEEK + timedelta(days=180)).isoformat(),
        "volume": "3",
        "eenheid": "04",
        "frequentie": "2",
        "budget": "",
        "verwijzer_type": "02",
        "verwijzer_naam": "Dr. Pietersen",
        "commentaar": "Meer dagbesteding nodig na ontslag uit het ziekenhuis.",
        "actie": "versturen",
    }
    data.update(kw)
    return data


def _send_and_answer(app, db, standin, run_jobs) -> None:
    """The workers send what is queued, the gemeente answers, the portal fetches the answers."""
    run_jobs()
    standin.forward()
    assert _fetch(app, db) >= 2  # the retour and the 301 or 319
    run_jobs()  # our own retours (302/320) leave


# --- screens ---------------------------------------------------------------------------------


def test_315_form_offers_only_the_standards_categories_and_the_contracts_codes(
    client, setup, jeugd, login_as
):
    login_as(Role.BACKOFFICE)
    url = f"/f/wmo_jw/clienten/{_client_id(setup)}/verzoek-toewijzing"
    page = client.get(url).get_data(as_text=True)
    assert _options(page, "gemeente") == [str(setup["fin"].id)]  # the one contracted gemeente
    assert 'id="f-categorie"' not in page  # no category before the law is chosen

    base = {"gemeente": str(setup["fin"].id), "actie": "kiezen"}
    page = client.post(url, data={**base, "wet": "iwmo"}).get_data(as_text=True)
    categorieen = _options(page, "categorie")
    assert "07" in categorieen and "45" not in categorieen
    assert len(categorieen) == len(IWMO.codes("LDT_ProductCategorie"))
    assert "Dagbesteding" in page

    page = client.post(url, data={**base, "wet": "iwmo", "categorie": "07"}).get_data(as_text=True)
    assert _options(page, "productcode") == ["07A05"]  # only the contract's code in 07

    # htmx: the Jeugdwet narrows to the iJw list and the contract's youth code; only the fields
    resp = client.post(
        url, data={**base, "wet": "ijw", "categorie": "45"}, headers={"HX-Request": "true"}
    )
    fragment = resp.get_data(as_text=True)
    assert "<html" not in fragment and 'id="verzoek-keuze"' in fragment
    assert "07" not in _options(fragment, "categorie")
    assert set(_options(fragment, "categorie")) == set(IJW.codes("LDT_ProductCategorie"))
    assert _options(fragment, "productcode") == ["45A48"]
    # the verwijzer list is the same in both standards: it is on the page, outside the swap
    assert "verwijzer_type" not in fragment
    page = client.get(url).get_data(as_text=True)
    assert _options(page, "verwijzer_type") == list(IJW.codes("LDT_TypeVerwijzer"))
    assert "Huisarts" in page


def test_315_wrong_input_gives_dutch_errors_keeps_the_input_and_sends_nothing(
    client, db, setup, login_as
):
    login_as(Role.BACKOFFICE)
    url = f"/f/wmo_jw/clienten/{_client_id(setup)}/verzoek-toewijzing"
    resp = client.post(
        url,
        data=_form_315(
            setup,
            productcode="99X99",
            einddatum=(NEXT_WEEK - timedelta(days=3)).isoformat(),
            volume="drie",
            verwijzer_type="",
        ),
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Niet verstuurd" in page
    assert "Deze productcode staat niet in het contract met de gemeente." in page
    assert "De einddatum ligt vóór de ingangsdatum." in page
    assert "De omvang is een heel getal groter dan 0." in page
    assert "Kies wie de cliënt heeft verwezen." in page
    # what was typed is still there
    assert 'value="Dr. Pietersen"' in page and 'value="drie"' in page
    assert "Meer dagbesteding nodig na ontslag uit het ziekenhuis." in page
    assert db.scalar(select(func.count()).select_from(Verzoek)) == 0
    assert (
        db.scalar(select(func.count()).select_from(Message).where(Message.direction == "uit")) == 0
    )

    # a product code without omvang (CD041) and an omvang with a budget (CD077)
    page = client.post(url, data=_form_315(setup, volume="")).get_data(as_text=True)
    assert "Bij een productcode hoort een omvang" in page and "(CD041)" in page
    page = client.post(url, data=_form_315(setup, budget="1.500,00")).get_data(as_text=True)
    assert "Vraag een omvang óf een budget aan, niet allebei (CD077)." in page
    # a doctor named by an AGB code instead of a name (CD067), and a bad code
    form = _form_315(setup, verwijzer_type="02", verwijzer_naam="", verwijzer_agb="0112345")
    page = client.post(url, data=form).get_data(as_text=True)
    assert "De AGB-code van de verwijzer is 8 cijfers." in page
    form["verwijzer_type"] = "01"
    form["verwijzer_agb"] = "01123456"
    page = client.post(url, data=form).get_data(as_text=True)
    assert "CD068" in page
    assert db.scalar(select(func.count()).select_from(Verzoek)) == 0


def test_a_reader_sees_the_requests_but_cannot_send(app, client, db, setup, login_as):
    verzoek = verzoeken.send_315(
        db, setup["legs"]["5001"].client, _form_315(setup), created_by=None
    )
    db.commit()
    login_as(Role.ALLEEN_LEZEN)
    cid = _client_id(setup)
    page = client.get(f"/f/wmo_jw/clienten/{cid}").get_data(as_text=True)
    assert verzoek.referentie in page and "Verzonden" in page
    assert "Toewijzing aanvragen (315)" not in page and "Wijziging aanvragen (317)" not in page
    assert client.get(f"/f/wmo_jw/clienten/{cid}/verzoek-toewijzing").status_code == 403
    resp = client.post(
        f"/f/wmo_jw/clienten/{cid}/verzoek-toewijzing",
        data=_form_315(setup, ingangsdatum=TOMORROW.isoformat()),
    )
    assert resp.status_code == 403
    assert db.scalar(select(func.count()).select_from(Verzoek)) == 1


def test_buttons_only_when_a_request_is_possible(client, db, setup, login_as):
    login_as(Role.BACKOFFICE)
    cid = _client_id(setup)
    page = client.get(f"/f/wmo_jw/clienten/{cid}").get_data(as_text=True)
    assert "Toewijzing aanvragen (315)" in page
    assert "Wijziging aanvragen (317)" in page
    resp = client.post(f"/f/wmo_jw/clienten/{cid}/verzoek-toewijzing", data=_form_315(setup))
    assert resp.status_code == 303
    page = client.get(f"/f/wmo_jw/clienten/{cid}").get_data(as_text=True)
    assert "Toewijzing aanvragen (315)" not in page and "Wijziging aanvragen (317)" not in page
    assert "Nu geen nieuw verzoek mogelijk" in page
    # the other client of the same gemeente may still ask
    page = client.get(f"/f/wmo_jw/clienten/{_client_id(setup, '5002')}").get_data(as_text=True)
    assert "Toewijzing aanvragen (315)" in page


# --- rules the portal keeps itself ------------------------------------------------------------


def test_tr374_a_second_request_while_one_is_open_is_blocked(client, db, setup, login_as):
    person = setup["legs"]["5001"].client
    first = verzoeken.send_315(db, person, _form_315(setup))
    db.commit()
    assert first.status == "verzonden" and first.referentie.startswith("315-")
    with pytest.raises(verzoeken.FormErrors) as exc:
        verzoeken.send_315(db, person, _form_315(setup))
    assert "Er loopt al een verzoek" in exc.value.errors["_form"]
    assert "TR374" in exc.value.errors["_form"]
    db.rollback()
    # through the screen the same, for a 317 too; and nothing extra is stored or queued
    login_as(Role.BACKOFFICE)
    url = f"/f/wmo_jw/clienten/{person.id}/verzoek-wijziging/{setup['fin'].id}/iwmo"
    resp = client.post(
        url,
        data={
            "reden": "1",
            "actie-5001": "wijzigen",
            "t5001-ingangsdatum": NEXT_WEEK.isoformat(),
            "t5001-volume": "6",
            "t5001-eenheid": "04",
            "t5001-frequentie": "2",
        },
    )
    assert resp.status_code == 422 and "Er loopt al een verzoek" in resp.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Verzoek)) == 1
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    # once it is answered (here: refused) a new request may go
    first.status = "afgewezen"
    db.commit()
    assert verzoeken.send_315(db, person, _form_315(setup)).referentie != first.referentie


def test_tr380_a_change_must_start_after_the_message_date(client, db, setup, login_as):
    login_as(Role.BACKOFFICE)
    person = setup["legs"]["5001"].client
    url = f"/f/wmo_jw/clienten/{person.id}/verzoek-wijziging/{setup['fin'].id}/iwmo"
    form = {
        "reden": "2",
        "actie-5001": "wijzigen",
        "t5001-ingangsdatum": date.today().isoformat(),
        "t5001-volume": "6",
        "t5001-eenheid": "04",
        "t5001-frequentie": "2",
    }
    resp = client.post(url, data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "moet na vandaag" in page and "(TR357)" in page
    assert f'value="{date.today().isoformat()}"' in page  # kept
    assert db.scalar(select(func.count()).select_from(Verzoek)) == 0
    # the hook level refuses it too, whoever calls it
    wijziging = m.Wijziging(toewijzingnummer="5001", ingangsdatum=date.today(), einddatum=None)
    wijziging.volume, wijziging.eenheid, wijziging.frequentie = 6, "04", "2"
    with pytest.raises(chain.RuleError) as exc:
        chain.vow_draft(
            db,
            person,
            setup["fin"],
            IWMO,
            m.Verzoek(referentie="X-1", reden="2", te_wijzigen=[wijziging]),
        )
    assert "9357" in {i.code for i in exc.value.issues}
    # nothing asked to change at all (TR352/TR353)
    resp = client.post(url, data={"reden": "2", "actie-5001": "ongewijzigd"})
    assert "minstens één toewijzing" in resp.get_data(as_text=True)


def test_an_answer_that_matches_no_request_asks_for_action(db, setup):
    draft = financier.antwoord_319(IWMO, GEMEENTE, AGB, "ONBEKEND-1", "2", None)
    outcome = chain.process(db, draft.payload)
    assert outcome.needs_action and "geen bekend verzoek" in outcome.summary
    assert "ONBEKEND-1" in outcome.summary
    (reply,) = outcome.replies  # the 320 goes back all the same
    assert m.parse(reply.payload).kind == "320"


# --- round trips through the stand-in ---------------------------------------------------------


def test_315_316_301_through_the_standin_grants_a_new_toewijzing(
    app, client, db, setup, standin, run_jobs, login_as
):
    login_as(Role.BACKOFFICE)
    cid = _client_id(setup)
    resp = client.post(f"/f/wmo_jw/clienten/{cid}/verzoek-toewijzing", data=_form_315(setup))
    assert resp.status_code == 303
    verzoek = db.scalar(select(Verzoek))
    sent = db.get(Message, verzoek.message_id)
    assert sent.code == "WMO315" and verzoek.soort == "315" and verzoek.status == "verzonden"
    assert m.parse(sent.payload).aanvragen[0].referentie == verzoek.referentie

    _send_and_answer(app, db, standin, run_jobs)
    retour = db.scalar(select(Message).where(Message.code == "WMO316"))
    assert retour.answers_id == sent.id and not retour.needs_action
    assert verzoek.referentie in retour.summary
    db.refresh(verzoek)
    assert verzoek.status == "toegekend"
    (leg,) = db.scalars(
        select(Legitimation).where(Legitimation.referentienummer == verzoek.referentie)
    )
    assert verzoek.legitimation_ids == [leg.id]
    assert (leg.productcode, leg.volume, leg.frequentie, leg.begindatum) == (
        "07A05",
        3,
        "week",
        NEXT_WEEK,
    )
    toewijzing_301 = db.scalar(select(Message).where(Message.code == "WMO301"))
    assert f"Verzoek {verzoek.referentie} is toegekend" in toewijzing_301.summary
    page = client.get(f"/f/wmo_jw/clienten/{cid}").get_data(as_text=True)
    assert "Toegekend" in page and leg.toewijzingnummer in page
    assert "Toewijzing aanvragen (315)" in page  # nothing open any more


def test_317_318_301_through_the_standin_changes_the_toewijzing(
    app, client, db, setup, standin, run_jobs, login_as
):
    login_as(Role.BACKOFFICE)
    leg = setup["legs"]["5001"]
    end = date.today() + timedelta(days=120)
    url = f"/f/wmo_jw/clienten/{leg.client_id}/verzoek-wijziging/{setup['fin'].id}/iwmo"
    page = client.get(url).get_data(as_text=True)
    assert "Toewijzing 5001" in page and "Verandering clientsituatie" in page
    resp = client.post(
        url,
        data={
            "reden": "1",
            "actie-5001": "wijzigen",
            "t5001-ingangsdatum": NEXT_WEEK.isoformat(),
            "t5001-einddatum": end.isoformat(),
            "t5001-volume": "6",
            "t5001-eenheid": "04",
            "t5001-frequentie": "2",
        },
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)
    verzoek = db.scalar(select(Verzoek))
    assert verzoek.soort == "317" and db.get(Message, verzoek.message_id).code == "WMO317"

    _send_and_answer(app, db, standin, run_jobs)
    assert db.scalar(select(Message).where(Message.code == "WMO318")).needs_action is False
    db.refresh(verzoek)
    db.refresh(leg)
    # the current toewijzing ends the day before the change; a new one holds the new omvang
    assert (leg.volume, leg.einddatum, leg.reden_wijziging) == (4, NEXT_WEEK - timedelta(1), "12")
    new = db.scalar(select(Legitimation).where(Legitimation.referentienummer == verzoek.referentie))
    assert verzoek.status == "toegekend" and verzoek.legitimation_ids == [new.id]
    assert (new.begindatum, new.einddatum, new.volume) == (NEXT_WEEK, end, 6)
    assert new.productcode == leg.productcode and new.client_id == leg.client_id
    # the new toewijzing starts next week: its start can be reported from then on (TR134)
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert f"/f/wmo_jw/toewijzingen/{new.id}/start" not in page
    assert f"De start kan worden gemeld vanaf {NEXT_WEEK:%d-%m-%Y}" in page


def test_315_refused_in_ijw_gets_319_with_the_reason_and_our_320_is_sent(
    app, client, db, setup, jeugd, standin, gemeente_settings, run_jobs, login_as
):
    gemeente_settings["wmo_jw"].update(
        vot_antwoord="afwijzen", vot_reden="8", vot_woonplaats="0344"
    )
    login_as(Role.BACKOFFICE)
    cid = _client_id(setup, "5002")
    resp = client.post(
        f"/f/wmo_jw/clienten/{cid}/verzoek-toewijzing",
        data=_form_315(setup, wet="ijw", categorie="45", productcode="45A48"),
    )
    assert resp.status_code == 303
    verzoek = db.scalar(select(Verzoek))
    assert db.get(Message, verzoek.message_id).code == "JW315"

    _send_and_answer(app, db, standin, run_jobs)
    assert db.scalar(select(Message).where(Message.code == "JW316")) is not None
    antwoord = db.scalar(select(Message).where(Message.code == "JW319"))
    assert antwoord.needs_action and "Woonplaatsbeginsel" in antwoord.summary
    db.refresh(verzoek)
    assert verzoek.status == "afgewezen"
    assert verzoek.antwoord["reden_betekenis"] == "Woonplaatsbeginsel"
    assert verzoek.antwoord["woonplaats_gemeente"] == "0344"
    assert (
        db.scalar(select(Legitimation).where(Legitimation.referentienummer == verzoek.referentie))
        is None
    )
    ours = db.scalar(select(Message).where(Message.code == "JW320"))
    assert ours.direction == "uit" and ours.answers_id == antwoord.id
    db.refresh(ours)
    assert ours.status == "verzonden"  # sent by the workers; the stand-in accepted it
    page = client.get(f"/f/wmo_jw/clienten/{cid}").get_data(as_text=True)
    assert "Afgewezen" in page and "Verzoek afgewezen: Woonplaatsbeginsel" in page
    assert "verantwoordelijke gemeente 0344" in page
    assert "Toewijzing aanvragen (315)" in page  # refused: a new request may go


def test_315_in_onderzoek_keeps_the_request_open(
    app, db, setup, standin, gemeente_settings, run_jobs
):
    gemeente_settings["wmo_jw"]["vot_antwoord"] = "onderzoek"
    person = setup["legs"]["5001"].client
    verzoek = verzoeken.send_315(db, person, _form_315(setup))
    db.commit()
    _send_and_answer(app, db, standin, run_jobs)
    db.refresh(verzoek)
    assert verzoek.status == "in_onderzoek" and verzoek.antwoord["antwoord"] == "2"
    assert verzoeken.open_request(db, person.id, setup["fin"].id).id == verzoek.id
    with pytest.raises(verzoeken.FormErrors):
        verzoeken.send_315(db, person, _form_315(setup))


def test_317_that_misses_a_current_toewijzing_is_rejected_by_the_gemeente_with_9349(
    app, client, db, setup, standin, gemeente_settings, run_jobs, login_as
):
    # The gemeente has assigned 5009 as well, but that 301 has not reached the portal yet: the
    # portal's own TR349 check cannot see it, the gemeente's can.
    financier.issue_301(
        gemeente_settings,
        IWMO,
        GEMEENTE,
        AGB,
        persoon(BSN),
        [toewijzing("5001"), toewijzing("5009", code="07A06")],
    )
    login_as(Role.BACKOFFICE)
    leg = setup["legs"]["5001"]
    resp = client.post(
        f"/f/wmo_jw/clienten/{leg.client_id}/verzoek-wijziging/{setup['fin'].id}/iwmo",
        data={
            "reden": "2",
            "actie-5001": "wijzigen",
            "t5001-ingangsdatum": NEXT_WEEK.isoformat(),
            "t5001-volume": "8",
            "t5001-eenheid": "04",
            "t5001-frequentie": "2",
        },
    )
    assert resp.status_code == 303
    verzoek = db.scalar(select(Verzoek))
    run_jobs()
    standin.forward()
    assert _fetch(app, db) == 1  # only the 318: no 301 follows a rejected request
    retour = db.scalar(select(Message).where(Message.code == "WMO318"))
    assert retour.needs_action and "9349" in retour.summary
    db.refresh(verzoek)
    db.refresh(leg)
    assert verzoek.status == "afgekeurd" and verzoek.codes == ["9349"]
    assert leg.volume == 4  # unchanged
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Afgekeurd" in page and "9349" in page
    assert IWMO.meaning("LDT_RetourCode", "9349") in page


def test_double_click_on_verzoek_versturen_sends_one_request(app, client, db, setup, make_user):
    """Two posts of the same 315 at the same moment: one request leaves, the other is told."""
    import threading

    from tests.conftest import PASSWORD, login

    user = make_user(Role.BACKOFFICE)
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        assert login(c, user.email, PASSWORD).status_code == 302
    url = f"/f/wmo_jw/clienten/{_client_id(setup)}/verzoek-toewijzing"
    gate = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def click(c):
        gate.wait()
        resp = c.post(url, data=_form_315(setup), follow_redirects=True)
        answers.append((resp.status_code, resp.get_data(as_text=True)))

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 2
    assert db.scalar(select(func.count()).select_from(Verzoek)) == 1
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    sent = [page for status, page in answers if status == 200 and "is verstuurd naar" in page]
    told = [page for status, page in answers if status == 422 and "Er loopt al een verzoek" in page]
    assert len(sent) == 1 and len(told) == 1


def test_a_toewijzing_whose_care_stopped_is_still_listed_in_a_317(db, setup):
    """TR349 counts the gemeente's current toewijzingen: stopping care does not end one."""
    leg = setup["legs"]["5001"]
    today = date.today()
    for draft in (chain.start_draft(db, leg, date(2026, 4, 8), today=today),):
        (retour,) = financier.reply(draft.payload, setup["settings"], today=today)
        chain.process(db, retour.payload, today=today)
    stop = chain.stop_draft(db, leg, today, "19", today=today)
    (retour,) = financier.reply(stop.payload, setup["settings"], today=today)
    chain.process(db, retour.payload, today=today)
    db.commit()
    assert chain.starts(leg)[-1]["stop_status"] == "geaccepteerd"
    groups = verzoeken.change_groups(db, leg.client)
    assert [g["legs"] for g in groups] == [[leg]]
    line = db.scalar(select(ContractLine))
    verzoek = verzoeken.send_317(
        db,
        leg.client,
        setup["fin"],
        IWMO,
        {
            "reden": "1",
            "nieuw_product": f"{line.productcategorie}|{line.productcode}",
            # the same product once 5001 has ended: no overlap with it (TR361)
            "nieuw-ingangsdatum": (leg.einddatum + timedelta(days=1)).isoformat(),
            "nieuw-einddatum": (leg.einddatum + timedelta(days=90)).isoformat(),
            "nieuw-volume": "2",
            "nieuw-eenheid": "04",
            "nieuw-frequentie": "2",
        },
    )
    sent = m.parse(db.get(Message, verzoek.message_id).payload)
    assert sent.verzoek.ongewijzigd == ["5001"]
    replies = financier.reply(db.get(Message, verzoek.message_id).payload, setup["settings"])
    assert [r.code for r in replies] == ["WMO318", "WMO301"]  # accepted, and assigned
    outcome = chain.process(db, replies[0].payload)
    assert outcome.issues == [] and "goedgekeurd" in outcome.summary


def test_odd_digits_in_a_number_field_get_a_dutch_error_not_a_crash(client, setup, login_as):
    login_as(Role.BACKOFFICE)
    url = f"/f/wmo_jw/clienten/{_client_id(setup)}/verzoek-toewijzing"
    resp = client.post(url, data=_form_315(setup, volume="²"))
    assert resp.status_code == 422
    assert "De omvang is een heel getal groter dan 0." in resp.get_data(as_text=True)
