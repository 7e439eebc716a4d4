"""Bank statements (ISO 20022 CAMT.053, ``camt.053.001.02`` and later versions): read the
incoming payments, match them to invoices, and keep what is paid per invoice.

The file comes from outside and is never trusted: at most ``MAX_BYTES``, no DOCTYPE or entities,
no network (``portal.formats.xml.read_xml``). Only booked credit entries in euro count
(``Sts`` BOOK, ``CdtDbtInd`` CRDT, not reversed); a batch entry with several ``TxDtls`` is one
payment per transaction.

A payment is matched, in this order, by
1. the invoice number (``2025-00012``) or payment reference (``betalingskenmerk``) in the
   remittance information (``RmtInf/Ustrd``, ``RmtInf/Strd/CdtrRefInf/Ref``) or the
   end-to-end id;
2. the payer's IBAN, known from an earlier matched payment of the same debtor, with the amount
   still due of exactly one open invoice of that debtor (or the debtor's only open invoice);
3. the amount still due of exactly one open invoice whose debtor's name the payer's name shares.
What matches nothing waits in a list for a person to match by hand (or to ignore).

Money is counted once: every payment has a unique key (the bank's reference, or the content of
the transaction), so the same statement twice, or two overlapping statements, store each payment
once; the file's hash is unique too. An invoice is "betaald" once what came in reaches its
total, "deels betaald" before that.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.formats.xml import XmlError, read_xml
from portal.models import BankPayment, BankStatement, Invoice
from portal.models.invoice import OPEN_STATUSES
from portal.services import audit
from portal.services.invoicing.common import InvoiceError, _locked

MAX_BYTES = 10 * 1024 * 1024  # a month of a care provider's statements is far below this
CAMT053 = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)$")
INVOICE_NUMBER = re.compile(r"(?<!\d)(20\d\d)\s?[-/ ]?\s?(\d{5})(?!\d)")


@dataclass
class Transaction:
    """One incoming payment as the statement tells it."""

    sleutel: str
    boekdatum: date
    bedrag_cents: int
    tegen_naam: str
    tegen_iban: str
    omschrijving: str
    end_to_end_id: str


@dataclass
class ParsedStatement:
    afschrift_id: str
    iban: str
    datum_van: date | None
    datum_tot: date | None
    credits: list[Transaction]
    n_debits: int


# ---------------------------------------------------------------------------------------------
# reading the file
# ---------------------------------------------------------------------------------------------


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _find(el, path: str):
    """The first element along ``path`` ("Refs/EndToEndId"), namespace-blind."""
    for part in path.split("/"):
        if el is None:
            return None
        el = next((c for c in el if _local(c) == part), None)
    return el


def _findall(el, path: str) -> list:
    *head, last = path.split("/")
    parent = _find(el, "/".join(head)) if head else el
    return [] if parent is None else [c for c in parent if _local(c) == last]


def _text(el, path: str) -> str:
    found = _find(el, path)
    return (found.text or "").strip() if found is not None else ""


def _date(el, path: str) -> date | None:
    value = _text(el, f"{path}/Dt") or _text(el, f"{path}/DtTm")[:10]
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _cents(el) -> int | None:
    if el is None:
        return None
    if (el.get("Ccy") or "EUR") != "EUR":
        return None
    try:
        amount = Decimal((el.text or "").strip())
    except InvalidOperation:
        return None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 10**9:
        return None
    return int(amount * 100)


def parse_camt053(payload: bytes) -> list[ParsedStatement]:
    """The statements of a CAMT.053 file; raises :class:`InvoiceError` in Dutch."""
    try:
        root = read_xml(payload, max_bytes=MAX_BYTES)
    except XmlError as exc:
        raise InvoiceError(str(exc).replace("Het bericht", "Het bankafschrift")) from None
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root) != "Document" or not CAMT053.match(ns):
        raise InvoiceError(
            "Dit is geen CAMT.053-bankafschrift (ISO 20022, camt.053.001.xx). Download bij uw "
            "bank het dagafschrift in het formaat CAMT.053 (XML) en lees dat in."
        )
    body = _find(root, "BkToCstmrStmt")
    statements = _findall(body, "Stmt") if body is not None else []
    if not statements:
        raise InvoiceError("Het bankafschrift bevat geen afschrift (Stmt).")
    return [_statement(stmt) for stmt in statements]


def _statement(stmt) -> ParsedStatement:
    iban = "".join(_text(stmt, "Acct/Id/IBAN").split()).upper()
    credits: list[Transaction] = []
    n_debits = 0
    seen: Counter[str] = Counter()
    for entry in _findall(stmt, "Ntry"):
        status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
        reversed_ = _text(entry, "RvslInd").lower() == "true"
        if _text(entry, "CdtDbtInd") != "CRDT" or reversed_:
            n_debits += 1
            continue
        if status != "BOOK":
            continue  # pending or information only: not money on the account yet
        booked = _date(entry, "BookgDt") or _date(entry, "ValDt")
        entry_cents = _cents(_find(entry, "Amt"))
        if booked is None or entry_cents is None:
            raise InvoiceError(
                "Een boeking in het bankafschrift heeft geen geldige datum of geen bedrag in "
                "euro's. Het afschrift is niet ingelezen."
            )
        details = [tx for d in _findall(entry, "NtryDtls") for tx in _findall(d, "TxDtls")]
        if not details:
            details = [None]
        for tx in details:
            cents = entry_cents
            if tx is not None and len(details) > 1:
                cents = _cents(_find(tx, "AmtDtls/TxAmt/Amt")) or _cents(_find(tx, "Amt"))
                if cents is None:
                    raise InvoiceError(
                        "Een verzamelboeking in het bankafschrift noemt het bedrag per "
                        "transactie niet. Het afschrift is niet ingelezen."
                    )
            credits.append(_transaction(iban, entry, tx, booked, cents, seen))
    return ParsedStatement(
        afschrift_id=_text(stmt, "Id")[:80],
        iban=iban,
        datum_van=_frtodt(stmt, "FrDtTm"),
        datum_tot=_frtodt(stmt, "ToDtTm"),
        credits=credits,
        n_debits=n_debits,
    )


def _frtodt(stmt, name: str) -> date | None:
    value = _text(stmt, f"FrToDt/{name}")[:10]
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _transaction(iban, entry, tx, booked, cents, seen) -> Transaction:
    src = tx if tx is not None else entry
    lines = [(u.text or "").strip() for u in _findall(src, "RmtInf/Ustrd")]
    remittance = " ".join(t for t in lines if t)
    structured = _text(src, "RmtInf/Strd/CdtrRefInf/Ref")
    if structured:
        remittance = f"{structured} {remittance}".strip()
    if not remittance:
        remittance = _text(entry, "AddtlNtryInf")
    e2e = _text(src, "Refs/EndToEndId")
    if e2e.upper() == "NOTPROVIDED":
        e2e = ""
    naam = _text(src, "RltdPties/Dbtr/Nm") or _text(src, "RltdPties/Dbtr/Pty/Nm")
    tegen = _text(src, "RltdPties/DbtrAcct/Id/IBAN")
    bank_ref = _text(src, "Refs/AcctSvcrRef") if tx is not None else ""
    bank_ref = bank_ref or _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    content = "|".join(
        [iban, booked.isoformat(), str(cents), e2e, "".join(tegen.split()), remittance, bank_ref]
    )
    seen[content] += 1  # the nth identical payment in this file is a payment of its own
    digest = hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()
    return Transaction(
        sleutel=f"camt:{digest}",
        boekdatum=booked,
        bedrag_cents=cents,
        tegen_naam=naam[:140],
        tegen_iban="".join(tegen.split()).upper()[:34],
        omschrijving=remittance[:500],
        end_to_end_id=e2e[:40],
    )


# ---------------------------------------------------------------------------------------------
# importing and matching
# ---------------------------------------------------------------------------------------------


def import_statement(
    session: Session,
    payload: bytes,
    *,
    filename: str = "",
    org_iban: str | None = None,
    user_id: int | None = None,
) -> BankStatement:
    """Read a CAMT.053 file, store its new incoming payments and match them. The same file
    again is refused with the date it was read; payments already known from an overlapping
    statement are skipped (counted in ``n_al_bekend``)."""
    if len(payload) > MAX_BYTES:
        raise InvoiceError(
            f"Het bankafschrift is te groot ({len(payload) // 1024} kB; de grens is "
            f"{MAX_BYTES // 1024} kB). Lees de afschriften per maand in."
        )
    sha = hashlib.sha256(payload).hexdigest()
    earlier = session.scalar(select(BankStatement).where(BankStatement.bestand_sha256 == sha))
    if earlier is not None:
        raise InvoiceError(_already(earlier))
    parsed = parse_camt053(payload)
    own = "".join((org_iban or "").split()).upper()
    ibans = sorted({p.iban for p in parsed if p.iban})
    warning = None
    if own and ibans and own not in ibans:
        warning = (
            f"Dit afschrift is van rekening {', '.join(ibans)}, niet van de rekening van de "
            f"organisatie ({own}). Controleer of u het goede afschrift heeft gekozen."
        )[:300]
    credits = [t for p in parsed for t in p.credits]
    known = set(
        session.scalars(
            select(BankPayment.sleutel).where(
                BankPayment.sleutel.in_([t.sleutel for t in credits] or [""])
            )
        )
    )
    statement = BankStatement(
        bestand_sha256=sha,
        bestandsnaam=(filename or "")[:200],
        afschrift_id=", ".join(p.afschrift_id for p in parsed if p.afschrift_id)[:80],
        iban=", ".join(ibans)[:34],
        datum_van=min((p.datum_van for p in parsed if p.datum_van), default=None)
        or min((t.boekdatum for t in credits), default=None),
        datum_tot=max((p.datum_tot for p in parsed if p.datum_tot), default=None)
        or max((t.boekdatum for t in credits), default=None),
        n_bijschrijvingen=len(credits),
        n_afschrijvingen=sum(p.n_debits for p in parsed),
        n_al_bekend=sum(1 for t in credits if t.sleutel in known),
        waarschuwing=warning,
        created_by=user_id,
    )
    session.add(statement)
    new = [t for t in credits if t.sleutel not in known]
    payments = [
        BankPayment(
            statement=statement,
            sleutel=t.sleutel,
            boekdatum=t.boekdatum,
            bedrag_cents=t.bedrag_cents,
            tegen_naam=t.tegen_naam,
            tegen_iban=t.tegen_iban,
            omschrijving=t.omschrijving,
            end_to_end_id=t.end_to_end_id,
            status="open",
        )
        for t in new
    ]
    session.add_all(payments)
    try:
        session.flush()
    except IntegrityError as exc:
        # the same file, or the same payments, read at the same moment by someone else
        session.rollback()
        earlier = session.scalar(select(BankStatement).where(BankStatement.bestand_sha256 == sha))
        raise InvoiceError(
            _already(earlier)
            if earlier
            else "Deze betalingen zijn zojuist al ingelezen (tegelijk met u). Er is niets dubbel "
            "geboekt; lees het afschrift opnieuw in voor wat nog ontbreekt."
        ) from exc
    match_all(session, payments, user_id=user_id)
    audit.record(
        session,
        "bankafschrift.ingelezen",
        user_id=user_id,
        object_type="bank_statement",
        object_id=statement.id,
        detail={
            "bijschrijvingen": len(credits),
            "nieuw": len(payments),
            "gekoppeld": sum(1 for p in payments if p.status == "gekoppeld"),
        },
    )
    session.commit()
    return statement


def _already(earlier: BankStatement) -> str:
    return (
        f"Dit bankafschrift is al ingelezen op {earlier.created_at:%d-%m-%Y %H:%M}. Er is niets "
        "veranderd: elke betaling telt één keer."
    )


def references(text: str) -> tuple[set[str], set[str]]:
    """Invoice numbers ("2025-00012") and payment references (11+ digits) in ``text``."""
    numbers = {f"{y}-{n}" for y, n in INVOICE_NUMBER.findall(text or "")}
    squashed = re.sub(r"[\s.\-/]", "", text or "")
    kenmerken = set(re.findall(r"\d{11,20}", squashed))
    return numbers, kenmerken


def referenced_invoices(session: Session, payment: BankPayment) -> list[Invoice]:
    """The invoices the payer names (in any status), in the order of their numbers."""
    numbers, kenmerken = references(f"{payment.omschrijving} {payment.end_to_end_id}")
    if not numbers and not kenmerken:
        return []
    cond = Invoice.nummer.in_(numbers or [""]) | Invoice.betaalkenmerk.in_(kenmerken or [""])
    return list(
        session.scalars(select(Invoice).where(Invoice.soort == "factuur", cond).order_by("nummer"))
    )


def _open_invoices():
    return select(Invoice).where(Invoice.soort == "factuur", Invoice.status.in_(OPEN_STATUSES))


class Matcher:
    """Matches a statement's payments in one go: the open invoices are read once (by amount
    due and by debtor), the invoices the payers name in one query, the debtors behind the
    payers' IBANs in one query; the matched invoices are then locked together (in id order, so
    two imports never deadlock) and paid from their current amounts."""

    def __init__(self, session: Session, payments: list[BankPayment]):
        self.session = session
        self.due: dict[int, int] = {}
        self.open: dict[int, Invoice] = {}
        self.by_debtor: dict[tuple, list[int]] = {}
        for inv in session.scalars(_open_invoices()):
            self.open[inv.id] = inv
            self.due[inv.id] = inv.openstaand_cents
            self.by_debtor.setdefault(_debtor(inv), []).append(inv.id)
        self.by_amount: dict[int, list[int]] = {}
        for inv_id, cents in self.due.items():
            self.by_amount.setdefault(cents, []).append(inv_id)
        numbers: set[str] = set()
        kenmerken: set[str] = set()
        self.refs: dict[int, tuple[set[str], set[str]]] = {}
        for p in payments:
            self.refs[id(p)] = references(f"{p.omschrijving} {p.end_to_end_id}")
            numbers |= self.refs[id(p)][0]
            kenmerken |= self.refs[id(p)][1]
        self.named: dict[str, Invoice] = {}
        if numbers or kenmerken:
            for inv in session.scalars(
                select(Invoice).where(
                    Invoice.soort == "factuur",
                    Invoice.nummer.in_(numbers or [""])
                    | Invoice.betaalkenmerk.in_(kenmerken or [""]),
                )
            ):
                self.named[inv.nummer] = inv
                if inv.betaalkenmerk:
                    self.named[inv.betaalkenmerk] = inv
        ibans = {p.tegen_iban for p in payments if p.tegen_iban}
        self.iban_debtors: dict[str, set[tuple]] = {}
        if ibans:
            for iban, client_id, financier_id, naam in session.execute(
                select(
                    BankPayment.tegen_iban,
                    Invoice.client_id,
                    Invoice.financier_id,
                    Invoice.debiteur_naam,
                )
                .join(Invoice, BankPayment.invoice_id == Invoice.id)
                .where(BankPayment.tegen_iban.in_(ibans))
                .distinct()
            ):
                self.iban_debtors.setdefault(iban, set()).add((client_id, financier_id, naam))

    def decide(self, payment: BankPayment) -> tuple[Invoice | None, str]:
        numbers, kenmerken = self.refs.get(id(payment)) or references(
            f"{payment.omschrijving} {payment.end_to_end_id}"
        )
        named = {self.named[k].id: self.named[k] for k in numbers | kenmerken if k in self.named}
        still_open = [inv for inv in named.values() if inv.id in self.due]
        if len(still_open) == 1:
            return still_open[0], "kenmerk"
        if named:
            return None, ""  # several invoices, or one that is not open: a person decides
        amount = payment.bedrag_cents
        debtors = self.iban_debtors.get(payment.tegen_iban) or set()
        if len(debtors) == 1:
            theirs = [i for i in self.by_debtor.get(next(iter(debtors)), []) if i in self.due]
            exact = [i for i in theirs if self.due[i] == amount]
            if len(exact) == 1:
                return self.open[exact[0]], "iban"
            if len(theirs) == 1:
                return self.open[theirs[0]], "iban"
        same = [
            i
            for i in self.by_amount.get(amount, [])
            if i in self.due
            and self.due[i] == amount
            and _names_share(self.open[i].debiteur_naam, payment.tegen_naam)
        ]
        if len(same) == 1:
            return self.open[same[0]], "bedrag en naam"
        return None, ""

    def took(self, invoice: Invoice, cents: int) -> None:
        """A later payment of the same statement sees what is still due after this one."""
        if invoice.id not in self.due:
            return
        self.due[invoice.id] -= cents
        if self.due[invoice.id] <= 0:
            del self.due[invoice.id]
        else:
            self.by_amount.setdefault(self.due[invoice.id], []).append(invoice.id)


def _debtor(inv: Invoice) -> tuple:
    return (inv.client_id, inv.financier_id, inv.debiteur_naam)


def match_all(session: Session, payments: list[BankPayment], *, user_id: int | None = None) -> int:
    """Match ``payments`` (new, open) to open invoices; returns how many were matched."""
    with session.no_autoflush:
        matcher = Matcher(session, payments)
        plan = []
        for payment in payments:
            invoice, how = matcher.decide(payment)
            if invoice is not None:
                plan.append((payment, invoice, how))
                matcher.took(invoice, payment.bedrag_cents)
                if payment.tegen_iban:  # later payments from this IBAN know their debtor
                    matcher.iban_debtors.setdefault(payment.tegen_iban, set()).add(_debtor(invoice))
    if not plan:
        return 0
    ids = sorted({inv.id for _p, inv, _how in plan})
    locked = {
        inv.id: inv
        for inv in session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(ids))
            .order_by(Invoice.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    with session.no_autoflush:
        for payment, invoice, how in plan:
            _pay(session, payment, locked[invoice.id], how, user_id)
    return len(plan)


def find_invoice(session: Session, payment: BankPayment) -> tuple[Invoice | None, str]:
    """The open invoice this payment pays, and how it was found ("kenmerk", "iban",
    "bedrag en naam"); ``(None, "")`` when a person must decide."""
    return Matcher(session, [payment]).decide(payment)


_SMALL = {"de", "van", "der", "den", "het", "ter", "ten", "te", "en", "in", "t", "dhr", "mevr"}


def _names_share(a: str, b: str) -> bool:
    def words(s):
        return {w for w in re.findall(r"[a-zà-ÿ]{3,}", (s or "").lower()) if w not in _SMALL}

    return bool(words(a) & words(b))


def _apply(session: Session, payment: BankPayment, invoice: Invoice, how: str, user_id) -> None:
    inv = _locked(session, invoice.id)  # two imports paying one invoice add up, never overwrite
    _pay(session, payment, inv, how, user_id)


def _pay(session: Session, payment: BankPayment, inv: Invoice, how: str, user_id) -> None:
    """Book ``payment`` on ``inv``, which the caller holds locked with its current amounts."""
    payment.invoice_id = inv.id
    payment.status = "gekoppeld"
    payment.gekoppeld_door = how
    payment.gekoppeld_by = user_id
    inv.betaald_cents = (inv.betaald_cents or 0) + payment.bedrag_cents
    if inv.is_open and inv.betaald_cents >= inv.totaal_cents:
        inv.status, inv.paid_at = "betaald", payment.boekdatum
    audit.record(
        session,
        "factuur.betaling",
        user_id=user_id,
        object_type="invoice",
        object_id=inv.id,
        client_id=inv.client_id,
        detail={"bedrag_cents": payment.bedrag_cents, "via": how, "betaling": payment.id},
    )


def _locked_payment(session: Session, payment_id: int) -> BankPayment:
    payment = session.scalars(
        select(BankPayment).where(BankPayment.id == payment_id).with_for_update()
    ).one_or_none()
    if payment is None:
        raise InvoiceError("Deze betaling bestaat niet.")
    return payment


def match_by_hand(
    session: Session, payment_id: int, invoice_id: int, *, user_id: int | None = None
) -> BankPayment:
    """A person matches an open payment to an invoice (a double click changes nothing)."""
    payment = _locked_payment(session, payment_id)
    if payment.status == "gekoppeld":
        if payment.invoice_id == invoice_id:
            return payment
        raise InvoiceError("Deze betaling is al aan een andere factuur gekoppeld.")
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.nummer is None or invoice.is_credit:
        raise InvoiceError("Kies een factuur om deze betaling aan te koppelen.")
    if not invoice.is_open:
        raise InvoiceError(f"Factuur {invoice.nummer} staat niet open ({invoice.status_label}).")
    _apply(session, payment, invoice, "hand", user_id)
    session.commit()
    return payment


def ignore(session: Session, payment_id: int, *, user_id: int | None = None) -> BankPayment:
    """Not a payment of an invoice (a refund, a subsidy): out of the list to match."""
    payment = _locked_payment(session, payment_id)
    if payment.status == "gekoppeld":
        raise InvoiceError(
            "Een gekoppelde betaling kan niet worden genegeerd; ontkoppel haar eerst."
        )
    payment.status, payment.gekoppeld_by = "genegeerd", user_id
    session.commit()
    return payment


def unmatch(session: Session, payment_id: int, *, user_id: int | None = None) -> BankPayment:
    """Undo a wrong match: the money goes back to the list, the invoice opens again."""
    payment = _locked_payment(session, payment_id)
    if payment.status != "gekoppeld" or payment.invoice_id is None:
        payment.status = "open"
        session.commit()
        return payment
    inv = _locked(session, payment.invoice_id)
    inv.betaald_cents = (inv.betaald_cents or 0) - payment.bedrag_cents
    if inv.status == "betaald" and inv.betaald_cents < inv.totaal_cents:
        inv.paid_at = None
        inv.status = (
            "herinnering" if inv.reminder_count else ("verstuurd" if inv.sent_at else "definitief")
        )
    audit.record(
        session,
        "factuur.betaling_ontkoppeld",
        user_id=user_id,
        object_type="invoice",
        object_id=inv.id,
        client_id=inv.client_id,
        detail={"bedrag_cents": payment.bedrag_cents, "betaling": payment.id},
    )
    payment.invoice_id, payment.status, payment.gekoppeld_door = None, "open", ""
    session.commit()
    return payment


def open_payments(session: Session) -> list[BankPayment]:
    return list(
        session.scalars(
            select(BankPayment)
            .where(BankPayment.status == "open")
            .order_by(BankPayment.boekdatum, BankPayment.id)
        )
    )


def candidates(session: Session, payment: BankPayment, limit: int = 200) -> list[Invoice]:
    """Open invoices to choose from for a payment: those it names and those with the same
    amount due first, then the rest by number."""
    named = {inv.id for inv in referenced_invoices(session, payment)}
    rows = session.scalars(_open_invoices().order_by(Invoice.nummer).limit(limit)).all()
    return sorted(
        rows,
        key=lambda inv: (
            inv.id not in named,
            inv.openstaand_cents != payment.bedrag_cents,
            not _names_share(inv.debiteur_naam, payment.tegen_naam),
            inv.nummer,
        ),
    )


def statement_counts(session: Session, statement_id: int) -> dict[str, int]:
    rows = session.execute(
        select(
            BankPayment.status, func.count(), func.coalesce(func.sum(BankPayment.bedrag_cents), 0)
        )
        .where(BankPayment.statement_id == statement_id)
        .group_by(BankPayment.status)
    ).all()
    result = {"gekoppeld": 0, "open": 0, "genegeerd": 0, "gekoppeld_cents": 0, "open_cents": 0}
    for status, n, cents in rows:
        result[status] = n
        result[f"{status}_cents"] = cents
    return result


__all__ = [
    "MAX_BYTES",
    "ParsedStatement",
    "Transaction",
    "candidates",
    "find_invoice",
    "ignore",
    "import_statement",
    "match_by_hand",
    "open_payments",
    "parse_camt053",
    "references",
    "statement_counts",
    "unmatch",
]
