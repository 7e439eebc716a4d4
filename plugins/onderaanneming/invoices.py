"""Verkoop in onderaanneming: one invoice to the main contractor per month, with a specification
per client and product (BSN, birth date and their order number, so they can declare it on)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from plugins.onderaanneming.validation import CODE
from portal.domain import InvoiceDraft, Issue
from portal.services.invoicing import document_context, document_environment

_ENV = document_environment(Path(__file__).parent / "templates")


def _address(f) -> list[str]:
    lines = []
    if f.straat or f.huisnummer:
        lines.append(" ".join(p for p in (f.straat, f.huisnummer) if p))
    if f.postcode or f.plaats:
        lines.append(" ".join(p for p in (f.postcode, f.plaats) if p))
    return lines


def specification(invoice) -> list[dict]:
    """Per client: the products with hours, tariff and amount, and the days behind them."""
    per_client: dict[int, dict] = {}
    for line in invoice.lines:
        entry = per_client.setdefault(
            line.client_id,
            {"client": line.client, "products": defaultdict(lambda: [0, 0, 0]), "days": []},
        )
        p = entry["products"][(line.omschrijving, line.tarief_cents, line.eenheid)]
        p[0] += line.minuten or 0
        p[1] += line.bedrag_cents
        p[2] += line.btw_cents
        entry["days"].append(line)
    result = []
    for entry in sorted(per_client.values(), key=lambda e: e["client"].naam):
        products = [
            {
                "omschrijving": k[0],
                "tarief_cents": k[1],
                "eenheid": k[2],
                "minuten": v[0],
                "bedrag_cents": v[1],
            }
            for k, v in sorted(entry["products"].items())
        ]
        result.append(
            {
                "client": entry["client"],
                "products": products,
                "minuten": sum(p["minuten"] for p in products),
                "bedrag_cents": sum(p["bedrag_cents"] for p in products),
                "days": entry["days"],
            }
        )
    return result


def build(invoice) -> InvoiceDraft:
    financier = invoice.financier
    address = _address(financier)
    name = financier.naam
    if invoice.nummer and invoice.debiteur_naam:
        name, address = invoice.debiteur_naam, invoice.adres_regels
    refs = sorted(
        {
            leg.referentienummer
            for leg in (line.legitimation for line in invoice.lines)
            if leg is not None and leg.referentienummer
        }
    )
    ctx = document_context(invoice)
    ctx.update(
        financier=financier,
        debtor_name=name,
        debtor_address=address,
        references=refs,
        spec=specification(invoice),
    )
    issues = []
    if len(address) < 2:
        issues.append(Issue("adres", f"Het adres van {financier.naam} is niet compleet."))
    if invoice.organisation is not None and not invoice.organisation.main_agb:
        issues.append(Issue("agb", "De AGB-code van de organisatie ontbreekt."))
    html = document(ctx) if invoice.status != "concept" else ""  # a preview needs no document
    return InvoiceDraft(
        html=html,
        debtor_name=name,
        debtor_address=address,
        debtor_reference=f"AGB {financier.code}" if financier.code else None,
        debtor_email=financier.email,
        filename=f"{ctx['title'].lower()}-{invoice.nummer or 'concept'}.pdf",
        subject=f"{ctx['title']} {invoice.nummer or ''} onderaanneming {ctx['periode']}",
        issues=issues,
    )


def document(ctx: dict) -> str:
    return _ENV.get_template(f"{CODE}/invoice.html").render(**ctx)
