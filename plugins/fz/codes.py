"""The code lists of forensische zorg, as data tables in ``plugins/fz/data/``.

DJI's own lists (forensische titels, its product structure, its retourcodes) are not public: the
tables are provisional lists of ours, each saying so in its header; the Vektis retourcodes in them
are the public ones. Replacing a list is replacing its CSV file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

# which message declares which kind of care
GDS801_SOORTEN = frozenset({"klinisch", "ambulant"})
FZ303_SOORTEN = frozenset({"zzp", "extramuraal"})
SOORT_LABELS = {
    "klinisch": "klinisch (zorgprestatiemodel)",
    "ambulant": "ambulant (zorgprestatiemodel)",
    "zzp": "ZZP",
    "extramuraal": "extramurale parameter",
}


def _rows(name: str) -> list[dict[str, str]]:
    text = (DATA / name).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


@dataclass(frozen=True)
class Titel:
    code: str
    omschrijving: str
    toegestaan: frozenset[str]


@dataclass(frozen=True)
class Prestatie:
    code: str
    omschrijving: str
    soort: str  # klinisch | ambulant | zzp | extramuraal
    eenheid: str  # a portal Unit value
    tijdseenheid: str  # EI 0419

    @property
    def bericht(self) -> str:
        return "GDS801" if self.soort in GDS801_SOORTEN else "FZ303"


@cache
def titels() -> dict[str, Titel]:
    return {
        r["code"]: Titel(r["code"], r["omschrijving"], frozenset(r["toegestaan"].split("|")))
        for r in _rows("titels.csv")
    }


@cache
def prestaties() -> dict[str, Prestatie]:
    return {
        r["code"]: Prestatie(
            r["code"], r["omschrijving"], r["soort"], r["eenheid"], r["tijdseenheid"]
        )
        for r in _rows("prestaties.csv")
    }


@cache
def retourcodes() -> dict[str, tuple[str, bool]]:
    return {r["code"]: (r["betekenis"], r["toegekend"] == "1") for r in _rows("retourcodes.csv")}


def meaning(code: str) -> str:
    found = retourcodes().get(code)
    return found[0] if found else f"onbekende retourcode {code}"


def is_ok(code: str) -> bool:
    found = retourcodes().get(code)
    return bool(found and found[1])


def allowed(titel: str | None, prestatiecode: str | None) -> bool:
    """May care of this prestatie be delivered under this titel? Unknown codes: no."""
    t, p = titels().get(titel or ""), prestaties().get(prestatiecode or "")
    return bool(t and p and p.soort in t.toegestaan)


def titel_label(code: str | None) -> str:
    t = titels().get(code or "")
    return f"{t.code} {t.omschrijving}" if t else (code or "—")


def prestatie_label(code: str | None) -> str:
    p = prestaties().get(code or "")
    return f"{p.code} {p.omschrijving}" if p else (code or "—")
