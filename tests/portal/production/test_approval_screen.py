"""Fiatteren as the back office uses it: the nearest whole-week period offered instead of a bare
refusal, rows left out or corrected before approving, and a confirmation that sums up the warnings."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from portal.models import AuditEvent, Registration
from portal.services import approval
from tests.portal.production.factory import new_client, organisation, registration, seed_client


@pytest.fixture
def org(db):
    return organisation(db)


def _links(page: str) -> list[tuple[str, str]]:
    return [
        (html.unescape(href), re.sub(r"<[^>]+>", "", text).strip())
        for href, text in re.findall(r'<a class="button[^"]*" href="([^"]+)">(.*?)</a>', page)
    ]


def test_whole_week_choices_inside_and_around():
    # December 2026: Tue 1 .. Thu 31. Inside: Mon 7 .. Sun 27; around: Mon 30 Nov .. Sun 3 Jan.
    inner, outer = approval.whole_week_choices(date(2026, 12, 1), date(2026, 12, 31))
    assert (inner.start, inner.end, inner.weeks) == (date(2026, 12, 7), date(2026, 12, 27), 3)
    assert (outer.start, outer.end, outer.weeks) == (date(2026, 11, 30), date(2027, 1, 3), 5)
    # moving 1 + 3 days around beats dropping 6 + 4 days inside
    assert outer.nearest and not inner.nearest
    # week 5 of 2019 cut at Thursday 31 January: no whole week inside, the week around it
    (only,) = approval.whole_week_choices(date(2019, 1, 28), date(2019, 1, 31))
    assert (only.start, only.end, only.nearest) == (date(2019, 1, 28), date(2019, 2, 3), True)
    # a period that already is whole weeks needs no choice
    assert approval.whole_week_choices(date(2019, 1, 28), date(2019, 2, 3)) == []


def test_month_with_stacking_offers_the_nearest_whole_weeks(client, db, org, backoffice, make_user):
    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org)  # a stack rule: stacking is active
    registration(db, c, org.pv, employee.id, date(2019, 1, 29), 120, status="concept")
    registration(db, c, org.pv, employee.id, date(2019, 2, 1), 120, status="concept")
    db.commit()
    page = client.get("/fiatteren/?van=01-01-2019&tot=31-01-2019").get_data(as_text=True)
    assert "Gestapeld financieren staat aan" in page
    links = _links(page)
    assert [text.split(":")[0] for _h, text in links] == [
        "Alleen de hele weken erbinnen",
        "Uitgebreid tot hele weken",
    ]
    around_href, around_text = links[1]
    assert "maandag 31-12-2018 t/m zondag 03-02-2019" in around_text
    assert "dichtstbij" in around_text and "dichtstbij" not in links[0][1]
    # following the offer shows the preview of the whole weeks: both days of week 5 included
    preview = client.get(around_href).get_data(as_text=True)
    assert "2 registratie(s), 4:00 uur" in preview
    assert "fiatteren gaat per hele week" not in preview and 'id="approve-form"' in preview


def test_leaving_rows_out_keeps_them_concept(client, db, org, backoffice, make_user):
    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org, stack=False)  # no stacking: any period, rows may be left out
    keep = registration(db, c, org.pv, employee.id, date(2019, 1, 8), 60, status="concept")
    left = registration(db, c, org.pv, employee.id, date(2019, 1, 9), 90, status="concept")
    db.commit()
    page = client.get("/fiatteren/?van=01-01-2019&tot=31-01-2019").get_data(as_text=True)
    assert f'name="uitsluiten" value="{left.id}"' in page
    r = client.post(
        "/fiatteren/",
        data={"van": "01-01-2019", "tot": "31-01-2019", "token": "x1", "uitsluiten": [left.id]},
        follow_redirects=True,
    )
    text = r.get_data(as_text=True)
    assert "1 registratie(s) gefiatteerd" in text and "1 registratie(s) uitgesloten" in text
    db.expire_all()
    assert db.get(Registration, keep.id).status == "gefiatteerd"
    assert db.get(Registration, left.id).status == "concept"
    event = db.query(AuditEvent).filter_by(action="approval.approved").one()
    assert event.detail["uitgesloten"] == [left.id]


def test_leaving_rows_out_is_refused_while_stacking(db, org, make_user, hooks):
    employee = make_user("zorgprofessional")
    office = make_user("backoffice")
    c, _w, _p = seed_client(db, org)
    reg = registration(db, c, org.pv, employee.id, date(2019, 1, 29), 60, status="concept")
    db.commit()
    f = approval.Filters(date(2019, 1, 28), date(2019, 2, 3), exclude=frozenset({reg.id}))
    with pytest.raises(approval.ApprovalError, match="uitsluiten kan niet"):
        approval.approve(db, f, hooks, user_id=office.id)
    db.expire_all()
    assert db.get(Registration, reg.id).status == "concept"


def test_confirmation_sums_up_the_warnings(client, db, org, backoffice, make_user):
    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org, stack=False)
    nobody = new_client(db, achternaam="Zonder")
    registration(db, c, org.pv, employee.id, date(2019, 1, 8), 60, status="concept")
    registration(db, nobody, org.pv, employee.id, date(2019, 1, 9), 60, status="concept")
    registration(db, nobody, org.pv, employee.id, date(2019, 1, 10), 60, status="concept")
    db.commit()
    page = client.get("/fiatteren/?van=01-01-2019&tot=31-01-2019").get_data(as_text=True)
    confirm = html.unescape(re.search(r'id="approve-form"\s+data-confirm="([^"]*)"', page).group(1))
    assert "U fiatteert 3 registratie(s) (3:00 uur) van 01-01-2019 t/m 31-01-2019" in confirm
    assert re.search(r"2× [^;]*legitimatie", confirm), confirm
    assert "blijven concept" in confirm


def test_back_office_corrects_a_row_before_approving(client, db, org, backoffice, make_user):
    employee = make_user("zorgprofessional")
    c, _w, _p = seed_client(db, org, stack=False)
    reg = registration(db, c, org.pv, employee.id, date(2019, 1, 8), 600, status="concept")
    db.commit()
    page = client.get("/fiatteren/?van=01-01-2019&tot=31-01-2019").get_data(as_text=True)
    href = html.unescape(re.search(r'href="(/fiatteren/registratie/\d+/corrigeren[^"]*)"', page)[1])
    form = client.get(href).get_data(as_text=True)
    assert "Registratie corrigeren" in form and 'value="10:00"' in form
    data = {
        "product_id": org.pv.id,
        "datum": "08-01-2019",
        "starttijd": "09:00",
        "duur": "1:00",
        "terug": "/fiatteren/?van=01-01-2019&tot=31-01-2019",
    }
    refused = client.post(f"/fiatteren/registratie/{reg.id}/corrigeren", data=data)
    assert refused.status_code == 422 and "Geef een reden" in refused.get_data(as_text=True)
    r = client.post(
        f"/fiatteren/registratie/{reg.id}/corrigeren",
        data={**data, "reden": "10 uur was een tikfout, 1 uur geleverd"},
        follow_redirects=True,
    )
    assert "Registratie gecorrigeerd." in r.get_data(as_text=True)
    assert "1 registratie(s), 1:00 uur" in r.get_data(as_text=True)  # back on the same preview
    db.expire_all()
    fixed = db.get(Registration, reg.id)
    assert fixed.duur_minuten == 60 and fixed.employee_id == employee.id
    event = db.query(AuditEvent).filter_by(action="registration.changed").one()
    assert event.user_id == backoffice.id
    assert event.detail["reden"].startswith("10 uur was een tikfout")


def test_care_staff_cannot_correct_through_the_back_office_screen(
    client, db, org, zorgprofessional
):
    c, _w, _p = seed_client(db, org, stack=False)
    reg = registration(db, c, org.pv, zorgprofessional.id, date(2019, 1, 8), 60, status="concept")
    db.commit()
    assert client.get(f"/fiatteren/registratie/{reg.id}/corrigeren").status_code == 403
