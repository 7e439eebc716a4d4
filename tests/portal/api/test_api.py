"""The API as a connected system uses it: every endpoint, scope and refusal."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import (
    ApiRegistratie,
    ApiToken,
    ApprovalRun,
    AuditEvent,
    Client,
    Declaration,
    DeclarationLine,
    ExportPart,
    Legitimation,
    Registration,
)
from portal.models.api import (
    SCOPE_CLIENTS_READ,
    SCOPE_CLIENTS_WRITE,
    SCOPE_REGISTRATIONS_WRITE,
    SCOPE_STATUSES_READ,
)
from portal.models.registration import REG_APPROVED
from portal.services import api_tokens
from tests.portal.api.conftest import Api

MONDAY = date.today() - timedelta(days=date.today().weekday() + 7)  # last week's Monday


def reg(extern_id: str, *, day: date = MONDAY, start: str = "09:00", minutes=60, **kw) -> dict:
    body = {
        "extern_id": extern_id,
        "medewerker": "wijkzorg@test.nl",
        "client": "C-001",
        "product": "PV01",
        "datum": day.isoformat(),
        "starttijd": start,
        "duur_minuten": minutes,
    }
    body.update(kw)
    return body


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["detail"] and body["type"] and body["title"]
    return body


# -- access ------------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/clienten/1", None, SCOPE_CLIENTS_READ),
    ("post", "/api/v1/clienten/zoeken", {"bsn": "123456782"}, SCOPE_CLIENTS_READ),
    ("post", "/api/v1/clienten", {"bsn": "123456782"}, SCOPE_CLIENTS_WRITE),
    ("patch", "/api/v1/clienten/1", {"team": "x"}, SCOPE_CLIENTS_WRITE),
    ("get", "/api/v1/clienten/1/legitimaties", None, SCOPE_CLIENTS_READ),
    ("post", "/api/v1/clienten/1/legitimaties", {}, SCOPE_CLIENTS_WRITE),
    ("get", "/api/v1/legitimaties/1", None, SCOPE_CLIENTS_READ),
    ("patch", "/api/v1/legitimaties/1", {}, SCOPE_CLIENTS_WRITE),
    ("post", "/api/v1/registraties", reg("x"), SCOPE_REGISTRATIONS_WRITE),
    ("post", "/api/v1/registraties/batch", {"registraties": [reg("x")]}, SCOPE_REGISTRATIONS_WRITE),
    ("get", "/api/v1/registraties/1", None, SCOPE_STATUSES_READ),
    ("post", "/api/v1/registraties/status", {"extern_ids": ["x"]}, SCOPE_STATUSES_READ),
    ("get", "/api/v1/declaratieregels/1", None, SCOPE_STATUSES_READ),
    ("get", "/api/v1/wijzigingen", None, SCOPE_STATUSES_READ),
]


def call(api: Api, method: str, path: str, body, token: str | None = None, headers=None):
    headers = headers if headers is not None else api.headers(token)
    if method == "get":
        return api.get(path, headers=headers)
    return getattr(api, method)(path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_every_endpoint_needs_a_token_with_its_scope(
    api, make_token, db, method, path, body, scope
):
    assert problem(call(api, method, path, body, headers={}), 401)["code"] == "token-ontbreekt"
    assert problem(call(api, method, path, body, token="dpk_nep"), 401)["code"] == "token-onbekend"
    others = [s for s in (SCOPE_CLIENTS_READ, SCOPE_CLIENTS_WRITE,
                          SCOPE_REGISTRATIONS_WRITE, SCOPE_STATUSES_READ) if s != scope]  # fmt: skip
    token, _k = make_token(others, naam=f"zonder {scope}")
    refused = problem(call(api, method, path, body, token=token), 403)
    assert refused["code"] == "scope-ontbreekt" and scope in refused["detail"]
    only, _k = make_token([scope], naam=f"met {scope}")
    assert call(api, method, path, body, token=only).status_code not in (401, 403)
    assert count(db, Client) == 0 and count(db, Registration) == 0  # nothing stored on refusal


def test_expired_and_revoked_tokens_are_refused(api, make_token, db):
    token, _k = make_token(naam="oud")
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(token)))
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.commit()
    body = problem(api.get("/api/v1/wijzigingen", headers=api.headers(token)), 401)
    assert body["code"] == "token-verlopen" and "verlopen op" in body["detail"]
    assert api.get("/api/v1/wijzigingen").status_code == 200
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(api.token)))
    api_tokens.revoke_token(db, row, user_id=None)
    db.commit()
    assert problem(api.get("/api/v1/wijzigingen"), 401)["code"] == "token-ingetrokken"


def test_tokens_are_stored_hashed_and_calls_are_audited_with_last_use(api, db):
    assert api.get("/api/v1/wijzigingen").status_code == 200
    db.expire_all()
    row = db.scalar(select(ApiToken))
    assert api.token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert row.last_used_at is not None
    api.get("/api/v1/clienten/999")
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "api.aanroep")).all()
    assert [(e.detail["pad"], e.detail["status"]) for e in events] == [
        ("/api/v1/wijzigingen", 200),
        ("/api/v1/clienten/999", 404),
    ]
    assert all(e.object_id == str(row.id) for e in events)


def test_rate_limit_per_token(client, make_token):
    token, _k = make_token(rate=3)
    api = Api(client, token, 0)
    statuses = [api.get("/api/v1/wijzigingen").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = api.get("/api/v1/wijzigingen")
    body = problem(resp, 429)
    assert int(resp.headers["Retry-After"]) >= 1 and "per minuut" in body["detail"]


def test_no_cookie_session_on_the_api(api, client, beheerder):
    """A logged-in browser's cookie gives no access, and the API never sets a cookie."""
    resp = client.get("/api/v1/wijzigingen")
    assert problem(resp, 401)["code"] == "token-ontbreekt"
    resp = api.get("/api/v1/wijzigingen")
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers


def test_screens_keep_csrf(client, beheerder):
    resp = client.post("/beheer/api-koppelingen/", data={"naam": "ECD"}, csrf=False)
    assert resp.status_code == 400


# -- the Beheerder's screen -------------------------------------------------------------------


def test_beheerder_makes_a_koppeling_and_a_token_shown_once(client, beheerder, db):
    resp = client.post("/beheer/api-koppelingen/", data={"naam": "Nedap ONS"})
    assert resp.status_code == 302
    koppeling_id = db.scalar(select(ApiToken.koppeling_id).limit(1)) or 1
    resp = client.post(
        f"/beheer/api-koppelingen/{koppeling_id}/tokens",
        data={"naam": "productie", "scopes": [SCOPE_REGISTRATIONS_WRITE], "dagen": "90"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "wordt niet nog eens getoond" in html
    token = html.split('id="nieuw-token">')[1].split("<")[0]
    assert token.startswith("dpk_")
    page = client.get("/beheer/api-koppelingen/").get_data(as_text=True)
    assert token not in page and token[:12] in page and "Registraties aanleveren" in page
    api = Api(client, token, koppeling_id)
    assert problem(api.get("/api/v1/wijzigingen"), 403)["code"] == "scope-ontbreekt"
    row = db.scalar(select(ApiToken))
    assert client.post(f"/beheer/api-koppelingen/tokens/{row.id}/intrekken").status_code == 302
    assert problem(api.get("/api/v1/wijzigingen"), 401)["code"] == "token-ingetrokken"


def test_token_form_refuses_in_dutch(client, beheerder, db):
    client.post("/beheer/api-koppelingen/", data={"naam": "ECD"})
    resp = client.post("/beheer/api-koppelingen/1/tokens", data={"naam": "x", "dagen": "0"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Kies ten minste één bevoegdheid." in html and "1 tot 732 dagen" in html
    assert count(db, ApiToken) == 0


def test_only_beheerder_sees_the_screen(client, backoffice):
    assert client.get("/beheer/api-koppelingen/").status_code == 403


# -- bad input ---------------------------------------------------------------------------------


def test_malformed_json_wrong_type_and_unknown_fields(api, care, db):
    resp = api.client.post(
        "/api/v1/registraties",
        data="{niet: json",
        headers={**api.headers(), "Content-Type": "application/json"},
        csrf=False,
    )
    assert problem(resp, 400)["code"] == "ongeldige-json"
    resp = api.client.post("/api/v1/registraties", data="a=b", headers=api.headers(), csrf=False)
    assert problem(resp, 415)["code"] == "geen-json"
    body = problem(api.post("/api/v1/registraties", reg("a", minutes="60", kleur="rood")), 422)
    assert {(f["veld"], f["reden"]) for f in body["fouten"]} == {
        ("duur_minuten", "Verwacht een geheel getal."),
        ("kleur", "Onbekend veld: dit veld bestaat niet in de API."),
    }
    body = problem(api.post("/api/v1/registraties", reg("a", datum=20260101)), 422)
    assert body["fouten"] == [{"veld": "datum", "reden": "Verwacht een datum als jjjj-mm-dd."}]
    assert count(db, Registration) == 0 and count(db, ApiRegistratie) == 0


def test_batch_over_the_size_limit(api, care, db):
    body = {"registraties": [reg(f"r{i}", start="09:00") for i in range(5001)]}
    refused = problem(api.post("/api/v1/registraties/batch", body), 413)
    assert "hoogstens 5000" in refused["detail"]
    assert count(db, Registration) == 0


def test_unknown_api_address_and_method(api):
    assert problem(api.get("/api/v1/bestaat-niet"), 404)["code"] == "niet-gevonden"
    resp = api.client.delete("/api/v1/wijzigingen", headers=api.headers(), csrf=False)
    assert problem(resp, 405)["code"] == "methode"


# -- clients and legitimations -----------------------------------------------------------------

NEW_CLIENT = {
    "bsn": "123456782",
    "achternaam": "Visser",
    "voorletters": "A.",
    "geboortedatum": "1950-04-01",
    "clientnummer": "C-900",
}


def test_client_create_search_read_update(api, db):
    resp = api.post("/api/v1/clienten", NEW_CLIENT)
    assert resp.status_code == 201, resp.get_json()
    cid = resp.get_json()["id"]
    found = api.post("/api/v1/clienten/zoeken", {"bsn": "123 456 782"}).get_json()
    assert [c["id"] for c in found["clienten"]] == [cid]
    assert api.post("/api/v1/clienten/zoeken", {"bsn": "111222333"}).get_json()["clienten"] == []
    assert api.get(f"/api/v1/clienten/{cid}").get_json()["achternaam"] == "Visser"
    resp = api.patch(f"/api/v1/clienten/{cid}", {"team": "Team Oost", "postcode": "1234ab"})
    assert resp.status_code == 200 and resp.get_json()["postcode"] == "1234AB"
    again = problem(api.post("/api/v1/clienten", NEW_CLIENT), 422)
    assert {"veld": "bsn", "reden": "Er is al een cliënt met dit BSN."} in again["fouten"]
    assert problem(api.get("/api/v1/clienten/999"), 404)["code"] == "niet-gevonden"
    assert "bsn" not in str([e.detail for e in db.scalars(select(AuditEvent))])


def test_bsn_that_fails_the_11_proef(api, db):
    body = problem(api.post("/api/v1/clienten", {**NEW_CLIENT, "bsn": "123456789"}), 422)
    assert {
        "veld": "bsn",
        "reden": "Dit BSN klopt niet (de 11-proef faalt). Controleer het nummer.",
    } in body["fouten"]
    body = problem(api.post("/api/v1/clienten/zoeken", {"bsn": "123456789"}), 422)
    assert body["fouten"][0]["veld"] == "bsn"
    body = problem(api.patch("/api/v1/clienten/1", {"geboortedatum": "2999-01-01"}), 404)
    assert count(db, Client) == 0


def test_client_update_checks_like_the_screen(api, db):
    cid = api.post("/api/v1/clienten", NEW_CLIENT).get_json()["id"]
    body = problem(api.patch(f"/api/v1/clienten/{cid}", {"geboortedatum": "2999-01-01"}), 422)
    assert body["fouten"] == [
        {"veld": "geboortedatum", "reden": "De geboortedatum ligt in de toekomst."}
    ]
    assert api.get(f"/api/v1/clienten/{cid}").get_json()["geboortedatum"] == "1950-04-01"


def test_legitimations(api, care, db):
    cid = care.client_row.id
    address = {"straat": "Dorpsstraat", "huisnummer": "1", "postcode": "1234AB", "plaats": "Ede"}
    assert api.patch(f"/api/v1/clienten/{cid}", address).status_code == 200
    listed = api.get(f"/api/v1/clienten/{cid}/legitimaties").get_json()["legitimaties"]
    assert [(lg["financing"], lg["producten"]) for lg in listed] == [("wlz", ["PV01"])]
    body = {
        "financing": "particulier",
        "financier_id": care.org.prive.id,
        "begindatum": "2024-01-01",
        "volume": 2,
        "eenheid": "uur",
        "frequentie": "week",
        "tarief_cents": 6000,
        "priority": 2,
        "producten": ["PV01"],
    }
    resp = api.post(f"/api/v1/clienten/{cid}/legitimaties", body)
    assert resp.status_code == 201, resp.get_json()
    lid = resp.get_json()["id"]
    again = problem(api.post(f"/api/v1/clienten/{cid}/legitimaties", body), 422)
    assert again["fouten"] == [
        {"veld": "_form", "reden": "Deze legitimatie bestaat al bij deze cliënt."}
    ]
    unknown = problem(
        api.post(f"/api/v1/clienten/{cid}/legitimaties", {**body, "producten": ["XX"]}), 422
    )
    assert unknown["fouten"] == [{"veld": "producten", "reden": "Onbekend product: XX."}]
    resp = api.patch(f"/api/v1/legitimaties/{lid}", {"volume": 3})
    assert resp.status_code == 200 and resp.get_json()["volume"] == 3
    bad = problem(api.patch(f"/api/v1/legitimaties/{lid}", {"einddatum": "2023-01-01"}), 422)
    assert bad["fouten"] == [
        {"veld": "einddatum", "reden": "De einddatum ligt vóór de begindatum."}
    ]
    assert api.get(f"/api/v1/legitimaties/{lid}").get_json()["volume"] == 3
    assert count(db, Legitimation) == 2


# -- registrations in --------------------------------------------------------------------------


def test_single_registration_is_idempotent_by_extern_id(api, care, db):
    first = api.post("/api/v1/registraties", reg("ecd-1"))
    assert first.status_code == 201 and first.get_json()["status"] == "opgeslagen"
    again = api.post("/api/v1/registraties", reg("ecd-1"))
    assert again.status_code == 200 and again.get_json()["status"] == "al_ontvangen"
    assert again.get_json()["registratie_id"] == first.get_json()["registratie_id"]
    other = problem(api.post("/api/v1/registraties", reg("ecd-1", minutes=90)), 422)
    assert (
        other["fouten"][0]["veld"] == "extern_id"
        and "andere gegevens" in other["fouten"][0]["reden"]
    )
    assert count(db, Registration) == 1
    stored = db.scalar(select(Registration))
    assert (stored.bron, stored.duur_minuten, stored.employee_id) == ("api", 60, care.employee.id)


def test_registration_refusals_name_field_and_reason(api, care, db):
    future = date.today() + timedelta(days=3)
    cases = [
        (reg("f1", day=future), "datum", "Je kunt geen zorg registreren op een datum na vandaag."),
        (reg("f2", minutes=0), "duur_minuten", "De duur moet meer dan 0 minuten zijn."),
        (reg("f3", start="25:00"), "starttijd", "Vul een begintijd in als uu:mm of alleen cijfers, bijvoorbeeld 09:30 of 0930."),
        (reg("f4", client="nobody"), "client", "Cliënt niet gevonden (gebruik cliëntnummer of BSN)."),
        (reg("f5", product="XX"), "product", "Product 'XX' bestaat niet."),
        (reg("f6", medewerker="wie@test.nl"), "medewerker", "Medewerker 'wie@test.nl' is onbekend of niet actief."),
    ]  # fmt: skip
    for body, veld, reden in cases:
        refused = problem(api.post("/api/v1/registraties", body), 422)
        assert refused["fouten"] == [{"veld": veld, "reden": reden}], body
    assert count(db, Registration) == 0 and count(db, ApiRegistratie) == 0


def test_batch_all_or_nothing_and_per_registration(api, care, db):
    items = [
        reg("b1"),
        reg("b2", start="10:00"),
        reg("b3", start="10:30"),
        reg("b4", start="12:00"),
    ]
    refused = problem(api.post("/api/v1/registraties/batch", {"registraties": items}), 422)
    assert refused["code"] == "registraties-geweigerd"
    by_id = {r["extern_id"]: r for r in refused["resultaten"]}
    assert by_id["b3"]["status"] == "geweigerd"
    assert (
        by_id["b3"]["fouten"][0]["veld"] == "starttijd"
        and "overlapt" in by_id["b3"]["fouten"][0]["reden"]
    )
    assert {by_id[k]["status"] for k in ("b1", "b2", "b4")} == {"niet_opgeslagen"}
    assert {
        "veld": "registraties.2.starttijd",
        "reden": by_id["b3"]["fouten"][0]["reden"],
    } in refused["fouten"]
    assert count(db, Registration) == 0 and count(db, ApiRegistratie) == 0

    resp = api.post(
        "/api/v1/registraties/batch", {"modus": "per_registratie", "registraties": items}
    )
    body = resp.get_json()
    assert resp.status_code == 200
    assert (body["opgeslagen"], body["geweigerd"]) == (3, 1)
    assert count(db, Registration) == 3
    resp = api.post(
        "/api/v1/registraties/batch", {"modus": "per_registratie", "registraties": items}
    )
    body = resp.get_json()
    assert (body["opgeslagen"], body["al_ontvangen"], body["geweigerd"]) == (0, 3, 1)
    assert count(db, Registration) == 3


def test_same_extern_id_twice_in_one_batch(api, care, db):
    body = {"modus": "per_registratie", "registraties": [reg("d1"), reg("d1", start="11:00")]}
    results = api.post("/api/v1/registraties/batch", body).get_json()["resultaten"]
    assert [r["status"] for r in results] == ["opgeslagen", "geweigerd"]
    assert results[1]["fouten"][0]["veld"] == "extern_id"


def test_warning_without_legitimation_is_stored_and_returned(api, care, db):
    resp = api.post("/api/v1/registraties", reg("w1", product="BG01"))
    assert resp.status_code == 201
    warning = resp.get_json()["waarschuwingen"][0]
    assert warning["veld"] == "client" and "geen geldige legitimatie" in warning["reden"]


def test_the_same_batch_sent_in_parallel_stores_nothing_twice(app, api, care, db):
    """Eight requests with the same 200 registrations at the same moment: 200 stored once.
    The unique constraint decides (on PostgreSQL the later requests wait for the first)."""
    items = [reg(f"p{i}", day=MONDAY - timedelta(days=i // 10), start=f"{8 + i % 10:02d}:00",
                 minutes=30) for i in range(200)]  # fmt: skip
    outcomes: list = []
    barrier = threading.Barrier(8)

    def send():
        local = app.test_client()
        barrier.wait()
        resp = local.post(
            "/api/v1/registraties/batch",
            json={"modus": "per_registratie", "registraties": items},
            headers=api.headers(),
        )
        outcomes.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [code for code, _ in outcomes] == [200] * 8, outcomes
    assert sum(body["opgeslagen"] for _, body in outcomes) == 200
    assert all(body["geweigerd"] == 0 for _, body in outcomes)
    assert count(db, Registration) == 200 and count(db, ApiRegistratie) == 200


# -- statuses out ------------------------------------------------------------------------------


def test_status_of_an_approved_declared_and_rejected_registration(api, care, db):
    rid = api.post("/api/v1/registraties", reg("s1")).get_json()["registratie_id"]
    run = ApprovalRun(periode_start=MONDAY, periode_eind=MONDAY + timedelta(days=6))
    db.add(run)
    db.flush()
    stored = db.get(Registration, rid)
    stored.status, stored.approval_run_id = REG_APPROVED, run.id
    decl = Declaration(
        financing="wmo_jw", financier_id=care.org.gemeente.id, periode_begin=MONDAY,
        periode_eind=MONDAY, nummer="2026110001", status="beantwoord", retourcodes=[],
    )  # fmt: skip
    db.add(decl)
    db.flush()
    line = DeclarationLine(
        declaration_id=decl.id, financing="wmo_jw", financier_id=care.org.gemeente.id,
        client_id=care.client_row.id, begindatum=MONDAY, einddatum=MONDAY, volume=60,
        eenheid="minuut", bedrag_cents=6000, referentie="2026110001R000001", status="afgewezen",
        retourcodes=["0611"], registration_ids=[rid], productcode="07A01",
    )  # fmt: skip
    db.add(line)
    db.flush()
    db.add(  # the part of the registration this line declared (released: it was rejected)
        ExportPart(
            registration_id=rid, client_id=care.client_row.id, financing="wmo_jw",
            legitimation_id=care.client_row.legitimations[0].id, datum=MONDAY,
            week_start=MONDAY, minutes=60, aantal=0, kind="declaratie",
            declaration_line_id=line.id, active=False,
        )
    )  # fmt: skip
    db.commit()
    status = api.get(f"/api/v1/registraties/{rid}").get_json()
    assert (status["status"], status["extern_id"]) == ("gefiatteerd", "s1")
    assert status["financiering"] == [
        {"financiering": "wlz", "legitimatie_id": care.client_row.legitimations[0].id,
         "minuten": 60, "aantal": 0}
    ]  # fmt: skip
    [line_status] = status["declaratieregels"]
    assert line_status["status"] == "afgewezen"
    assert line_status["retourcodes"] == [
        {
            "code": "0611",
            "betekenis": "Het ingediende tarief komt niet overeen met het contractuele tarief",
        }
    ]
    assert api.get(f"/api/v1/declaratieregels/{line.id}").get_json() == line_status
    by_ext = api.post("/api/v1/registraties/status", {"extern_ids": ["s1", "onbekend"]}).get_json()
    assert [r["id"] for r in by_ext["registraties"]] == [rid] and by_ext["onbekend"] == ["onbekend"]
    assert problem(api.get("/api/v1/registraties/99999"), 404)["code"] == "niet-gevonden"


def test_changes_feed_in_commit_order_with_cursor(api, care, db):
    start = None  # the end of what is in the feed now
    while True:
        feed = api.get("/api/v1/wijzigingen", query_string={"na": start or "0-0-0"}).get_json()
        start = feed["volgende"]
        if not feed["meer"]:
            break
    api.post("/api/v1/registraties/batch", {"registraties": [reg("c1"), reg("c2", start="11:00")]})
    feed = api.get(f"/api/v1/wijzigingen?na={start}").get_json()
    assert [(w["soort"], w["extern_id"], w["status"]) for w in feed["wijzigingen"]] == [
        ("registratie", "c1", "concept"),
        ("registratie", "c2", "concept"),
    ]
    cursor = feed["volgende"]
    assert api.get(f"/api/v1/wijzigingen?na={cursor}").get_json()["wijzigingen"] == []
    first = db.scalar(select(Registration).order_by(Registration.id))
    first.status = REG_APPROVED
    db.commit()
    db.delete(db.scalar(select(Registration).order_by(Registration.id.desc())))
    db.commit()
    later = api.get(f"/api/v1/wijzigingen?na={cursor}").get_json()["wijzigingen"]
    assert [(w["id"], w["status"]) for w in later] == [
        (first.id, "gefiatteerd"),
        (first.id + 1, None),
    ]
    paged = api.get(f"/api/v1/wijzigingen?na={start}&limiet=1").get_json()
    assert len(paged["wijzigingen"]) == 1 and paged["meer"] is True
    assert problem(api.get("/api/v1/wijzigingen?na=abc"), 422)["fouten"][0]["veld"] == "na"
    assert problem(api.get("/api/v1/wijzigingen?limiet=0"), 422)["fouten"][0]["veld"] == "limiet"


# -- the document ------------------------------------------------------------------------------


def test_openapi_document_and_readable_page(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and "/api/v1/registraties/batch" in doc["paths"]
    op = doc["paths"]["/api/v1/registraties/batch"]["post"]
    assert op["x-scope"] == SCOPE_REGISTRATIONS_WRITE
    assert "application/problem+json" in op["responses"]["422"]["content"]
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Registraties aanleveren" in html
    assert "<script" not in html and "http://" not in html.split("</head>")[0]
