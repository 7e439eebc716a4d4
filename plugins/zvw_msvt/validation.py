"""Checks on a Zvw legitimation: the indicatie of the wijkverpleegkundige, ELV or ZG.

Every refusal names its field (a column of the legitimation or one of the plugin's own fields in
``sleutels``), in Dutch, so the form shows it where the user typed it.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import object_session

from plugins.zvw_msvt.standard import CODE, KINDS, WIJKVERPLEGING, ZORGSOORTEN, kind_of
from portal.domain import FinancierKind, Issue, LegitimationField, Severity, Unit
from portal.validators import check_uzovi, financier_issues

__all__ = ["CODE", "FIELDS", "legitimation_issues", "parse_hours"]

FIELDS = (
    LegitimationField("soort", "Soort indicatie", tuple((k.code, k.label) for k in KINDS.values())),
    LegitimationField("indicatiesteller", "Gesteld door (naam)"),
    LegitimationField("big_nummer", "BIG-nummer van de indicatiesteller"),
    LegitimationField("verzekerdennummer", "Verzekerdennummer"),
    *(LegitimationField(k, f"Uren per week {v}") for k, v in ZORGSOORTEN.items()),
)

_HOURS = re.compile(r"^(\d{1,3})(?:[,.](\d{1,2})|:([0-5]\d))?$")


def parse_hours(text: str | None) -> int | None:
    """``"4"``, ``"4,5"``, ``"4.25"`` or ``"4:30"`` hours as minutes; None when it does not
    parse (an empty value is 0)."""
    value = (text or "").strip().replace(" ", "")
    if not value:
        return 0
    m = _HOURS.match(value)
    if m is None:
        return None
    hours, frac, mins = m.groups()
    minutes = int(hours) * 60
    if frac is not None:
        minutes += round(int(frac.ljust(2, "0")) * 60 / 100)
    elif mins is not None:
        minutes += int(mins)
    return minutes


def _hm(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def weekly_minutes(legitimation) -> int | None:
    """The legitimation's volume per week in minutes, or None when it has none in time."""
    unit = Unit(legitimation.eenheid) if legitimation.eenheid in Unit._value2member_map_ else None
    if legitimation.volume is None or unit is None or not unit.is_time:
        return None
    if legitimation.frequentie != "week":
        return None
    return legitimation.volume * unit.minutes


def legitimation_issues(legitimation, financier, client, today: date | None = None) -> list[Issue]:
    today = today or date.today()
    issues = financier_issues(
        legitimation, financier, (FinancierKind.ZORGVERZEKERAAR,), check_uzovi
    )
    if financier is not None and financier.code and not check_uzovi(financier.code):
        issues += _uzovi_known(financier)
    keys = legitimation.sleutels or {}
    soort = keys.get("soort") or WIJKVERPLEGING
    if soort not in KINDS:
        allowed = ", ".join(k.label for k in KINDS.values())
        issues.append(Issue("soort", f"Onbekende soort indicatie. Kies uit: {allowed}.", "soort"))
        return issues
    kind = kind_of(legitimation)

    steller = (keys.get("indicatiesteller") or "").strip()
    if not steller:
        who = "de wijkverpleegkundige" if kind.code == WIJKVERPLEGING else "de arts of deskundige"
        issues.append(
            Issue(
                "indicatiesteller",
                f"Vul in wie de indicatie heeft gesteld ({who}).",
                "indicatiesteller",
            )
        )
    big = (keys.get("big_nummer") or "").strip()
    if big and not re.fullmatch(r"\d{11}", big):
        issues.append(Issue("big_nummer", "Het BIG-nummer bestaat uit 11 cijfers.", "big_nummer"))
    verz = (keys.get("verzekerdennummer") or "").strip()
    if verz and not re.fullmatch(r"\d{1,15}", verz):
        issues.append(
            Issue(
                "verzekerdennummer",
                "Het verzekerdennummer bestaat alleen uit cijfers (hoogstens 15), zoals op de "
                "zorgpas.",
                "verzekerdennummer",
            )
        )

    per_soort = 0
    given = False
    for key, label in ZORGSOORTEN.items():
        raw = keys.get(key)
        if raw in (None, ""):
            continue
        given = True
        if kind.code != WIJKVERPLEGING:
            issues.append(
                Issue(key, f"Uren per zorgsoort horen alleen bij wijkverpleging ({label}).", key)
            )
            continue
        minutes = parse_hours(str(raw))
        if minutes is None:
            issues.append(
                Issue(
                    key,
                    f"Uren per week {label}: '{raw}' is geen aantal uren. Schrijf bijvoorbeeld "
                    "4, 4,5 of 4:30.",
                    key,
                )
            )
            continue
        per_soort += minutes

    if legitimation.begindatum and legitimation.begindatum < kind.since:
        issues.append(
            Issue(
                "begindatum",
                f"{kind.label} valt pas vanaf {kind.since:%d-%m-%Y} onder de Zorgverzekeringswet.",
                "begindatum",
            )
        )
    if kind.time_based:
        weekly = weekly_minutes(legitimation)
        if legitimation.volume is None:
            issues.append(
                Issue(
                    "omvang",
                    f"Een indicatie {kind.label.lower()} heeft een omvang in uren of minuten per "
                    "week (bijv. 6 uur per week).",
                    "volume",
                )
            )
        elif weekly is None:
            issues.append(
                Issue(
                    "eenheid",
                    "De omvang van deze indicatie is in uren of minuten per week.",
                    "eenheid",
                )
            )
        elif (
            given
            and per_soort
            and per_soort != weekly
            and not any(i.field in ZORGSOORTEN for i in issues)
        ):
            issues.append(
                Issue(
                    "omvang",
                    f"De omvang ({_hm(weekly)} uur per week) is niet gelijk aan de uren per "
                    f"zorgsoort samen ({_hm(per_soort)} uur per week).",
                    "volume",
                )
            )
    elif legitimation.eenheid and legitimation.eenheid not in (Unit.DAG.value, Unit.ETMAAL.value):
        issues.append(
            Issue(
                "eenheid",
                "De omvang van een ELV-indicatie is in verblijfsdagen (etmaal of dag).",
                "eenheid",
            )
        )
    if legitimation.einddatum is not None and legitimation.einddatum < today:
        issues.append(
            Issue(
                "beeindigd",
                f"Deze indicatie is op {legitimation.einddatum:%d-%m-%Y} geëindigd: zorg daarna "
                "wordt niet bij de zorgverzekeraar gedeclareerd. Vraag zo nodig een nieuwe "
                "indicatie aan.",
                "einddatum",
                Severity.WARNING,
            )
        )
    return issues


def _uzovi_known(financier) -> list[Issue]:
    """The UZOVI must be a zorgverzekeraar in the financier table (not merely 4 digits)."""
    from portal.models import Financier

    session = object_session(financier)
    if session is None or financier.id is None:
        return []
    found = session.scalar(
        select(Financier.id).where(
            Financier.financing == CODE,
            Financier.soort == FinancierKind.ZORGVERZEKERAAR.value,
            Financier.code == financier.code,
        )
    )
    if found is None:
        return [
            Issue(
                "uzovi",
                f"UZOVI-code {financier.code} staat niet in de tabel met zorgverzekeraars.",
                "financier_id",
            )
        ]
    return []
