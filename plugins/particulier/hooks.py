from __future__ import annotations

from plugins.particulier import invoices, validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Particulier",
        financier_kinds=(FinancierKind.CLIENT,),
        units=(Unit.MINUUT, Unit.UUR, Unit.DAGDEEL, Unit.DAG, Unit.ETMAAL, Unit.STUK),
        can_stack=True,
        standards=("Factuur",),
        channel="pdf",
        description="Zorg die de cliënt zelf betaalt, op factuur met betaaltermijn.",
        legitimation_label="particuliere afspraak",
        # how the core groups invoices and the payment term it prints
        invoice_per="legitimation",
        betaaltermijn_dagen=14,
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
