"""The lists behind the start page's "Vraagt actie", and the declarations list, made with
``portal.lists``: every column sorts, the filters people use, CSV and Excel export.

Thin: the conditions live in ``portal.services.worklists``; each view describes its columns.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, url_for
from sqlalchemy import Text, cast, select

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.lists import Column, Filter, ListSpec, respond
from portal.models import Client, Financier, Message, Product, Registration
from portal.models.declaration import (
    DECLARATION_STATUS_LABELS,
    Declaration,
    DeclarationLine,
)
from portal.models.message import STATUS_LABELS as MESSAGE_STATUS_LABELS
from portal.services import worklists as wl
from portal.services.clients import active_legitimation_exists
from portal.services.dashboard import hours_label
from portal.validators import month_label
from portal.web import safe_date

bp = Blueprint("worklists", __name__, url_prefix="/lijsten")


def client_columns(client_of=lambda row: row.Client) -> list[Column]:
    """What tells two clients with the same name apart: name, client number, birth date."""
    return [
        Column(
            "client",
            "Cliënt",
            lambda r: client_of(r).naam,
            sort=Client.achternaam,
            href=lambda r: url_for("clients.show", client_id=client_of(r).id),
        ),
        Column(
            "clientnummer", "Cliëntnummer", lambda r: client_of(r).clientnummer, Client.clientnummer
        ),
        Column(
            "geboortedatum",
            "Geboortedatum",
            lambda r: client_of(r).geboortedatum,
            Client.geboortedatum,
        ),
    ]


def _registration_spec(name: str, title: str, conditions) -> ListSpec:
    return ListSpec(
        name=name,
        title=title,
        base=lambda: (
            select(Registration, Client, Product)
            .join(Client, Client.id == Registration.client_id)
            .join(Product, Product.id == Registration.product_id)
            .where(*conditions)
        ),
        scalars=False,
        columns=[
            Column("datum", "Datum", lambda r: r.Registration.datum, Registration.datum),
            *client_columns(),
            Column(
                "product",
                "Product",
                lambda r: f"{r.Product.code} {r.Product.naam}",
                Product.code,
            ),
            Column(
                "duur",
                "Uren",
                lambda r: (
                    hours_label(r.Registration.duur_minuten)
                    if r.Registration.duur_minuten is not None
                    else f"{r.Registration.aantal} {r.Product.eenheid}"
                ),
                Registration.duur_minuten,
                num=True,
            ),
            Column("status", "Status", lambda r: r.Registration.status_label, Registration.status),
        ],
        default_sort="datum",
        default_desc=True,
        tiebreak=Registration.id,
        filters=[Filter("team", "Team", lambda s, v: s.where(Client.team == v), kind="text")],
    )


@bp.route("/niet-gedekt")
@requires("registrations.view")
def not_covered():
    spec = _registration_spec(
        "niet-gedekt", "Zorg buiten elke legitimatie", wl.not_covered(date.today())
    )
    return respond(
        spec,
        "worklists/list.html",
        title="Zorg buiten elke legitimatie (niet gedekt)",
        intro="Geregistreerde zorg die nog niet is gedeclareerd of gefactureerd en die geen "
        "actieve legitimatie van de cliënt dekt (op die datum, voor dat product). Voeg de "
        "legitimatie toe of corrigeer de registratie.",
    )


@bp.route("/niet-declarabel")
@requires("registrations.view")
def undeclarable():
    h = hooks()
    stuck = [
        c
        for c in h.financings
        if not h.can(c, "build_declaration") and not h.can(c, "build_invoice")
    ]
    declarable = [c for c in h.financings if c not in stuck]
    spec = _registration_spec(
        "niet-declarabel",
        "Niet declarabel",
        wl.undeclarable(stuck, declarable) if stuck else [Registration.id.is_(None)],
    )
    labels = ", ".join(h.financing_label(c) for c in stuck) or "geen"
    return respond(
        spec,
        "worklists/list.html",
        title="Gefiatteerde zorg die nog geen financiering kan declareren",
        intro=f"Gefiatteerde zorg die alleen legitimaties dekken van financieringen die de portal "
        f"nog niet kan declareren of factureren ({labels}). Ze blijft staan tot dat kan.",
    )


def _financier_choices(session, financings=None) -> list[tuple[str, str]]:
    stmt = select(Financier).order_by(Financier.naam)
    if financings is not None:
        stmt = stmt.where(Financier.financing.in_(financings))
    return [(str(f.id), f.label) for f in session.scalars(stmt)]


def _month_filter(column_start, column_end):
    def apply(stmt, value: str):
        try:
            first = datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            return stmt
        if safe_date(first) is None:  # 9999-12: the month after would be year 10000
            return stmt
        nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return stmt.where(column_start < nxt, column_end >= first)

    return apply


@bp.route("/afgewezen")
@requires("declarations.view")
def rejected():
    h = hooks()

    def codes(r) -> str:
        return ", ".join(
            f"{c} {h.code_label(r.DeclarationLine.financing, 'retourcode', c)}".strip()
            for c in r.DeclarationLine.retourcodes or []
        )

    spec = ListSpec(
        name="afgewezen",
        title="Afgewezen regels",
        base=lambda: (
            select(DeclarationLine, Client, Declaration)
            .join(Client, Client.id == DeclarationLine.client_id)
            .outerjoin(Declaration, Declaration.id == DeclarationLine.declaration_id)
            .where(*wl.open_rejected())
        ),
        scalars=False,
        columns=[
            Column(
                "declaratie",
                "Declaratie",
                lambda r: r.Declaration.nummer if r.Declaration else "",
                Declaration.nummer,
                href=lambda r: (
                    url_for("declarations.show", declaration_id=r.Declaration.id)
                    if r.Declaration
                    else None
                ),
            ),
            *client_columns(),
            Column(
                "product",
                "Product",
                lambda r: " ".join(
                    p
                    for p in (r.DeclarationLine.productcategorie, r.DeclarationLine.productcode)
                    if p
                ),
                DeclarationLine.productcode,
            ),
            Column(
                "periode",
                "Periode",
                lambda r: (
                    f"{r.DeclarationLine.begindatum:%d-%m-%Y} – {r.DeclarationLine.einddatum:%d-%m-%Y}"
                ),
                DeclarationLine.begindatum,
            ),
            Column(
                "bedrag",
                "Bedrag",
                lambda r: r.DeclarationLine.bedrag_cents,
                DeclarationLine.bedrag_cents,
                money=True,
            ),
            Column("codes", "Retourcodes", codes, cast(DeclarationLine.retourcodes, Text)),
        ],
        default_sort="periode",
        default_desc=True,
        tiebreak=DeclarationLine.id,
        filters=[
            Filter(
                "financiering",
                "Financiering",
                lambda s, v: s.where(DeclarationLine.financing == v),
                choices=h.choices(),
            ),
            Filter(
                "code",
                "Retourcode",
                lambda s, v: s.where(cast(DeclarationLine.retourcodes, Text).like(f'%"{v}"%')),
                kind="text",
            ),
        ],
    )
    return respond(
        spec,
        "worklists/list.html",
        title="Afgewezen regels",
        intro="Regels die de financier heeft afgewezen en die nog niet opnieuw zijn ingediend. "
        "Open de declaratie om ze te corrigeren, opnieuw in te dienen of te crediteren.",
    )


@bp.route("/berichten-zonder-antwoord")
@requires("messages.view")
def unanswered():
    session = db_session()
    financiers = dict(session.execute(select(Financier.id, Financier.naam)).all())
    spec = ListSpec(
        name="berichten-zonder-antwoord",
        title="Berichten zonder antwoord",
        base=lambda: select(Message).where(*wl.unanswered()),
        columns=[
            Column(
                "verzonden",
                "Verzonden",
                lambda m: m.sent_at,
                Message.sent_at,
                href=lambda m: url_for("messages.show", message_id=m.id),
            ),
            Column("bericht", "Bericht", lambda m: m.code, Message.code),
            Column(
                "financier",
                "Financier",
                lambda m: financiers.get(m.financier_id, m.geadresseerde_code or ""),
                Message.financier_id,
            ),
            Column("samenvatting", "Omschrijving", lambda m: m.summary or m.filename or ""),
            Column(
                "status",
                "Status",
                lambda m: MESSAGE_STATUS_LABELS.get(m.status, m.status),
                Message.status,
            ),
        ],
        default_sort="verzonden",
        tiebreak=Message.id,
    )
    return respond(
        spec,
        "worklists/list.html",
        title=f"Berichten zonder antwoord na {wl.ANSWER_WORKDAYS} werkdagen",
        intro="Verzonden berichten waarop de financier nog niet heeft geantwoord. Kijk de status "
        "bij VECOZO na of neem contact op met de financier.",
    )


def declarations_spec(session) -> ListSpec:
    h = hooks()
    months = []
    y, m = date.today().year, date.today().month
    for _ in range(25):
        months.append((f"{y}-{m:02d}", month_label(date(y, m, 1))))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return ListSpec(
        name="declaraties",
        title="Declaraties",
        base=lambda: select(Declaration, Financier).join(
            Financier, Financier.id == Declaration.financier_id
        ),
        scalars=False,
        columns=[
            Column(
                "nummer",
                "Nummer",
                lambda r: r.Declaration.nummer,
                Declaration.nummer,
                href=lambda r: url_for("declarations.show", declaration_id=r.Declaration.id),
            ),
            Column(
                "financiering",
                "Financiering",
                lambda r: h.financing_label(r.Declaration.financing),
                Declaration.financing,
            ),
            Column("financier", "Financier", lambda r: r.Financier.label, Financier.naam),
            Column(
                "periode",
                "Periode",
                lambda r: (
                    f"{r.Declaration.periode_begin:%d-%m-%Y} – {r.Declaration.periode_eind:%d-%m-%Y}"
                ),
                Declaration.periode_begin,
            ),
            Column(
                "ingediend",
                "Ingediend",
                lambda r: r.Declaration.total_cents,
                Declaration.total_cents,
                money=True,
            ),
            Column(
                "toegekend",
                "Toegekend",
                lambda r: r.Declaration.awarded_cents,
                Declaration.awarded_cents,
                money=True,
            ),
            Column("status", "Status", lambda r: r.Declaration.status_label, Declaration.status),
        ],
        default_sort="nummer",
        default_desc=True,
        tiebreak=Declaration.id,
        filters=[
            Filter(
                "financier",
                "Financier",
                lambda s, v: s.where(Declaration.financier_id == int(v)),
                choices=_financier_choices(session),
            ),
            Filter(
                "periode",
                "Periode",
                _month_filter(Declaration.periode_begin, Declaration.periode_eind),
                choices=months,
            ),
            Filter(
                "status",
                "Status",
                lambda s, v: s.where(Declaration.status == v),
                choices=list(DECLARATION_STATUS_LABELS.items()),
            ),
        ],
    )


@bp.route("/declaraties")
@requires("declarations.view")
def declarations():
    return respond(
        declarations_spec(db_session()),
        "worklists/list.html",
        title="Alle declaraties",
        intro="Sorteer op een kolom, filter op financier, periode en status, of exporteer de lijst.",
    )


@bp.route("/facturen")
@requires("invoices.view")
def invoices():
    from portal.models import Invoice
    from portal.models.invoice import INVOICE_STATUS_LABELS

    h = hooks()
    today = date.today()
    spec = ListSpec(
        name="facturen",
        title="Facturen",
        base=lambda: select(Invoice).where(Invoice.nummer.is_not(None)),
        columns=[
            Column(
                "nummer",
                "Nummer",
                lambda i: i.nummer,
                Invoice.nummer,
                href=lambda i: url_for("invoices.show", invoice_id=i.id),
            ),
            Column("soort", "Soort", lambda i: i.soort, Invoice.soort),
            Column(
                "financiering",
                "Financiering",
                lambda i: h.financing_label(i.financing),
                Invoice.financing,
            ),
            Column("debiteur", "Debiteur", lambda i: i.debiteur_naam, Invoice.debiteur_naam),
            Column("factuurdatum", "Factuurdatum", lambda i: i.factuurdatum, Invoice.factuurdatum),
            Column("vervaldatum", "Vervaldatum", lambda i: i.vervaldatum, Invoice.vervaldatum),
            Column("bedrag", "Bedrag", lambda i: i.totaal_cents, Invoice.totaal_cents, money=True),
            Column(
                "status",
                "Status",
                lambda i: i.status_label + (", vervallen" if i.overdue(today) else ""),
                Invoice.status,
            ),
        ],
        default_sort="nummer",
        default_desc=True,
        tiebreak=Invoice.id,
        filters=[
            Filter(
                "financiering",
                "Financiering",
                lambda s, v: s.where(Invoice.financing == v),
                choices=h.choices(),
            ),
            Filter(
                "periode",
                "Periode",
                _month_filter(Invoice.periode_start, Invoice.periode_eind),
                kind="month",
            ),
            Filter(
                "status",
                "Status",
                lambda s, v: s.where(Invoice.status == v),
                choices=list(INVOICE_STATUS_LABELS.items()),
            ),
            Filter(
                "debiteur",
                "Debiteur",
                lambda s, v: s.where(Invoice.debiteur_naam.ilike(f"%{_like(v)}%", escape="\\")),
                kind="text",
            ),
        ],
    )
    return respond(
        spec,
        "worklists/list.html",
        title="Alle facturen",
        intro="Sorteer op een kolom, filter op financiering, periode, status en debiteur, of "
        "exporteer de lijst.",
    )


def _like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.route("/clienten")
@requires("clients.view")
def clients():
    """Every client as a list to sort, filter and export (the search lives in Cliënten)."""
    h = hooks()
    spec = ListSpec(
        name="clienten",
        title="Cliënten",
        base=lambda: select(Client),
        columns=[
            Column(
                "naam",
                "Naam",
                lambda c: c.naam,
                Client.achternaam,
                href=lambda c: url_for("clients.show", client_id=c.id),
            ),
            Column("clientnummer", "Cliëntnummer", lambda c: c.clientnummer, Client.clientnummer),
            Column(
                "geboortedatum", "Geboortedatum", lambda c: c.geboortedatum, Client.geboortedatum
            ),
            Column("postcode", "Postcode", lambda c: c.postcode, Client.postcode),
            Column("plaats", "Plaats", lambda c: c.plaats, Client.plaats),
            Column("team", "Team", lambda c: c.team, Client.team),
            Column("actief", "Actief", lambda c: c.actief, Client.actief),
        ],
        default_sort="naam",
        tiebreak=Client.id,
        filters=[
            Filter("team", "Team", lambda s, v: s.where(Client.team == v), kind="text"),
            Filter(
                "status",
                "Status",
                lambda s, v: s.where(Client.actief.is_(v == "actief")),
                choices=[("actief", "Actief"), ("inactief", "Inactief")],
            ),
            Filter(
                "financiering",
                "Actieve legitimatie",
                lambda s, v: s.where(active_legitimation_exists(v)),
                choices=h.choices(),
            ),
        ],
    )
    return respond(
        spec,
        "worklists/list.html",
        title="Cliëntenlijst",
        intro="Alle cliënten om te sorteren, te filteren en te exporteren. Het BSN staat niet in "
        "de export.",
    )
