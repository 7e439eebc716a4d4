from __future__ import annotations

from portal.domain import FinancierKind, Issue
from portal.validators import check_uzovi, financier_issues

CODE = "fz"
DJI_UZOVI = "9992"


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(legitimation, financier, (FinancierKind.DJI,), check_uzovi)
    if financier is not None and financier.code and financier.code != DJI_UZOVI:
        issues.append(
            Issue(
                "financier-code",
                "Forensische zorg wordt gefinancierd door DJI (UZOVI 9992).",
                "financier_id",
            )
        )
    if not legitimation.productcode:
        issues.append(
            Issue(
                "productcode",
                "Een forensische titel heeft een product- of ZZP-code.",
                "productcode",
            )
        )
    if not legitimation.referentienummer:
        issues.append(
            Issue(
                "referentienummer",
                "Vul het plaatsingsnummer (indicatiebesluit) van DJI in.",
                "referentienummer",
            )
        )
    return issues
