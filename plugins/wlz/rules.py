"""The iWlz checks a provider can decide before a message leaves, and the choices a screen offers.

Every refusal is an :class:`~portal.domain.Issue` with the standard's own retourcode where one
exists (``0699`` startdatum levering onjuist, ``1156`` mutatiedatum onjuist — the codes a
zorgkantoor would answer with in its AW36/AW310) and a Dutch explanation; the choices below are
the only values the screens offer, so a wrong combination cannot be made by clicking.
"""

from __future__ import annotations

from datetime import date

from portal.domain import Issue

# Mutatiecodes (LDT_MutatieCode) and when they may be sent: before care started on the
# toewijzing (no accepted AW35) or after.
MUTATIE_VOOR_START = ("12", "18", "21")  # cliënt wil nog niet, aanbieder kan nog niet, overdracht
MUTATIE_NA_START = ("17", "19", "20")  # overplaatsing, beëindigd (toewijzing sluiten/aanhouden)
# Leveringsstatus (LDT_Leveringsstatus) that goes with a mutatie on a ZZP: waiting statuses for
# "not yet", "einde zorgvraag" when care ends or moves (our reading of the iWlz
# werkinstructie; kept as data so a zorgkantoor's own instruction can replace it).
LEVERINGSSTATUS_BIJ_MUTATIE = {
    "12": ("2", "3"),
    "18": ("1", "6", "7"),
    "17": ("5",),
    "19": ("5",),
    "20": ("5",),
    "21": ("5",),
}
# An AW35 reports that care has begun: the client is "in zorg".
LEVERINGSSTATUS_START = ("4",)
# Etmalen (LDT_Etmalen) only for deeltijdverblijf.
LEVERINGSVORM_MET_ETMALEN = ("8",)
# Mutaties that ask for an InstellingBestemming (where the client goes).
MUTATIE_MET_BESTEMMING = ("17", "21")


def start_issues(
    toewijzing: dict, begindatum: date | None, today: date, *, leveringsvorm=None, etmalen=None
) -> list[Issue]:
    """AW35 checks against the toewijzing (``sleutels`` of the Wlz legitimation)."""
    issues = []
    ingang = date.fromisoformat(toewijzing["toewijzing_ingangsdatum"])
    eind = toewijzing.get("einddatum")
    if begindatum is None:
        return [Issue("0699", "Vul de datum in waarop de zorg is begonnen.", "begindatum")]
    if begindatum < ingang:
        issues.append(
            Issue(
                "0699",
                f"De zorg kan niet beginnen vóór de ingangsdatum van de toewijzing "
                f"({ingang:%d-%m-%Y}); kies een begindatum op of na die datum.",
                "begindatum",
            )
        )
    if eind and begindatum > date.fromisoformat(eind):
        issues.append(
            Issue(
                "0699",
                f"De begindatum ligt na de einddatum van de toewijzing "
                f"({date.fromisoformat(eind):%d-%m-%Y}).",
                "begindatum",
            )
        )
    if begindatum > today:
        issues.append(
            Issue(
                "0699",
                "Een start wordt gemeld als de zorg begonnen is: de begindatum ligt in de toekomst.",
                "begindatum",
            )
        )
    if toewijzing.get("soort") == "zzp":
        if leveringsvorm != toewijzing.get("leveringsvorm"):
            issues.append(
                Issue(
                    "leveringsvorm",
                    "De leveringsvorm moet gelijk zijn aan de toegewezen leveringsvorm.",
                    "leveringsvorm",
                )
            )
        if etmalen and toewijzing.get("leveringsvorm") not in LEVERINGSVORM_MET_ETMALEN:
            issues.append(
                Issue(
                    "etmalen",
                    "Etmalen horen alleen bij deeltijdverblijf (leveringsvorm 8).",
                    "etmalen",
                )
            )
    return issues


def mutatie_issues(
    toewijzing: dict,
    started: date | None,
    mutatiecode: str,
    mutatiedatum: date | None,
    leveringsstatus: str | None,
    today: date,
    bestemming: str | None = None,
) -> list[Issue]:
    """AW39 checks: the mutatiecode fits whether care started, the date fits the start and the
    toewijzing, and the leveringsstatus fits the mutatie."""
    issues = []
    allowed = MUTATIE_NA_START if started else MUTATIE_VOOR_START
    if mutatiecode not in allowed:
        issues.append(
            Issue(
                "mutatiecode",
                (
                    "Deze mutatie kan alleen als de zorg is gestart (eerst een AW35)."
                    if mutatiecode in MUTATIE_NA_START
                    else "Deze mutatie kan alleen zolang de zorg nog niet is gestart; "
                    "meld het einde van de zorg met mutatie 19 of 20."
                ),
                "mutatiecode",
            )
        )
    if mutatiedatum is None:
        return [*issues, Issue("1156", "Vul de mutatiedatum in.", "mutatiedatum")]
    ingang = date.fromisoformat(toewijzing["toewijzing_ingangsdatum"])
    if started and mutatiedatum < started:
        issues.append(
            Issue(
                "1156",
                f"De mutatiedatum ligt vóór de start van de zorg ({started:%d-%m-%Y}); het "
                "einde van de zorg kan niet vóór het begin liggen.",
                "mutatiedatum",
            )
        )
    if mutatiedatum < ingang:
        issues.append(
            Issue(
                "1156",
                f"De mutatiedatum ligt vóór de ingangsdatum van de toewijzing ({ingang:%d-%m-%Y}).",
                "mutatiedatum",
            )
        )
    if mutatiedatum > today and mutatiecode in ("19", "20", "17"):
        issues.append(
            Issue(
                "1156",
                "Het einde van de zorg wordt gemeld als het zover is: de mutatiedatum ligt in "
                "de toekomst.",
                "mutatiedatum",
            )
        )
    if toewijzing.get("soort") == "zzp" and leveringsstatus not in LEVERINGSSTATUS_BIJ_MUTATIE.get(
        mutatiecode, ()
    ):
        issues.append(
            Issue(
                "leveringsstatus",
                "Deze leveringsstatus past niet bij de gekozen mutatie.",
                "leveringsstatus",
            )
        )
    if mutatiecode in MUTATIE_MET_BESTEMMING and not (bestemming or "").isdigit():
        issues.append(
            Issue(
                "bestemming",
                "Geef de iWlz-AGB-code (8 cijfers) van de instelling waar de cliënt naartoe gaat.",
                "bestemming",
            )
        )
    elif bestemming and (len(bestemming) != 8 or not bestemming.isdigit()):
        issues.append(Issue("bestemming", "Een iWlz-AGB-code is 8 cijfers.", "bestemming"))
    return issues
