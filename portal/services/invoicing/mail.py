"""Sending an invoice (or a reminder) by e-mail with its stored PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from portal.services import audit
from portal.services.invoicing.common import InvoiceError, _locked, period_label
from portal.services.invoicing.documents import invoice_pdf, pdf_filename
from portal.validators import format_cents


def send_invoice(
    session: Session, config, invoice_id: int, *, user_id: int | None = None, reminder=False
) -> str:
    """E-mail the stored PDF to the debtor (or a reminder for an overdue one). Sending twice by
    a double click is prevented by the row lock and the status check."""
    from portal.services import mail

    inv = _locked(session, invoice_id)
    if not inv.pdf_sha256:
        raise InvoiceError("De PDF van deze factuur wordt nog gemaakt. Probeer het zo opnieuw.")
    if not inv.debiteur_email:
        raise InvoiceError(
            "Er is geen e-mailadres van de ontvanger bekend. Download de PDF en verstuur hem per "
            "post, of vul het e-mailadres in en maak een nieuwe factuur via een creditnota."
        )
    today = date.today()
    org = inv.organisation
    soort = "Creditnota" if inv.is_credit else "Factuur"
    if reminder:
        if not inv.overdue(today):
            raise InvoiceError(f"Factuur {inv.nummer} is niet over de vervaldatum.")
        if inv.reminder_sent_at and inv.reminder_sent_at.date() == today:
            raise InvoiceError("Vandaag is al een herinnering voor deze factuur verstuurd.")
        subject = f"Herinnering: factuur {inv.nummer} van {org.naam}"
        body = (
            f"Beste {inv.debiteur_naam},\n\n"
            f"Volgens onze administratie is factuur {inv.nummer} van "
            f"{inv.factuurdatum:%d-%m-%Y} over € {format_cents(inv.totaal_cents)} nog niet "
            f"betaald; de vervaldatum was {inv.vervaldatum:%d-%m-%Y}. Wilt u het bedrag binnen "
            f"14 dagen overmaken naar {org.iban or 'ons rekeningnummer'} onder vermelding van "
            f"betalingskenmerk {inv.betaalkenmerk}?\n\nHeeft u al betaald, dan kunt u deze "
            f"herinnering als niet verzonden beschouwen.\n\nMet vriendelijke groet,\n{org.naam}\n"
        )
    else:
        if inv.sent_at is not None:
            raise InvoiceError(f"{soort} {inv.nummer} is al verstuurd op {inv.sent_at:%d-%m-%Y}.")
        subject = f"{soort} {inv.nummer} van {org.naam}"
        body = (
            f"Beste {inv.debiteur_naam},\n\nIn de bijlage vindt u {soort.lower()} {inv.nummer} "
            f"over {period_label(inv.periode_start, inv.periode_eind)}, "
            f"totaal € {format_cents(inv.totaal_cents)}."
            + (
                ""
                if inv.is_credit
                else f"\nWij verzoeken u het bedrag vóór {inv.vervaldatum:%d-%m-%Y} over te maken "
                f"naar {org.iban or 'ons rekeningnummer'} onder vermelding van betalingskenmerk "
                f"{inv.betaalkenmerk}."
            )
            + f"\n\nMet vriendelijke groet,\n{org.naam}\n{org.telefoon or ''}\n"
        )
    msg = mail.build_message(
        sender=config.get("MAIL_FROM") or org.email or "noreply@localhost",
        sender_name=org.naam,
        to=inv.debiteur_email,
        subject=subject,
        body=body,
        attachments=[mail.Attachment(pdf_filename(inv), invoice_pdf(session, inv))],
    )
    try:
        where = mail.send(config, msg)
    except mail.MailError as exc:
        session.rollback()
        raise InvoiceError(str(exc)) from exc
    now = datetime.now(UTC)
    if reminder:
        inv.status, inv.reminder_sent_at = "herinnering", now
        inv.reminder_count = (inv.reminder_count or 0) + 1
    else:
        inv.sent_at = now
        if inv.status == "definitief":
            inv.status = "verstuurd"
    audit.record(
        session,
        "factuur.herinnering" if reminder else "factuur.verstuurd",
        user_id=user_id,
        object_type="invoice",
        object_id=inv.id,
        client_id=inv.client_id,
    )
    session.commit()
    return where
