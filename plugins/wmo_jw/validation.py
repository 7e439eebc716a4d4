from __future__ import annotations

import re

from portal.domain import FinancierKind, Issue, Unit
from portal.validators import check_gemeentecode, financier_issues

CODE = "wmo_jw"
# iWmo/iJw productcategorie: 2 characters; productcode: 5 characters (both kept as text).
_CATEGORIE = re.compile(r"^[0-9A-Z]{2}$")
_PRODUCTCODE = re.compile(r"^[0-9A-Z]{5}$")


def legitimation_issues(legitimation, financier, client) -> list[Issue]:
    issues = financier_issues(
        legitimation, financier, (FinancierKind.GEMEENTE,), check_gemeentecode
    )
    if not legitimation.productcategorie:
        issues.append(
            Issue(
                "productcategorie", "Een toewijzing heeft een productcategorie.", "productcategorie"
            )
        )
    elif not _CATEGORIE.match(legitimation.productcategorie):
        issues.append(
            Issue(
                "productcategorie",
                "Een productcategorie is 2 tekens, bijvoorbeeld 07.",
                "productcategorie",
            )
        )
    if legitimation.productcode and not _PRODUCTCODE.match(legitimation.productcode):
        issues.append(
            Issue("productcode", "Een productcode is 5 tekens, bijvoorbeeld 07A05.", "productcode")
        )
    if not legitimation.toewijzingnummer:
        issues.append(
            Issue(
                "toewijzingnummer",
                "Het toewijzingnummer van de gemeente is verplicht.",
                "toewijzingnummer",
            )
        )
    elif not re.match(r"^\d{1,8}$", legitimation.toewijzingnummer):
        issues.append(
            Issue(
                "toewijzingnummer", "Een toewijzingnummer is 1 tot 8 cijfers.", "toewijzingnummer"
            )
        )
    has_volume = legitimation.volume is not None
    has_budget = legitimation.budget_cents is not None
    if has_volume and not legitimation.frequentie:
        issues.append(Issue("frequentie", "Bij een omvang hoort een frequentie.", "frequentie"))
    if not has_volume and not has_budget and legitimation.productcode:
        issues.append(
            Issue(
                "omvang", "Een toewijzing met productcode heeft een omvang of een budget.", "volume"
            )
        )
    if has_volume and legitimation.eenheid == Unit.EURO.value:
        issues.append(
            Issue(
                "eenheid",
                "Gebruik voor een budget het veld budget, niet de eenheid euro.",
                "eenheid",
            )
        )
    return issues
