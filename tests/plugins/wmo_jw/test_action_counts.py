"""The Wmo/Jeugdwet worklist on the start page and in the menu: a toewijzing without a start
counts until its start is sent, and drops out the same day."""

from __future__ import annotations

from portal.domain import Role
from tests.portal.test_dashboard import _actions


def test_toewijzing_without_start_counts_until_the_start_is_sent(client, db, setup, login_as):
    login_as(Role.BACKOFFICE)
    html = client.get("/").get_data(as_text=True)
    n, href = _actions(html)["wmo_jw.toewijzingen"]
    assert (n, href) == (2, "/f/wmo_jw/")
    # the worklist is in the menu
    assert '<a href="/f/wmo_jw/"' in html and ">Toewijzingen</a>" in html
    leg = setup["legs"]["5001"]
    resp = client.post(
        f"/f/wmo_jw/toewijzingen/{leg.id}/start",
        data={"begindatum": "2026-04-08"},
        follow_redirects=True,
    )
    assert "is verstuurd naar de gemeente" in resp.get_data(as_text=True)
    assert _actions(client.get("/").get_data(as_text=True))["wmo_jw.toewijzingen"][0] == 1
    worklist = client.get("/f/wmo_jw/").get_data(as_text=True)
    assert "5002" in worklist and "5001" not in worklist


def test_care_staff_do_not_see_the_worklist_in_the_menu(client, setup, login_as):
    login_as(Role.ZORGPROFESSIONAL)
    assert '<a href="/f/wmo_jw/"' not in client.get("/").get_data(as_text=True)
