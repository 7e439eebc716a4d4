"""Who may see what: walks the URL map, so every new screen is covered without editing this file.

* every endpoint (except ``static``) declares its permission; only the log-in screens are public;
* an anonymous GET to any page goes to the log-in page;
* per role, a page answers 200 when ROLE_PERMISSIONS allows it and 403 otherwise;
* every POST route refuses a request without CSRF token (also htmx requests) with a Dutch message.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest
from flask import Flask
from werkzeug.routing import Rule

from portal.app import create_app
from portal.auth import AUTHENTICATED, PUBLIC, ROLE_PERMISSIONS
from portal.domain import Role
from portal.models import (
    AuditEvent,
    BackgroundJob,
    BankPayment,
    BankStatement,
    Client,
    Contract,
    ContractLine,
    Declaration,
    Financier,
    Invoice,
    InvoiceRun,
    Legitimation,
    Message,
    Organisation,
    OrganisationAgb,
    Product,
    PurchaseInvoice,
    Registration,
    Uursoort,
    UursoortFinancing,
)
from portal.services.users import create_user
from tests.conftest import PASSWORD, CsrfClient, login

PUBLIC_ENDPOINTS = {"auth.login", "auth.login_2fa", "auth.invitation"}
# Pages a permitted user is sent on from (not an error): endpoint -> where they go.
REDIRECTING_PAGES: dict[str, str] = {
    "invoices.pdf": "/facturen/",  # the sample invoice has no PDF yet: back to the invoice
}
# Endpoints whose URL arguments this test cannot fill with real sample data, with the reason.
# These, and endpoints with an argument sample_data() does not know, are visited with made-up ids
# (a permitted role must get 200 or 404, never 403 or 500); they are still fully checked for
# anonymous access, the 403 of forbidden roles and CSRF.
UNFILLABLE: dict[str, str] = {}

CSRF_TEXT = "beveiligingscode ontbreekt"

# A 1x1 PNG, so the organisation has a logo to show.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e221bc330000000049454e44ae426082"
)


@pytest.fixture
def db(app):
    """A session with no app context held open, so every request gets its own (as in production)."""
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


def methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def rules(app: Flask) -> list[Rule]:
    """The screens. The JSON API (``/api/v1/``) is not a screen: no cookie session, no CSRF, a
    bearer token with scopes instead; ``test_api_routes_are_token_only`` below and
    tests/portal/api cover every API endpoint, scope and refusal."""
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and not r.endpoint.startswith("api_v1.")
    ]


def test_api_routes_are_token_only(app, client):
    api = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api_v1.")]
    assert api, "the API blueprint is registered"
    for rule in api:
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in {"api_v1.openapi", "api_v1.docs"}:  # the description, no data
            assert client.get(rule.rule).status_code == 200
            continue
        assert getattr(view, "api_scope", None), rule.endpoint
        for method in methods(rule):
            resp = client.open(dummy_url(app, rule), method=method, csrf=False)
            assert resp.status_code == 401, (rule.endpoint, method, resp.status_code)


def permissions_of(app: Flask, endpoint: str) -> tuple[str, ...] | None:
    return getattr(app.view_functions[endpoint], "required_permissions", None)


def allowed(role: Role, perms: tuple[str, ...]) -> bool:
    return AUTHENTICATED in perms or any(p in ROLE_PERMISSIONS[role] for p in perms)


def dummy_url(app: Flask, rule: Rule) -> str:
    """Any URL matching ``rule``: the permission and CSRF checks run before the view body."""
    values = {
        arg: 1 if "int" in type(rule._converters[arg]).__name__.lower() else "x"
        for arg in rule.arguments
    }
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def sample_data(session, me: int | None = None) -> dict[str, object]:
    """One of everything a page can be about; returns URL argument name -> value.

    ``me``: the logged-in user's id, for what belongs to its author (a registration).
    """
    org = Organisation(naam="Zorggroep Test", logo_png=PNG)
    org.agb_codes.append(OrganisationAgb(agb_code="12345678", locatie="Hoofdlocatie", hoofd=True))
    session.add(org)
    fin = Financier(financing="wmo_jw", soort="gemeente", code="0363", naam="Gemeente Amsterdam")
    insurer = Financier(
        financing="zvw_msvt", soort="zorgverzekeraar", code="3311", naam="Zorgverzekeraar Test"
    )
    session.add(insurer)
    us = Uursoort(code="BG", naam="Begeleiding")
    us.financings.append(UursoortFinancing(financing="wmo_jw", position=1))
    prod = Product(code="BEG-IND", naam="Begeleiding individueel", eenheid="uur", uursoort=us)
    contract = Contract(financier=fin, naam="Wmo 2026", begindatum=date(2026, 1, 1))
    line = ContractLine(
        product=prod,
        productcategorie="07",
        productcode="07A05",
        eenheid="uur",
        tarief_cents=6500,
        begindatum=date(2026, 1, 1),
    )
    contract.lines.append(line)
    client = Client(
        bsn="111222333",
        achternaam="Jansen",
        voorletters="J.",
        geboortedatum=date(1950, 1, 1),
        postcode="1234AB",
        huisnummer="1",
    )
    leg = Legitimation(
        client=client,
        financing="wmo_jw",
        financier=fin,
        begindatum=date(2026, 1, 1),
        productcategorie="07",
        productcode="07A05",
        toewijzingnummer="1234",
        volume=4,
        eenheid="uur",
        frequentie="week",
        sleutels={},
    )
    leg.products.append(prod)
    job = BackgroundJob(
        id="job-sample", kind="demo", queue="default", label="Voorbeeldtaak", created_by=me
    )
    session.add_all([fin, us, prod, contract, client, leg, job])
    other = create_user(
        session, email="collega@test.nl", naam="Collega", role="backoffice", password=PASSWORD
    )
    session.flush()
    reg = Registration(
        client_id=client.id,
        product_id=prod.id,
        employee_id=me or other.id,
        datum=date(2026, 1, 5),
        duur_minuten=60,
    )
    payload = b"<bericht>voorbeeld</bericht>"
    message = Message(
        direction="in",
        financing="wmo_jw",
        standard="iWmo",
        code="WMO301",
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        filename="301.xml",
        traceer_id=str(uuid.uuid4()),
        conversatie_id=str(uuid.uuid4()),
        status="onbekend",
        client_ids=[client.id],
    )
    declaration = Declaration(
        financing="wmo_jw",
        financier_id=fin.id,
        periode_begin=date(2026, 1, 1),
        periode_eind=date(2026, 1, 31),
        nummer="2026-0001",
    )
    run = InvoiceRun(
        financing="pgb", periode_start=date(2026, 1, 1), periode_eind=date(2026, 1, 31)
    )
    invoice = Invoice(
        organisation_id=org.id,
        financing="pgb",
        groep_sleutel="toegang-test",
        factuurdatum=date(2026, 2, 1),
        vervaldatum=date(2026, 3, 3),
        periode_start=date(2026, 1, 1),
        periode_eind=date(2026, 1, 31),
        debiteur_naam="J. Jansen",
        nummer="2026-000001",
    )
    purchase = PurchaseInvoice(
        leverancier_naam="Thuiszorg West",
        leverancier_agb="87654321",
        factuurnummer="F-1",
        factuurdatum=date(2026, 2, 1),
        gefactureerd_cents=10000,
        bestand_sha256="0" * 64,
    )
    statement = BankStatement(bestand_sha256="1" * 64, bestandsnaam="afschrift.xml")
    payment = BankPayment(
        statement=statement, sleutel="camt:test", boekdatum=date(2026, 2, 3), bedrag_cents=100
    )
    session.add_all([reg, message, declaration, run, invoice, purchase, statement, payment])
    session.commit()
    return {
        "statement_id": statement.id,
        "payment_id": payment.id,
        "declaration_id": declaration.id,
        "run_id": run.id,
        "invoice_id": invoice.id,
        "purchase_id": purchase.id,
        "reg_id": reg.id,
        "message_id": message.id,
        "client_id": client.id,
        "leg_id": leg.id,
        "legitimation_id": leg.id,
        "financier_id": fin.id,
        "product_id": prod.id,
        "uursoort_id": us.id,
        "contract_id": contract.id,
        "line_id": line.id,
        "user_id": other.id,
        "agb_id": org.agb_codes[0].id,
        "job_id": job.id,
        "wet": "iwmo",
        "financing": "wmo_jw",
        "tab": "declaraties",
        "verzekeraar_id": insurer.id,
    }


def real_url(app: Flask, rule: Rule, samples: dict[str, object]) -> str | None:
    """The URL with real sample ids, or None when an argument has no sample (see dummy_url)."""
    if rule.endpoint in UNFILLABLE or set(rule.arguments) - set(samples):
        return None
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{a: samples[a] for a in rule.arguments})


# -- every view declares its permission -----------------------------------------------------------


def test_every_endpoint_declares_a_permission(app):
    undeclared = [r.endpoint for r in rules(app) if permissions_of(app, r.endpoint) is None]
    assert undeclared == []
    public = {r.endpoint for r in rules(app) if PUBLIC in permissions_of(app, r.endpoint)}
    assert public == PUBLIC_ENDPOINTS
    known = set().union(*ROLE_PERMISSIONS.values()) | {AUTHENTICATED, PUBLIC}
    for r in rules(app):
        unknown = set(permissions_of(app, r.endpoint)) - known
        assert not unknown, (
            f"{r.endpoint} needs {unknown}, which no role has: add it to ROLE_PERMISSIONS"
        )


def test_a_view_without_requires_is_refused(app_config, db):
    fresh = create_app(app_config)

    @fresh.route("/vergeten")
    def forgotten():
        return "geheim"

    fresh.test_client_class = CsrfClient
    c = fresh.test_client()
    create_user(db, email="b@test.nl", naam="B", role="beheerder", password=PASSWORD)
    db.commit()
    assert c.get("/vergeten").status_code == 403  # anonymous
    assert login(c, "b@test.nl").status_code == 302
    resp = c.get("/vergeten")
    assert resp.status_code == 403
    assert "geheim" not in resp.get_data(as_text=True)


# -- anonymous --------------------------------------------------------------------------------------


def test_anonymous_get_goes_to_login(app, client):
    checked = []
    for rule in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in methods(rule):
            continue
        url = dummy_url(app, rule)
        resp = client.get(url)
        assert resp.status_code == 302, f"{rule.endpoint} {url}: {resp.status_code}"
        assert resp.headers["Location"].startswith("/login"), rule.endpoint
        checked.append(rule.endpoint)
    assert "main.index" in checked and len(checked) >= 3


def test_anonymous_htmx_request_loads_the_login_page(app, client):
    """htmx would swap a redirected log-in form into the table; HX-Redirect loads the page."""
    for rule in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in methods(rule):
            continue
        resp = client.get(
            dummy_url(app, rule),
            headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/clienten/?q=jan"},
        )
        assert resp.status_code == 401, rule.endpoint
        assert resp.headers["HX-Redirect"] == "/login?next=/clienten/?q%3Djan", rule.endpoint
        assert "Inloggen" not in resp.get_data(as_text=True)
    # A boosted request is a normal page load: the ordinary redirect.
    resp = client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_anonymous_post_is_never_served(app, client):
    for rule in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "POST" not in methods(rule):
            continue
        resp = client.post(dummy_url(app, rule), data={})
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login"), (
            rule.endpoint
        )


# -- per role -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_sees_exactly_what_it_may(app, db, role):
    user = create_user(
        db, email=f"{role.value}@test.nl", naam="Ik", role=role.value, password=PASSWORD
    )
    db.commit()
    samples = sample_data(db, me=user.id)
    c = app.test_client()
    assert login(c, user.email).status_code == 302
    seen, refused, skipped = [], [], []
    for rule in rules(app):
        perms = permissions_of(app, rule.endpoint)
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in methods(rule):
            continue
        if not allowed(role, perms):
            resp = c.get(dummy_url(app, rule))
            assert resp.status_code == 403, f"{role}: {rule.endpoint} should be refused"
            assert "U heeft geen toegang tot deze pagina." in resp.get_data(as_text=True)
            refused.append(rule.endpoint)
            continue
        url = real_url(app, rule, samples)
        if url is None:
            # No sample for its arguments (a screen newer than this test): it must still let
            # this role through. A made-up id gives "not found", never "no access" or a crash.
            resp = c.get(dummy_url(app, rule))
            assert resp.status_code in (200, 404), f"{role}: {rule.endpoint} -> {resp.status_code}"
            skipped.append(rule.endpoint)
            continue
        resp = c.get(url)
        if rule.endpoint in REDIRECTING_PAGES:
            assert resp.status_code in (302, 303), rule.endpoint
            assert REDIRECTING_PAGES[rule.endpoint] in resp.headers["Location"]
        else:
            assert resp.status_code == 200, f"{role}: {rule.endpoint} {url} -> {resp.status_code}"
        seen.append(rule.endpoint)
        if "client_id" in rule.arguments:
            viewed = db.query(AuditEvent).filter_by(user_id=user.id, client_id=samples["client_id"])
            assert viewed.count() >= 1, f"{rule.endpoint}: viewing a client is not audited"
    assert "main.index" in seen
    if role is Role.ZORGPROFESSIONAL:
        assert "clients.index" in refused or "clients.index" not in app.view_functions
        assert "admin.users" in refused or "admin.users" not in app.view_functions
    if role is Role.ALLEEN_LEZEN:
        edit_pages = [e for e in refused if e.endswith((".new", "_new", ".edit_form"))]
        assert edit_pages or not any(e.endswith("new") for e in app.view_functions)
    if skipped:
        import warnings

        warnings.warn(
            f"{role}: checked with made-up ids only (add samples): {sorted(skipped)}", stacklevel=1
        )


def test_menu_shows_only_permitted_areas(app, db):
    from portal.views import NAV

    for role in Role:
        create_user(
            db, email=f"m-{role.value}@test.nl", naam="M", role=role.value, password=PASSWORD
        )
    db.commit()
    for role in Role:
        c = app.test_client()
        login(c, f"m-{role.value}@test.nl")
        html = c.get("/").get_data(as_text=True)
        nav = html.split('aria-label="Hoofdmenu"')[1].split("</nav>")[0]
        for endpoint, label, perm in NAV:
            if endpoint not in app.view_functions:
                continue
            shown = f">{label}<" in nav
            assert shown == allowed(role, (perm,)), f"{role}: menu item {label}"


# -- CSRF -------------------------------------------------------------------------------------------


def post_routes(app: Flask) -> list[Rule]:
    return [r for r in rules(app) if "POST" in methods(r)]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_post_without_csrf_token_is_refused(app, client, db, htmx):
    create_user(db, email="csrf@test.nl", naam="C", role="beheerder", password=PASSWORD)
    db.commit()
    assert login(client, "csrf@test.nl").status_code == 302
    headers = {"HX-Request": "true"} if htmx else {}
    routes = post_routes(app)
    assert {"auth.login", "auth.logout"} <= {r.endpoint for r in routes}
    for rule in routes:
        resp = client.post(dummy_url(app, rule), data={"naam": "x"}, headers=headers, csrf=False)
        assert resp.status_code == 400, f"{rule.endpoint}: {resp.status_code}"
        text = resp.get_data(as_text=True)
        assert CSRF_TEXT in text and "er is niets opgeslagen" in text, rule.endpoint
    # Still logged in and nothing changed: the refusals did not log out or store anything.
    assert client.get("/").status_code == 200


def test_a_wrong_token_is_refused_and_a_right_one_passes(app, client, db):
    create_user(db, email="t@test.nl", naam="T", role="backoffice", password=PASSWORD)
    db.commit()
    # The log-in form itself needs the token.
    resp = client.post("/login", data={"email": "t@test.nl", "password": PASSWORD}, csrf=False)
    assert resp.status_code == 400
    resp = client.post(
        "/login",
        data={"email": "t@test.nl", "password": PASSWORD, "csrf_token": "vals"},
        csrf=False,
    )
    assert resp.status_code == 400
    assert login(client, "t@test.nl").status_code == 302
    # htmx sends the token from <body hx-headers>; the page carries it for every request.
    html = client.get("/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    token = html.split('"X-CSRFToken": "')[1].split('"')[0]
    resp = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token}, csrf=False)
    assert resp.status_code == 302
