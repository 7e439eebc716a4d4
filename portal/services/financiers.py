"""Financiers: who pays. The code a financier has depends on its kind, not on the financing.

Which kinds a financing accepts comes from its plugin (``FinancingInfo.financier_kinds``); the
check of a code per kind lives here, with the core's domain types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from portal.domain import FinancierKind, FinancingInfo
from portal.models import Contract, Financier, Legitimation
from portal.services import audit
from portal.services.organisation_admin import FormErrors, flush_or_refuse, raise_if
from portal.validators import (
    check_agb,
    check_email,
    check_gemeentecode,
    check_kvk,
    check_postcode,
    check_uzovi,
    check_zorgkantoorcode,
    clean,
    normalize_postcode,
)

DJI_UZOVI = "9992"


def _check_dji(code: str | None) -> str | None:
    if problem := check_uzovi(code):
        return problem
    if code != DJI_UZOVI:
        return f"De Dienst Justitiële Inrichtingen heeft UZOVI-code {DJI_UZOVI}."
    return None


# Per kind: the check of its code, or None when that kind has no code.
CODE_CHECKS: dict[FinancierKind, Callable[[str | None], str | None] | None] = {
    FinancierKind.GEMEENTE: check_gemeentecode,
    FinancierKind.ZORGKANTOOR: check_zorgkantoorcode,
    FinancierKind.ZORGVERZEKERAAR: check_uzovi,
    FinancierKind.DJI: _check_dji,
    FinancierKind.INSTELLING: check_agb,
    FinancierKind.BUDGETHOUDER: None,
    FinancierKind.CLIENT: None,
}


def check_code(kind: FinancierKind, code: str | None) -> str | None:
    check = CODE_CHECKS.get(kind)
    return check(code) if check else None


def kinds_for(financing: FinancingInfo | None) -> tuple[FinancierKind, ...]:
    return financing.financier_kinds if financing else ()


def list_financiers(
    session: Session, *, financing: str | None = None, q: str | None = None
) -> list[Financier]:
    query = select(Financier).order_by(Financier.financing, func.lower(Financier.naam))
    if financing:
        query = query.where(Financier.financing == financing)
    if q := clean(q):
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Financier.naam).like(like), Financier.code == q))
    return list(session.scalars(query))


def is_used(session: Session, financier: Financier) -> bool:
    if financier.id is None:
        return False
    return bool(
        session.scalar(select(exists().where(Legitimation.financier_id == financier.id)))
        or session.scalar(select(exists().where(Contract.financier_id == financier.id)))
    )


def save_financier(
    session: Session,
    financier: Financier | None,
    data: Mapping[str, Any],
    *,
    financings: Mapping[str, FinancingInfo],
    user_id: int | None,
) -> Financier:
    """Create (``financier`` None) or change a financier from form data; FormErrors if wrong."""
    errors: dict[str, str] = {}
    financing_code = clean(data.get("financing"))
    info = financings.get(financing_code)
    kind: FinancierKind | None = None
    if info is None:
        errors["financing"] = "Kies een financiering."
    else:
        soort = clean(data.get("soort"))
        allowed = kinds_for(info)
        if len(allowed) == 1 and not soort:
            soort = allowed[0].value
        if soort not in {k.value for k in allowed}:
            wanted = " of ".join(k.label.lower() for k in allowed)
            errors["soort"] = f"Bij {info.label} is de financier een {wanted}."
        else:
            kind = FinancierKind(soort)

    code: str | None = clean(data.get("code")).replace(" ", "") or None
    if kind is not None:
        if CODE_CHECKS.get(kind) is None:
            code = None  # budget holders and clients have no code
        elif problem := check_code(kind, code):
            errors["code"] = problem

    naam = clean(data.get("naam"))
    if not naam:
        errors["naam"] = "Naam is verplicht."
    postcode = clean(data.get("postcode"))
    if postcode:
        if problem := check_postcode(postcode):
            errors["postcode"] = problem
        else:
            postcode = normalize_postcode(postcode)
    email = clean(data.get("email")).lower()
    if problem := check_email(email):
        errors["email"] = problem
    kvk = clean(data.get("kvk_nummer")).replace(" ", "")
    if kvk and (problem := check_kvk(kvk)):
        errors["kvk_nummer"] = problem

    if financier is not None and kind is not None and info is not None:
        moved = financier.financing != info.code or financier.soort != kind.value
        if moved and is_used(session, financier):
            errors["financing"] = (
                "Deze financier heeft al legitimaties of contracten; financiering en soort "
                "kunnen niet meer veranderen. Maak een nieuwe financier aan."
            )

    if not errors and kind is not None and info is not None:
        duplicate = _duplicate(session, financier, info.code, kind, code, naam)
        if duplicate is not None:
            if code:
                label = kind.code_label or "code"
                errors["code"] = (
                    f"Er is al een financier met deze {label.lower()} bij {info.label}: "
                    f"{duplicate.naam}."
                )
            else:
                errors["naam"] = (
                    f"Er is al een {kind.label.lower()} met deze naam bij {info.label}."
                )
    raise_if(errors)

    creating = financier is None
    if financier is None:
        financier = Financier()
        session.add(financier)
    financier.financing = info.code
    financier.soort = kind.value
    financier.code = code
    financier.naam = naam
    financier.straat = clean(data.get("straat")) or None
    financier.huisnummer = clean(data.get("huisnummer")) or None
    financier.postcode = postcode or None
    financier.plaats = clean(data.get("plaats")) or None
    financier.email = email or None
    financier.kvk_nummer = kvk or None
    financier.actief = creating or str(data.get("actief", "")).lower() in {"1", "on", "true"}
    flush_or_refuse(
        session, {"code": "Er is al een financier met deze code bij deze financiering."}
    )
    audit.record(
        session,
        "financier.aangemaakt" if creating else "financier.gewijzigd",
        user_id=user_id,
        object_type="financier",
        object_id=financier.id,
        detail={"financing": financier.financing, "soort": financier.soort, "code": code},
    )
    return financier


def _duplicate(
    session: Session,
    financier: Financier | None,
    financing: str,
    kind: FinancierKind,
    code: str | None,
    naam: str,
) -> Financier | None:
    query = select(Financier).where(Financier.financing == financing, Financier.soort == kind.value)
    if code:
        query = query.where(Financier.code == code)
    else:  # kinds without a code: one per name (also stops a double click making two)
        query = query.where(Financier.code.is_(None), func.lower(Financier.naam) == naam.lower())
    if financier is not None and financier.id is not None:
        query = query.where(Financier.id != financier.id)
    return session.scalars(query.limit(1)).first()


__all__ = [
    "CODE_CHECKS",
    "FormErrors",
    "check_code",
    "is_used",
    "kinds_for",
    "list_financiers",
    "save_financier",
]
