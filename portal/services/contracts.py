"""Contracts with a financier and their productafspraken (contract lines).

A line maps an own product to the financier's product code for a period, with a tariff in cents
and the rounding the financier applies. Lines of one financier never overlap for the same
product: at any day there is exactly one tariff to use. Which units a line may have comes from
the financing's plugin (``FinancingInfo.units``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.domain import FinancingInfo, Unit
from portal.models import Contract, ContractLine, Financier, Product
from portal.services import audit
from portal.services.organisation_admin import FormErrors, raise_if
from portal.validators import clean, parse_amount_cents, parse_date

AFRONDING_MINUTEN = (0, 1, 5, 6, 10, 15, 30, 60)
AFRONDING_WIJZEN = {
    "dichtstbij": "naar het dichtstbijzijnde veelvoud",
    "omhoog": "naar boven",
    "omlaag": "naar beneden",
}
BTW_PERCENTAGES = (0, 9, 21)
VALIDITY = {"actueel": "Nu geldig", "toekomstig": "Toekomstig", "verlopen": "Verlopen"}
_FAR = date.max


def _nl(day: date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else ""


def _date_field(
    data: Mapping[str, Any], name: str, errors: dict[str, str], *, required: bool, label: str
) -> date | None:
    try:
        value = parse_date(data.get(name))
    except ValueError as exc:
        errors[name] = f"{label}: {exc}"
        return None
    if value is None and required:
        errors[name] = f"{label} is verplicht."
    return value


# -- contracts ------------------------------------------------------------------------------


def list_contracts(
    session: Session,
    *,
    financing: str | None = None,
    financier_id: int | None = None,
    validity: str | None = None,
    today: date | None = None,
) -> list[Contract]:
    today = today or date.today()
    query = (
        select(Contract)
        .join(Financier, Contract.financier_id == Financier.id)
        .order_by(Financier.financing, func.lower(Financier.naam), Contract.begindatum.desc())
    )
    if financing:
        query = query.where(Financier.financing == financing)
    if financier_id:
        query = query.where(Contract.financier_id == financier_id)
    if validity == "actueel":
        query = query.where(
            Contract.begindatum <= today,
            or_(Contract.einddatum.is_(None), Contract.einddatum >= today),
        )
    elif validity == "toekomstig":
        query = query.where(Contract.begindatum > today)
    elif validity == "verlopen":
        query = query.where(Contract.einddatum < today)
    return list(session.scalars(query))


def save_contract(
    session: Session, contract: Contract | None, data: Mapping[str, Any], *, user_id: int | None
) -> Contract:
    errors: dict[str, str] = {}
    raw_financier = clean(data.get("financier_id"))
    financier = session.get(Financier, int(raw_financier)) if raw_financier.isdigit() else None
    if financier is None:
        errors["financier_id"] = "Kies een financier."
    elif contract is not None and financier.id != contract.financier_id and contract.lines:
        errors["financier_id"] = (
            "Dit contract heeft al productafspraken; de financier kan niet meer veranderen."
        )
    naam = clean(data.get("naam"))
    if not naam:
        errors["naam"] = "Naam is verplicht."
    begin = _date_field(data, "begindatum", errors, required=True, label="Begindatum")
    end = _date_field(data, "einddatum", errors, required=False, label="Einddatum")
    if begin and end and end < begin:
        errors["einddatum"] = "De einddatum ligt vóór de begindatum."
    if contract is not None and begin and "einddatum" not in errors:
        outside = [
            line
            for line in contract.lines
            if line.begindatum < begin or (end and (line.einddatum or _FAR) > end)
        ]
        if outside:
            errors["begindatum" if outside[0].begindatum < begin else "einddatum"] = (
                f"{len(outside)} productafspraak/-afspraken vallen dan buiten de contractperiode. "
                "Pas die eerst aan."
            )
    if not errors and financier is not None:
        same = select(Contract).where(
            Contract.financier_id == financier.id,
            func.lower(Contract.naam) == naam.lower(),
            Contract.begindatum == begin,
        )
        if contract is not None:
            same = same.where(Contract.id != contract.id)
        if session.scalars(same.limit(1)).first() is not None:
            errors["naam"] = "Er is al een contract met deze naam en begindatum bij deze financier."
    raise_if(errors)

    creating = contract is None
    if contract is None:
        contract = Contract()
        session.add(contract)
    contract.financier_id = financier.id
    contract.financier = financier
    contract.naam, contract.begindatum, contract.einddatum = naam, begin, end
    contract.opmerking = clean(data.get("opmerking")) or None
    session.flush()
    audit.record(
        session,
        "contract.aangemaakt" if creating else "contract.gewijzigd",
        user_id=user_id,
        object_type="contract",
        object_id=contract.id,
        detail={"financier_id": financier.id, "begin": str(begin), "eind": str(end or "")},
    )
    return contract


# -- lines ----------------------------------------------------------------------------------


def allowed_units(contract: Contract, financings: Mapping[str, FinancingInfo]) -> list[Unit]:
    info = financings.get(contract.financier.financing) if contract.financier else None
    return list(info.units) if info else []


def _units_fit(product_unit: str, line_unit: str) -> bool:
    """A time product may be agreed per minute or per hour; any other unit must match."""
    p, u = Unit(product_unit), Unit(line_unit)
    return (p.is_time and u.is_time) or p is u


def overlapping_line(
    session: Session,
    financier_id: int,
    product_id: int,
    begin: date,
    end: date | None,
    *,
    exclude_id: int | None = None,
) -> ContractLine | None:
    """Another line of this financier for this product whose period shares a day with ours."""
    query = (
        select(ContractLine)
        .join(Contract, ContractLine.contract_id == Contract.id)
        .where(Contract.financier_id == financier_id, ContractLine.product_id == product_id)
    )
    if exclude_id is not None:
        query = query.where(ContractLine.id != exclude_id)
    for other in session.scalars(query):
        other_end = other.einddatum or other.contract.einddatum or _FAR
        if other.begindatum <= (end or _FAR) and begin <= other_end:
            return other
    return None


def save_line(
    session: Session,
    contract: Contract,
    line: ContractLine | None,
    data: Mapping[str, Any],
    *,
    financings: Mapping[str, FinancingInfo],
    user_id: int | None,
) -> ContractLine:
    errors: dict[str, str] = {}
    info = financings.get(contract.financier.financing)
    if info is None:
        raise FormErrors(
            {
                "_form": "De financiering van deze financier is niet geladen; "
                "productafspraken kunnen nu niet worden gewijzigd."
            }
        )
    raw_product = clean(data.get("product_id"))
    product = session.get(Product, int(raw_product)) if raw_product.isdigit() else None
    if product is None:
        errors["product_id"] = "Kies een product."

    eenheid = clean(data.get("eenheid")) or (product.eenheid if product else "")
    units = {u.value for u in info.units}
    if eenheid not in {u.value for u in Unit}:
        errors["eenheid"] = "Kies een eenheid."
    elif eenheid not in units:
        errors["eenheid"] = (
            f"{info.label} kent de eenheid {Unit(eenheid).label} niet. Kies uit: "
            + ", ".join(u.label for u in info.units)
            + "."
        )
    elif product is not None and not _units_fit(product.eenheid, eenheid):
        errors["eenheid"] = (
            f"Het product wordt geregistreerd per {Unit(product.eenheid).label}; "
            "de afspraak moet dezelfde eenheid hebben (of minuut/uur bij tijd)."
        )

    productcode = clean(data.get("productcode")).upper() or None
    productcategorie = clean(data.get("productcategorie")) or None
    if productcode and len(productcode) > 10:
        errors["productcode"] = "Een productcode heeft hooguit 10 tekens."
    if productcategorie and (len(productcategorie) > 10 or not productcategorie.isalnum()):
        errors["productcategorie"] = "Een productcategorie heeft hooguit 10 letters of cijfers."

    tarief = None
    try:
        tarief = parse_amount_cents(data.get("tarief"))
    except ValueError:
        errors["tarief"] = "Dit is geen bedrag. Schrijf het tarief als 64,50."
    else:
        if tarief is None:
            errors["tarief"] = "Tarief is verplicht."
        elif tarief < 0:
            errors["tarief"] = "Een tarief kan niet negatief zijn."

    begin = _date_field(data, "begindatum", errors, required=False, label="Begindatum")
    begin = begin or (contract.begindatum if "begindatum" not in errors else None)
    end = _date_field(data, "einddatum", errors, required=False, label="Einddatum")
    if begin and end and end < begin:
        errors["einddatum"] = "De einddatum ligt vóór de begindatum."
    elif begin and begin < contract.begindatum:
        errors["begindatum"] = (
            f"De afspraak begint vóór het contract (vanaf {_nl(contract.begindatum)})."
        )
    elif contract.einddatum and begin and begin > contract.einddatum:
        errors["begindatum"] = (
            f"De afspraak begint na het einde van het contract ({_nl(contract.einddatum)})."
        )
    elif contract.einddatum and end and end > contract.einddatum:
        errors["einddatum"] = (
            f"De afspraak loopt door na het einde van het contract ({_nl(contract.einddatum)})."
        )

    afronding = clean(data.get("afronding_minuten")) or "0"
    if not afronding.isdigit() or int(afronding) not in AFRONDING_MINUTEN:
        errors["afronding_minuten"] = "Kies een afronding van 0, 1, 5, 6, 10, 15, 30 of 60 minuten."
    wijze = clean(data.get("afronding_wijze")) or "dichtstbij"
    if wijze not in AFRONDING_WIJZEN:
        errors["afronding_wijze"] = "Kies omhoog, omlaag of dichtstbij."
    btw = clean(data.get("btw_percentage")) or "0"
    if not btw.isdigit() or int(btw) not in BTW_PERCENTAGES:
        errors["btw_percentage"] = "Btw is 0% (vrijgesteld), 9% of 21%."

    if not errors:
        other = overlapping_line(
            session,
            contract.financier_id,
            product.id,
            begin,
            end,
            exclude_id=line.id if line is not None else None,
        )
        if other is not None:
            other_end = other.einddatum or other.contract.einddatum
            errors["begindatum"] = (
                f"Er is al een productafspraak voor {product.code} in deze periode "
                f"({other.contract.naam}, {_nl(other.begindatum)} t/m "
                f"{_nl(other_end) or 'onbepaald'}). Laat de periodes niet overlappen."
            )
    raise_if(errors)

    creating = line is None
    if line is None:
        line = ContractLine(contract=contract)
        session.add(line)
    line.product = product
    line.product_id = product.id
    line.productcode, line.productcategorie = productcode, productcategorie
    line.eenheid, line.tarief_cents = eenheid, tarief
    line.begindatum, line.einddatum = begin, end
    line.afronding_minuten, line.afronding_wijze = int(afronding), wijze
    line.btw_percentage = int(btw)
    session.flush()
    audit.record(
        session,
        "contractregel.aangemaakt" if creating else "contractregel.gewijzigd",
        user_id=user_id,
        object_type="contract_line",
        object_id=line.id,
        detail={
            "contract_id": contract.id,
            "product": product.code,
            "tarief_cents": tarief,
            "eenheid": eenheid,
        },
    )
    return line


def remove_line(session: Session, line: ContractLine, *, user_id: int | None) -> None:
    audit.record(
        session,
        "contractregel.verwijderd",
        user_id=user_id,
        object_type="contract_line",
        object_id=line.id,
        detail={"contract_id": line.contract_id, "tarief_cents": line.tarief_cents},
    )
    line.contract.lines.remove(line)
    session.delete(line)
