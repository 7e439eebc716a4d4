from __future__ import annotations

from plugins.onderaanneming import invoices, validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Onderaanneming",
        financier_kinds=(FinancierKind.INSTELLING,),
        units=(Unit.MINUUT, Unit.UUR, Unit.DAGDEEL, Unit.DAG, Unit.ETMAAL, Unit.STUK),
        can_stack=True,
        standards=("Factuur met specificatie",),
        channel="pdf",
        description="Verkoop: de hoofdaannemer factureren. Inkoop: facturen van onderaannemers controleren.",
        legitimation_label="opdracht",
        # how the core groups invoices and the payment term it prints
        invoice_per="financier",
        betaaltermijn_dagen=30,
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
