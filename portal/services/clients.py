"""Clients: the one place where client data is checked, stored and searched.

Screens and the CSV import both call :func:`clean_client`, so a rule lives here once. Input is
always a mapping of strings (a form or a CSV row); the result is either clean values or a Dutch
message per field. Nothing here logs a BSN.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select, text, true
from sqlalchemy.orm import Session, selectinload

from portal.models import Client, Legitimation
from portal.services import audit
from portal.validators import (
    check_bsn,
    check_email,
    check_postcode,
    clean,
    normalize_bsn,
    normalize_postcode,
    parse_date,
)

# iStandaarden LDT_Geslacht (COD046): 0 onbekend, 1 mannelijk, 2 vrouwelijk.
GESLACHT = {"0": "Onbekend", "1": "Man", "2": "Vrouw"}
# What people type in spreadsheets, mapped onto the code.
_GESLACHT_ALIASES = {"m": "1", "man": "1", "v": "2", "vrouw": "2", "o": "0", "onbekend": "0"}

# Every field a client form or a client CSV row may carry (the CSV column names are the same).
TEXT_FIELDS = {
    "clientnummer": 30,
    "voorletters": 20,
    "voornamen": 200,
    "tussenvoegsel": 20,
    "achternaam": 200,
    "straat": 200,
    "huisnummer": 10,
    "huisnummer_toevoeging": 10,
    "plaats": 100,
    "email": 200,
    "telefoon": 30,
    "team": 100,
    "opmerking": 2000,
    "budgethouder_voorletters": 20,
    "budgethouder_tussenvoegsel": 20,
    "budgethouder_achternaam": 200,
    "svb_relatienummer": 20,
    "budgethouder_straat": 200,
    "budgethouder_huisnummer": 20,
    "budgethouder_plaats": 100,
}
FIELDS = (
    "bsn",
    *TEXT_FIELDS,
    "geboortedatum",
    "geslacht",
    "postcode",
    "actief",
    "budgethouder_is_client",
    "budgethouder_bsn",
    "budgethouder_postcode",
)
_BUDGETHOUDER_FIELDS = (
    "budgethouder_voorletters",
    "budgethouder_tussenvoegsel",
    "budgethouder_achternaam",
    "budgethouder_bsn",
    "budgethouder_straat",
    "budgethouder_huisnummer",
    "budgethouder_postcode",
    "budgethouder_plaats",
)
_TRUE = {"1", "ja", "j", "true", "waar", "on", "yes", "y"}
_FALSE = {"0", "nee", "n", "false", "onwaar", "off", "no", ""}


class ClientInvalid(ValueError):
    """Raised by create/update with the Dutch message per field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _flag(value: Any, default: bool) -> bool | None:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def clean_client(
    session: Session,
    data: Mapping[str, Any],
    client: Client | None = None,
    *,
    today: date | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check one client's data; return (values, errors). ``client`` is the one being edited.

    Missing keys keep the edited client's value (a form always sends every field; a CSV may
    leave columns out). Checkbox fields count as "off" only when the form says so.
    """
    today = today or date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def raw(name: str) -> str:
        if name in data:
            return clean(data.get(name))
        current = getattr(client, name, None) if client is not None else None
        if current is None:
            return ""
        if isinstance(current, date):
            return current.isoformat()
        return str(current)

    for name, limit in TEXT_FIELDS.items():
        v = raw(name)
        if len(v) > limit:
            errors[name] = f"Dit veld mag hoogstens {limit} tekens hebben."
        values[name] = v or None

    bsn = normalize_bsn(raw("bsn"))
    if problem := check_bsn(bsn):
        errors["bsn"] = problem
    values["bsn"] = bsn

    if not values["achternaam"]:
        errors["achternaam"] = "Achternaam is verplicht."
    if values["voorletters"]:
        v = values["voorletters"].replace(" ", "")
        if not re.fullmatch(r"([A-Za-zÀ-ÿ]{1,3}\.?)+", v):
            errors["voorletters"] = "Schrijf voorletters als J.H. (letters met punten)."
        values["voorletters"] = v.upper() if v.isascii() else v

    try:
        geboortedatum = parse_date(raw("geboortedatum"))
    except ValueError as exc:
        errors["geboortedatum"] = f"Ongeldige geboortedatum: {exc}"
        geboortedatum = None
    else:
        if geboortedatum is None:
            errors["geboortedatum"] = "Geboortedatum is verplicht."
        elif geboortedatum > today:
            errors["geboortedatum"] = "De geboortedatum ligt in de toekomst."
        elif geboortedatum < date(1890, 1, 1):
            errors["geboortedatum"] = "Deze geboortedatum is te ver in het verleden."
    values["geboortedatum"] = geboortedatum

    geslacht = raw("geslacht").lower() or "0"
    geslacht = _GESLACHT_ALIASES.get(geslacht, geslacht)
    if geslacht not in GESLACHT:
        errors["geslacht"] = "Kies een geslacht: 0 (onbekend), 1 (man) of 2 (vrouw)."
    values["geslacht"] = geslacht

    postcode = raw("postcode")
    if postcode:
        if problem := check_postcode(postcode):
            errors["postcode"] = problem
        else:
            postcode = normalize_postcode(postcode)
    values["postcode"] = postcode or None

    if problem := check_email(values["email"]):
        errors["email"] = problem
    if values["huisnummer"] and not re.fullmatch(r"\d{1,5}", values["huisnummer"]):
        errors["huisnummer"] = (
            "Een huisnummer bestaat uit cijfers; een toevoeging heeft een eigen veld."
        )

    actief = _flag(data.get("actief"), client.actief if client is not None else True)
    if actief is None:
        errors["actief"] = "Vul ja of nee in."
    values["actief"] = bool(actief)

    _clean_budgethouder(data, client, raw, values, errors)

    if "bsn" not in errors and _taken(session, Client.bsn, bsn, client):
        errors["bsn"] = "Er is al een cliënt met dit BSN."
    nummer = values["clientnummer"]
    if (
        nummer
        and "clientnummer" not in errors
        and _taken(session, Client.clientnummer, nummer, client)
    ):
        errors["clientnummer"] = "Er is al een cliënt met dit cliëntnummer."
    return values, errors


def _clean_budgethouder(data, client, raw, values, errors) -> None:
    """PGB budget holder: either the client self, or a representative with name, id and address."""
    default = client.budgethouder_is_client if client is not None else True
    is_client = _flag(data.get("budgethouder_is_client"), default)
    if is_client is None:
        errors["budgethouder_is_client"] = "Vul ja of nee in."
        is_client = True
    values["budgethouder_is_client"] = is_client

    bh_bsn = normalize_bsn(raw("budgethouder_bsn")) or None
    bh_postcode = raw("budgethouder_postcode") or None
    if is_client:
        present = {f: values.get(f) for f in _BUDGETHOUDER_FIELDS}
        present.update(budgethouder_bsn=bh_bsn, budgethouder_postcode=bh_postcode)
        filled = [f for f in _BUDGETHOUDER_FIELDS if present[f]]
        if filled:
            errors[filled[0]] = (
                "De cliënt is zelf budgethouder: laat de gegevens van een andere budgethouder leeg, "
                "of kies dat iemand anders budgethouder is."
            )
        for f in _BUDGETHOUDER_FIELDS:
            values[f] = None
        return

    if not values["budgethouder_achternaam"]:
        errors["budgethouder_achternaam"] = "Vul de achternaam van de budgethouder in."
    if bh_bsn:
        if problem := check_bsn(bh_bsn):
            errors["budgethouder_bsn"] = problem
    elif not values["svb_relatienummer"]:
        errors["budgethouder_bsn"] = "Vul het BSN van de budgethouder of het SVB-relatienummer in."
    if not bh_postcode:
        errors["budgethouder_postcode"] = "Vul het adres van de budgethouder in (postcode)."
    elif problem := check_postcode(bh_postcode):
        errors["budgethouder_postcode"] = problem
    else:
        bh_postcode = normalize_postcode(bh_postcode)
    if not values["budgethouder_huisnummer"]:
        errors["budgethouder_huisnummer"] = "Vul het huisnummer van de budgethouder in."
    values["budgethouder_bsn"] = bh_bsn
    values["budgethouder_postcode"] = bh_postcode


def _taken(session: Session, column, value: str, client: Client | None) -> bool:
    stmt = select(Client.id).where(column == value)
    if client is not None and client.id is not None:
        stmt = stmt.where(Client.id != client.id)
    return session.scalar(stmt.limit(1)) is not None


def create_client(session: Session, data: Mapping[str, Any], *, user_id: int | None) -> Client:
    values, errors = clean_client(session, data)
    if errors:
        raise ClientInvalid(errors)
    client = Client(**values)
    session.add(client)
    session.flush()
    audit.record(
        session,
        "client.aangemaakt",
        user_id=user_id,
        object_type="client",
        object_id=client.id,
        client_id=client.id,
    )
    return client


def update_client(
    session: Session, client: Client, data: Mapping[str, Any], *, user_id: int | None
) -> list[str]:
    """Apply the changes; returns the names of the changed fields (for the audit trail)."""
    values, errors = clean_client(session, data, client)
    if errors:
        raise ClientInvalid(errors)
    changed = [k for k, v in values.items() if getattr(client, k) != v]
    for k in changed:
        setattr(client, k, values[k])
    if changed:
        audit.record(
            session,
            "client.gewijzigd",
            user_id=user_id,
            object_type="client",
            object_id=client.id,
            client_id=client.id,
            detail={"velden": changed},  # names only: values may be personal data
        )
    session.flush()
    return changed


# ---------------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------------


@dataclass
class ClientFilter:
    q: str = ""
    team: str = ""
    status: str = "actief"  # actief, inactief, alle
    financing: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ClientFilter:
        try:
            page = max(1, min(int(args.get("pagina") or 1), 100_000))
        except ValueError:
            page = 1
        status = args.get("status", "actief")
        return cls(
            q=clean(args.get("q"))[:100],
            team=clean(args.get("team"))[:100],
            status=status if status in {"actief", "inactief", "alle"} else "actief",
            financing=clean(args.get("financiering"))[:40],
            page=page,
        )

    def args(self, **override: Any) -> dict[str, Any]:
        """Query arguments for links (pager, push-url): only what differs from the default."""
        out = {
            "q": self.q,
            "team": self.team,
            "status": self.status if self.status != "actief" else "",
            "financiering": self.financing,
            "pagina": self.page if self.page > 1 else "",
        }
        out.update(override)
        return {k: v for k, v in out.items() if v not in ("", None, 1)}

    @property
    def looks_like_bsn(self) -> bool:
        """A 9-digit search term: kept out of the address bar and the browser history."""
        return bool(re.search(r"(?<!\d)\d{9}(?!\d)", self.q.replace(".", "").replace(" ", "")))


@dataclass
class Page:
    """One page of a client search. ``total`` is None when more than ``COUNT_CAP`` match."""

    items: list[Client]
    total: int | None
    page: int
    page_size: int
    has_next: bool

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, math.ceil(self.total / self.page_size))


# Counting every match of a broad search (or of a join on legitimations) over 100,000 clients
# costs more than the page itself; above this many the list says "meer dan 5.000". Up to this many
# matches are found through the search indexes first and then sorted.
COUNT_CAP = 5000


_POSTCODE_WITH_SPACE = re.compile(r"\b(\d{4})\s+([A-Za-z]{2})\b")


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _term_condition(term: str):
    """One search word: a BSN (exact), a clientnummer, a postcode (prefix) or part of a name.

    Each form uses an index: BSN the unique index, postcode and names the trigram indexes, and a
    word of one or two letters (what live search sends first) the start of the surname.
    """
    compact = term.replace(".", "")
    if compact.isdigit() and len(compact) == 9:
        return or_(Client.bsn == compact, Client.clientnummer == term)
    prefix = f"{_escape_like(term)}%"
    if term.isdigit() or re.fullmatch(r"\d{4}[A-Za-z]{1,2}", term):
        return or_(
            Client.postcode.like(prefix.upper(), escape="\\"),
            Client.clientnummer.ilike(prefix, escape="\\"),
        )
    if len(term) < 3:
        return func.lower(Client.achternaam).like(prefix.lower(), escape="\\")
    like = f"%{_escape_like(term)}%"
    return or_(
        Client.achternaam.ilike(like, escape="\\"),
        Client.voornamen.ilike(like, escape="\\"),
        Client.clientnummer.ilike(prefix, escape="\\"),
    )


def active_legitimation_exists(financing: str, today: date | None = None):
    today = today or date.today()
    return exists().where(
        Legitimation.client_id == Client.id,
        Legitimation.financing == financing,
        Legitimation.status == "actief",
        or_(Legitimation.einddatum.is_(None), Legitimation.einddatum >= today),
        Legitimation.begindatum <= today,
    )


def _conditions(flt: ClientFilter) -> list:
    conds = []
    q = _POSTCODE_WITH_SPACE.sub(r"\1\2", flt.q)
    for term in q.replace(",", " ").split()[:5]:
        conds.append(_term_condition(term))
    if flt.team:
        conds.append(Client.team == flt.team)
    # "= true", not "IS TRUE": only the former can use the (actief, achternaam, id) index.
    if flt.status == "actief":
        conds.append(Client.actief == true())
    elif flt.status == "inactief":
        conds.append(Client.actief == false())
    if flt.financing:
        conds.append(active_legitimation_exists(flt.financing))
    return conds


def search_clients(session: Session, flt: ClientFilter, page_size: int = 25) -> Page:
    """One page of clients (ordered by name) and how many match (exactly up to ``COUNT_CAP``).

    First query: the matches (at most ``COUNT_CAP`` + 1, found through the search and filter
    indexes) are collected once; from them come both the count and the page, sorted by name. Only
    when there are more matches than that (a broad list) a second query takes the page from the
    name index (an index-only scan, also for later pages). The legitimations of the listed
    clients come in one extra query, never per row.
    """
    where = and_(*_conditions(flt))
    matched = (
        select(Client.id, Client.achternaam)
        .where(where)
        .limit(COUNT_CAP + 1)
        .cte("matched")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    n_matched = select(func.count()).select_from(matched).scalar_subquery()
    by_name = select(matched.c.id).order_by(matched.c.achternaam, matched.c.id)
    page = flt.page
    if (page - 1) * page_size >= COUNT_CAP:  # only a broad list has pages this far
        rows, total = [], None
    else:
        rows = _page_rows(session, by_name, page, page_size, n_matched)
        # An empty page says nothing about the number of matches: ask.
        capped = rows[0][1] if rows else session.scalar(select(n_matched))
        total = capped if capped <= COUNT_CAP else None
    if total is not None and not rows and page > 1:
        page = max(1, math.ceil(total / page_size))  # past the end: show the last page
        rows = _page_rows(session, by_name, page, page_size, n_matched)
    elif total is None:
        rows = _page_rows(
            session,
            select(Client.id).where(where).order_by(Client.achternaam, Client.id),
            page,
            page_size,
        )
    has_next = len(rows) > page_size
    items = [row[0] for row in rows[:page_size]]
    return Page(items=items, total=total, page=page, page_size=page_size, has_next=has_next)


def _page_rows(session: Session, ids, page: int, page_size: int, n_matched=None) -> list:
    page_ids = ids.offset((page - 1) * page_size).limit(page_size + 1).subquery("page_ids")
    columns = [Client] if n_matched is None else [Client, n_matched]
    stmt = (
        select(*columns)
        .join(page_ids, Client.id == page_ids.c.id)
        .order_by(Client.achternaam, Client.id)
    )
    return list(session.execute(stmt).all())


def active_financings(session: Session, client_ids: list[int]) -> dict[int, list[str]]:
    """The financings of each listed client's current legitimations (one query for the page)."""
    if not client_ids:
        return {}
    today = date.today()
    rows = session.execute(
        select(Legitimation.client_id, Legitimation.financing)
        .where(
            Legitimation.client_id.in_(client_ids),
            Legitimation.status == "actief",
            Legitimation.begindatum <= today,
            or_(Legitimation.einddatum.is_(None), Legitimation.einddatum >= today),
        )
        .distinct()
    )
    out: dict[int, list[str]] = {}
    for client_id, financing in rows:
        out.setdefault(client_id, []).append(financing)
    for codes in out.values():
        codes.sort()
    return out


def teams(session: Session) -> list[str]:
    """The distinct teams, read as a loose index scan (one index probe per team, not per row)."""
    rows = session.execute(
        text(
            "WITH RECURSIVE t(team) AS ("
            " SELECT MIN(team) FROM client"
            " UNION ALL"
            " SELECT (SELECT MIN(c.team) FROM client c WHERE c.team > t.team)"
            " FROM t WHERE t.team IS NOT NULL"
            ") SELECT team FROM t WHERE team IS NOT NULL"
        )
    )
    return [r[0] for r in rows]


def get_client_with_legitimations(session: Session, client_id: int) -> Client | None:
    """A client with every legitimation, its financier and products loaded (no lazy loads)."""
    return session.scalar(
        select(Client)
        .where(Client.id == client_id)
        .options(
            selectinload(Client.legitimations).joinedload(Legitimation.financier),
            selectinload(Client.legitimations).selectinload(Legitimation.products),
        )
    )
