"""The 323 from a portal declaration, and the checks that run before it may leave.

In-message rules (CS/CD/TR) and the rules the portal can check against its own state
(toewijzingen, contract tariffs, earlier prestaties) run in :func:`issues`; :func:`drafts` builds
and XSD-validates the message.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from plugins.wmo_jw import messages as msgs
from plugins.wmo_jw import rules
from plugins.wmo_jw.chain import CODE, UNIT_EENHEID, own_agb
from plugins.wmo_jw.standard import IJW, IWMO, Standard
from portal.domain import Issue, MessageDraft, Severity
from portal.models import Client, Contract, ContractLine, Legitimation
from portal.models.declaration import (
    LINE_AWARDED,
    LINE_CREDITED,
    LINE_REJECTED,
    LINE_SENT,
    Declaration,
    DeclarationLine,
)
from portal.validators import month_label


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
