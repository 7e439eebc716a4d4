"""The rules of the example financing. Plain functions: testable without the portal running."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.domain import FinancierKind, Issue, Severity
from portal.validators import check_agb, financier_issues

DEFAULT_MAX_UREN_PER_WEEK = 40


def legitimation_issues(legitimation, financier, settings: Mapping[str, Any]) -> list[Issue]:
    """Findings for one legitimation; an empty list means it may be stored."""
    issues = financier_issues(legitimation, financier, (FinancierKind.INSTELLING,), check_agb)
    if not legitimation.referentienummer:
        issues.append(
            Issue(
                "referentienummer",
                "Vul het opdrachtnummer van de instelling in; het staat op elke factuur.",
                "referentienummer",
            )
        )
    if legitimation.volume is None or legitimation.eenheid not in ("uur", "minuut"):
        issues.append(
            Issue(
                "omvang",
                "Een opdracht voor de voorbeeldfinanciering heeft een omvang in uren of minuten.",
                "volume",
            )
        )
    elif legitimation.frequentie == "week":
        hours = legitimation.volume / (60 if legitimation.eenheid == "minuut" else 1)
        limit = int(settings.get("max_uren_per_week", DEFAULT_MAX_UREN_PER_WEEK))
        if hours > limit:
            issues.append(
                Issue(
                    "omvang-hoog",
                    f"Meer dan {limit} uur per week is ongebruikelijk; controleer de opdracht.",
                    "volume",
                    Severity.WARNING,
                )
            )
    return issues
