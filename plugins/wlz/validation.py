from __future__ import annotations

import re

from portal.domain import FinancierKind, Issue
from portal.validators import check_zorgkantoorcode, financier_issues

CODE = "wlz"


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(
        legitimation, financier, (FinancierKind.ZORGKANTOOR,), check_zorgkantoorcode
    )
    from_aw33 = bool((legitimation.sleutels or {}).get("besluitnummer"))
    if not legitimation.productcode and not from_aw33:
        issues.append(
            Issue(
                "productcode",
                "Een Wlz-indicatie heeft een prestatie- of productcode (bijv. H126).",
                "productcode",
            )
        )
    elif legitimation.productcode and not re.match(r"^[0-9A-Z]{3,6}$", legitimation.productcode):
        issues.append(Issue("productcode", "Een Wlz-productcode is 3 tot 6 tekens.", "productcode"))
    if legitimation.volume is not None and not legitimation.frequentie:
        issues.append(Issue("frequentie", "Bij een omvang hoort een frequentie.", "frequentie"))
    return issues
