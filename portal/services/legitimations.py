"""Legitimations: the core checks, then the financing plugin's own checks, then storing.

Screens and the CSV import both go through :func:`clean_legitimation`. Input is a mapping of
strings (a form or a CSV row). Blocking issues stop the save and are reported at their field;
warnings are returned after saving so the screen can show them.

A plugin may report an issue on a field that is neither a legitimation column nor client data
(e.g. PGB's ``wet``): such a field is a key of ``Legitimation.sleutels``. Forms send those as
``sleutel_<name>`` (and CSV files as columns of that name); a plugin may describe them for the
form in ``FinancingInfo.legitimation_fields`` (``LegitimationField(name, label, choices)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.domain import FinancingInfo, Frequency, Issue, LegitimationField, Severity, Unit
from portal.models import Client, Financier, Legitimation, Product
from portal.plugins import Hooks
from portal.services import audit
from portal.validators import clean, format_cents, parse_amount_cents, parse_date

STATUS_LABELS = {"actief": "actief", "beeindigd": "beëindigd", "vervallen": "vervallen"}
SLEUTEL_PREFIX = "sleutel_"

# Fields that identify what a financier issued: fixed when the legitimation came from a message.
_FROM_MESSAGE_FIXED = (
    "financing",
    "financier_id",
    "begindatum",
    "einddatum",
    "volume",
    "eenheid",
    "frequentie",
    "budget_cents",
    "productcategorie",
    "productcode",
    "toewijzingnummer",
    "referentienummer",
)
_CODE_FIELDS = {"productcategorie": 10, "productcode": 10, "toewijzingnummer": 20}
# Issues a plugin reports about the client rather than the legitimation.
CLIENT_FIELDS = {"budgethouder", "adres", "bsn", "geboortedatum", "postcode", "huisnummer"}
_COLUMNS = {c.key for c in Legitimation.__table__.columns} | {"product_ids", "tarief", "budget"}
# Model attribute -> the form field that holds it.
_FORM_NAMES = {
    "tarief_cents": "tarief",
    "budget_cents": "budget",
    "products": "product_ids",
    "omvang": "volume",
}


class LegitimationInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Checked:
    """The outcome of checking one legitimation."""

    values: dict[str, Any]
    products: list[Product]
    financier: Financier | None
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)


def financier_choices(session: Session, info: FinancingInfo | None) -> list[Financier]:
    """The active financiers a legitimation of this financing may name."""
    if info is None:
        return []
    kinds = [k.value for k in info.financier_kinds]
    return list(
        session.scalars(
            select(Financier)
            .where(
                Financier.financing == info.code,
                Financier.soort.in_(kinds),
                Financier.actief.is_(True),
            )
            .order_by(Financier.naam)
        )
    )


def unit_choices(info: FinancingInfo | None) -> list[tuple[str, str]]:
    return [(u.value, u.label) for u in info.units] if info else []


def extra_fields(
    info: FinancingInfo | None, sleutels: Mapping[str, Any] | None = None
) -> list[LegitimationField]:
    """The plugin's own fields for the form (declared, plus keys the legitimation already has)."""
    declared = list(info.legitimation_fields) if info else []
    names = {f.name for f in declared}
    for key in sleutels or {}:
        if key not in names:
            declared.append(LegitimationField(key, key))
    return declared


def is_sleutel_field(name: str | None) -> bool:
    return bool(name) and name not in _COLUMNS and name not in CLIENT_FIELDS


def _int(raw: str, name: str, errors: dict[str, str], message: str) -> int | None:
    if not raw:
        return None
    if not re.fullmatch(r"\d{1,7}", raw):
        errors[name] = message
        return None
    return int(raw)


def clean_legitimation(
    session: Session,
    hooks: Hooks,
    client: Client,
    data: Mapping[str, Any],
    existing: Legitimation | None = None,
    *,
    product_ids: Iterable[Any] | None = None,
    today: date | None = None,
) -> Checked:
    """Check a legitimation for ``client``: core rules first, then the financing's plugin.

    ``product_ids`` are the selected own products (form: several values of one field); a CSV
    row passes product ids resolved from its codes.
    """
    today = today or date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def raw(name: str) -> str:
        return clean(data.get(name))

    financing = raw("financing")
    info = hooks.financing(financing) if financing else None
    if not financing:
        errors["financing"] = "Kies een financiering."
    elif info is None:
        errors["financing"] = "Deze financiering kent het portaal niet."
    values["financing"] = financing

    financier = None
    fid = raw("financier_id")
    if not fid:
        errors["financier_id"] = "Kies een financier."
    elif (
        not re.fullmatch(r"\d{1,9}", fid) or (financier := session.get(Financier, int(fid))) is None
    ):
        errors["financier_id"] = "Deze financier bestaat niet."
    values["financier_id"] = financier.id if financier else None

    try:
        begin = parse_date(raw("begindatum"))
    except ValueError as exc:
        errors["begindatum"] = f"Ongeldige begindatum: {exc}"
        begin = None
    else:
        if begin is None:
            errors["begindatum"] = "Begindatum is verplicht."
    try:
        end = parse_date(raw("einddatum"))
    except ValueError as exc:
        errors["einddatum"] = f"Ongeldige einddatum: {exc}"
        end = None
    if begin is not None:
        if client.geboortedatum and begin < client.geboortedatum:
            errors["begindatum"] = "De begindatum ligt vóór de geboortedatum van de cliënt."
        elif begin > today + timedelta(days=2 * 366):
            errors["begindatum"] = "De begindatum ligt meer dan twee jaar in de toekomst."
        if end is not None and end < begin:
            errors["einddatum"] = "De einddatum ligt vóór de begindatum."
        elif end is not None and end > begin + timedelta(days=366 * 25):
            errors["einddatum"] = (
                "Een periode van meer dan 25 jaar klopt niet; controleer het jaar."
            )
    values["begindatum"], values["einddatum"] = begin, end

    volume = _int(raw("volume"), "volume", errors, "De omvang is een heel getal, bijvoorbeeld 4.")
    if volume == 0:
        errors["volume"] = "De omvang moet groter zijn dan 0."
    values["volume"] = volume

    eenheid = raw("eenheid") or None
    if eenheid is not None:
        if eenheid not in {u.value for u in Unit}:
            errors["eenheid"] = "Onbekende eenheid."
        elif info is not None and Unit(eenheid) not in info.units:
            allowed = ", ".join(u.label for u in info.units)
            errors["eenheid"] = f"{info.label} accepteert deze eenheid niet. Kies uit: {allowed}."
    elif volume is not None:
        errors["eenheid"] = "Bij een omvang hoort een eenheid."
    values["eenheid"] = eenheid

    frequentie = raw("frequentie") or None
    if frequentie is not None and frequentie not in {f.value for f in Frequency}:
        errors["frequentie"] = "Onbekende frequentie."
    elif frequentie is None and volume is not None:
        errors["frequentie"] = "Bij een omvang hoort een frequentie (bijvoorbeeld per week)."
    values["frequentie"] = frequentie

    for label in ("budget", "tarief"):
        try:
            cents = parse_amount_cents(raw(label))
        except ValueError:
            errors[label] = f"Ongeldig {label}: schrijf een bedrag als 1.234,50."
            cents = None
        else:
            if cents is not None and cents <= 0:
                errors[label] = f"Het {label} moet groter zijn dan 0."
        values[f"{label}_cents"] = cents

    priority = _int(raw("priority"), "priority", errors, "De prioriteit is een getal van 1 tot 99.")
    if priority is not None and not 1 <= priority <= 99:
        errors["priority"] = "De prioriteit is een getal van 1 tot 99."
    values["priority"] = priority or 1

    for name, limit in _CODE_FIELDS.items():
        v = raw(name).upper().replace(" ", "")
        if len(v) > limit:
            errors[name] = f"Dit veld mag hoogstens {limit} tekens hebben."
        values[name] = v or None
    values["referentienummer"] = raw("referentienummer")[:40] or None
    values["opmerking"] = raw("opmerking")[:2000] or None

    sleutels = dict(existing.sleutels or {}) if existing is not None else {}
    for key, value in data.items():
        if key.startswith(SLEUTEL_PREFIX) and key != SLEUTEL_PREFIX:
            v = clean(value)
            if v:
                sleutels[key.removeprefix(SLEUTEL_PREFIX)] = v
            else:
                sleutels.pop(key.removeprefix(SLEUTEL_PREFIX), None)
    values["sleutels"] = sleutels

    products = _products(session, product_ids or (), errors)

    if existing is not None and existing.bron != "handmatig":
        # What the financier issued stays as it came in; only our own choices change.
        for name in _FROM_MESSAGE_FIXED:
            values[name] = getattr(existing, name)
            errors.pop(_FORM_NAMES.get(name, name), None)
        financier = existing.financier

    checked = Checked(values=values, products=products, financier=financier, errors=errors)
    if errors:
        return checked

    candidate = Legitimation(client_id=client.id, **values)
    candidate.financier = financier
    candidate.products = products
    candidate.status = existing.status if existing is not None else "actief"
    candidate.bron = existing.bron if existing is not None else "handmatig"
    for issue in hooks.validate_legitimation(candidate, financier, client):
        if issue.severity is Severity.BLOCKING:
            key = _issue_field(issue.field)
            errors.setdefault(key, issue.message)
        else:
            checked.warnings.append(issue)
    if not errors:
        _duplicate_check(session, client, values, products, existing, errors)
        checked.warnings.extend(_overlap_warnings(session, client, values, products, existing))
    return checked


def _issue_field(name: str | None) -> str:
    if not name:
        return "_form"
    name = _FORM_NAMES.get(name, name)
    if is_sleutel_field(name):
        return SLEUTEL_PREFIX + name
    return name


def _products(session: Session, ids: Iterable[Any], errors: dict[str, str]) -> list[Product]:
    wanted = set()
    for raw_id in ids:
        s = str(raw_id).strip()
        if not re.fullmatch(r"\d{1,9}", s):
            errors["product_ids"] = "Onbekend product gekozen."
            return []
        wanted.add(int(s))
    if not wanted:
        errors["product_ids"] = "Kies ten minste één eigen product."
        return []
    products = list(
        session.scalars(select(Product).where(Product.id.in_(wanted)).order_by(Product.code))
    )
    if len(products) != len(wanted):
        errors["product_ids"] = "Onbekend product gekozen."
    elif any(not p.actief for p in products):
        errors["product_ids"] = "Een gekozen product is niet meer actief."
    return products


def _same_client_legitimations(session: Session, client: Client, existing: Legitimation | None):
    stmt = (
        select(Legitimation)
        .where(Legitimation.client_id == client.id, Legitimation.status == "actief")
        .options(selectinload(Legitimation.products))
    )
    if existing is not None and existing.id is not None:
        stmt = stmt.where(Legitimation.id != existing.id)
    return session.scalars(stmt)


def _duplicate_check(session, client, values, products, existing, errors) -> None:
    """The same legitimation twice (a double click, a file imported again) is refused."""
    keys = ("financing", "financier_id", "begindatum", "einddatum", "volume", "eenheid")
    keys += ("frequentie", "budget_cents", "productcode", "toewijzingnummer")
    ids = {p.id for p in products}
    for other in _same_client_legitimations(session, client, existing):
        if (
            all(getattr(other, k) == values[k] for k in keys)
            and {p.id for p in other.products} == ids
        ):
            errors["_form"] = "Deze legitimatie bestaat al bij deze cliënt."
            return


def _overlap_warnings(session, client, values, products, existing) -> list[Issue]:
    ids = {p.id for p in products}
    begin, end = values["begindatum"], values["einddatum"] or date.max
    for other in _same_client_legitimations(session, client, existing):
        if other.financing != values["financing"]:
            continue
        overlaps = other.begindatum <= end and begin <= (other.einddatum or date.max)
        if overlaps and ids & {p.id for p in other.products}:
            return [
                Issue(
                    "overlap",
                    "Let op: de cliënt heeft in deze periode al een legitimatie van deze "
                    "financiering voor hetzelfde product.",
                    None,
                    Severity.WARNING,
                )
            ]
    return []


def create_legitimation(
    session: Session,
    hooks: Hooks,
    client: Client,
    data: Mapping[str, Any],
    *,
    product_ids: Iterable[Any],
    user_id: int | None,
    bron: str = "handmatig",
) -> tuple[Legitimation, list[Issue]]:
    checked = clean_legitimation(session, hooks, client, data, product_ids=product_ids)
    if checked.errors:
        raise LegitimationInvalid(checked.errors)
    leg = Legitimation(client_id=client.id, status="actief", bron=bron, **checked.values)
    leg.products = checked.products
    session.add(leg)
    session.flush()
    audit.record(
        session, "legitimatie.aangemaakt", user_id=user_id, object_type="legitimation",
        object_id=leg.id, client_id=client.id, detail={"financing": leg.financing},
    )  # fmt: skip
    return leg, checked.warnings


def update_legitimation(
    session: Session,
    hooks: Hooks,
    leg: Legitimation,
    data: Mapping[str, Any],
    *,
    product_ids: Iterable[Any],
    user_id: int | None,
) -> list[Issue]:
    client = session.get(Client, leg.client_id)
    checked = clean_legitimation(session, hooks, client, data, leg, product_ids=product_ids)
    if checked.errors:
        raise LegitimationInvalid(checked.errors)
    changed = [k for k, v in checked.values.items() if getattr(leg, k) != v]
    for k in changed:
        setattr(leg, k, checked.values[k])
    if {p.id for p in leg.products} != {p.id for p in checked.products}:
        leg.products = checked.products
        changed.append("products")
    if changed:
        audit.record(
            session, "legitimatie.gewijzigd", user_id=user_id, object_type="legitimation",
            object_id=leg.id, client_id=leg.client_id, detail={"velden": changed},
        )  # fmt: skip
    session.flush()
    return checked.warnings


def end_legitimation(
    session: Session, leg: Legitimation, einddatum_raw: str, *, user_id: int | None
) -> None:
    """Beëindigen: the legitimation stays (a financier may have seen it) with an end date."""
    try:
        einddatum = parse_date(einddatum_raw) or date.today()
    except ValueError:
        raise LegitimationInvalid(
            {"einddatum": "Ongeldige einddatum: gebruik dd-mm-jjjj."}
        ) from None
    if einddatum < leg.begindatum:
        raise LegitimationInvalid({"einddatum": "De einddatum ligt vóór de begindatum."})
    if leg.status == "beeindigd":
        return  # a second click changes nothing
    if leg.einddatum is None or einddatum < leg.einddatum:
        leg.einddatum = einddatum
    leg.status = "beeindigd"
    audit.record(
        session, "legitimatie.beeindigd", user_id=user_id, object_type="legitimation",
        object_id=leg.id, client_id=leg.client_id, detail={"einddatum": leg.einddatum.isoformat()},
    )  # fmt: skip
    session.flush()


def form_data(leg: Legitimation) -> dict[str, str]:
    """A legitimation as the strings a form shows."""
    data = {
        "financing": leg.financing,
        "financier_id": str(leg.financier_id or ""),
        "begindatum": leg.begindatum.isoformat() if leg.begindatum else "",
        "einddatum": leg.einddatum.isoformat() if leg.einddatum else "",
        "volume": "" if leg.volume is None else str(leg.volume),
        "eenheid": leg.eenheid or "",
        "frequentie": leg.frequentie or "",
        "budget": format_cents(leg.budget_cents),
        "tarief": format_cents(leg.tarief_cents),
        "priority": str(leg.priority or 1),
    }
    for name in ("productcategorie", "productcode", "toewijzingnummer", "referentienummer"):
        data[name] = getattr(leg, name) or ""
    data["opmerking"] = leg.opmerking or ""
    for key, value in (leg.sleutels or {}).items():
        data[SLEUTEL_PREFIX + key] = str(value)
    return data
