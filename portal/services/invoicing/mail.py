"""Sending an invoice (or a reminder) by e-mail with its stored PDF, one at a time or all of a
run (or a selection of overdue invoices) at once in a background job.

Nothing is sent twice: each invoice is sent under its row lock, after checking it was not sent
(today, for a reminder) already, and the bulk job skips what was sent. A failure is kept on the
invoice (``mail_fout``) and shown per invoice; sending again sends only what is still missing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.models import Invoice
from portal.services import audit
from portal.services.invoicing.common import InvoiceError, _locked, period_label
from portal.services.invoicing.documents import (
    invoice_pdf,
    pdf_filename,
    reminder_filename,
    reminder_pdf,
)
from portal.validators import format_cents


class AlreadySent(InvoiceError):
    """Nothing to send: the invoice (or today's reminder) went out before, or it was paid in
    the meantime. A bulk job skips it quietly."""


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
            raise AlreadySent(f"Factuur {inv.nummer} is niet (meer) over de vervaldatum.")
        if inv.reminder_sent_at and inv.reminder_sent_at.date() == today:
            raise AlreadySent("Vandaag is al een herinnering voor deze factuur verstuurd.")
        subject = f"Herinnering: factuur {inv.nummer} van {org.naam}"
        due = inv.totaal_cents - (inv.betaald_cents or 0)
        paid_part = (
            f" (u betaalde al € {format_cents(inv.betaald_cents)}; er staat nog "
            f"€ {format_cents(due)} open)"
            if inv.betaald_cents
            else ""
        )
        body = (
            f"Beste {inv.debiteur_naam},\n\n"
            f"Volgens onze administratie is factuur {inv.nummer} van "
            f"{inv.factuurdatum:%d-%m-%Y} over € {format_cents(inv.totaal_cents)} nog niet "
            f"(helemaal) betaald{paid_part}; de vervaldatum was {inv.vervaldatum:%d-%m-%Y}. "
            f"In de bijlage vindt u de herinnering en de factuur. Wilt u het bedrag binnen "
            f"14 dagen overmaken naar {org.iban or 'ons rekeningnummer'} onder vermelding van "
            f"betalingskenmerk {inv.betaalkenmerk}?\n\nHeeft u al betaald, dan kunt u deze "
            f"herinnering als niet verzonden beschouwen.\n\nMet vriendelijke groet,\n{org.naam}\n"
        )
    else:
        if inv.sent_at is not None:
            raise AlreadySent(f"{soort} {inv.nummer} is al verstuurd op {inv.sent_at:%d-%m-%Y}.")
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
    attachments = [mail.Attachment(pdf_filename(inv), invoice_pdf(session, inv))]
    if reminder:
        attachments.insert(0, mail.Attachment(reminder_filename(inv), reminder_pdf(inv, today)))
    msg = mail.build_message(
        sender=config.get("MAIL_FROM") or org.email or "noreply@localhost",
        sender_name=org.naam,
        to=inv.debiteur_email,
        subject=subject,
        body=body,
        attachments=attachments,
    )
    # Claim the sending before the mail goes out, with a conditional update committed at once:
    # a second sender at the same moment (another job, a double click; also on SQLite, which has
    # no row locks) finds it taken. At most once: a crash between claim and send leaves the
    # invoice marked as sent, never mailed twice.
    seen_count, previous_reminder = inv.reminder_count or 0, inv.reminder_sent_at
    now = datetime.now(UTC)
    claim = update(Invoice).where(Invoice.id == inv.id)
    if reminder:
        claim = claim.where(Invoice.reminder_count == seen_count).values(
            reminder_count=seen_count + 1, reminder_sent_at=now
        )
    else:
        claim = claim.where(Invoice.sent_at.is_(None)).values(sent_at=now)
    if session.execute(claim).rowcount != 1:
        session.rollback()
        raise AlreadySent(f"{soort} {inv.nummer} wordt of werd al verstuurd.")
    session.commit()
    try:
        where = mail.send(config, msg)
    except mail.MailError as exc:
        session.rollback()
        undo = update(Invoice).where(Invoice.id == invoice_id).values(mail_fout=str(exc)[:300])
        if reminder:
            undo = undo.values(reminder_count=seen_count, reminder_sent_at=previous_reminder)
        else:
            undo = undo.values(sent_at=None)
        session.execute(undo)
        session.commit()
        raise InvoiceError(str(exc)) from exc
    inv = session.get(Invoice, invoice_id)
    inv.mail_fout = None
    if reminder:
        inv.status = "herinnering"
    elif inv.status == "definitief":
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


# ---------------------------------------------------------------------------------------------
# all at once: a run's invoices, or a selection of overdue ones for a reminder
# ---------------------------------------------------------------------------------------------


def mailable(invoices, *, reminder: bool = False, today: date | None = None) -> dict[str, list]:
    """What sending would do, per invoice: ``send`` (will go out), ``sent`` (went out before;
    for reminders: today), ``no_email`` (print and post it), ``no_pdf`` (still being made),
    ``not_due`` (a reminder for an invoice that is not overdue or not open)."""
    today = today or date.today()
    plan: dict[str, list] = {"send": [], "sent": [], "no_email": [], "no_pdf": [], "not_due": []}
    for inv in invoices:
        if reminder and not inv.overdue(today):
            plan["not_due"].append(inv)
        elif (not reminder and inv.sent_at is not None) or (
            reminder and inv.reminder_sent_at and inv.reminder_sent_at.date() == today
        ):
            plan["sent"].append(inv)
        elif not inv.debiteur_email:
            plan["no_email"].append(inv)
        elif not inv.pdf_sha256:
            plan["no_pdf"].append(inv)
        else:
            plan["send"].append(inv)
    return plan


def queue_sending(
    session: Session,
    invoice_ids: list[int],
    *,
    reminder: bool,
    key: str,
    label: str,
    user_id: int | None = None,
):
    """Queue one job that e-mails ``invoice_ids`` (invoices, or reminders). A job for the same
    ``key`` that is still waiting or running is returned instead of a second one (a double
    click); after it finished, a new attempt gets a new job that sends only what is missing."""
    from sqlalchemy import select

    from portal.jobs import enqueue, job_key
    from portal.models import BackgroundJob

    prefix = job_key(f"{key}-")
    earlier = session.scalars(
        select(BackgroundJob)
        .where(BackgroundJob.id.startswith(prefix))
        .order_by(BackgroundJob.created_at.desc())
    ).all()
    for job in earlier:
        if job.status in ("wachtend", "bezig"):
            return job
    return enqueue(
        session,
        "portal.jobs.invoices.send_many",
        sorted(set(invoice_ids)),
        reminder,
        kind="herinneringen" if reminder else "facturen-mail",
        label=label,
        queue="default",
        job_id=f"{prefix}{len(earlier) + 1}",
        created_by=user_id,
        total=len(set(invoice_ids)),
        retries=0,  # a failed invoice is kept on the invoice and sent again by hand
    )
