"""Checks of Dutch identifiers and common fields, each returning a Dutch message or None.

python-stdnum does the checksum work (BSN 11-proef, IBAN mod 97, postcode); the rest are
the fixed formats of the Dutch care standards.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

_DIGITS = re.compile(r"^\d+$")


def clean(value: str | None) -> str:
    return (value or "").strip()


def check_bsn(value: str | None) -> str | None:
    v = clean(value).replace(".", "").replace(" ", "")
    if not v:
        return "BSN is verplicht."
    if not _DIGITS.match(v):
        return "Een BSN bestaat alleen uit cijfers."
    if len(v) != 9:
        return "Een BSN heeft 9 cijfers."
    try:
        stdnum_bsn.validate(v)
    except ValidationError:
        return "Dit BSN klopt niet (de 11-proef faalt). Controleer het nummer."
    return None


def normalize_bsn(value: str) -> str:
    return clean(value).replace(".", "").replace(" ", "")


def _fixed_digits(value: str | None, n: int, name: str) -> str | None:
    v = clean(value)
    if not v:
        return f"{name} is verplicht."
    if not _DIGITS.match(v) or len(v) != n:
        return f"{name} bestaat uit precies {n} cijfers."
    return None


def check_agb(value: str | None) -> str | None:
    return _fixed_digits(value, 8, "AGB-code")


def check_uzovi(value: str | None) -> str | None:
    return _fixed_digits(value, 4, "UZOVI-code")


def check_gemeentecode(value: str | None) -> str | None:
    return _fixed_digits(value, 4, "Gemeentecode")


def check_zorgkantoorcode(value: str | None) -> str | None:
    return _fixed_digits(value, 4, "Zorgkantoorcode")


def check_kvk(value: str | None) -> str | None:
    return _fixed_digits(value, 8, "KvK-nummer")


def check_iban(value: str | None) -> str | None:
    v = clean(value)
    if not v:
        return "IBAN is verplicht."
    try:
        stdnum_iban.validate(v)
    except ValidationError:
        return "Dit IBAN klopt niet. Controleer landcode, controlegetal en rekeningnummer."
    return None


def normalize_iban(value: str) -> str:
    return stdnum_iban.compact(value)


def check_postcode(value: str | None) -> str | None:
    v = clean(value)
    if not v:
        return "Postcode is verplicht."
    try:
        stdnum_postcode.validate(v)
    except ValidationError:
        return "Een postcode is vier cijfers en twee letters, bijvoorbeeld 1234 AB."
    return None


def normalize_postcode(value: str) -> str:
    """'1234ab' -> '1234AB' (the form the iStandaarden use)."""
    return stdnum_postcode.compact(value).replace(" ", "")


def check_email(value: str | None) -> str | None:
    v = clean(value)
    if v and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
        return "Dit is geen geldig e-mailadres."
    return None


_DATE_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), (3, 2, 1)),  # 2026-01-31 (form inputs)
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), (1, 2, 3)),  # 31-01-2026
    (re.compile(r"^(\d{2})(\d{2})(\d{4})$"), (1, 2, 3)),  # 31012026, digits only
)


def parse_date(value: str | None, today: date | None = None) -> date | None:
    """Accepts 2026-01-31 (form inputs), 31-01-2026 (how people type and export) and digits
    only as on a phone's number pad: 31012026, or 3101 (this year).

    The error says what was wrong: a wrong format, or a right format that is not a date
    (31-02-1960: "februari 1960 heeft 29 dagen")."""
    v = typed = clean(value)
    if not v:
        return None
    if re.fullmatch(r"\d{4}", v):
        v = f"{v}{(today or date.today()).year}"
    for pattern, (d, m, y) in _DATE_FORMS:
        match = pattern.match(v)
        if not match:
            continue
        day, month, year = (int(match.group(i)) for i in (d, m, y))
        if not 1 <= month <= 12:
            raise ValueError(f"{typed} is geen datum: maand {month} bestaat niet.")
        try:
            return date(year, month, day)
        except ValueError:
            last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
            raise ValueError(
                f"{typed} is geen datum: {month_label(date(year, month, 1))} heeft {last} dagen."
            ) from None
    raise ValueError(f"{typed} is geen datum: gebruik dd-mm-jjjj (of alleen cijfers: ddmmjjjj).")


def check_period(
    start: date | None, end: date | None, *, start_required: bool = True
) -> str | None:
    if start is None:
        return "Begindatum is verplicht." if start_required else None
    if end is not None and end < start:
        return "De einddatum ligt vóór de begindatum."
    return None


def parse_amount_cents(value: str | None) -> int | None:
    """'12,50' or '12.50' or '1.234,50' -> 1250 / 123450. None for empty."""
    v = clean(value).replace("€", "").replace(" ", "")
    if not v:
        return None
    if "," in v:
        v = v.replace(".", "").replace(",", ".")
    if not re.match(r"^-?\d+(\.\d{1,2})?$", v):
        raise ValueError("Ongeldig bedrag: gebruik bijvoorbeeld 12,50.")
    whole, _, frac = v.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac + "00")[:2]))


MONTH_NAMES = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def month_label(day) -> str:
    """date(2026, 9, 1) -> 'september 2026'."""
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def format_cents(cents: int | None) -> str:
    """1234567 -> '12.345,67' (Dutch notation)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    euros = f"{cents // 100:,}".replace(",", ".")
    return f"{sign}{euros},{cents % 100:02d}"


def financier_issues(legitimation, financier, kinds, check_code=None) -> list:
    """The checks every financing plugin makes on a legitimation's financier."""
    from portal.domain import Issue

    if financier is None:
        return [Issue("financier", "Kies een financier.", "financier_id")]
    issues = []
    if financier.financing != legitimation.financing:
        issues.append(
            Issue(
                "financier-financiering",
                "Deze financier hoort bij een andere financiering.",
                "financier_id",
            )
        )
    if financier.soort not in {k.value for k in kinds}:
        wanted = " of ".join(k.label.lower() for k in kinds)
        issues.append(
            Issue("financier-soort", f"De financier moet een {wanted} zijn.", "financier_id")
        )
    if check_code is not None:
        problem = check_code(financier.code)
        if problem:
            issues.append(Issue("financier-code", f"Financier: {problem}", "financier_id"))
    return issues
