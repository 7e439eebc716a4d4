"""The invoice run: preview, final numbered invoices, credit notes, payments, overdue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal.domain import Issue
from portal.models import (
    BackgroundJob,
    Client,
    Contract,
    ContractLine,
    ExportPart,
    Financier,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    Legitimation,
    Organisation,
    Product,
)
from portal.services import audit, stacking
from portal.services.invoice_numbers import take_numbers
from portal.services.invoicing.common import (
    InvoiceError,
    _draft_for,
    _invoice_setting,
    _locked,
    period_label,
)
from portal.services.organisation import get_organisation
from portal.services.stacking import exports

TIME_UNITS = {"minuut": 1, "uur": 60}

# ---------------------------------------------------------------------------------------------
# preview: what would be invoiced
# ---------------------------------------------------------------------------------------------


@dataclass
class LineDraft:
    client_id: int
    day: date
    product_id: int
    legitimation_id: int
    minutes: int
    registration_ids: list[int]
    aantal: int = 0  # non-time products (dagdeel, etmaal…): units instead of minutes
    omschrijving: str = ""
    eenheid: str = "uur"
    tarief_cents: int = 0
    bedrag_cents: int = 0
    btw_percentage: int = 0
    btw_cents: int = 0
    client: Any = None  # the objects themselves, so an unsaved invoice can be printed
    product: Any = None
    legitimation: Any = None
    # registration id -> [minutes, aantal] of its part on this line's legitimation
    parts: dict[int, list[int]] = field(default_factory=dict)
    # export parts of care moved here from a rejected declaration line (kind ``verplaatst``)
    moved_part_ids: list[int] = field(default_factory=list)


@dataclass
class DebtorGroup:
    """One future invoice: a debtor with lines, totals and findings."""

    key: str
    financier: Financier
    client: Client | None
    legitimation: Legitimation | None
    lines: list[LineDraft] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    debtor_name: str = ""
    already_invoiced: Invoice | None = None

    @property
    def subtotal_cents(self) -> int:
        return sum(line.bedrag_cents for line in self.lines)

    @property
    def btw_cents(self) -> int:
        return sum(line.btw_cents for line in self.lines)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.btw_cents

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def blocking(self) -> bool:
        return any(i.blocking for i in self.issues)

    @property
    def invoiceable(self) -> bool:
        return not self.blocking and self.already_invoiced is None and bool(self.lines)


@dataclass
class NotCovered:
    client: Client
    week_start: date
    minutes: int


@dataclass
class RunPreview:
    financing: str
    start: date
    end: date
    groups: list[DebtorGroup]
    not_covered: list[NotCovered]

    @property
    def to_invoice(self) -> list[DebtorGroup]:
        return [g for g in self.groups if g.invoiceable]

    @property
    def total_cents(self) -> int:
        return sum(g.total_cents for g in self.to_invoice)


def _allocate(session: Session, hooks, start: date, end: date):
    """The stacking service: the one source of what falls to which financing."""
    return stacking.allocate(session, hooks=hooks, start=start, end=end)


def _amount(minutes: int, tarief_cents: int, eenheid: str) -> int:
    """Cents for ``minutes`` at a tariff per ``eenheid``, rounded half up (away from zero)."""
    per = TIME_UNITS[eenheid]
    num = abs(minutes) * tarief_cents
    cents = (2 * num + per) // (2 * per)
    return -cents if minutes < 0 else cents


def _vat(bedrag_cents: int, pct: int) -> int:
    num = abs(bedrag_cents) * pct
    cents = (2 * num + 100) // 200
    return -cents if bedrag_cents < 0 else cents


class _ContractIndex:
    """Contract lines per (financier, product), for tariffs, units and VAT."""

    def __init__(self, session: Session, financier_ids: Iterable[int]):
        self.by_key: dict[tuple[int, int], list[ContractLine]] = defaultdict(list)
        ids = set(financier_ids)
        if not ids:
            return
        rows = session.execute(
            select(ContractLine, Contract.financier_id)
            .join(Contract, ContractLine.contract_id == Contract.id)
            .where(Contract.financier_id.in_(ids))
        ).all()
        for line, financier_id in rows:
            self.by_key[(financier_id, line.product_id)].append(line)

    def find(self, financier_id: int, product_id: int, day: date) -> ContractLine | None:
        for line in self.by_key.get((financier_id, product_id), []):
            if line.begindatum <= day and (line.einddatum is None or day <= line.einddatum):
                return line
        return None


def preview(
    session: Session, hooks, financing: str, start: date, end: date, today: date | None = None
) -> RunPreview:
    """Everything a run for ``financing`` over ``start``–``end`` would invoice, per debtor."""
    if not hooks.can(financing, "build_invoice"):
        raise InvoiceError("Voor deze financiering kan het portaal (nog) geen facturen maken.")
    today = today or date.today()
    per = _invoice_setting(hooks, financing, "invoice_per")
    result = _allocate(session, hooks, start, end)

    # 1. this financing's allocations, plus each week's rounding difference (WeekTotal is the
    #    rounded week; it goes onto the last day of that week the legitimation was used, so a
    #    week split over two months is rounded exactly once).
    own = [a for a in result.allocations if a.financing == financing and a.legitimation_id]
    exact: dict[tuple[int, date, int], int] = defaultdict(int)
    last_key: dict[tuple[int, date, int], tuple[date, int]] = {}
    for a in own:
        wk = (a.client_id, a.week_start, a.legitimation_id)
        exact[wk] += a.minutes
        prev = last_key.get(wk)
        if prev is None or (a.day, a.product_id) > prev:
            last_key[wk] = (a.day, a.product_id)
    delta: dict[tuple[int, date, int, date, int], int] = {}
    for wt in result.week_totals:
        if wt.financing != financing or not wt.legitimation_id:
            continue
        wk = (wt.client_id, wt.week_start, wt.legitimation_id)
        if wk in last_key and wt.minutes != exact[wk]:
            day, product_id = last_key[wk]
            delta[(wt.client_id, wt.week_start, wt.legitimation_id, day, product_id)] = (
                wt.minutes - exact[wk]
            )

    lines_by_key: dict[tuple[int, date, int, int], LineDraft] = {}
    for a in own:
        if not start <= a.day <= end:
            continue
        k = (a.legitimation_id, a.day, a.product_id, a.client_id)
        line = lines_by_key.get(k)
        if line is None:
            line = lines_by_key[k] = LineDraft(
                a.client_id, a.day, a.product_id, a.legitimation_id, 0, []
            )
        line.minutes += a.minutes
        line.aantal += a.aantal
        if a.registration_id not in line.registration_ids:
            line.registration_ids.append(a.registration_id)
        part = line.parts.setdefault(a.registration_id, [0, 0])
        part[0] += a.minutes
        part[1] += a.aantal
    for (client_id, _wk, leg_id, day, product_id), d in delta.items():
        line = lines_by_key.get((leg_id, day, product_id, client_id))
        if line is not None:
            line.minutes += d

    # care moved to this financing from a rejected declaration line (naar particulier): taken by
    # the next run whatever its date, on lines of its own
    lines_by_key.update(_moved_lines(session, financing, end))

    legs = {
        leg.id: leg
        for leg in session.scalars(
            select(Legitimation)
            .where(Legitimation.id.in_({k[0] for k in lines_by_key}))
            .options(selectinload(Legitimation.client), selectinload(Legitimation.financier))
        )
    }
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_({k[2] for k in lines_by_key}))
        )
    }
    contracts = _ContractIndex(session, {leg.financier_id for leg in legs.values()})

    groups: dict[str, DebtorGroup] = {}
    for (leg_id, day, product_id, _client_id, *_moved), line in sorted(
        lines_by_key.items(), key=lambda kv: (kv[0][3], kv[0][1], kv[0][2])
    ):
        leg = legs[leg_id]
        key = f"fin{leg.financier_id}" if per == "financier" else f"leg{leg.id}"
        group = groups.get(key)
        if group is None:
            group = groups[key] = DebtorGroup(
                key=key,
                financier=leg.financier,
                client=None if per == "financier" else leg.client,
                legitimation=None if per == "financier" else leg,
            )
        product = products[product_id]
        line.client, line.product, line.legitimation = leg.client, product, leg
        _price(line, leg, product, contracts.find(leg.financier_id, product_id, day), group)
        if line.minutes or line.aantal:
            group.lines.append(line)

    not_covered = []
    if result.not_covered:
        clients = {
            c.id: c
            for c in session.scalars(
                select(Client).where(Client.id.in_({n.client_id for n in result.not_covered}))
            )
        }
        for n in result.not_covered:
            if n.minutes > 0 and n.week_start <= end and n.week_start + timedelta(6) >= start:
                not_covered.append(NotCovered(clients[n.client_id], n.week_start, n.minutes))

    ordered = sorted(groups.values(), key=lambda g: g.key)
    _mark_already_invoiced(session, financing, start, ordered)
    org = get_organisation(session)
    for group in ordered:
        if org is None:
            group.issues.append(Issue("organisatie", "Vul eerst de organisatiegegevens in."))
            continue
        draft = _draft_for(hooks, _transient_invoice(group, financing, start, end, org, today))
        group.debtor_name = draft.debtor_name
        group.issues.extend(draft.issues)
    return RunPreview(financing, start, end, ordered, not_covered)


def _moved_lines(session: Session, financing: str, end: date) -> dict[tuple, LineDraft]:
    """Lines for the care moved to legitimations of ``financing`` and not invoiced yet, one per
    legitimation, day and product (``followups.move_to_particulier``)."""
    from portal.services.followups import moved_parts

    lines: dict[tuple, LineDraft] = {}
    for part, product_id in moved_parts(session, financing, end):
        leg_id = part.naar_legitimation_id
        k = (leg_id, part.datum, product_id, part.client_id, "verplaatst")
        line = lines.get(k)
        if line is None:
            line = lines[k] = LineDraft(part.client_id, part.datum, product_id, leg_id, 0, [])
        line.minutes += part.minutes
        line.aantal += part.aantal
        if part.registration_id not in line.registration_ids:
            line.registration_ids.append(part.registration_id)
        line.moved_part_ids.append(part.id)
    return lines


def _price(line: LineDraft, leg: Legitimation, product: Product, cline, group) -> None:
    line.omschrijving = product.naam
    if leg.tarief_cents:
        line.tarief_cents, line.eenheid = leg.tarief_cents, (leg.eenheid or product.eenheid)
    elif cline is not None:
        line.tarief_cents, line.eenheid = cline.tarief_cents, cline.eenheid
    else:
        group.issues.append(
            Issue(
                "tarief",
                f"Geen tarief voor {product.naam} op {line.day:%d-%m-%Y}: vul het tarief in de "
                "afspraak of het contract in.",
                "tarief_cents",
            )
        )
        return
    if product.is_time and line.eenheid not in TIME_UNITS:
        group.issues.append(
            Issue(
                "eenheid",
                f"Het tarief voor {product.naam} is per {line.eenheid}; tijd kan alleen per uur "
                "of minuut gefactureerd worden.",
                "eenheid",
            )
        )
        return
    if not product.is_time and line.eenheid != product.eenheid:
        group.issues.append(
            Issue(
                "eenheid",
                f"Het tarief voor {product.naam} is per {line.eenheid}, maar het product wordt "
                f"per {product.eenheid} geregistreerd.",
                "eenheid",
            )
        )
        return
    line.btw_percentage = cline.btw_percentage if cline is not None else 0
    if product.is_time:
        line.bedrag_cents = _amount(line.minutes, line.tarief_cents, line.eenheid)
    else:
        line.bedrag_cents = line.aantal * line.tarief_cents
    line.btw_cents = _vat(line.bedrag_cents, line.btw_percentage)


def _group_key(financing: str, start: date, key: str, generation: int) -> str:
    return f"{financing}|{start.isoformat()}|{key}|{generation}"


def _mark_already_invoiced(
    session: Session, financing: str, start: date, groups: list[DebtorGroup]
) -> None:
    """A debtor and period is invoiced once; after a creditnota it may be invoiced again."""
    prefix = f"{financing}|{start.isoformat()}|"
    existing = session.scalars(
        select(Invoice).where(
            Invoice.soort == "factuur",
            Invoice.groep_sleutel.startswith(prefix),
        )
    ).all()
    by_key: dict[str, list[Invoice]] = defaultdict(list)
    for inv in existing:
        by_key[inv.groep_sleutel.split("|")[2]].append(inv)
    for group in groups:
        for inv in by_key.get(group.key, []):
            if inv.status != "gecrediteerd":
                group.already_invoiced = inv


def _generation(session: Session, financing: str, start: date, key: str) -> int:
    prefix = f"{financing}|{start.isoformat()}|{key}|"
    return session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.groep_sleutel.startswith(prefix))
    )


def _transient_invoice(
    group: DebtorGroup, financing: str, start: date, end: date, org: Organisation, today: date
) -> Invoice:
    """An unsaved invoice with lines, so the plugin can say who the debtor is (and what is
    missing) before anything is stored."""
    inv = Invoice(
        financing=financing,
        soort="factuur",
        organisation=org,
        financier=group.financier,
        client=group.client,
        legitimation=group.legitimation,
        factuurdatum=today,
        vervaldatum=today,
        periode_start=start,
        periode_eind=end,
        debiteur_naam="",
        debiteur_adres="",
        subtotaal_cents=group.subtotal_cents,
        btw_cents=group.btw_cents,
        totaal_cents=group.total_cents,
        sleutels={},
        status="concept",
    )
    inv.lines = [_line_model(i, line) for i, line in enumerate(group.lines, 1)]
    return inv


def _line_model(position: int, line: LineDraft) -> InvoiceLine:
    return InvoiceLine(
        position=position,
        datum=line.day,
        client_id=line.client_id,
        product_id=line.product_id,
        legitimation_id=line.legitimation_id,
        client=line.client,
        product=line.product,
        legitimation=line.legitimation,
        omschrijving=line.omschrijving,
        eenheid=line.eenheid,
        minuten=line.minutes if line.product is None or line.product.is_time else None,
        aantal=None if line.product is None or line.product.is_time else line.aantal,
        tarief_cents=line.tarief_cents,
        bedrag_cents=line.bedrag_cents,
        btw_percentage=line.btw_percentage,
        btw_cents=line.btw_cents,
        registration_ids=sorted(line.registration_ids),
    )


# ---------------------------------------------------------------------------------------------
# create: final invoices, numbered in the same transaction
# ---------------------------------------------------------------------------------------------


def create_run(
    session: Session,
    hooks,
    financing: str | Sequence[str],
    start: date,
    end: date,
    *,
    user_id: int | None = None,
    today: date | None = None,
    enqueue_render: bool = True,
) -> InvoiceRun:
    """Make the invoices of the preview final and queue their PDFs: one financing, or several
    (PGB, particulier and onderaanneming of one month) in one run with one task page. Every
    invoice keeps its own financing; all take their numbers from the organisation's one
    gap-free series in this transaction. Debtors with blocking issues, or already invoiced for
    this period, are left out (and stay in the next preview)."""
    today = today or date.today()
    financings = [financing] if isinstance(financing, str) else list(dict.fromkeys(financing))
    if not financings:
        raise InvoiceError("Kies minstens één financiering.")
    if end >= today:
        raise InvoiceError("Deze periode is nog niet voorbij.")
    org = get_organisation(session)
    if org is None:
        raise InvoiceError("Vul eerst de organisatiegegevens in.")
    previews = [preview(session, hooks, f, start, end, today) for f in financings]
    pairs = [(pv.financing, g) for pv in previews for g in pv.to_invoice]
    if not pairs:
        raise InvoiceError(
            f"Er is niets (meer) te factureren voor {_labels(hooks, financings)} over "
            f"{period_label(start, end)}."
        )
    run = InvoiceRun(
        financing=",".join(financings),
        periode_start=start,
        periode_eind=end,
        status="renderen",
        created_by=user_id,
        not_covered_minutes=sum(n.minutes for pv in previews for n in pv.not_covered),
    )
    session.add(run)
    try:
        invoices = _numbered_invoices(session, hooks, run, pairs, org, today)
        for f in financings:
            own = [(g, inv) for (fin, g), inv in zip(pairs, invoices, strict=True) if fin == f]
            _record_parts(session, f, [g for g, _ in own], [inv for _, inv in own])
    except (IntegrityError, exports.AlreadyExported) as exc:
        # a second run at the same moment (or a double click) invoiced the same debtor and
        # period, or the same care, first: the database refused it
        session.rollback()
        raise InvoiceError(
            "Deze facturen zijn zojuist al aangemaakt (dubbele klik of een tweede run tegelijk). "
            "Er is niets dubbel gefactureerd."
        ) from exc
    run.n_invoices = len(invoices)
    run.n_lines = sum(len(inv.lines) for inv in invoices)
    run.total_cents = sum(inv.totaal_cents for inv in invoices)
    audit.record(
        session,
        "factuurrun.aangemaakt",
        user_id=user_id,
        object_type="invoice_run",
        object_id=run.id,
        detail={
            "financing": run.financing,
            "periode": start.isoformat(),
            "facturen": len(invoices),
        },
    )
    if enqueue_render:
        queue_render(session, run)
    else:
        session.commit()
    return run


def _numbered_invoices(session, hooks, run, pairs, org, today) -> list[Invoice]:
    """The run's invoices (``pairs`` of financing and debtor group) with their numbers; an
    IntegrityError means a concurrent run (or a double click) invoiced the same debtor and
    period first."""
    start, end = run.periode_start, run.periode_eind
    invoices = []
    terms = {}
    for financing, group in pairs:
        if financing not in terms:
            terms[financing] = int(_invoice_setting(hooks, financing, "betaaltermijn_dagen"))
        inv = _transient_invoice(group, financing, start, end, org, today)
        inv.groep_sleutel = _group_key(
            financing, start, group.key, _generation(session, financing, start, group.key)
        )
        inv.vervaldatum = today + timedelta(days=terms[financing])
        inv.run = run
        session.add(inv)
        invoices.append(inv)
    numbers = take_numbers(session, org.id, today.year, len(invoices))
    for inv, nummer in zip(invoices, numbers, strict=True):
        _finalise(hooks, inv, nummer)
    session.flush()
    return invoices


def _record_parts(
    session: Session, financing: str, groups: list[DebtorGroup], invoices: list[Invoice]
) -> None:
    """Record every registration part an invoice line counts (``export_part``): invoiced care is
    never invoiced or declared again until a creditnota releases it, and can no longer be
    withdrawn from approval (only credited). The unique index refuses a part that another run
    exported at the same moment (:class:`~portal.services.stacking.exports.AlreadyExported`)."""
    pairs = []
    for group, inv in zip(groups, invoices, strict=True):
        for draft, line in zip(group.lines, inv.lines, strict=True):
            if draft.moved_part_ids:
                _claim_moved(session, draft.moved_part_ids, line.id)
            for registration_id, (minutes, aantal) in sorted(draft.parts.items()):
                part = exports.Part(
                    registration_id=registration_id,
                    client_id=draft.client_id,
                    legitimation_id=draft.legitimation_id,
                    datum=draft.day,
                    minutes=minutes,
                    aantal=aantal,
                )
                pairs.append((part, line.id))
    exports.record_parts(session, exports.EXPORT_INVOICE, financing, pairs)


def _claim_moved(session: Session, part_ids: list[int], invoice_line_id: int) -> None:
    """Moved care is invoiced once: a conditional UPDATE claims its parts for this line; when
    another run claimed one first (it waits for that run's commit, then finds it taken), the run
    is refused and rolled back."""
    claimed = session.execute(
        update(ExportPart)
        .where(
            ExportPart.id.in_(part_ids),
            ExportPart.kind == exports.EXPORT_MOVED,
            ExportPart.active.is_(True),
            ExportPart.invoice_line_id.is_(None),
        )
        .values(invoice_line_id=invoice_line_id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != len(part_ids):
        raise exports.AlreadyExported()


def _finalise(hooks, inv: Invoice, nummer: str) -> None:
    """Give the invoice its number and freeze the debtor as the plugin prints it."""
    inv.nummer = nummer
    inv.betaalkenmerk = payment_reference(nummer)
    draft = _draft_for(hooks, inv)  # still "concept": the debtor, without the document
    inv.status = "definitief"
    inv.debiteur_naam = draft.debtor_name[:200]
    inv.debiteur_adres = "\n".join(draft.debtor_address)
    inv.debiteur_kenmerk = draft.debtor_reference
    inv.debiteur_email = draft.debtor_email
    inv.sleutels = {**(inv.sleutels or {}), "debiteur_betaalt": bool(draft.debtor_pays)}
    inv.subtotaal_cents = sum(line.bedrag_cents for line in inv.lines)
    inv.btw_cents = sum(line.btw_cents for line in inv.lines)
    inv.totaal_cents = inv.subtotaal_cents + inv.btw_cents


def payment_reference(nummer: str) -> str:
    """A payment reference a bank app keeps: digits of the number with a mod-97 check pair."""
    digits = "".join(ch for ch in nummer if ch.isdigit())
    check = 97 - int(digits) % 97
    return f"{digits}{check:02d}"


def queue_render(session: Session, run: InvoiceRun, chunk: int | None = None) -> BackgroundJob:
    """Queue the PDFs of a run in chunks on the "pdf" queue (every worker helps), with one
    progress row for the run that ``/taken/<id>`` shows. Invoices that have their PDF are
    skipped, so calling this again after a failure only renders what is missing."""
    from portal.jobs import enqueue
    from portal.jobs import invoices as invoice_jobs

    label = f"PDF's maken: {hooks_label(run)}"
    row_id = invoice_jobs.progress_row_id(run.id)
    todo = session.scalars(
        select(Invoice.id)
        .where(Invoice.run_id == run.id, Invoice.pdf_sha256.is_(None))
        .order_by(Invoice.nummer)
    ).all()
    # about 8 parts for a small run (shared by the workers), 20 invoices a part for a big one:
    # each part is a forked work horse that warms up WeasyPrint once
    chunk = chunk or max(1, min(invoice_jobs.CHUNK, max(5, -(-len(todo) // 8))))
    row = session.get(BackgroundJob, row_id)
    if row is None:
        row = BackgroundJob(id=row_id, kind="facturen", queue="pdf", label=label)
        session.add(row)
    # "bezig" without started_at: the progress row of chunk jobs, never swept as a dead job
    row.status, row.total, row.progress, row.error = "bezig", run.n_invoices, 0, None
    row.message = "In de wachtrij"
    run.job_id = row_id
    session.commit()
    generation = session.scalar(
        select(func.count())
        .select_from(BackgroundJob)
        .where(BackgroundJob.id.startswith(f"{row_id}-deel-"))
    )
    parts = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
    for k, ids in enumerate(parts, 1):
        enqueue(
            session,
            "portal.jobs.invoices.render_chunk",
            run.id,
            list(ids),
            kind="facturen-deel",
            label=f"{label} (deel {k} van {len(parts)})",
            queue="pdf",
            job_id=f"{row_id}-deel-{generation + k}",
            total=len(ids),
        )
    if not parts:
        invoice_jobs._update_run_progress(_JobLike(session), run.id)
    return row


class _JobLike:
    """Enough of a job context to bring a run's progress row up to date from here."""

    def __init__(self, session: Session):
        from flask import current_app

        self.app = current_app


def hooks_label(run: InvoiceRun) -> str:
    return f"facturen {period_label(run.periode_start, run.periode_eind)} ({', '.join(run.financings)})"


def run_label(hooks, run: InvoiceRun) -> str:
    """The run's financings as people read them: "PGB, Particulier en Onderaanneming"."""
    return _labels(hooks, run.financings)


def _labels(hooks, financings: Sequence[str]) -> str:
    labels = [hooks.financing_label(f) for f in financings]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " en " + labels[-1]


# ---------------------------------------------------------------------------------------------
# credit notes, payments, sending, reminders
# ---------------------------------------------------------------------------------------------


def credit_invoice(
    session: Session,
    hooks,
    invoice_id: int,
    *,
    reden: str,
    user_id: int | None = None,
    today: date | None = None,
    enqueue_render: bool = True,
) -> Invoice:
    """A creditnota for the whole original: own number, negative lines, pointing at it. The
    original stays as it was (only its status says it was credited)."""
    today = today or date.today()
    reden = (reden or "").strip()
    if not reden:
        raise InvoiceError("Vul de reden van de creditering in; die staat op de creditnota.")
    original = _locked(session, invoice_id)
    if original.is_credit:
        raise InvoiceError("Een creditnota kan niet zelf worden gecrediteerd.")
    if original.nummer is None:
        raise InvoiceError("Alleen een definitieve factuur kan worden gecrediteerd.")
    if original.status == "gecrediteerd":
        raise InvoiceError(f"Factuur {original.nummer} is al gecrediteerd.")
    credit = Invoice(
        financing=original.financing,
        soort="creditnota",
        organisation_id=original.organisation_id,
        organisation=original.organisation,
        financier=original.financier,
        client=original.client,
        legitimation=original.legitimation,
        factuurdatum=today,
        vervaldatum=today,
        periode_start=original.periode_start,
        periode_eind=original.periode_eind,
        debiteur_naam=original.debiteur_naam,
        debiteur_adres=original.debiteur_adres,
        debiteur_kenmerk=original.debiteur_kenmerk,
        debiteur_email=original.debiteur_email,
        credit_of=original,
        groep_sleutel=f"credit|{original.id}",
        sleutels={"reden": reden[:500], "origineel": original.nummer},
        status="definitief",
    )
    credit.lines = [
        InvoiceLine(
            position=line.position,
            datum=line.datum,
            periode_start=line.periode_start,
            periode_eind=line.periode_eind,
            client_id=line.client_id,
            product_id=line.product_id,
            legitimation_id=line.legitimation_id,
            omschrijving=line.omschrijving,
            eenheid=line.eenheid,
            minuten=-line.minuten if line.minuten is not None else None,
            aantal=-line.aantal if line.aantal is not None else None,
            tarief_cents=line.tarief_cents,
            bedrag_cents=-line.bedrag_cents,
            btw_percentage=line.btw_percentage,
            btw_cents=-line.btw_cents,
            registration_ids=list(line.registration_ids or []),
        )
        for line in original.lines
    ]
    (nummer,) = take_numbers(session, original.organisation_id, today.year, 1)
    credit.nummer = nummer
    credit.subtotaal_cents = -original.subtotaal_cents
    credit.btw_cents = -original.btw_cents
    credit.totaal_cents = -original.totaal_cents
    original.status = "gecrediteerd"
    exports.release(session, invoice_line_ids=[line.id for line in original.lines])
    session.add(credit)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise InvoiceError(f"Factuur {original.nummer} is zojuist al gecrediteerd.") from exc
    audit.record(
        session,
        "factuur.gecrediteerd",
        user_id=user_id,
        object_type="invoice",
        object_id=original.id,
        client_id=original.client_id,
        detail={"creditnota": nummer, "origineel": original.nummer},
    )
    if enqueue_render:
        from portal.jobs import enqueue, job_key

        enqueue(
            session,
            "portal.jobs.invoices.render_one",
            credit.id,
            kind="facturen",
            label=f"PDF maken: creditnota {nummer}",
            queue="pdf",
            job_id=job_key(f"invoice-{credit.id}"),
            total=1,
        )
    else:
        session.commit()
    return credit


def mark_paid(
    session: Session, invoice_id: int, paid_on: date, *, user_id: int | None = None
) -> Invoice:
    inv = _locked(session, invoice_id)
    if inv.status == "betaald":
        return inv  # a double click changes nothing
    if not inv.is_open:
        raise InvoiceError(f"Factuur {inv.nummer} staat niet open ({inv.status_label}).")
    if paid_on > date.today():
        raise InvoiceError("De betaaldatum ligt in de toekomst.")
    inv.status, inv.paid_at = "betaald", paid_on
    inv.betaald_cents = max(inv.betaald_cents or 0, inv.totaal_cents)
    audit.record(
        session,
        "factuur.betaald",
        user_id=user_id,
        object_type="invoice",
        object_id=inv.id,
        client_id=inv.client_id,
    )
    session.commit()
    return inv


def overdue(session: Session, today: date | None = None) -> list[Invoice]:
    today = today or date.today()
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.soort == "factuur",
                Invoice.status.in_(("definitief", "verstuurd", "herinnering")),
                Invoice.vervaldatum < today,
            )
            .order_by(Invoice.vervaldatum, Invoice.nummer)
        )
    )
