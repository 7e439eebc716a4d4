"""Invoice runs for the financings that are paid on a PDF invoice (PGB, particulier,
onderaanneming, and any plugin that implements ``build_invoice``).

The flow: choose a financing and an ended calendar month → :func:`preview` (per debtor: lines,
totals, issues) → :func:`create_run` (final invoices with gap-free numbers, all in one transaction)
→ the PDF job renders each invoice through the plugin's ``build_invoice`` and WeasyPrint.

What is invoiced comes from the stacking service (``portal.services.stacking.allocate``): only the
part of each ISO week that falls to this financing, with the stack's rounding. The core never asks
which financing it is: the plugin says in ``FinancingInfo`` how invoices are grouped
(``invoice_per``: ``"legitimation"`` = one invoice per client agreement, ``"financier"`` = one per
paying institution) and its payment term (``betaaltermijn_dagen``).

Rooms: ``run`` (preview, create_run, credit notes, payments, overdue), ``documents`` (document
context and environment for the plugins' templates, PDF rendering, stored PDFs, zip), ``mail``
(send_invoice); ``common`` holds the Dutch error and the periods they share. Every public name is
importable from ``portal.services.invoicing``.
"""

from __future__ import annotations

from portal.services.invoicing.common import (
    MAANDEN,
    InvoiceError,
    check_period,
    invoice_financings,
    last_month,
    month_period,
    period_label,
)
from portal.services.invoicing.documents import (
    VAT_EXEMPT_TEXT,
    document_context,
    document_environment,
    epc_payload,
    epc_qr,
    euro,
    hours,
    invoice_pdf,
    pdf_filename,
    reminder_pdf,
    render_html_to_pdf,
    render_invoice,
    run_zip,
)
from portal.services.invoicing.mail import (
    AlreadySent,
    mailable,
    queue_sending,
    send_invoice,
)
from portal.services.invoicing.run import (
    TIME_UNITS,
    DebtorGroup,
    LineDraft,
    NotCovered,
    RunPreview,
    create_run,
    credit_invoice,
    hooks_label,
    mark_paid,
    overdue,
    payment_reference,
    preview,
    queue_render,
    run_label,
)

__all__ = [
    "MAANDEN",
    "TIME_UNITS",
    "VAT_EXEMPT_TEXT",
    "AlreadySent",
    "DebtorGroup",
    "InvoiceError",
    "LineDraft",
    "NotCovered",
    "RunPreview",
    "check_period",
    "create_run",
    "credit_invoice",
    "document_context",
    "document_environment",
    "epc_payload",
    "epc_qr",
    "euro",
    "hooks_label",
    "hours",
    "invoice_financings",
    "invoice_pdf",
    "last_month",
    "mailable",
    "mark_paid",
    "month_period",
    "overdue",
    "payment_reference",
    "pdf_filename",
    "period_label",
    "preview",
    "queue_render",
    "queue_sending",
    "reminder_pdf",
    "render_html_to_pdf",
    "render_invoice",
    "run_label",
    "run_zip",
    "send_invoice",
]
