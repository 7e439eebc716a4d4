"""The private invoice: to the client, or to the person who pays for them (``sleutels`` of the
agreement: ``betaler_naam``, ``betaler_adres`` — lines separated by newlines — and
``betaler_email``), with payment term, IBAN and a payment reference."""

from __future__ import annotations

from pathlib import Path

from plugins.particulier.validation import CODE
from portal.domain import InvoiceDraft, Issue
from portal.services.invoicing import document_context, document_environment

_ENV = document_environment(Path(__file__).parent / "templates")


def payer(client, legitimation) -> dict:
    keys = (legitimation.sleutels or {}) if legitimation is not None else {}
    if keys.get("betaler_naam"):
        return {
            "naam": keys["betaler_naam"],
            "adres": [
                r.strip() for r in str(keys.get("betaler_adres", "")).split("\n") if r.strip()
            ],
            "email": keys.get("betaler_email"),
            "is_client": False,
        }
    lines = []
    street = " ".join(
        p for p in (client.straat, client.huisnummer, client.huisnummer_toevoeging) if p
    )
    if street:
        lines.append(street)
    if client.postcode or client.plaats:
        lines.append(" ".join(p for p in (client.postcode, client.plaats) if p))
    return {
        "naam": client.volledige_naam,
        "adres": lines,
        "email": client.email,
        "is_client": True,
    }


def build(invoice) -> InvoiceDraft:
    client = invoice.client
    who = payer(client, invoice.legitimation)
    if invoice.nummer and invoice.debiteur_naam:  # final: print the stored snapshot
        who = dict(who, naam=invoice.debiteur_naam, adres=invoice.adres_regels)
    ctx = document_context(invoice)
    ctx.update(payer=who, client=client)
    issues = []
    if len(who["adres"]) < 2:
        issues.append(Issue("adres", "Het adres van de ontvanger van de factuur is niet compleet."))
    org = invoice.organisation
    if org is not None and not org.iban:
        issues.append(Issue("iban", "Vul het IBAN van de organisatie in; het staat op de factuur."))
    if (
        any(line.btw_percentage for line in invoice.lines)
        and org is not None
        and not org.btw_nummer
    ):
        issues.append(Issue("btw", "Er wordt btw gerekend, maar het btw-nummer ontbreekt."))
    html = document(ctx) if invoice.status != "concept" else ""  # a preview needs no document
    return InvoiceDraft(
        html=html,
        debtor_name=who["naam"],
        debtor_address=who["adres"],
        debtor_reference=f"Cliëntnummer {client.clientnummer}" if client.clientnummer else None,
        debtor_email=who["email"],
        filename=f"{ctx['title'].lower()}-{invoice.nummer or 'concept'}.pdf",
        subject=f"{ctx['title']} {invoice.nummer or ''} {ctx['periode']}",
        issues=issues,
    )


def document(ctx: dict) -> str:
    return _ENV.get_template(f"{CODE}/invoice.html").render(**ctx)
