"""Screens of the Wmo/Jeugdwet plugin, mounted at /f/wmo_jw/: toewijzingen per client with their
start/stop state, the guided chain actions (only what is valid now) and rejected prestaties with
the meaning of each retourcode and what to do.

This module is loaded only by the ``register_blueprints`` hook; the hooks themselves never touch
the request.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from plugins.wmo_jw import chain, rules, worklist
from plugins.wmo_jw.declaration import rejected_explanation
from portal.auth import requires
from portal.db import db_session, lock_row
from portal.models import Client, Legitimation
from portal.validators import parse_date
from portal.web import audit_client_view, render

bp = Blueprint("wmo_jw", __name__, template_folder="templates")


def _toewijzingen(session, client_id: int | None = None):
    stmt = select(Legitimation).where(
        Legitimation.financing == chain.CODE, Legitimation.toewijzingnummer.is_not(None)
    )
    if client_id is not None:
        stmt = stmt.where(Legitimation.client_id == client_id)
    return list(session.scalars(stmt.order_by(Legitimation.begindatum.desc())))


@bp.route("/")
@requires("legitimations.view")
def index():
    """Toewijzingen that need something: no start yet, a rejected start/stop, or care still
    started on a toewijzing that has ended. Selected in SQL on ``keten_stand`` (thousands of
    toewijzingen are normal); only the shown rows are read in full."""
    session = db_session()
    today = date.today()
    needs = worklist.needs_action(today)
    count = session.scalar(select(func.count(Legitimation.id)).where(needs))
    rows = session.scalars(
        select(Legitimation)
        .where(needs)
        .options(selectinload(Legitimation.client), selectinload(Legitimation.financier))
        .order_by(Legitimation.begindatum.desc(), Legitimation.id.desc())
        .limit(200)
    )
    todo = [(leg, state) for leg in rows if (state := _state(leg))["label"] in NEEDS_ACTION]
    return render("wmo_jw/index.html", todo=todo, count=count)


NEEDS_ACTION = ("Nog niet gestart", "Start afgewezen", "Stop afgewezen", "Stop nog melden")


def _state(leg: Legitimation) -> dict:
    """The start/stop state as a label, a badge and a detail in Dutch (dates, reason, codes)."""
    items = chain.starts(leg)
    last = items[-1] if items else None
    if leg.status != "actief" and not last:
        return {"label": "Niet actief", "badge": "off", "item": None, "detail": ""}
    if last is None:
        return {"label": "Nog niet gestart", "badge": "warn", "item": None, "detail": ""}
    std = chain.standard_of(leg)
    begin = f"per {date.fromisoformat(last['begindatum']):%d-%m-%Y}"
    detail = ""
    if last.get("stop_status") in ("geaccepteerd", "verzonden", "afgewezen", "intrekken"):
        end = f"per {date.fromisoformat(last['einddatum']):%d-%m-%Y}"
        reden = f"({last['reden']} {std.meaning('LDT_RedenBeeindiging', last['reden'])})"
        label, badge, detail = {
            "geaccepteerd": ("Gestopt", "off", f"{end} {reden}"),
            "verzonden": ("Stop verzonden", "off", f"{end} {reden}"),
            "afgewezen": ("Stop afgewezen", "err", _codes(std, last.get("stop_codes"))),
            "intrekken": ("Stop verzonden", "off", f"intrekken van de stop {end}"),
        }[last["stop_status"]]
        if last["stop_status"] == "geaccepteerd" and last.get("stop_codes"):
            detail += f"; intrekken afgewezen: {_codes(std, last['stop_codes'])}"
    elif last["status"] == "geaccepteerd":  # codes here: a withdrawal the gemeente refused
        refused = _codes(std, last.get("codes"))
        label, badge = "Gestart", "ok"
        detail = f"{begin}; intrekken afgewezen: {refused}" if refused else begin
        if leg.status == "vervallen":  # the gemeente withdrew it, or assigned anew
            label, badge = "Stop nog melden", "warn"
            detail = f"{begin}; de gemeente heeft de toewijzing ingetrokken"
        elif leg.einddatum and leg.einddatum < date.today():
            label, badge = "Stop nog melden", "warn"
            detail = f"{begin}; de toewijzing eindigde op {leg.einddatum:%d-%m-%Y}"
    elif last["status"] == "verzonden":
        label, badge, detail = "Start verzonden", "off", begin
    elif last["status"] == "intrekken":
        label, badge, detail = "Start verzonden", "off", f"intrekken van de start {begin}"
    elif last["status"] == "ingetrokken":
        label, badge, detail = "Nog niet gestart", "warn", f"start {begin} ingetrokken"
    else:
        label, badge, detail = "Start afgewezen", "err", _codes(std, last.get("codes"))
    return {"label": label, "badge": badge, "item": last, "detail": detail}


def _codes(std, codes: list[str] | None) -> str:
    return "; ".join(f"{c} {std.meaning('LDT_RetourCode', c)}" for c in codes or [])


@bp.route("/clienten/<int:client_id>")
@requires("legitimations.view")
def client(client_id: int):
    session = db_session()
    person = session.get(Client, client_id)
    if person is None:
        abort(404)
    audit_client_view(person.id)
    rows = []
    for leg in _toewijzingen(session, client_id):
        std = chain.standard_of(leg)
        rows.append(
            {
                "leg": leg,
                "std": std,
                "state": _state(leg),
                "actions": chain.actions(leg),
                "wacht_tot": chain.start_waits_until(leg),
                "redenen": sorted(std.codes("LDT_RedenBeeindiging").items()),
                "history": [
                    {
                        **s,
                        "begin": date.fromisoformat(s["begindatum"]),
                        "eind": date.fromisoformat(s["einddatum"]) if s.get("einddatum") else None,
                        "meanings": [
                            (c, std.meaning("LDT_RetourCode", c))
                            for c in (s.get("codes") or []) + (s.get("stop_codes") or [])
                        ],
                    }
                    for s in chain.starts(leg)
                ],
            }
        )
    details = next(
        (
            (r["leg"].sleutels or {}).get("client")
            for r in sorted(rows, key=lambda r: (r["leg"].sleutels or {}).get("toegewezen_op", ""))[
                ::-1
            ]
            if (r["leg"].sleutels or {}).get("client")
        ),
        None,
    )
    return render(
        "wmo_jw/client.html",
        client=person,
        details=details,
        rows=rows,
        today=date.today(),
        **_request_context(session, person),
    )


@bp.route("/toewijzingen/<int:leg_id>/<action>", methods=["POST"])
@requires("legitimations.edit")
def act(leg_id: int, action: str):
    """Start, stop or withdraw a start: only when that action is offered for this toewijzing."""
    from portal.services.messages import create_outgoing

    session = db_session()
    # a double click waits for the first request and then sees what it sent
    lock_row(session, Legitimation, leg_id)
    leg = session.get(Legitimation, leg_id, populate_existing=True)
    if leg is None or leg.financing != chain.CODE:
        abort(404)
    back = redirect(url_for("wmo_jw.client", client_id=leg.client_id), 303)
    if action not in {a["action"] for a in chain.actions(leg)}:
        session.rollback()
        waiting = {
            "start": "de start is",
            "intrekken": "het intrekken van de start is",
            "stop": "de stop is",
            "stop_intrekken": "het intrekken van de stop is",
        }.get(chain.pending(leg) or "")
        flash(
            f"Dit kan nu niet: {waiting} al verstuurd. Wacht op het antwoord van de gemeente."
            if waiting
            else "Deze actie kan nu niet voor deze toewijzing (al verstuurd of niet van "
            "toepassing).",
            "error",
        )
        return back
    try:
        if action == "start":
            try:
                begin = parse_date(request.form.get("begindatum")) or leg.begindatum
            except ValueError:
                session.rollback()
                flash("Vul een geldige begindatum in (dd-mm-jjjj).", "error")
                return back
            draft = chain.start_draft(session, leg, begin)
            done = f"Start zorg per {begin:%d-%m-%Y} is verstuurd naar de gemeente."
        elif action == "stop_intrekken":
            draft = chain.stop_withdraw_draft(session, leg)
            done = "Het intrekken van de stop is verstuurd naar de gemeente."
        elif action == "start_intrekken":
            begin = date.fromisoformat(chain.active_start(leg)["begindatum"])
            draft = chain.start_draft(session, leg, begin, delete=True)
            done = "Het intrekken van de start is verstuurd naar de gemeente."
        else:
            try:
                end = parse_date(request.form.get("einddatum"))
            except ValueError:
                end = None
            reden = (request.form.get("reden") or "").strip()
            if end is None:
                session.rollback()
                flash("Vul een geldige einddatum in (dd-mm-jjjj).", "error")
                return back
            draft = chain.stop_draft(session, leg, end, reden)
            done = f"Stop zorg per {end:%d-%m-%Y} is verstuurd naar de gemeente."
    except chain.RuleError as exc:
        session.rollback()
        for issue in exc.issues:
            flash(f"Niet verstuurd: {issue.message} ({issue.code}, veld {issue.field}).", "error")
        return back
    create_outgoing(session, draft, financing=chain.CODE, created_by=current_user.id)
    session.commit()
    flash(done, "success")
    return back


# --- requests: verzoek om toewijzing (315) and verzoek om wijziging (317) -----------------------


def _request_context(session, person) -> dict:
    """The client page's requests, and which new request may be offered now (TR374)."""
    from plugins.wmo_jw import verzoeken

    today = date.today()
    free = [
        fin
        for fin in verzoeken.contracted_gemeenten(session, today)
        if verzoeken.open_request(session, person.id, fin.id) is None
    ]
    changes = [
        {**group, "open": verzoeken.open_request(session, person.id, group["financier"].id)}
        for group in verzoeken.change_groups(session, person, today)
    ]
    return {
        "verzoeken": [verzoeken.display(v) for v in verzoeken.requests_of(session, person.id)],
        "can_request_315": bool(free),
        "changes": changes,
    }


def _client_or_404(session, client_id: int) -> Client:
    person = session.get(Client, client_id)
    if person is None:
        abort(404)
    return person


@bp.route("/clienten/<int:client_id>/verzoek-toewijzing", methods=["GET", "POST"])
@requires("legitimations.edit")
def request_315(client_id: int):
    """Verzoek om toewijzing: each choice narrows the next (htmx swaps the fields; without
    JavaScript the button "Keuzes bijwerken" posts the form back without sending)."""
    from plugins.wmo_jw import chain as ch
    from plugins.wmo_jw import verzoeken

    session = db_session()
    person = _client_or_404(session, client_id)
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    errors: dict = {}
    if request.method == "POST" and request.form.get("actie") == "versturen":
        try:
            verzoek = verzoeken.send_315(session, person, values, created_by=current_user.id)
        except verzoeken.FormErrors as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(
                f"Verzoek om toewijzing {verzoek.referentie} is verstuurd naar "
                f"{verzoek.financier.label}.",
                "success",
            )
            return redirect(url_for("wmo_jw.client", client_id=person.id), 303)
    elif request.method == "GET":
        audit_client_view(person.id)
    choices = verzoeken.choices_315(session, values)
    if len(choices["gemeenten"]) == 1 and not values.get("gemeente"):
        values["gemeente"] = choices["gemeenten"][0][0]
        choices = verzoeken.choices_315(session, values)
    eenheid_filled = False
    if values.get("productcode") and not values.get("eenheid") and choices["financier"]:
        for line in verzoeken.contract_lines(
            session, choices["financier"].id, values.get("categorie")
        ):
            if line.productcode == values["productcode"]:
                values["eenheid"] = ch.UNIT_EENHEID.get(line.eenheid, "")
                eenheid_filled = True
    status = 422 if errors else 200
    return (
        render(
            "wmo_jw/verzoek_315.html",
            # a change of a choice that makes a field required (CD067, CD075, CD076) swaps
            # only those fields; the other choices narrow the lists
            fragment="wmo_jw/_verzoek_315_voorwaarden.html"
            if values.get("actie") == "voorwaarden"
            else "wmo_jw/_verzoek_315_keuze.html",
            oob_only=values.get("actie") == "voorwaarden",
            client=person,
            values=values,
            errors=errors,
            # htmx swaps only the choices; the contract's unit goes into its own field
            eenheid_oob=eenheid_filled and bool(request.headers.get("HX-Request")),
            **choices,
        ),
        status,
    )


@bp.route(
    "/clienten/<int:client_id>/verzoek-wijziging/<int:financier_id>/<wet>",
    methods=["GET", "POST"],
)
@requires("legitimations.edit")
def request_317(client_id: int, financier_id: int, wet: str):
    """Verzoek om wijziging: every current toewijzing at this gemeente is listed (TR349)."""
    from plugins.wmo_jw import verzoeken
    from plugins.wmo_jw.standard import STANDARDS
    from portal.models import Financier

    session = db_session()
    person = _client_or_404(session, client_id)
    fin = session.get(Financier, financier_id)
    std = STANDARDS.get(wet)
    if fin is None or fin.financing != chain.CODE or std is None:
        abort(404)
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    errors: dict = {}
    if request.method == "POST":
        try:
            verzoek = verzoeken.send_317(
                session, person, fin, std, values, created_by=current_user.id
            )
        except verzoeken.FormErrors as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(
                f"Verzoek om wijziging {verzoek.referentie} is verstuurd naar {fin.label}.",
                "success",
            )
            return redirect(url_for("wmo_jw.client", client_id=person.id), 303)
    else:
        audit_client_view(person.id)
    legs = verzoeken.current_toewijzingen(session, person, fin, std, date.today())
    nieuw = [
        (
            f"{line.productcategorie}|{line.productcode}",
            f"{line.productcategorie} "
            f"{std.meaning('LDT_ProductCategorie', line.productcategorie)} — {line.productcode} "
            f"({line.product.naam})",
        )
        for line in verzoeken.contract_lines(session, fin.id)
        if line.productcategorie in std.codes("LDT_ProductCategorie")
    ]
    return (
        render(
            "wmo_jw/verzoek_317.html",
            client=person,
            financier=fin,
            std=std,
            legs=legs,
            nieuw=nieuw,
            values=values,
            errors=errors,
            open=verzoeken.open_request(session, person.id, fin.id),
            redenen=sorted(std.codes("LDT_RedenVerzoek").items()),
            eenheden=[(c, f"{c} {t}") for c, t in std.codes("LDT_Eenheid").items() if c != "83"],
            frequenties=[(c, f"{c} {t}") for c, t in std.codes("LDT_Frequentie").items()],
            today=date.today(),
            timedelta1=timedelta(days=1),
        ),
        422 if errors else 200,
    )


@bp.route("/afgewezen")
@requires("declarations.view")
def rejected():
    """Rejected prestaties still to fix, with the meaning of each code and what to do."""
    from portal.services.declarations import rejected_lines

    session = db_session()
    lines = rejected_lines(session, chain.CODE, limit=300)
    rows = [
        {
            "line": line,
            "explained": rejected_explanation(
                line, chain.standard_of(line.legitimation) if line.legitimation else chain.IWMO
            ),
        }
        for line in lines
    ]
    return render("wmo_jw/rejected.html", rows=rows)


# --- demo: the simulated gemeente sends a toewijzing (only against the VECOZO stand-in) -------


@bp.route("/demo/toewijzing", methods=["POST"])
@requires("legitimations.edit")
def demo_301():
    """Let the simulated gemeente send a 301 for a client, through the stand-in's mailbox."""
    import base64
    import random

    import requests
    from flask import current_app

    from plugins.wmo_jw import financier
    from plugins.wmo_jw import messages as m
    from plugins.wmo_jw.standard import IWMO
    from portal.app import hooks
    from portal.demo import generate_bsn
    from portal.models import Contract, ContractLine, Financier
    from portal.vecozo.client import base_url

    if current_app.config.get("VECOZO_ENVIRONMENT") != "standin":
        abort(404)
    session = db_session()
    agb = chain.own_agb(session)
    row = session.execute(
        select(ContractLine, Financier)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .join(Financier, Financier.id == Contract.financier_id)
        .where(Financier.financing == chain.CODE, ContractLine.productcode.is_not(None))
        .order_by(ContractLine.id)
        .limit(1)
    ).first()
    if agb is None or row is None:
        flash("Voor de demo is een AGB-code en een Wmo-contract met productcode nodig.", "error")
        return redirect(url_for("wmo_jw.index"), 303)
    line, fin = row
    settings = hooks().settings
    store = financier.store_for(settings)
    afwijkend = request.form.get("tarief_afwijkend") == "1"
    store.set_tarief(
        fin.code,
        line.productcategorie,
        line.productcode,
        line.tarief_cents + (100 if afwijkend else 0),
    )
    rng = random.Random()
    today = date.today()
    person = m.Persoon(
        bsn=generate_bsn(rng),
        geboortedatum=date(1940 + rng.randint(0, 50), rng.randint(1, 12), rng.randint(1, 28)),
        geslacht=rng.choice("12"),
        achternaam=rng.choice(["Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder"]),
        voorletters=rng.choice("ABCDEHJKMPW"),
        postcode="3511AB",
        huisnummer=str(rng.randint(1, 200)),
        straat="Oudegracht",
        plaats="Utrecht",
    )
    eenheid = chain.UNIT_EENHEID.get(line.eenheid, "04")
    t = m.Toewijzing(
        nummer=str(store.next_number(f"toewijzing-{fin.code}", start=4_000_000)),
        categorie=line.productcategorie,
        code=line.productcode,
        toewijzingsdatum=today,
        toewijzingstijd=datetime.now().strftime("%H:%M:%S"),
        ingangsdatum=today.replace(day=1)
        if today.month == 1
        else today.replace(month=today.month - 1, day=1),
        # a product code goes with an omvang (CD041): 6 units a week for a year (per week needs
        # an end date, CD076), or 1,000 euro a month for a product in euro's (CS338)
        volume=6 if eenheid != "83" else 100_000,
        eenheid=eenheid,
        frequentie="2" if eenheid != "83" else "4",
    )
    t.einddatum = rules.next_month(t.ingangsdatum, 12) - timedelta(days=1)
    draft = financier.issue_301(settings, IWMO, fin.code, agb, person, [t], today=today)
    try:
        resp = requests.post(
            f"{base_url(current_app.config)}/_standin/plaatsen",
            json={
                "payload_base64": base64.b64encode(draft.payload).decode(),
                "code": draft.code,
                "postbus": agb,
                "afzender_code": fin.code,
            },
            timeout=10,
        )
        resp.raise_for_status()
    except requests.RequestException as exc:
        flash(f"De VECOZO-stand-in is niet bereikbaar: {exc}", "error")
        return redirect(url_for("wmo_jw.index"), 303)
    flash(
        f"Gemeente {fin.label} heeft toewijzing {t.nummer} gestuurd. Haal de berichten op "
        "(Berichten → Nu ophalen) om hem te verwerken.",
        "success",
    )
    return redirect(url_for("wmo_jw.index"), 303)
