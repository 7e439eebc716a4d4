from __future__ import annotations

from portal.domain import FinancierKind, Issue
from portal.validators import financier_issues

CODE = "particulier"


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(legitimation, financier, (FinancierKind.CLIENT,))
    if legitimation.tarief_cents is None or legitimation.tarief_cents <= 0:
        issues.append(Issue("tarief", "Vul de afgesproken prijs per eenheid in.", "tarief_cents"))
    if not (client.postcode and client.huisnummer):
        issues.append(
            Issue(
                "adres",
                "Voor een factuur aan de cliënt is het adres nodig.",
                "adres",
            )
        )
    return issues
