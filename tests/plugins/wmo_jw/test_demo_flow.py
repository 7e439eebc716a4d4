"""The demo story of issue 5, end to end through the real screens and the real VECOZO stand-in:
a 301 arrives, the client is started (305/306), care is registered and approved, the month is
declared (323), the 325 rejects one line (a tariff the gemeente does not agree with: 0611), the
cause is corrected in the contract and the month is declared again, and the second 325 awards it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.domain import Role
from portal.models import Contract, ContractLine, Financier, Legitimation, Product
from portal.models.declaration import Declaration
from tests.conftest import login
from tests.plugins.wmo_jw.factories import GEMEENTE
from tests.plugins.wmo_jw.test_standin import standin  # noqa: F401
from tests.portal.vecozo.conftest import standin_server  # noqa: F401


@pytest.fixture
def gemeente(db, org, app, gemeente_settings):
    """Master data as the demo seed has it: a gemeente, a product and a contract at € 50/uur.
    The portal and the stand-in of one installation share the simulated gemeente's store."""
    fin = Financier(financing="wmo_jw", soort="gemeente", code=GEMEENTE, naam="Gemeente Amsterdam")
    product = Product(code="BEG", naam="Begeleiding individueel", eenheid="uur")
    db.add_all([fin, product])
    db.flush()
    contract = Contract(financier_id=fin.id, naam="Wmo 2026", begindatum=date(2026, 1, 1))
    contract.lines.append(
        ContractLine(
            product_id=product.id,
            productcategorie="07",
            productcode="07A05",
            eenheid="uur",
            tarief_cents=5000,
            begindatum=date(2026, 1, 1),
        )
    )
    db.add(contract)
    db.commit()
    portal_hooks = app.extensions["hooks"]
    saved = portal_hooks.settings
    portal_hooks.settings = gemeente_settings
    try:
        yield {"fin": fin, "product": product, "contract": contract}
    finally:
        portal_hooks.settings = saved


def _page(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _switch(client, user) -> None:
    client.post("/logout")
    assert login(client, user.email).status_code == 302


def _fetch_mail(client, run_jobs):
    """Berichten → Nu ophalen, and let the workers do the work (fetch, process, send retours)."""
    resp = client.post("/berichten/ophalen")
    assert resp.status_code in (302, 303)
    run_jobs()
    run_jobs()  # retours created while processing (302) leave too


def _declare(client, fin, month: date) -> tuple[int, str]:
    resp = client.post(
        "/declareren/voorbereiden",
        data={"financier_id": fin.id, "maand": f"{month:%Y-%m}"},
        follow_redirects=True,
    )
    page = _page(resp)
    assert "Alle controles zijn goed" in page
    decl_id = int(re.search(r"/declareren/(\d+)/indienen", page).group(1))
    return decl_id, page


def test_demo_story_from_the_screens(db, client, gemeente, standin, run_jobs, make_user):  # noqa: F811
    fin, product = gemeente["fin"], gemeente["product"]
    office = make_user(Role.BACKOFFICE)
    worker = make_user(Role.ZORGPROFESSIONAL)
    login(client, office.email)

    # 1. the simulated gemeente sends a 301 (its tariff for 07A05 is € 1 above our contract)
    page = _page(client.get("/f/wmo_jw/"))
    assert "Gemeente stuurt toewijzing" in page
    resp = client.post(
        "/f/wmo_jw/demo/toewijzing", data={"tarief_afwijkend": "1"}, follow_redirects=True
    )
    assert "heeft toewijzing" in _page(resp)
    _fetch_mail(client, run_jobs)
    leg = db.scalar(select(Legitimation).where(Legitimation.financing == "wmo_jw"))
    assert leg is not None and leg.productcode == "07A05"
    inbox = _page(client.get("/berichten/"))
    assert "WMO301" in inbox
    page = _page(client.get("/f/wmo_jw/"))
    assert leg.client.naam in page and "Nog niet gestart" in page

    # 2. start care (305); the gemeente accepts it (306)
    page = _page(client.get(f"/f/wmo_jw/clienten/{leg.client_id}"))
    assert f"Toewijzing {leg.toewijzingnummer}" in page and "Start zorg melden (305)" in page
    resp = client.post(
        f"/f/wmo_jw/toewijzingen/{leg.id}/start",
        data={"begindatum": leg.begindatum.isoformat()},
        follow_redirects=True,
    )
    assert "is verstuurd naar de gemeente" in _page(resp)
    run_jobs()  # the 305 leaves
    standin.forward()  # the gemeente answers
    _fetch_mail(client, run_jobs)
    page = _page(client.get(f"/f/wmo_jw/clienten/{leg.client_id}"))
    assert "Gestart" in page and "Stop zorg melden (307)" in page
    assert "Start zorg melden (305)" not in page

    # 3. a care worker registers two hours in the first month of the toewijzing
    month = leg.begindatum.replace(day=1)
    day = month + timedelta(days=4)
    # A client from a 301 has no team yet: the back office assigns the care worker.
    assigned = client.post(f"/clienten/{leg.client_id}/medewerkers", data={"user_id": worker.id})
    assert assigned.status_code == 303
    _switch(client, worker)
    resp = client.post(
        "/registreren/nieuw",
        data={
            "client_id": leg.client_id,
            "product_id": product.id,
            "datum": f"{day:%d-%m-%Y}",
            "starttijd": "09:00",
            "duur": "2:00",
        },
        follow_redirects=True,
    )
    assert "Opgeslagen:" in _page(resp)

    # 4. the back office approves the month
    _switch(client, office)
    end = (month + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    period = {"van": f"{month:%d-%m-%Y}", "tot": f"{end:%d-%m-%Y}"}
    page = _page(client.get("/fiatteren/", query_string=period))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    resp = client.post("/fiatteren/", data={**period, "token": token}, follow_redirects=True)
    assert "1 registratie(s) gefiatteerd" in _page(resp)

    # 5. declare the month: preview with the total, then send
    page = _page(client.get("/declareren/"))
    assert fin.naam in page
    decl_id, page = _declare(client, fin, month)
    assert "100,00" in page  # 2 uur × € 50
    resp = client.post(f"/declareren/{decl_id}/indienen", follow_redirects=True)
    assert "is verstuurd" in _page(resp)
    run_jobs()  # the 323 leaves
    standin.forward()
    _fetch_mail(client, run_jobs)

    # 6. the 325 rejects the line: shown with the code's Dutch meaning and what to do
    page = _page(client.get(f"/declareren/{decl_id}"))
    assert "Afgewezen" in page and "0611" in page
    page = _page(client.get("/f/wmo_jw/afgewezen"))
    assert "Het ingediende tarief komt niet overeen met het contractuele tarief" in page
    assert "Pas het tarief in het contract aan" in page

    # 7. correct the cause (the contract tariff, as the gemeente pays it) and declare again
    line = gemeente["contract"].lines[0]
    resp = client.post(
        f"/contracten/{gemeente['contract'].id}/regels/{line.id}",
        data={
            "product_id": product.id,
            "productcode": "07A05",
            "productcategorie": "07",
            "eenheid": "uur",
            "tarief": "51,00",
            "begindatum": "2026-01-01",
            "einddatum": "",
            "afronding_minuten": "0",
            "afronding_wijze": "dichtstbij",
            "btw_percentage": "0",
        },
        follow_redirects=True,
    )
    assert "is opgeslagen" in _page(resp)
    again_id, page = _declare(client, fin, month)
    assert again_id != decl_id and "102,00" in page  # 2 uur × € 51
    resp = client.post(f"/declareren/{again_id}/indienen", follow_redirects=True)
    assert "is verstuurd" in _page(resp)
    run_jobs()
    standin.forward()
    _fetch_mail(client, run_jobs)

    # 8. the second 325 awards it; nothing is left to fix
    page = _page(client.get(f"/declareren/{again_id}"))
    assert "Toegekend" in page and "0611" not in page
    db.expire_all()
    again = db.get(Declaration, again_id)
    assert again.status == "beantwoord" and [ln.status for ln in again.lines] == ["toegekend"]
    assert again.awarded_cents == 10200
    page = _page(client.get("/f/wmo_jw/afgewezen"))
    assert "Er zijn geen afgewezen prestaties" in page
