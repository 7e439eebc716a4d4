"""Own products and uursoorten, with each uursoort's financieringsprioriteit.

The priority list holds positions 1..n without gaps after every change. Moves name the position
the user saw, so a repeated click (or a stale page) never moves an entry twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import FinancingInfo, Unit
from portal.models import Product, Uursoort, UursoortFinancing
from portal.services import audit
from portal.services.organisation_admin import FormErrors, flush_or_refuse, raise_if
from portal.validators import clean

UNIT_VALUES = {u.value for u in Unit}


def _flag(value: Any) -> bool:
    return str(value or "").lower() in {"1", "on", "true", "ja"}


# -- products -------------------------------------------------------------------------------


def list_products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.actief.desc(), Product.code)))


def save_product(
    session: Session, product: Product | None, data: Mapping[str, Any], *, user_id: int | None
) -> Product:
    errors: dict[str, str] = {}
    code = clean(data.get("code")).upper()
    naam = clean(data.get("naam"))
    eenheid = clean(data.get("eenheid"))
    uursoort_raw = clean(data.get("uursoort_id"))
    if not code:
        errors["code"] = "Code is verplicht."
    elif len(code) > 20 or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = "Een code heeft hooguit 20 letters, cijfers of streepjes."
    else:
        other = session.scalars(select(Product).where(func.upper(Product.code) == code)).first()
        if other is not None and (product is None or other.id != product.id):
            errors["code"] = f"Er is al een product met code {code}."
    if not naam:
        errors["naam"] = "Naam is verplicht."
    if eenheid not in UNIT_VALUES:
        errors["eenheid"] = "Kies een eenheid."
    uursoort = None
    if uursoort_raw:
        uursoort = session.get(Uursoort, int(uursoort_raw)) if uursoort_raw.isdigit() else None
        if uursoort is None:
            errors["uursoort_id"] = "Kies een bestaande uursoort."
    raise_if(errors)

    creating = product is None
    if product is None:
        product = Product()
        session.add(product)
    product.code, product.naam, product.eenheid = code, naam, eenheid
    product.uursoort = uursoort
    product.actief = creating or _flag(data.get("actief"))
    flush_or_refuse(session, {"code": f"Er is al een product met code {code}."})
    audit.record(
        session,
        "product.aangemaakt" if creating else "product.gewijzigd",
        user_id=user_id,
        object_type="product",
        object_id=product.id,
        detail={"code": code, "eenheid": eenheid, "uursoort": uursoort.code if uursoort else None},
    )
    return product


# -- uursoorten -----------------------------------------------------------------------------


def list_uursoorten(session: Session) -> list[Uursoort]:
    return list(session.scalars(select(Uursoort).order_by(Uursoort.actief.desc(), Uursoort.code)))


def save_uursoort(
    session: Session, uursoort: Uursoort | None, data: Mapping[str, Any], *, user_id: int | None
) -> Uursoort:
    errors: dict[str, str] = {}
    code = clean(data.get("code")).upper()
    naam = clean(data.get("naam"))
    if not code:
        errors["code"] = "Code is verplicht."
    elif len(code) > 10 or not code.isalnum():
        errors["code"] = "Een uursoortcode heeft hooguit 10 letters of cijfers, bijvoorbeeld PV."
    else:
        other = session.scalars(select(Uursoort).where(func.upper(Uursoort.code) == code)).first()
        if other is not None and (uursoort is None or other.id != uursoort.id):
            errors["code"] = f"Er is al een uursoort met code {code}."
    if not naam:
        errors["naam"] = "Naam is verplicht."
    raise_if(errors)
    creating = uursoort is None
    if uursoort is None:
        uursoort = Uursoort()
        session.add(uursoort)
    uursoort.code, uursoort.naam = code, naam
    uursoort.actief = creating or _flag(data.get("actief"))
    flush_or_refuse(session, {"code": f"Er is al een uursoort met code {code}."})
    audit.record(
        session,
        "uursoort.aangemaakt" if creating else "uursoort.gewijzigd",
        user_id=user_id,
        object_type="uursoort",
        object_id=uursoort.id,
        detail={"code": code},
    )
    return uursoort


def _renumber(uursoort: Uursoort) -> None:
    entries = sorted(uursoort.financings, key=lambda f: f.position)
    uursoort.financings[:] = entries
    for i, entry in enumerate(entries, start=1):
        entry.position = i


def _record_priority(session: Session, uursoort: Uursoort, user_id: int | None) -> None:
    flush_or_refuse(
        session,
        {"financing": "De volgorde is tegelijk ergens anders gewijzigd. Laad de pagina opnieuw."},
    )
    audit.record(
        session,
        "uursoort.prioriteit-gewijzigd",
        user_id=user_id,
        object_type="uursoort",
        object_id=uursoort.id,
        detail={"volgorde": [f.financing for f in uursoort.financings]},
    )


def add_financing(
    session: Session,
    uursoort: Uursoort,
    financing: str,
    *,
    financings: Mapping[str, FinancingInfo],
    user_id: int | None,
) -> None:
    """Append a loaded financing at the end of the priority list."""
    financing = clean(financing)
    if financing not in financings:
        raise FormErrors({"financing": "Kies een financiering die in het portaal beschikbaar is."})
    if financing in uursoort.financing_codes:
        return  # already there: a second click changes nothing
    _renumber(uursoort)
    uursoort.financings.append(
        UursoortFinancing(financing=financing, position=len(uursoort.financings) + 1)
    )
    _record_priority(session, uursoort, user_id)


def remove_financing(
    session: Session, uursoort: Uursoort, financing: str, *, user_id: int | None
) -> None:
    entry = next((f for f in uursoort.financings if f.financing == financing), None)
    if entry is None:
        return
    uursoort.financings.remove(entry)
    session.delete(entry)
    _renumber(uursoort)
    _record_priority(session, uursoort, user_id)


def move_financing(
    session: Session,
    uursoort: Uursoort,
    financing: str,
    *,
    seen_position: int,
    direction: str,
    user_id: int | None,
) -> bool:
    """Swap ``financing`` with its neighbour; only if it is still where the user saw it."""
    _renumber(uursoort)
    entries = uursoort.financings
    index = next((i for i, f in enumerate(entries) if f.financing == financing), None)
    if index is None or entries[index].position != seen_position:
        return False
    other = index - 1 if direction == "omhoog" else index + 1
    if direction not in ("omhoog", "omlaag") or not 0 <= other < len(entries):
        return False
    entries[index].position, entries[other].position = (
        entries[other].position,
        entries[index].position,
    )
    _renumber(uursoort)
    _record_priority(session, uursoort, user_id)
    return True
