from __future__ import annotations

from portal.domain import FinancierKind, Issue
from portal.validators import check_uzovi, financier_issues

CODE = "zvw_msvt"


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(
        legitimation, financier, (FinancierKind.ZORGVERZEKERAAR,), check_uzovi
    )
    if legitimation.volume is None:
        issues.append(
            Issue(
                "omvang",
                "Een indicatie wijkverpleging/MSVT heeft een omvang (bijv. 4 uur per week).",
                "volume",
            )
        )
    elif not legitimation.frequentie:
        issues.append(Issue("frequentie", "Bij een omvang hoort een frequentie.", "frequentie"))
    return issues
