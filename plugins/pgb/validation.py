from __future__ import annotations

from portal.domain import FinancierKind, Issue
from portal.validators import financier_issues

CODE = "pgb"
LAWS = {"wlz": "Wlz", "wmo": "Wmo", "jw": "Jeugdwet", "zvw": "Zvw"}


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(legitimation, financier, (FinancierKind.BUDGETHOUDER,))
    if not client.has_budgethouder:
        issues.append(
            Issue(
                "budgethouder",
                "Voor PGB zijn de gegevens van de budgethouder nodig: naam, BSN of SVB-relatienummer en adres.",
                "budgethouder",
            )
        )
    if legitimation.tarief_cents is None or legitimation.tarief_cents <= 0:
        issues.append(Issue("tarief", "Vul het tarief uit de zorgovereenkomst in.", "tarief_cents"))
    law = (legitimation.sleutels or {}).get("wet")
    if law not in LAWS:
        issues.append(
            Issue(
                "wet",
                "Kies uit welk budget (welke wet) de SVB betaalt: Wlz, Wmo, Jeugdwet of Zvw.",
                "wet",
            )
        )
    return issues
