from __future__ import annotations

from plugins.pgb import invoices, validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, LegitimationField, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="PGB",
        financier_kinds=(FinancierKind.BUDGETHOUDER,),
        units=(Unit.MINUUT, Unit.UUR, Unit.DAGDEEL, Unit.DAG, Unit.ETMAAL, Unit.STUK),
        can_stack=True,
        standards=("SVB-factuur",),
        channel="pdf",
        description="Facturen aan de budgethouder volgens de eisen van de SVB.",
        legitimation_label="zorgovereenkomst",
        # how the core groups invoices and the payment term it prints
        invoice_per="legitimation",
        betaaltermijn_dagen=30,
        # The form asks which budget (law) the SVB pays from; stored in sleutels["wet"].
        legitimation_fields=(
            LegitimationField(
                "wet", "Budget (wet) waaruit de SVB betaalt", tuple(validation.LAWS.items())
            ),
        ),
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client)


@hookimpl
def build_invoice(invoice, settings):
    if invoice.financing != CODE:
        return None
    return invoices.build(invoice)
