"""Declaring to a gemeente (iWmo/iJw 3.2): everything of the 323 and 325 the core's declaration
run asks of this plugin.

* :func:`lines` (hook ``declaration_lines``): care → prestaties. Each unit of care is rounded by
  its contract line, aggregated per client, toewijzing, product code and product period; product
  periods are months clipped to the toewijzing (IV089, :func:`split_period`); hours that are not
  whole go as minutes at the minute tariff (IV081/TR346); Wmo and Jeugdwet go in separate
  declarations (a WMO323 and a JW323).
* :func:`numbering` (hook ``declaration_numbering``): the declaration number, year + month +
  sequence (TR333), and prestatie references ``{nummer}R{n}`` unique per provider (TR314).
* :func:`credit_reference`: a new reference of at most 20 characters for a credit.
* :func:`answer_325`: a 325 read into per-line outcomes; 0200, 0233 and 8001 mean accepted.
* In-message rules (CS/CD/TR) and the rules the portal can check against its own state
  (toewijzingen, contract tariffs, earlier prestaties) run in :func:`issues`; :func:`drafts`
  builds and XSD-validates the message.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from plugins.wmo_jw import messages as msgs
from plugins.wmo_jw import rules
from plugins.wmo_jw.chain import CODE, UNIT_EENHEID, own_agb, standard_of
from plugins.wmo_jw.standard import IJW, IWMO, Standard
from portal.domain import (
    AnswerCode,
    Care,
    DeclarationAnswer,
    DeclarationLines,
    DeclarationNumbering,
    Issue,
    LineAnswer,
    LineDraft,
    MessageDraft,
    Severity,
    Unit,
)
from portal.models import Client, Contract, ContractLine, Financier, Legitimation
from portal.models.declaration import (
    LINE_AWARDED,
    LINE_CREDITED,
    LINE_REJECTED,
    LINE_SENT,
    Declaration,
    DeclarationLine,
)
from portal.services import stacking
from portal.validators import month_label

# Retourcodes that say "accepted" (0200 message accepted, 0233 prestatie accepted, 8001
# declaratie fully awarded); any other code on a prestatie rejects it.
OK_CODES = frozenset({"0200", "0233", "8001"})


def round_minutes(minutes: int, step: int | None, how: str | None) -> int:
    """One unit of care rounded as its contract line says (the stacking service's rounding,
    DESIGN §6.6: a half step rounds up with ``dichtstbij``)."""
    return stacking.round_minutes(minutes, step or 0, how or "dichtstbij")


# --- lines: care → prestaties ------------------------------------------------------------------


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


def split_period(
    begin: date, end: date, legit_begin: date, legit_end: date | None
) -> list[tuple[date, date]]:
    """The product periods of ``begin..end`` within a toewijzing: cut at every month boundary
    and clipped to the toewijzing (IV089: 08-04…17-06 → 08-04…30-04, 01-05…31-05, 01-06…17-06).
    """
    start = max(begin, legit_begin)
    stop = min(end, legit_end) if legit_end else end
    periods = []
    while start <= stop:
        month_end = month_bounds(start)[1]
        periods.append((start, min(month_end, stop)))
        start = month_end + timedelta(days=1)
    return periods


def _legitimation_rows(session: Session, financier: Financier) -> list[Any]:
    """Every toewijzing of ``financier`` as a read-only row with all its columns (thousands:
    no ORM objects)."""
    table = Legitimation.__table__
    return list(session.execute(select(table).where(table.c.financier_id == financier.id)))


def lines(financier: Financier, care: Iterable[Care], session: Session) -> DeclarationLines:
    """Aggregate care into prestaties through contract lines and toewijzingen (module doc)."""
    contract_lines: dict[int, list[ContractLine]] = {}
    for cl in session.scalars(
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(Contract.financier_id == financier.id)
    ):
        contract_lines.setdefault(cl.product_id, []).append(cl)
    legs: dict[int, list[Any]] = {}
    for leg in _legitimation_rows(session, financier):
        if leg.status in ("actief", "beeindigd") and leg.financing == financier.financing:
            legs.setdefault(leg.client_id, []).append(leg)

    groups: dict[tuple, dict[str, Any]] = {}
    skipped: list[Issue] = []
    for d in care:
        # One own product may map to several financier codes at one financier (Begeleiding
        # under the Wmo and under the Jeugdwet): the contract line is the one that fits a
        # toewijzing of this client on that day.
        lines_then = [
            cl
            for cl in contract_lines.get(d.product_id, [])
            if cl.begindatum <= d.datum and (cl.einddatum is None or d.datum <= cl.einddatum)
        ]
        if not lines_then:
            skipped.append(
                Issue(
                    "contract",
                    f"Geen contractregel voor product {d.product_id} op {d.datum:%d-%m-%Y}.",
                    "product",
                )
            )
            continue
        current = [
            leg
            for leg in legs.get(d.client_id, [])
            if leg.begindatum <= d.datum and (leg.einddatum is None or d.datum <= leg.einddatum)
        ]
        cl, leg = next(
            (
                (cl, leg)
                for cl in lines_then
                for leg in current
                if (not leg.productcode or leg.productcode == cl.productcode)
                and (not leg.productcategorie or leg.productcategorie == cl.productcategorie)
            ),
            (lines_then[0], None),
        )
        if leg is None:
            skipped.append(
                Issue(
                    "legitimatie",
                    f"Zorg op {d.datum:%d-%m-%Y} valt niet binnen een toewijzing voor "
                    f"product {cl.productcode}.",
                    "legitimation",
                )
            )
            continue
        # the product period holding this day: its month, clipped to the toewijzing (IV089)
        month_begin, month_end = month_bounds(d.datum)
        begin = max(month_begin, leg.begindatum)
        end = min(month_end, leg.einddatum) if leg.einddatum else month_end
        key = (d.client_id, leg.id, cl.id, begin)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {
                "leg": leg,
                "cl": cl,
                "begin": begin,
                "end": end,
                "minutes": 0,
                "aantal": 0,
                "care": [],
            }
        g["minutes"] += (
            d.minutes or 0
            if d.rounded
            else round_minutes(d.minutes or 0, cl.afronding_minuten, cl.afronding_wijze)
        )
        g["aantal"] += d.aantal or 0
        g["care"].append(d)

    made = []
    for key, g in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][1])):
        cl: ContractLine = g["cl"]
        unit = Unit(cl.eenheid)
        tarief = cl.tarief_cents
        if unit is Unit.UUR:
            if g["minutes"] % 60 == 0:
                volume = g["minutes"] // 60
            else:  # minutes on an hours agreement, with the minute tariff (IV081/TR346)
                unit, volume, tarief = Unit.MINUUT, g["minutes"], round(cl.tarief_cents / 60)
        elif unit is Unit.MINUUT:
            volume = g["minutes"]
        else:
            volume = g["aantal"]
        if volume <= 0:
            continue
        made.append(
            LineDraft(
                client_id=key[0],
                legitimation_id=g["leg"].id,
                begindatum=g["begin"],
                einddatum=g["end"],
                volume=volume,
                eenheid=unit.value,
                tarief_cents=tarief,
                bedrag_cents=volume * tarief,
                product_id=cl.product_id,
                contract_line_id=cl.id,
                productcategorie=cl.productcategorie,
                productcode=cl.productcode,
                groep=standard_of(g["leg"]).key,  # a WMO323 and a JW323 are separate messages
                care=g["care"],
            )
        )
    return DeclarationLines(made, skipped)


def numbering(declaration: Declaration, n_lines: int, session: Session) -> DeclarationNumbering:
    """Declaration number: year + month + sequence, unique per financing (TR333); prestatie
    references ``{nummer}R{n:06d}``, unique per provider (TR314)."""
    base = f"{declaration.periode_begin:%Y%m}"
    existing = set(
        session.scalars(
            select(Declaration.nummer).where(
                Declaration.financing == CODE, Declaration.nummer.like(f"{base}%")
            )
        )
    )
    n = 1
    while f"{base}{n:04d}" in existing:
        n += 1
    nummer = f"{base}{n:04d}"
    return DeclarationNumbering(nummer, [f"{nummer}R{i:06d}" for i in range(1, n_lines + 1)])


def credit_reference(line: DeclarationLine, session: Session) -> str:
    """A new reference (max 20 characters) derived from the original: ``…C1``, ``…C2``."""
    n = 1
    while True:
        ref = f"{line.referentie[: 20 - 1 - len(str(n))]}C{n}"
        if (
            session.scalar(select(DeclarationLine.id).where(DeclarationLine.referentie == ref))
            is None
        ):
            return ref
        n += 1


def answer_325(b: msgs.Bericht) -> DeclarationAnswer:
    """What a 325 says: a code other than 0200/0233/8001 at header or declaration level rejects
    the whole declaration; a listed prestatie with such a code is rejected; prestaties the 325
    does not list are awarded."""

    known: dict[str, AnswerCode] = {}

    def code(c: str) -> AnswerCode:  # hundreds of lines share a few codes: look each up once
        if c not in known:
            known[c] = AnswerCode(c, b.std.meaning("LDT_RetourCode", c))
        return known[c]

    whole = [c for c in b.header.retourcodes + b.declaratie.retourcodes if c not in OK_CODES]
    total = b.declaratie.toegekend_totaal or 0
    return DeclarationAnswer(
        message_reference=b.header.declaratie_identificatie,
        number=b.declaratie.nummer,
        rejected_whole=bool(whole),
        codes=[code(c) for c in (whole or b.header.retourcodes + b.declaratie.retourcodes)],
        lines=[
            LineAnswer(
                reference=p.referentie,
                awarded=not [c for c in p.retourcodes if c not in OK_CODES],
                codes=tuple(code(c) for c in p.retourcodes if c not in OK_CODES),
            )
            for p in b.declaratie.prestaties
        ],
        unlisted_awarded=True,
        awarded_total_cents=-total if b.declaratie.toegekend_debet_credit == "C" else total,
        reference=b.header.identificatie,
    )


def _rows(declaration: Declaration, session: Session):
    """The declaration's lines as plain rows with BSN, toewijzingnummer and the credited
    reference: one query, no ORM objects (a 323 can hold many thousands of prestaties)."""
    original = aliased(DeclarationLine)
    return session.execute(
        select(
            DeclarationLine.id,
            DeclarationLine.referentie,
            DeclarationLine.productcategorie,
            DeclarationLine.productcode,
            DeclarationLine.begindatum,
            DeclarationLine.einddatum,
            DeclarationLine.volume,
            DeclarationLine.eenheid,
            DeclarationLine.tarief_cents,
            DeclarationLine.bedrag_cents,
            DeclarationLine.debet_credit,
            Client.bsn,
            Legitimation.toewijzingnummer,
            Legitimation.productcategorie.label("leg_categorie"),
            # one key, not the whole JSON (it holds the start/stop history) for every line
            Legitimation.sleutels["standaard"].as_string().label("standaard"),
            original.referentie.label("vorig"),
        )
        .join(Client, Client.id == DeclarationLine.client_id)
        .outerjoin(Legitimation, Legitimation.id == DeclarationLine.legitimation_id)
        .outerjoin(original, original.id == DeclarationLine.credit_of_id)
        .where(DeclarationLine.declaration_id == declaration.id)
        .order_by(Client.bsn, DeclarationLine.id)
    ).all()


def _standard_of_row(row) -> Standard:
    key = row.standaard
    if key == "ijw" or (key is None and row.leg_categorie in IJW.codes("LDT_ProductCategorie")):
        return IJW
    return IWMO


def bericht(declaration: Declaration, session: Session, today: date | None = None) -> msgs.Bericht:
    today = today or date.today()
    rows = _rows(declaration, session)
    std = _standard_of_row(rows[0]) if rows else IWMO
    prestaties = []
    for row in rows:
        eenheid = UNIT_EENHEID.get(row.eenheid, row.eenheid)
        prestaties.append(
            msgs.Prestatie(
                bsn=row.bsn,
                referentie=row.referentie,
                vorig_referentie=row.vorig,
                toewijzingnummer=row.toewijzingnummer or "",
                categorie=row.productcategorie or "",
                code=row.productcode or "",
                begindatum=row.begindatum,
                einddatum=row.einddatum,
                volume=row.volume,
                eenheid=eenheid,
                tarief=None if eenheid == "83" else row.tarief_cents,
                bedrag=row.bedrag_cents,
                debet_credit=row.debet_credit,
            )
        )
    total = sum(p.signed_cents for p in prestaties)
    return msgs.Bericht(
        std=std,
        kind="323",
        header=msgs.Header(
            afzender=own_agb(session) or "",
            ontvanger=declaration.financier.code or "",
            identificatie=declaration.message_reference or msgs.new_identificatie(),
            dagtekening=today,
        ),
        declaratie=msgs.Declaratie(
            nummer=declaration.nummer,
            periode_begin=declaration.periode_begin,
            periode_eind=declaration.periode_eind,
            dagtekening=today,
            totaal=abs(total),
            debet_credit="C" if total < 0 else "D",
            prestaties=prestaties,
        ),
    )


def portal_state(declaration: Declaration, session: Session) -> rules.DeclarationState:
    """What the portal knows that the gemeente will check: toewijzingen and earlier lines."""
    state = rules.DeclarationState()
    for leg in session.execute(
        select(
            Legitimation.toewijzingnummer,
            Legitimation.begindatum,
            Legitimation.einddatum,
            Legitimation.productcategorie,
            Legitimation.productcode,
            Legitimation.sleutels["eenheid"].as_string().label("sl_eenheid"),
            Legitimation.sleutels["frequentie"].as_string().label("sl_frequentie"),
            Legitimation.eenheid,
            Legitimation.volume,
            Legitimation.budget_cents,
            Legitimation.reden_wijziging,
            Client.bsn,
        )
        .join(Client, Client.id == Legitimation.client_id)
        .where(
            Legitimation.financing == CODE,
            Legitimation.financier_id == declaration.financier_id,
        )
    ):
        bsn = leg.bsn
        state.toewijzingen[leg.toewijzingnummer] = rules.ToewijzingState(
            nummer=leg.toewijzingnummer,
            bsn=bsn,
            ingangsdatum=leg.begindatum,
            einddatum=leg.einddatum,
            categorie=leg.productcategorie,
            code=leg.productcode,
            eenheid=leg.sl_eenheid or UNIT_EENHEID.get(leg.eenheid or ""),
            volume=leg.volume,
            frequentie=leg.sl_frequentie,
            budget=leg.budget_cents,
            reden_wijziging=leg.reden_wijziging,
        )
    earlier = session.execute(
        select(DeclarationLine.referentie, DeclarationLine.status, DeclarationLine.debet_credit)
        .join(Declaration, Declaration.id == DeclarationLine.declaration_id)
        .where(
            DeclarationLine.financing == CODE,
            Declaration.id != declaration.id,
            Declaration.status != "concept",
        )
    )
    for ref, status, dc in earlier:
        state.known_references.add(ref)
        if dc == "D" and status in (LINE_AWARDED, LINE_CREDITED):
            state.awarded.add(ref)
        if status == LINE_CREDITED:
            state.credited.add(ref)
    # credits in this declaration point at awarded lines of earlier ones
    original = aliased(DeclarationLine)
    for ref, status in session.execute(
        select(original.referentie, original.status)
        .join(DeclarationLine, DeclarationLine.credit_of_id == original.id)
        .where(DeclarationLine.declaration_id == declaration.id)
    ):
        if status in (LINE_AWARDED, LINE_CREDITED):
            state.awarded.add(ref)
    state.declaration_numbers = set(
        session.scalars(
            select(Declaration.nummer).where(
                Declaration.financing == CODE,
                Declaration.id != declaration.id,
                Declaration.status.not_in(("concept", "afgekeurd")),
            )
        )
    )
    # TR318/TR319: the latest period this gemeente has received (a wholly rejected one does not
    # count: the gemeente did not take it in)
    state.last_period = session.scalar(
        select(func.max(Declaration.periode_begin)).where(
            Declaration.financing == CODE,
            Declaration.financier_id == declaration.financier_id,
            Declaration.id != declaration.id,
            Declaration.status.not_in(("concept", "afgekeurd")),
            # per law: the Wmo and the Jeugdwet each go month after month (TR318/TR319)
            or_(Declaration.groep == declaration.groep, Declaration.groep.is_(None))
            if declaration.groep
            else Declaration.groep.is_(None),
        )
    )
    # TR322/TR369: what earlier debet prestaties per toewijzing hold (sent or awarded, not
    # rejected, not credited)
    for nummer, volume, eenheid, cents in session.execute(
        select(
            Legitimation.toewijzingnummer,
            DeclarationLine.volume,
            DeclarationLine.eenheid,
            DeclarationLine.bedrag_cents,
        )
        .join(Legitimation, Legitimation.id == DeclarationLine.legitimation_id)
        .join(Declaration, Declaration.id == DeclarationLine.declaration_id)
        .where(
            DeclarationLine.financing == CODE,
            Declaration.financier_id == declaration.financier_id,
            Declaration.id != declaration.id,
            DeclarationLine.debet_credit == "D",
            DeclarationLine.status.in_((LINE_SENT, LINE_AWARDED)),
        )
    ):
        t = state.toewijzingen.get(nummer)
        if t is None:
            continue
        v = rules.volume_in_toewijzing_unit(
            volume or 0, UNIT_EENHEID.get(eenheid or "", eenheid or ""), t.eenheid
        )
        if v is not None:
            state.declared_volume[nummer] = state.declared_volume.get(nummer, 0) + v
        state.declared_cents[nummer] = state.declared_cents.get(nummer, 0) + (cents or 0)
    # TR381: the gemeente's products are the ones contracted with it
    state.products = {
        (cat, code)
        for cat, code in session.execute(
            select(ContractLine.productcategorie, ContractLine.productcode)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(
                Contract.financier_id == declaration.financier_id,
                ContractLine.productcategorie.is_not(None),
                ContractLine.productcode.is_not(None),
            )
        )
    }
    return state


# Cross-message findings that only the gemeente can judge for sure are warnings here.
_WARN_ONLY = {"9321", "9322", "9369"}


def issues(declaration: Declaration, session: Session, today: date | None = None) -> list[Issue]:
    """Everything that blocks (or warns about) sending this declaration, in Dutch."""
    found: list[Issue] = []
    if not declaration.financier or not declaration.financier.code:
        return [Issue("gemeente", "De gemeente heeft geen gemeentecode.", "financier")]
    if not own_agb(session):
        found.append(Issue("agb", "De organisatie heeft nog geen AGB-code.", "agb"))
    for ref in session.scalars(
        select(DeclarationLine.referentie).where(
            DeclarationLine.declaration_id == declaration.id,
            DeclarationLine.legitimation_id.is_(None),
        )
    ):
        found.append(Issue("9338", f"Prestatie {ref} hoort bij geen toewijzing.", "prestatie"))
    if found:
        return found
    b = bericht(declaration, session, today)
    _remember(declaration, b)
    found.extend(rules.check_message(b, today))
    top, per_line = rules.check_323_state(b, portal_state(declaration, session))
    found.extend(top)
    for line_issues in per_line.values():
        for issue in line_issues:
            if issue.code in _WARN_ONLY:
                found.append(
                    Issue(issue.code, issue.message, issue.field, severity=Severity.WARNING)
                )
            else:
                found.append(issue)
    return found


def period_choices(selected) -> list[tuple[str, str]]:
    """The DeclaratiePeriode months on offer, newest first: never before the last period this
    gemeente received (IV090), and never a month that has not ended (TR137); the month after it
    is marked, as care in every month means
    declaring month after month (TR318). ``selected`` comes from the core's declaration flow."""
    today = date.fromisoformat(selected.get("vandaag") or date.today().isoformat())
    # TR137: a period ends on or before the message's date, so a month is on offer from its
    # last day on (on 5 December, November is the latest)
    current = today.replace(day=1)
    if rules.month_end(today) > today:
        current = rules.next_month(current, -1)
    last = None
    if selected.get("laatste_periode"):
        year, month = (int(x) for x in selected["laatste_periode"].split("-"))
        last = date(year, month, 1)
    following = rules.next_month(last) if last else None
    first = min(last, current) if last else date(current.year - 1, current.month, 1)
    out = []
    month = current
    while month >= first:
        label = month_label(month)
        if month == last:
            label += " (aanvulling op de vorige declaratie)"
        elif month == following:
            label += " (volgt op de vorige declaratie)"
        out.append((f"{month:%Y-%m}", label))
        month = rules.next_month(month, -1)
    return out


def _remember(declaration: Declaration, b: msgs.Bericht) -> None:
    """Keep the checked Bericht on the instance, so building right after checking (submit) does
    not read thousands of lines twice; any change to the lines or total invalidates it."""
    declaration.__dict__["_wmo_bericht"] = (
        declaration.total_cents,
        len(b.declaratie.prestaties),
        b,
    )


def _remembered(declaration: Declaration, session: Session, today: date | None):
    cached = declaration.__dict__.get("_wmo_bericht")
    count = session.scalar(
        select(func.count(DeclarationLine.id)).where(
            DeclarationLine.declaration_id == declaration.id
        )
    )
    if cached and cached[0] == declaration.total_cents and cached[1] == count:
        return cached[2]
    return bericht(declaration, session, today)


def drafts(declaration: Declaration, session: Session, today: date | None = None):
    b = _remembered(declaration, session, today)
    payload = msgs.build(b)
    return [
        MessageDraft(
            standard=b.std.label,
            code=b.name,
            payload=payload,
            geadresseerde=("Gemeente", b.header.ontvanger),
            reference=b.header.identificatie,
            filename=f"{b.name}_{declaration.nummer}.xml",
        )
    ]


def rejected_explanation(line: DeclarationLine, std: Standard = IWMO) -> list[tuple[str, str, str]]:
    """(code, meaning, what to do) for a rejected line."""
    if line.status != LINE_REJECTED:
        return []
    return [
        (c, std.meaning("LDT_RetourCode", c), FIXES.get(c, DEFAULT_FIX)) for c in line.retourcodes
    ]


DEFAULT_FIX = "Controleer de prestatie, herstel de oorzaak en declareer opnieuw."
FIXES = {
    "0001": "Het hele bericht is technisch afgekeurd; declareer de maand opnieuw.",
    "0611": "Pas het tarief in het contract aan naar het tarief van de gemeente en declareer "
    "opnieuw.",
    "8017": "Crediteer alleen prestaties die de gemeente heeft toegekend.",
    "8021": "Het referentienummer was al gebruikt; declareer opnieuw (de portal maakt een nieuw "
    "nummer).",
    "8187": "Controleer of de toewijzing bij deze cliënt hoort (BSN).",
    "9307": "De zorg valt buiten de toewijzing: vraag een (verlengde) toewijzing aan of corrigeer "
    "de registraties.",
    "9308": "De zorg valt buiten de toewijzing: vraag een (verlengde) toewijzing aan of corrigeer "
    "de registraties.",
    "9321": "Er is meer geleverd dan toegewezen: vraag een wijziging (317) aan of corrigeer de "
    "registraties.",
    "9322": "Samen met eerdere declaraties is meer gedeclareerd dan het toegewezen totaal: vraag "
    "een wijziging (317) aan of crediteer een eerdere prestatie.",
    "9369": "Samen met eerdere declaraties past het bedrag niet in het toegewezen budget: vraag "
    "een wijziging (317) aan of corrigeer de registraties.",
    "8214": "Declareer eerst de maand die volgt op de vorige declaratie, daarna deze maand.",
    "S329": "De productcode hoort niet bij de categorie: corrigeer de contractregel.",
    "9338": "Er is geen toewijzing gevonden: controleer het toewijzingnummer of vraag een "
    "toewijzing aan.",
    "9339": "De productcategorie wijkt af van de toewijzing: corrigeer de contractregel.",
    "9340": "De productcode wijkt af van de toewijzing: corrigeer de contractregel.",
    "9341": "De eenheid wijkt af van de toewijzing: corrigeer de contractregel.",
    "9384": "De gemeente heeft de toewijzing verwijderd; overleg met de gemeente.",
    "9390": "Deze prestatie is al gecrediteerd; er is niets meer te doen.",
}
