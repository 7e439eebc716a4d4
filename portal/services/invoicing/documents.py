"""Invoice documents: the PDF rendering, stored PDFs and their zip, and the helpers the
plugins' invoice templates use (they import these, never Flask)."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import weasyprint  # imported with the app, so forked RQ work horses do not pay for it per job
from sqlalchemy.orm import Session

from portal.models import (
    Invoice,
    InvoiceRun,
)
from portal.services.invoicing.common import InvoiceError, _draft_for, period_label
from portal.validators import format_cents

# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

VAT_EXEMPT_TEXT = "Vrijgesteld van btw op grond van art. 11 lid 1 sub g Wet OB 1968"


def render_html_to_pdf(html: str) -> bytes:
    """WeasyPrint with the system fonts; only ``data:`` resources (the embedded logo), never the
    network or the file system."""
    global _FONT_CONFIG
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its INFO is per layout step
    if _FONT_CONFIG is None:  # one per process: the system fonts are looked up once
        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIG = FontConfiguration()
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols=("data",), fail_on_errors=False)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=_FONT_CONFIG)


_FONT_CONFIG = None


def render_invoice(session: Session, hooks, invoice: Invoice, *, force: bool = False) -> bool:
    """Render and store the PDF of a final invoice (once; the stored PDF is what was sent)."""
    if invoice.nummer is None:
        raise InvoiceError("Een factuur zonder nummer heeft nog geen PDF.")
    if invoice.pdf_sha256 and not force:
        return False
    draft = _draft_for(hooks, invoice)
    pdf = render_html_to_pdf(draft.html)
    invoice.pdf = pdf
    invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    invoice.pdf_rendered_at = datetime.now(UTC)
    return True


def invoice_pdf(session: Session, invoice: Invoice) -> bytes:
    if not invoice.pdf:
        raise InvoiceError("De PDF van deze factuur wordt nog gemaakt. Probeer het zo opnieuw.")
    if hashlib.sha256(invoice.pdf).hexdigest() != invoice.pdf_sha256:
        raise InvoiceError("De opgeslagen PDF is beschadigd (controlegetal klopt niet).")
    return invoice.pdf


def pdf_filename(invoice: Invoice) -> str:
    kind = "creditnota" if invoice.is_credit else "factuur"
    return f"{kind}-{invoice.nummer}.pdf"


def run_zip(session: Session, run: InvoiceRun) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for inv in run.invoices:
            zf.writestr(pdf_filename(inv), invoice_pdf(session, inv))
    return buf.getvalue()


def reminder_filename(invoice: Invoice) -> str:
    return f"herinnering-{invoice.nummer}.pdf"


def reminder_pdf(invoice: Invoice, today) -> bytes:
    """The herinnering as a PDF: which invoice, what was paid, what is still due and by when
    (14 days), with the payment QR code for the amount due. Made when it is sent (the
    invoice's own stored PDF goes along unchanged)."""
    from datetime import timedelta

    env = document_environment(_DOCUMENT_DIR)
    ctx = document_context(invoice)
    ctx.update(
        today=today,
        pay_by=today + timedelta(days=14),
        due_cents=invoice.totaal_cents - (invoice.betaald_cents or 0),
        days_late=(today - invoice.vervaldatum).days,
        reminder_number=(invoice.reminder_count or 0) + 1,
        debtor_pays=(invoice.sleutels or {}).get("debiteur_betaalt", True) is not False,
    )
    return render_html_to_pdf(env.get_template("invoices/reminder_document.html").render(**ctx))


# ---------------------------------------------------------------------------------------------
# helpers for the plugins' invoice templates (they import these, never Flask)
# ---------------------------------------------------------------------------------------------

_DOCUMENT_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def hours(minutes: int | None) -> str:
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    m = abs(minutes)
    return f"{sign}{m // 60}:{m % 60:02d}"


def euro(cents: int | None) -> str:
    return "" if cents is None else f"€ {format_cents(cents)}"


def document_environment(plugin_templates: str | Path) -> jinja2.Environment:
    """A Jinja environment for a plugin's invoice templates, with the shared invoice layout
    (``invoices/document_base.html``) and Dutch filters (datum, euro, uren)."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(plugin_templates)), jinja2.FileSystemLoader(_DOCUMENT_DIR)]
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["datum"] = lambda d: d.strftime("%d-%m-%Y") if d else ""
    env.filters["euro"] = euro
    env.filters["uren"] = hours
    return env


def epc_payload(invoice: Invoice) -> str | None:
    """The text of the EPC069-12 "SEPA credit transfer" QR code (version 002, UTF-8) for an
    open invoice: service tag BCD, version, character set, identification SCT, no BIC (not
    needed within the EEA), the organisation's name and IBAN, the amount due, no purpose, no
    structured reference and the invoice number with its payment reference as remittance text.
    ``None`` without an IBAN, for a creditnota, or when nothing is due."""
    org = invoice.organisation
    iban = "".join((org.iban or "").split()).upper() if org is not None else ""
    due = invoice.totaal_cents - (invoice.betaald_cents or 0)
    if not iban or invoice.is_credit or due <= 0 or due > 99_999_999_999:
        return None
    if (invoice.sleutels or {}).get("debiteur_betaalt") is False:
        return None  # someone else pays (PGB: the SVB), as the plugin said
    text = f"Factuur {invoice.nummer}"
    if invoice.betaalkenmerk:
        text += f" kenmerk {invoice.betaalkenmerk}"
    amount = f"EUR{due // 100}.{due % 100:02d}"
    lines = ["BCD", "002", "1", "SCT", "", org.naam[:70], iban, amount, "", "", text[:140]]
    return "\n".join(lines)


def epc_qr(invoice: Invoice):
    """The payment QR code: error correction level M and at most version 13, as EPC069-12
    demands (the payload is at most 331 bytes, so it always fits)."""
    import segno

    payload = epc_payload(invoice)
    if payload is None:
        return None
    qr = segno.make(payload, error="m", boost_error=False, micro=False, encoding="utf-8")
    if qr.version > 13:  # pragma: no cover - the payload's limits keep it below
        return None
    return qr


def payment_qr_uri(invoice: Invoice) -> str | None:
    """The payment QR code as a PNG ``data:`` URI for the invoice document (crisp at 600 dpi
    print size: 4 px modules, quiet zone included)."""
    qr = epc_qr(invoice)
    return qr.png_data_uri(scale=6, border=4) if qr is not None else None


def document_context(invoice: Invoice) -> dict[str, Any]:
    """What every invoice document shows: the provider, the document kind, totals, VAT text."""
    org = invoice.organisation
    logo = None
    if org is not None and org.logo_png:
        logo = "data:image/png;base64," + base64.b64encode(org.logo_png).decode()
    vat_lines = defaultdict(lambda: [0, 0])
    for line in invoice.lines:
        if line.btw_percentage:
            vat_lines[line.btw_percentage][0] += line.bedrag_cents
            vat_lines[line.btw_percentage][1] += line.btw_cents
    subtotal = sum(line.bedrag_cents for line in invoice.lines)
    vat = sum(line.btw_cents for line in invoice.lines)
    return {
        "invoice": invoice,
        "org": org,
        "org_agb": org.main_agb if org is not None else None,
        "logo": logo,
        "title": "Creditnota" if invoice.is_credit else "Factuur",
        "periode": period_label(invoice.periode_start, invoice.periode_eind),
        "subtotal_cents": subtotal,
        "vat_cents": vat,
        "total_cents": subtotal + vat,
        "vat_charged": vat != 0,
        "vat_rates": sorted(vat_lines.items()),
        "vat_exempt_text": VAT_EXEMPT_TEXT,
        "has_exempt_lines": any(not line.btw_percentage for line in invoice.lines),
        "credit_of": invoice.credit_of,
        # plugins whose debtor does not pay themselves (PGB: the SVB pays) set this to None
        "payment_qr": payment_qr_uri(invoice) if invoice.nummer else None,
    }
