"""The SVB-proof PGB invoice: what the SVB checks, taken from the invoice and its agreement.

The SVB pays a provider only when the invoice names the budget holder (initials, surname, BSN or
SVB relatienummer, address), the provider (name, address, KvK, AGB), the invoice number and date,
an ended period of one calendar month, every day with hours and the agreed tariff, the total,
which budget (law) pays, room for the budget holder's signature, and a VAT number only when VAT
is charged.
"""

from __future__ import annotations

from pathlib import Path

from plugins.pgb.validation import CODE, LAWS
from portal.domain import InvoiceDraft, Issue
from portal.services.invoicing import document_context, document_environment

_ENV = document_environment(Path(__file__).parent / "templates")


def budgethouder(client) -> dict:
    """The budget holder as the SVB knows them: the client or a representative."""
    if client.budgethouder_is_client:
        parts = (client.voorletters, client.tussenvoegsel, client.achternaam)
        address = (client.straat, client.huisnummer, client.postcode, client.plaats)
        bsn = client.bsn
    else:
        parts = (
            client.budgethouder_voorletters,
            client.budgethouder_tussenvoegsel,
            client.budgethouder_achternaam,
        )
        address = (
            client.budgethouder_straat,
            client.budgethouder_huisnummer,
            client.budgethouder_postcode,
            client.budgethouder_plaats,
        )
        bsn = client.budgethouder_bsn
    straat, huisnummer, postcode, plaats = address
    lines = []
    if straat or huisnummer:
        lines.append(" ".join(p for p in (straat, huisnummer) if p))
    if postcode or plaats:
        lines.append(" ".join(p for p in (postcode, plaats) if p))
    if bsn:
        reference = f"BSN {bsn}"
    elif client.svb_relatienummer:
        reference = f"SVB-relatienummer {client.svb_relatienummer}"
    else:
        reference = None
    return {
        "voorletters": parts[0],
        "naam": " ".join(p for p in parts if p),
        "achternaam": parts[2],
        "adres": lines,
        "kenmerk": reference,
        "is_client": client.budgethouder_is_client,
    }


def invoice_issues(invoice, holder: dict, law: str | None) -> list[Issue]:
    issues = []
    if not holder["voorletters"] or not holder["achternaam"]:
        issues.append(
            Issue("budgethouder", "Voorletters en achternaam van de budgethouder ontbreken.")
        )
    if not holder["kenmerk"]:
        issues.append(
            Issue("budgethouder", "BSN of SVB-relatienummer van de budgethouder ontbreekt.")
        )
    if len(holder["adres"]) < 2:
        issues.append(Issue("budgethouder", "Het adres van de budgethouder is niet compleet."))
    if law not in LAWS:
        issues.append(
            Issue(
                "wet",
                "In de zorgovereenkomst staat niet uit welk budget (welke wet) de SVB betaalt.",
            )
        )
    org = invoice.organisation
    if org is not None:
        if not org.kvk_nummer or not org.main_agb:
            issues.append(
                Issue(
                    "organisatie",
                    "KvK-nummer en AGB-code van de organisatie zijn nodig voor de SVB.",
                )
            )
        if not (org.straat and org.postcode and org.plaats):
            issues.append(Issue("organisatie", "Het adres van de organisatie is niet compleet."))
    vat = any(line.btw_percentage for line in invoice.lines)
    if vat and org is not None and not org.btw_nummer:
        issues.append(Issue("btw", "Er wordt btw gerekend, maar het btw-nummer ontbreekt."))
    for line in invoice.lines:
        if not line.tarief_cents:
            issues.append(Issue("tarief", f"Geen afgesproken tarief op {line.datum:%d-%m-%Y}."))
            break
    return issues


def build(invoice) -> InvoiceDraft:
    leg = invoice.legitimation
    client = invoice.client
    holder = budgethouder(client)
    if invoice.nummer and invoice.debiteur_naam:  # final: print the stored snapshot
        holder = dict(holder, naam=invoice.debiteur_naam, adres=invoice.adres_regels)
        holder["kenmerk"] = invoice.debiteur_kenmerk
    law = ((leg.sleutels or {}).get("wet") if leg is not None else None) or invoice.sleutels.get(
        "wet"
    )
    ctx = document_context(invoice)
    ctx.update(
        holder=holder,
        client=client,
        law_label=LAWS.get(law, "onbekend"),
        legitimation=leg,
        # the SVB pays from the budget, not the budget holder: no payment QR code to scan
        payment_qr=None,
    )
    html = document(ctx) if invoice.status != "concept" else ""  # a preview needs no document
    return InvoiceDraft(
        html=html,
        debtor_name=holder["naam"],
        debtor_address=holder["adres"],
        debtor_reference=holder["kenmerk"],
        debtor_email=client.email,
        filename=f"{ctx['title'].lower()}-{invoice.nummer or 'concept'}.pdf",
        subject=f"{ctx['title']} {invoice.nummer or ''} PGB {ctx['periode']}",
        issues=invoice_issues(invoice, holder, law),
        debtor_pays=False,
    )


def document(ctx: dict) -> str:
    return _ENV.get_template(f"{CODE}/invoice.html").render(**ctx)
