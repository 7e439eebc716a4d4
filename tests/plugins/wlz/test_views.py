"""The Wlz screens and the zorgkantoor of the stand-in: AW33 in, the worklist, AW35 from the
client page (once, even on a double click), the AW36 back, an AW39 with only the allowed
mutaties, the start page counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from plugins.wlz import chain, financier
from plugins.wlz import messages as msgs
from portal.db import db_session
from portal.domain import Role
from portal.models import Legitimation, Message
from tests.plugins.wlz import factories as f
from tests.plugins.wlz.factories import AGB, ZK

TODAY = date.today()


def _count(db, code):
    return db.scalar(select(func.count(Message.id)).where(Message.code == code))


def _latest(db, code) -> Message:
    return db.scalar(select(Message).where(Message.code == code).order_by(Message.id.desc()))


def _issue(settings, start):
    return financier.issue_aw33(
        settings,
        ZK,
        AGB,
        f.persoon(),
        msgs.Indicatie(
            "300012345",
            start,
            start,
            toewijzingen=[f.zzp("804", ingang=start), f.functie("31", "K3", ingang=start)],
        ),
        today=TODAY,
    )


def test_aw33_to_worklist_to_start_and_answer(client, db, zk, login_as, tmp_path):
    settings = {"wlz": {"zorgkantoor_db": str(tmp_path / "zk.db")}}
    start = TODAY.replace(day=1)
    web = db_session()
    outcome = chain.process(web, _issue(settings, start).payload, today=TODAY)
    (aw34,) = outcome.replies
    assert financier.reply(aw34.payload, settings) == []  # accepted; the zorgkantoor learns
    web.commit()
    login_as(Role.BACKOFFICE)
    page = client.get("/f/wlz/").get_data(as_text=True)
    assert "Nieuwe toewijzingen: start melden (AW35)" in page and "ZZP 804" in page
    home = client.get("/").get_data(as_text=True)
    assert "Wlz-toewijzingen zonder start (AW35)" in home
    leg = web.scalar(select(Legitimation).where(Legitimation.productcategorie == "804"))
    page = client.get(f"/f/wlz/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Start zorg melden (AW35)" in page
    assert "19 Levering zorg of ondersteuning is beeindigd" not in page  # not before a start
    url = f"/f/wlz/toewijzingen/{leg.id}/start"
    # a start before the toewijzing is refused with the reason, nothing sent
    resp = client.post(
        url,
        data={"begindatum": (start.replace(day=1) - date.resolution).isoformat()},
        follow_redirects=True,
    )
    assert "Niet verstuurd" in resp.get_data(as_text=True) and "0699" in resp.get_data(as_text=True)
    assert _count(web, "AW35") == 0
    resp = client.post(url, data={"begindatum": start.isoformat()}, follow_redirects=True)
    assert "Melding aanvang zorg (AW35)" in resp.get_data(as_text=True)
    resp = client.post(url, data={"begindatum": start.isoformat()}, follow_redirects=True)
    assert "kan nu niet" in resp.get_data(as_text=True)
    assert _count(web, "AW35") == 1
    web.expire_all()  # the answer is processed by a job in a session of its own
    (aw36,) = financier.reply(_latest(web, "AW35").payload, settings)
    assert aw36.code == "AW36"
    assert "1 geaccepteerd" in chain.process(web, aw36.payload, today=TODAY).summary
    web.commit()
    page = client.get(f"/f/wlz/clienten/{leg.client_id}").get_data(as_text=True)
    page = page.split(f'id="toewijzing-{leg.id}"')[1].split("<section")[0]
    assert "In zorg" in page and "Mutatie of einde zorg melden (AW39)" in page
    assert "19 Levering zorg of ondersteuning is beeindigd" in page  # after a start: 17/19/20
    assert 'value="12"' not in page  # "cliënt wil nog niet" no longer offered
    resp = client.post(
        f"/f/wlz/toewijzingen/{leg.id}/mutatie",
        data={"mutatiecode": "19", "mutatiedatum": TODAY.isoformat(), "leveringsstatus": "5"},
        follow_redirects=True,
    )
    assert "Mutatie 19 (AW39)" in resp.get_data(as_text=True)
    web.expire_all()
    (aw310,) = financier.reply(_latest(web, "AW39").payload, settings)
    assert chain.process(web, aw310.payload, today=TODAY).code == "AW310"
    web.commit()
    assert web.get(Legitimation, leg.id).status == "beeindigd"


def test_zorgkantoor_rejects_a_start_for_a_toewijzing_it_never_gave(db, zk, tmp_path):
    settings = {"wlz": {"zorgkantoor_db": str(tmp_path / "zk.db")}}
    start = date(2026, 2, 2)
    chain.process(db, _issue(settings, start).payload, today=f.TODAY)
    leg = db.scalar(select(Legitimation).where(Legitimation.productcategorie == "31"))
    s = dict(leg.sleutels)
    s["besluitnummer"] = "300099999"  # not the zorgkantoor's
    leg.sleutels = s
    draft = chain.start_draft(db, leg, start, today=f.TODAY)
    (aw36,) = financier.reply(draft.payload, settings, today=f.TODAY)
    outcome = chain.process(db, aw36.payload, today=f.TODAY)
    assert "1 afgewezen" in outcome.summary
    assert leg.keten_stand == "start_afgewezen" and leg.sleutels["start"]["codes"] == ["0699"]


def test_seeded_demo_has_wlz_toewijzingen_from_aw33s(db, hooks, client, login_as):
    from portal import demo

    demo.seed(db, hooks=hooks)
    db.commit()
    legs = db.scalars(select(Legitimation).where(Legitimation.financing == "wlz")).all()
    assert legs and all(leg.toewijzingnummer for leg in legs)
    assert any(leg.keten_stand == "gestart" for leg in legs)
    new = [leg for leg in legs if leg.keten_stand == "nieuw"]  # AW33 waiting for its AW35
    assert {leg.productcategorie for leg in new} == {"31", "41"}  # PV and VP from the contract
    login_as(Role.BACKOFFICE)
    assert "Nieuwe toewijzingen: start melden (AW35)" in client.get("/f/wlz/").get_data(True)
    for client_id in sorted({leg.client_id for leg in legs}):
        page = client.get(f"/f/wlz/clienten/{client_id}")
        assert page.status_code == 200 and "Wlz-toewijzingen" in page.get_data(True)
    shown = client.get(f"/clienten/{new[0].client_id}").get_data(True)
    assert "Berichten en acties voor Wlz" in shown


def test_overplaatsing_with_aanvraag_from_the_screen(client, db, zk, login_as, tmp_path):
    settings = {"wlz": {"zorgkantoor_db": str(tmp_path / "zk.db")}}
    start = TODAY.replace(day=1)
    web = db_session()
    chain.process(web, _issue(settings, start).payload, today=TODAY)
    leg = web.scalar(select(Legitimation).where(Legitimation.productcategorie == "804"))
    draft = chain.start_draft(web, leg, start, today=TODAY)
    (aw36,) = financier.reply(draft.payload, settings, today=TODAY)
    chain.process(web, aw36.payload, today=TODAY)
    web.commit()
    login_as(Role.BACKOFFICE)
    page = client.get(f"/f/wlz/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Aanvraag aangepaste toewijzing" in page and "806 4VG" in page
    resp = client.post(
        f"/f/wlz/toewijzingen/{leg.id}/mutatie",
        data={
            "mutatiecode": "20",
            "mutatiedatum": TODAY.isoformat(),
            "leveringsstatus": "5",
            "aanvraag_zzp": "806",
            "aanvraag_leveringsvorm": "4",
            "aanvraag_ingangsdatum": TODAY.isoformat(),
        },
        follow_redirects=True,
    )
    assert "Mutatie 20 (AW39)" in resp.get_data(as_text=True)
    rel, _message, root = msgs.load(_latest(web, "AW39").payload)
    ns = {"m": rel.ns("AW39")}
    assert root.findtext(".//m:Aanvraag/m:ZzpCode", namespaces=ns) == "806"
