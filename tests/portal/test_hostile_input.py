"""Huge ids, huge page numbers and odd dates give 404 or a Dutch message, never a 500.

Every GET route is crawled as every role: with made-up huge ids in the path, and with real sample
ids plus odd query values (page numbers, days, weeks, months, periods).
"""

from __future__ import annotations

import pytest
from flask import url_for

from portal.domain import Role
from portal.services.users import create_user
from tests.conftest import PASSWORD, login
from tests.portal.test_access import (
    PUBLIC_ENDPOINTS,
    allowed,
    methods,
    permissions_of,
    real_url,
    rules,
    sample_data,
)

HUGE = "99999999999999999999999"
ODD_QUERIES = [
    {"pagina": HUGE},
    {"pagina": "-1"},
    {"page": HUGE},
    {"dag": "0001-01-01"},
    {"dag": "9999-12-31"},
    {"week": "9999-W52"},
    {"week": "0001-W01"},
    {"maand": "9999-12"},
    {"maand": "0000-00"},
    {"periode": "9999-12"},
    {"periode": "0001-01"},
    {"van": "0001-01-01", "tot": "9999-12-31"},
    {"datum": "31-12-9999"},
    {"jaar": HUGE},
    {"financier_id": HUGE},
    {"financier": HUGE},
    {"client_id": HUGE},
    {"agb": HUGE},
]


def huge_url(app, rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = HUGE if type(converter).__name__ != "PathConverter" else "x/" + HUGE
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_no_odd_value_crashes_a_page(app, db, role):
    user = create_user(
        db, email=f"{role.value}@test.nl", naam="Ik", role=role.value, password=PASSWORD
    )
    db.commit()
    samples = sample_data(db, me=user.id)
    c = app.test_client()
    assert login(c, user.email).status_code == 302
    crashes = []
    crawled = 0
    for rule in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in methods(rule):
            continue
        if not allowed(role, permissions_of(app, rule.endpoint)):
            continue
        urls = []
        if rule.arguments:
            urls.append(huge_url(app, rule))
        base = real_url(app, rule, samples) if rule.arguments else huge_url(app, rule)
        if base is not None:
            sep = "&" if "?" in base else "?"
            urls += [base + sep + "&".join(f"{k}={v}" for k, v in q.items()) for q in ODD_QUERIES]
        for url in urls:
            resp = c.get(url)
            crawled += 1
            if resp.status_code >= 500:
                crashes.append(f"{url} -> {resp.status_code}")
            elif resp.status_code == 404:
                assert "bestaat niet" in resp.get_data(as_text=True), url
    assert crawled > 50 or role in (Role.ZORGPROFESSIONAL, Role.PRIVACY)
    assert crashes == []


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.BACKOFFICE, f"/clienten/{HUGE}"),
        (Role.ZORGPROFESSIONAL, "/registreren/?dag=0001-01-01"),
        (Role.ZORGPROFESSIONAL, "/registreren/week?week=9999-W52"),
    ],
)
def test_the_reported_urls(client, login_as, role, url):
    login_as(role)
    resp = client.get(url)
    assert resp.status_code in (200, 404)
