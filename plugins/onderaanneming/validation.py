from __future__ import annotations

from portal.domain import FinancierKind, Issue
from portal.validators import check_agb, financier_issues

CODE = "onderaanneming"


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(legitimation, financier, (FinancierKind.INSTELLING,), check_agb)
    if not legitimation.referentienummer:
        issues.append(
            Issue(
                "referentienummer",
                "Vul het contract- of ordernummer van de hoofdaannemer in; het staat op de factuur.",
                "referentienummer",
            )
        )
    return issues
