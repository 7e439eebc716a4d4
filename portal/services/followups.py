"""Follow-ups of rejected declaration lines, for every financing (issue 10, step 7).

A financier rejected a debet line (``afgewezen``, with its retourcodes). When the core applied
that answer it released the line's export parts (``declarations.apply_answer``), so the care is
free again. Three things can be done with it, each one click, from the generic screen
(``/declareren/vervolg/<financing>``) or from a plugin's own screen (POST to the same URLs):

1. **Corrigeren en opnieuw declareren** — :func:`explain` shows what to fix (each retourcode
   with its Dutch meaning from the financing's plugin, the client, legitimation and contract line);
   after the fix :func:`mark_corrected` hands the care to the next declaration run, or
   :func:`redeclare_now` prepares a new concept declaration at once.
2. **Crediteren** — for awarded lines: :func:`credit` (``declarations.credit``).
3. **Naar particulier** — :func:`move_to_particulier`: the line's care becomes billable to the
   client, on the client's particulier legitimation (created from the organisation's particulier
   contract on request, :func:`particulier_target`); the next particulier invoice run invoices it.

Money is counted once by the database. A move writes, per registration part of the line, an
``export_part`` row of kind ``verplaatst`` that keeps the original (registration, legitimation)
*actively* exported — the partial unique index ``uq_export_part_active`` then refuses both a second
move (a double click, a parallel request) and a re-declaration of the same care, and no later
declaration run takes it. The row names the legitimation the care moved to
(``naar_legitimation_id``); the invoice run of that legitimation's financing invoices it by setting
its ``invoice_line_id`` with a conditional UPDATE (``invoice_line_id IS NULL``), so two runs cannot
both invoice it. Crediting that invoice makes the care "moved, not yet invoiced" again.

Every action is audited and answers a line's ``vervolg`` (what was done with it), so the line leaves
the "vraagt actie" list (:func:`declarations.rejected_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from portal.domain import Issue
from portal.models import (
    Client,
    Contract,
    ContractLine,
    ExportPart,
    Financier,
    Legitimation,
    Product,
    Registration,
)
from portal.models._base import utcnow
from portal.models.declaration import (
    FOLLOWUP_LABELS,
    FOLLOWUP_PARTICULIER,
    FOLLOWUP_REDECLARE,
    LINE_AWARDED,
    LINE_REJECTED,
    DeclarationLine,
)
from portal.models.export import EXPORT_DECLARATION, EXPORT_MOVED
from portal.plugins import Hooks
from portal.services import audit, declarations
from portal.services.declarations import DeclarationError, Prepared
from portal.services.stacking import exports

PARTICULIER = "particulier"

__all__ = [
    "FOLLOWUP_LABELS",
    "FOLLOWUP_PARTICULIER",
    "FOLLOWUP_REDECLARE",
    "FollowupError",
    "LineFollowup",
    "Moved",
    "NeedsLegitimation",
    "awarded_lines",
    "credit",
    "credit_again",
    "explain",
    "handled_lines",
    "mark_corrected",
    "move_to_particulier",
    "moved_parts",
    "open_lines",
    "particulier_target",
    "redeclare_now",
    "undo_move",
]


class FollowupError(DeclarationError):
    """A follow-up we refuse, with a Dutch reason (nothing was changed)."""


class NeedsLegitimation(FollowupError):
    """The client has no particulier legitimation for this care, but the organisation's
    particulier contract has a tariff: the screen offers to create one (``create=True``)."""

    def __init__(self, message: str, offer: ContractLine):
        self.offer = offer
        super().__init__(message)


@dataclass
class Target:
    """Where the care of a rejected line can go as particulier."""

    legitimation: Legitimation | None  # the client's particulier legitimation covering it
    offer: ContractLine | None = None  # else: the contract line one can be made from
    reason: str = ""  # else: why it cannot be moved (Dutch)


@dataclass
class LineFollowup:
    """What the follow-up screen shows for one line."""

    line: DeclarationLine
    codes: list[tuple[str, str]]  # (retourcode, Dutch meaning)
    minutes: int = 0  # registered care of the line (its export parts)
    aantal: int = 0
    n_parts: int = 0
    target: Target | None = None
    done: str = ""  # Dutch: what was done with it
    contract_id: int | None = None  # of the line's contract line, to fix a tariff

    @property
    def can_move(self) -> bool:
        return self.n_parts > 0 and self.target is not None and not self.target.reason


@dataclass
class Moved:
    line: DeclarationLine
    legitimation: Legitimation
    created: bool  # the legitimation was made for this move
    parts: int
    minutes: int
    aantal: int
    issues: list[Issue] = field(default_factory=list)


# --- reading --------------------------------------------------------------------------------


def _codes(hooks: Hooks, line: DeclarationLine) -> list[tuple[str, str]]:
    return [(c, hooks.code_label(line.financing, "retourcode", c)) for c in line.retourcodes or []]


def _line_parts(session: Session, line_id: int) -> list[tuple[ExportPart, int]]:
    """The registration parts the line counted when it was sent, with each one's product."""
    return list(
        session.execute(
            select(ExportPart, Registration.product_id)
            .join(Registration, Registration.id == ExportPart.registration_id)
            .where(
                ExportPart.declaration_line_id == line_id,
                ExportPart.kind == EXPORT_DECLARATION,
            )
            .order_by(ExportPart.datum, ExportPart.id)
        ).all()
    )


def _done_label(line: DeclarationLine) -> str:
    if line.vervolg == FOLLOWUP_PARTICULIER:
        return "Naar particulier verplaatst: de volgende particuliere factuurrun factureert het."
    if line.vervolg == FOLLOWUP_REDECLARE:
        return "Gecorrigeerd: gaat mee in de volgende declaratie."
    return ""


def explain(session: Session, hooks: Hooks, line: DeclarationLine) -> LineFollowup:
    """A rejected (or awarded) line with its codes' Dutch meanings, its registered care and where
    that care could go as particulier."""
    parts = _line_parts(session, line.id)
    out = LineFollowup(
        line=line,
        codes=_codes(hooks, line),
        minutes=sum(p.minutes for p, _prod in parts),
        aantal=sum(p.aantal for p, _prod in parts),
        n_parts=len(parts),
        done=_done_label(line),
    )
    if line.contract_line_id:
        cl = session.get(ContractLine, line.contract_line_id)
        out.contract_id = cl.contract_id if cl is not None else None
    if line.status == LINE_REJECTED and line.debet_credit == "D" and parts:
        out.target = particulier_target(session, line, parts)
    return out


def open_lines(
    session: Session, hooks: Hooks, financing: str | None = None, limit: int = 300
) -> list[LineFollowup]:
    """The rejected lines that still need action (``declarations.rejected_lines``), explained."""
    return [
        explain(session, hooks, line)
        for line in declarations.rejected_lines(session, financing, limit=limit)
    ]


def handled_lines(
    session: Session, financing: str | None = None, limit: int = 50
) -> list[DeclarationLine]:
    """Rejected lines something was done with, most recent first (the screen's history)."""
    stmt = select(DeclarationLine).where(
        DeclarationLine.status == LINE_REJECTED, DeclarationLine.vervolg.is_not(None)
    )
    if financing:
        stmt = stmt.where(DeclarationLine.financing == financing)
    return list(
        session.scalars(
            stmt.order_by(DeclarationLine.vervolg_at.desc(), DeclarationLine.id.desc()).limit(limit)
        )
    )


def awarded_lines(
    session: Session, financing: str, search: str = "", limit: int = 50
) -> list[DeclarationLine]:
    """Awarded debet lines not credited yet (to credit), optionally searched by reference, BSN or
    client name."""
    stmt = (
        select(DeclarationLine)
        .join(Client, Client.id == DeclarationLine.client_id)
        .where(
            DeclarationLine.financing == financing,
            DeclarationLine.status == LINE_AWARDED,
            DeclarationLine.debet_credit == "D",
        )
    )
    credits = aliased(DeclarationLine)
    credited = select(credits.credit_of_id).where(
        credits.credit_of_id.is_not(None), credits.status != LINE_REJECTED
    )
    stmt = stmt.where(DeclarationLine.id.not_in(credited))
    search = (search or "").strip()
    if search:
        like = f"%{search}%"
        stmt = stmt.where(
            or_(
                DeclarationLine.referentie.ilike(like),
                Client.bsn == search,
                Client.achternaam.ilike(like),
            )
        )
    return list(session.scalars(stmt.order_by(DeclarationLine.id.desc()).limit(limit)))


# --- where particulier care goes ----------------------------------------------------------------


def _covers(leg: Legitimation, product_ids: set[int], first: date, last: date) -> bool:
    if leg.begindatum > first or (leg.einddatum is not None and leg.einddatum < last):
        return False
    own = {p.id for p in leg.products}
    return not own or product_ids <= own


def _contract_line(session: Session, product_id: int, first: date, last: date):
    """The organisation's particulier contract line for the product over [first, last]."""
    return session.scalar(
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .join(Financier, Financier.id == Contract.financier_id)
        .where(
            Financier.financing == PARTICULIER,
            Financier.actief.is_(True),
            ContractLine.product_id == product_id,
            ContractLine.begindatum <= first,
            or_(ContractLine.einddatum.is_(None), ContractLine.einddatum >= last),
            ContractLine.tarief_cents > 0,
        )
        .order_by(ContractLine.id)
        .limit(1)
    )


def particulier_target(
    session: Session, line: DeclarationLine, parts: list[tuple[ExportPart, int]] | None = None
) -> Target:
    """The client's particulier legitimation that covers all of the line's care (its products,
    every day), else the particulier contract line one can be made from, else why not."""
    if parts is None:
        parts = _line_parts(session, line.id)
    if not parts:
        return Target(
            None, reason="Deze prestatie heeft geen geregistreerde zorg om te verplaatsen."
        )
    first = min(p.datum for p, _prod in parts)
    last = max(p.datum for p, _prod in parts)
    products = {prod for _p, prod in parts}
    for leg in session.scalars(
        select(Legitimation)
        .where(
            Legitimation.client_id == line.client_id,
            Legitimation.financing == PARTICULIER,
            Legitimation.status == "actief",
        )
        .order_by(Legitimation.priority, Legitimation.id)
    ):
        if _covers(leg, products, first, last):
            return Target(leg)
    if len(products) == 1:
        offer = _contract_line(session, next(iter(products)), first, last)
        if offer is not None:
            return Target(None, offer=offer)
    names = ", ".join(sorted(session.scalars(select(Product.naam).where(Product.id.in_(products)))))
    return Target(
        None,
        reason=(
            f"De cliënt heeft geen particuliere afspraak voor {names} van {first:%d-%m-%Y} tot en "
            f"met {last:%d-%m-%Y}, en er is geen particulier contract met een tarief voor dit "
            "product. Leg eerst een particuliere afspraak vast bij de cliënt (met de prijs), of "
            "neem het product op in het particuliere contract."
        ),
    )


def _new_legitimation(
    session: Session, hooks: Hooks, line: DeclarationLine, offer: ContractLine, parts
) -> Legitimation:
    """A particulier legitimation for exactly the moved care, at the contract's price; refused
    with the plugin's Dutch findings when it would not be valid (e.g. no address to invoice)."""
    client = session.get(Client, line.client_id)
    product = session.get(Product, offer.product_id)
    financier = session.get(Financier, offer.contract.financier_id)
    lowest = session.scalar(
        select(Legitimation.priority)
        .where(Legitimation.client_id == line.client_id)
        .order_by(Legitimation.priority.desc())
        .limit(1)
    )
    leg = Legitimation(
        client_id=client.id,
        financing=PARTICULIER,
        financier_id=financier.id,
        begindatum=min(p.datum for p, _prod in parts),
        einddatum=max(p.datum for p, _prod in parts),
        priority=(lowest or 0) + 1,
        tarief_cents=offer.tarief_cents,
        eenheid=offer.eenheid,
        opmerking=f"Aangemaakt om afgewezen prestatie {line.referentie} particulier te factureren.",
    )
    leg.client, leg.financier = client, financier
    leg.products = [product]
    blocking = [i for i in hooks.validate_legitimation(leg, financier, client) if i.blocking]
    if blocking:
        if leg in session:
            session.expunge(leg)
        raise FollowupError(
            "Er kan geen particuliere afspraak worden gemaakt: "
            + " ".join(i.message for i in blocking)
        )
    session.add(leg)
    session.flush()
    return leg


# --- actions ----------------------------------------------------------------------------------


def _locked_line(session: Session, line_id: int) -> DeclarationLine:
    line = session.get(DeclarationLine, line_id, with_for_update=True, populate_existing=True)
    if line is None:
        raise FollowupError("Deze prestatie bestaat niet.")
    return line


def _rejected_debet(line: DeclarationLine) -> None:
    if line.debet_credit == "C" and line.status == LINE_REJECTED:
        raise FollowupError(
            f"Prestatie {line.referentie} is een afgewezen creditregel: crediteer de "
            "oorspronkelijke prestatie opnieuw (‘Opnieuw crediteren’)."
        )
    if line.debet_credit != "D" or line.status != LINE_REJECTED:
        raise FollowupError(
            f"Prestatie {line.referentie} is niet afgewezen ({line.status_label.lower()}); "
            "alleen een afgewezen prestatie kan worden gecorrigeerd of naar particulier."
        )
    if line.vervolg == FOLLOWUP_PARTICULIER:
        raise FollowupError(f"Prestatie {line.referentie} is al naar particulier verplaatst.")


def _audit(
    session: Session, action: str, line: DeclarationLine, user_id: int | None, detail: dict
) -> None:
    audit.record(
        session,
        action,
        user_id=user_id,
        client_id=line.client_id,
        object_type="declaration_line",
        object_id=line.id,
        detail={"referentie": line.referentie, **detail},
    )


def _mark(line: DeclarationLine, what: str, user_id: int | None) -> None:
    line.vervolg, line.vervolg_at, line.vervolg_door = what, utcnow(), user_id


def mark_corrected(
    session: Session, line_id: int, *, user_id: int | None = None
) -> DeclarationLine:
    """The cause is fixed (client, legitimation or contract): the line's care goes with the next
    declaration run (its parts were released when it was rejected) and the line leaves the
    "vraagt actie" list. A second click changes nothing."""
    line = _locked_line(session, line_id)
    _rejected_debet(line)
    if line.vervolg == FOLLOWUP_REDECLARE:
        return line
    _mark(line, FOLLOWUP_REDECLARE, user_id)
    _audit(
        session,
        "declaratie.vervolg.opnieuw",
        line,
        user_id,
        {"retourcodes": list(line.retourcodes or [])},
    )
    session.flush()
    return line


def redeclare_now(
    session: Session,
    line_id: int,
    hooks: Hooks,
    month: date,
    *,
    user_id: int | None = None,
) -> Prepared:
    """Corrected: prepare a new concept declaration to the line's financier for ``month`` at
    once (the run takes the released care, whatever its week or month), and mark the line. A
    concept that is already there is a refusal (open it, or prepare it again there)."""
    line = _locked_line(session, line_id)
    _rejected_debet(line)
    financier = session.get(Financier, line.financier_id)
    prepared = declarations.prepare(
        session, financier, month, hooks=hooks, user_id=user_id, replace=False
    )
    if prepared.declaration is None:
        raise FollowupError(
            f"Er is voor {financier.naam} niets te declareren: de zorg van prestatie "
            f"{line.referentie} is al opnieuw gedeclareerd of verplaatst, of valt na "
            "deze maand."
        )
    mark_corrected(session, line.id, user_id=user_id)
    _audit(
        session,
        "declaratie.vervolg.direct_opnieuw",
        line,
        user_id,
        {"concept": prepared.declaration.nummer},
    )
    return prepared


def move_to_particulier(
    session: Session,
    line_id: int,
    hooks: Hooks,
    *,
    user_id: int | None = None,
    create: bool = False,
) -> Moved:
    """Move the care of a rejected debet line to the client's particulier legitimation.

    Refused (``FollowupError``, nothing changed — the caller rolls back) when the line is not a
    rejected debet line, has no registered care, was moved already, or its care was declared
    again meanwhile (the unique index says so, also for two requests at the same moment). Without
    a particulier legitimation: ``NeedsLegitimation`` when the particulier contract has a tariff
    (call again with ``create=True`` to make one for exactly this care), else a refusal that says
    what to do."""
    line = _locked_line(session, line_id)
    _rejected_debet(line)
    parts = _line_parts(session, line.id)
    target = particulier_target(session, line, parts)
    created = False
    if target.legitimation is None:
        if target.reason:
            raise FollowupError(target.reason)
        if not create:
            raise NeedsLegitimation(
                "De cliënt heeft nog geen particuliere afspraak voor deze zorg. Maak er een aan "
                "volgens het particuliere contract om de zorg particulier te factureren.",
                target.offer,
            )
        leg = _new_legitimation(session, hooks, line, target.offer, parts)
        created = True
    else:
        leg = target.legitimation
    now = utcnow()
    rows = [
        ExportPart(
            registration_id=p.registration_id,
            client_id=p.client_id,
            financing=PARTICULIER,
            legitimation_id=p.legitimation_id,  # stays exported: never declared again
            naar_legitimation_id=leg.id,
            datum=p.datum,
            week_start=p.week_start,
            minutes=p.minutes,
            aantal=p.aantal,
            kind=EXPORT_MOVED,
            declaration_line_id=line.id,
            invoice_line_id=None,
            active=True,
            created_at=now,
        )
        for p, _prod in parts
    ]
    reference = line.referentie
    again = _declared_again(session, parts)
    if again:
        raise FollowupError(
            f"De zorg van prestatie {reference} is inmiddels opnieuw gedeclareerd (prestatie "
            f"{again}); verplaatsen naar particulier kan niet meer. Crediteer eerst die prestatie "
            "als de zorg toch particulier moet worden gefactureerd."
        )
    session.add_all(rows)
    try:
        session.flush()
    except Exception as exc:
        if exports.is_unique_violation(exc):  # the database's guard: one active export per part
            raise FollowupError(
                f"De zorg van prestatie {reference} is al verplaatst of opnieuw gedeclareerd "
                "(een dubbele klik of een tweede verzoek tegelijk). Er is niets dubbel geteld; "
                "vernieuw de pagina."
            ) from exc
        raise
    _mark(line, FOLLOWUP_PARTICULIER, user_id)
    moved = Moved(
        line=line,
        legitimation=leg,
        created=created,
        parts=len(rows),
        minutes=sum(r.minutes for r in rows),
        aantal=sum(r.aantal for r in rows),
    )
    _audit(
        session,
        "declaratie.vervolg.particulier",
        line,
        user_id,
        {
            "referentie": line.referentie,
            "legitimatie": leg.id,
            "legitimatie_aangemaakt": created,
            "delen": moved.parts,
            "minuten": moved.minutes,
            "aantal": moved.aantal,
        },
    )
    session.flush()
    return moved


def _declared_again(session: Session, parts: list[tuple[ExportPart, int]]) -> str | None:
    """The reference of a later declaration line that exports one of these parts now, if any."""
    if not parts:
        return None
    keys = or_(
        *(
            (ExportPart.registration_id == p.registration_id)
            & (ExportPart.legitimation_id == p.legitimation_id)
            for p, _prod in parts
        )
    )
    return session.scalar(
        select(DeclarationLine.referentie)
        .join(ExportPart, ExportPart.declaration_line_id == DeclarationLine.id)
        .where(keys, ExportPart.active.is_(True), ExportPart.kind == EXPORT_DECLARATION)
        .limit(1)
    )


def undo_move(session: Session, line_id: int, *, user_id: int | None = None) -> int:
    """Take back a move to particulier that was not invoiced yet: its parts are released, so the
    care is the first financing's again (the next declaration run takes it) and the line needs
    action again. Refused once an invoice counts the care (credit that invoice first). One
    conditional UPDATE decides, so an invoice run at the same moment and an undo cannot both
    win. Returns the number of parts given back."""
    line = _locked_line(session, line_id)
    if line.vervolg != FOLLOWUP_PARTICULIER:
        raise FollowupError(f"Prestatie {line.referentie} is niet naar particulier verplaatst.")
    moved = ExportPart.declaration_line_id == line.id, ExportPart.kind == EXPORT_MOVED
    reference = line.referentie
    invoiced = FollowupError(
        f"De zorg van prestatie {reference} is al particulier gefactureerd; crediteer eerst die "
        "factuur."
    )
    counts = session.execute(
        select(func.count(ExportPart.id), func.count(ExportPart.invoice_line_id)).where(
            *moved, ExportPart.active.is_(True)
        )
    ).one()
    if counts[1]:
        raise invoiced
    released = session.execute(
        update(ExportPart)
        .where(*moved, ExportPart.active.is_(True), ExportPart.invoice_line_id.is_(None))
        .values(active=False, released_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if released != counts[0]:  # an invoice run claimed some at this moment: it wins
        raise invoiced
    line.vervolg, line.vervolg_at, line.vervolg_door = None, None, None
    _audit(session, "declaratie.vervolg.particulier_terug", line, user_id, {"delen": released})
    session.flush()
    return released


def credit_again(
    session: Session, line_id: int, hooks: Hooks, *, user_id: int | None = None
) -> DeclarationLine:
    """A rejected credit line: credit its original (still awarded) again, with a new reference
    in the next declaration; the rejected credit leaves "vraagt actie". Returns the new credit."""
    line = _locked_line(session, line_id)
    if line.debet_credit != "C" or line.status != LINE_REJECTED or line.credit_of_id is None:
        raise FollowupError(
            f"Prestatie {line.referentie} is geen afgewezen creditregel; alleen die kan "
            "opnieuw worden gecrediteerd."
        )
    if line.vervolg:
        raise FollowupError(f"Prestatie {line.referentie} is al opnieuw gecrediteerd.")
    made = credit(session, line.credit_of_id, hooks, user_id=user_id)
    _mark(line, FOLLOWUP_REDECLARE, user_id)
    _audit(session, "declaratie.vervolg.opnieuw_credit", line, user_id, {"credit": made.referentie})
    session.flush()
    return made


def credit(
    session: Session, line_id: int, hooks: Hooks, *, user_id: int | None = None
) -> DeclarationLine:
    """Credit an awarded debet line (``declarations.credit``; audited there): the credit joins the
    next declaration to that financier."""
    (made,) = declarations.credit(session, [line_id], hooks, user_id=user_id)
    return made


# --- for invoice runs ---------------------------------------------------------------------------


def moved_parts(session: Session, financing: str, until: date) -> list[tuple[ExportPart, int]]:
    """Care moved to a legitimation of ``financing`` (kind ``verplaatst``) up to ``until`` and
    not invoiced yet, with each part's product: the invoice run adds it to its debtors."""
    return list(
        session.execute(
            select(ExportPart, Registration.product_id)
            .join(Registration, Registration.id == ExportPart.registration_id)
            .join(Legitimation, Legitimation.id == ExportPart.naar_legitimation_id)
            .where(
                ExportPart.naar_legitimation_id.is_not(None),  # its index: few rows, found fast
                ExportPart.kind == EXPORT_MOVED,
                ExportPart.active.is_(True),
                ExportPart.invoice_line_id.is_(None),
                ExportPart.datum <= until,
                Legitimation.financing == financing,
            )
            .order_by(ExportPart.client_id, ExportPart.datum, ExportPart.id)
        ).all()
    )
