"""What belongs to the Zvw declaration standard (AW319/AW320 for wijkverpleging, ELV and ZG):
legitimation kinds, prestatiecodelijsten, units, retourcodes — as data, read once.

Sources: Vektis AW319 v1.4 (0102 EI code 428/430, 0416 list 065/066/068, 0419 time units, of
which 11, 31 and 41 only for wijkverpleging), summarised in ``shared/standards/vektis-ei.md``;
the code lists in ``data/`` (see ``data/SOURCES.md``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from portal.domain import Unit

CODE = "zvw_msvt"
DATA = Path(__file__).parent / "data"

WIJKVERPLEGING = "wijkverpleging"


@dataclass(frozen=True)
class Kind:
    """A kind of Zvw legitimation: which prestatiecodelijst, which AW319 (EI code), which units."""

    code: str
    label: str
    lijst: str  # AANDUIDING PRESTATIECODELIJST (0416)
    ei_code: int  # CODE EXTERNE-INTEGRATIEBERICHT (0102)
    since: date  # the care is Zvw from this date on
    time_based: bool  # an indicatie per week in hours/minutes (stacks per ISO week)


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(WIJKVERPLEGING, "Wijkverpleging", "065", 428, date(2015, 1, 1), True),
        Kind("elv_laag", "ELV laag complex", "068", 428, date(2017, 1, 1), False),
        Kind("elv_hoog", "ELV hoog complex", "068", 428, date(2017, 1, 1), False),
        Kind("elv_palliatief", "ELV palliatief", "068", 428, date(2017, 1, 1), False),
        Kind("zg", "Zintuiglijk gehandicaptenzorg", "066", 430, date(2015, 1, 1), True),
    )
}


def kind_of(legitimation) -> Kind:
    """The kind of a Zvw legitimation (sleutel ``soort``; wijkverpleging when not given)."""
    return (
        KINDS.get((legitimation.sleutels or {}).get("soort") or WIJKVERPLEGING)
        or KINDS[WIJKVERPLEGING]
    )


# care per week per zorgsoort (wijkverpleging): the sleutel and its Dutch name
ZORGSOORTEN = {
    "uren_pv_vp": "persoonlijke verzorging en verpleging",
    "uren_cmd": "casemanagement dementie",
    "uren_ikz": "intensieve kindzorg",
    "uren_ptz": "palliatieve terminale zorg",
}

# the portal's unit -> TIJDSEENHEID ZORGPERIODE (0419)
UNIT_CODES = {
    Unit.MINUUT.value: "01",
    Unit.UUR.value: "04",
    Unit.DAG.value: "11",  # "overdag": wijkverpleging only
    Unit.ETMAAL.value: "14",
    Unit.DAGDEEL.value: "16",
    Unit.MAAND.value: "31",  # wijkverpleging only
    Unit.JAAR.value: "41",  # wijkverpleging only
    Unit.STUK.value: "81",  # tijdsonafhankelijk
}
UNIT_FROM_CODE = {v: k for k, v in UNIT_CODES.items()}
ONLY_WIJKVERPLEGING = {Unit.DAG.value, Unit.MAAND.value, Unit.JAAR.value}
UNIT_LABELS = {
    "01": "minuten",
    "04": "uren",
    "11": "dagen (overdag)",
    "14": "etmalen",
    "16": "dagdelen",
    "31": "maanden",
    "41": "jaren",
    "81": "stuks",
}


@cache
def lists() -> dict[str, str]:
    """Prestatiecodelijst code -> its name (Vektis COD367 selection)."""
    with (DATA / "prestatiecodelijsten.csv").open(encoding="utf-8") as f:
        return {r["code"]: r["omschrijving_samengevat"] for r in csv.DictReader(f)}


LISTS_USED = ("065", "066", "068")


@dataclass(frozen=True)
class Retourcode:
    code: str
    meaning: str
    action: str
    source: str


@cache
def retourcodes() -> dict[str, Retourcode]:
    with (DATA / "retourcodes.csv").open(encoding="utf-8") as f:
        return {
            r["code"]: Retourcode(r["code"], r["betekenis"], r["actie"], r["bron"])
            for r in csv.DictReader(f)
        }


AWARDED = {"", "0000", "8001"}  # the codes on an AW320 line that mean "toegekend"
NOT_INSURED = "0402"
NOT_IN_CONTRACT = "0613"
TARIFF = "0611"
FUTURE = "8176"
FILE_REJECTED = "0001"


def meaning(code: str) -> str:
    found = retourcodes().get(code)
    return found.meaning if found else f"Onbekende retourcode {code}"


def action(code: str) -> str:
    found = retourcodes().get(code)
    return found.action if found else "Neem contact op met de zorgverzekeraar."


# MSVT: where an insurer contracts it with the provider, its prestatiecodes are contract lines
# like any other. NZa added these 5-character codes for MSVT by "overige sectoren" (2012), so
# that thuiszorg can declare them in the 5 positions of AW319 (vektis-ei.md §2.2). A deployment
# sets its insurers' own codes in the plugin setting ``msvt_prestatiecodes``.
MSVT_CODES_DEFAULT = ("19001", "19002")


def msvt_codes(settings) -> set[str]:
    own = (settings or {}).get(CODE, {}) if settings else {}
    return set(own.get("msvt_prestatiecodes") or MSVT_CODES_DEFAULT)
