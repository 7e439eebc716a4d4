"""Hook implementations only; the rules live in ``validation``.

The portal finds this module through the entry point ``voorbeeld`` in the group
``declaratieportaal`` (see pyproject.toml) and registers it next to the built-in financings.
"""

from __future__ import annotations

from declaratieportaal_voorbeeld import CODE, validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Voorbeeldfinanciering",
        financier_kinds=(FinancierKind.INSTELLING,),
        units=(Unit.MINUUT, Unit.UUR),
        can_stack=False,
        standards=("Voorbeeldfactuur",),
        channel="pdf",
        description="Een voorbeeld van een financiering uit een eigen pakket (buiten de portal).",
        legitimation_label="opdracht",
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None  # not mine
    return validation.legitimation_issues(legitimation, financier, settings.get(CODE, {}))
