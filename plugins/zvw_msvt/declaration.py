"""Declaring Zvw care (wijkverpleging, ELV, ZG, MSVT on contract) in AW319, through the core run.

The core chooses the care (stacking: whole ISO weeks, each part on its legitimation); here we make
the standard's lines:

* the contract line of the insurer for the product, on the day, in the prestatiecodelijst of
  the legitimation's kind (065 wijkverpleging, 068 ELV, 066 ZG); MSVT is a contract line like
  any other where the insurer contracts it;
* one prestatie per client, legitimation, prestatiecode and ISO week for units per time or per
  day; one per calendar month (unit 31) or year (unit 41) for wijkverpleging's period tariffs;
* hours above the indicatie are never billed: a week in which care billed on an indicatie
  exceeds its hours per week (care without a stack rule goes 1:1 to its top legitimation) is held
  back as "niet gedekt" until a stack rule (e.g. onto particulier) or the indicatie settles it;
* one declaration (one AW319 file) per insurer, period and EI code: 428 wijkverpleging/ELV and
  430 ZG are separate files (``LineDraft.groep``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plugins.zvw_msvt import standard as std
from plugins.zvw_msvt.validation import weekly_minutes
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
    ParseOutcome,
    Unit,
)
from portal.formats import ei
from portal.models import (
    Client,
    Contract,
    ContractLine,
    Declaration,
    DeclarationLine,
    Legitimation,
    OrganisationAgb,
    Product,
)
from portal.models.declaration import LINE_AWARDED, LINE_SENT
from portal.services.stacking import iso_week_label, minutes_label, week_start

AW319 = ei.load_layout("aw319", "1.4")
AW320 = ei.load_layout("aw320", "1.4-afgeleid")
AW320_CODES = {b"429": 428, b"431": 430}  # retour EI code -> heen EI code (cod002)
MAX_VOLUME = 9999  # AANTAL UITGEVOERDE PRESTATIES N(4)


# --- contract lines --------------------------------------------------------------------------


def contract_lines(session: Session, financier_id: int) -> dict[int, list[ContractLine]]:
    """The insurer's contract lines by own product (all periods; :func:`pick` chooses)."""
    found: dict[int, list[ContractLine]] = defaultdict(list)
    for cl, c_begin, c_end in session.execute(
        select(ContractLine, Contract.begindatum, Contract.einddatum)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(Contract.financier_id == financier_id)
        .order_by(ContractLine.begindatum.desc(), ContractLine.id)
    ):
        cl._contract_period = (c_begin, c_end)
        found[cl.product_id].append(cl)
    return found


def lijst_of(cl: ContractLine) -> str:
    """A Zvw contract line's prestatiecodelijst (kept in ``productcategorie``; 065 when empty)."""
    return cl.productcategorie or "065"


def contract_line_problem(cl: ContractLine) -> str | None:
    """Why a Zvw contract line cannot be declared in AW319, in Dutch; None when it can."""
    lijst = lijst_of(cl)
    if lijst not in std.LISTS_USED:
        return (
            f"prestatiecodelijst {lijst} hoort niet bij de Zvw-declaratie "
            "(065 wijkverpleging, 066 ZG, 068 ELV)"
        )
    code = cl.productcode or ""
    if not code or len(code) > 5 or code[0] == " ":
        return f"prestatiecode '{code}' past niet in de AW319 (1 tot 5 tekens)"
    if cl.eenheid not in std.UNIT_CODES:
        return f"eenheid {cl.eenheid} kent de AW319 niet"
    if cl.eenheid in std.ONLY_WIJKVERPLEGING and lijst != "065":
        return f"eenheid {cl.eenheid} bestaat alleen voor wijkverpleging (lijst 065)"
    return None


def pick(candidates: list[ContractLine], day: date, lijst: str) -> ContractLine | None:
    for cl in candidates:
        c_begin, c_end = getattr(cl, "_contract_period", (cl.begindatum, None))
        if (
            lijst_of(cl) == lijst
            and cl.begindatum <= day
            and (cl.einddatum is None or day <= cl.einddatum)
            and c_begin <= day
            and (c_end is None or day <= c_end)
        ):
            return cl
    return None


# --- lines -----------------------------------------------------------------------------------


def _bucket(unit: str, day: date, period_begin: date) -> tuple[date, date]:
    """The prestatie period a piece of care counts in, by the contract's unit."""
    if unit == Unit.MAAND.value:
        first = period_begin
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first, nxt - timedelta(days=1)
    if unit == Unit.JAAR.value:
        return date(period_begin.year, 1, 1), date(period_begin.year, 12, 31)
    wk = week_start(day)
    return wk, wk + timedelta(days=6)


def lines(
    financier, care: list[Care], period_begin: date, period_end: date, session: Session
) -> DeclarationLines:
    skipped: list[Issue] = []
    legs = {
        leg.id: leg
        for leg in session.scalars(
            select(Legitimation).where(
                Legitimation.id.in_({c.legitimation_id for c in care if c.legitimation_id})
            )
        )
    }
    time_products = {
        pid
        for pid, eenheid in session.execute(
            select(Product.id, Product.eenheid).where(Product.id.in_({c.product_id for c in care}))
        )
        if eenheid in (Unit.MINUUT.value, Unit.UUR.value)
    }
    contract = contract_lines(session, financier.id)
    names = {
        cid: name
        for cid, name in session.execute(
            select(Client.id, Client.achternaam).where(Client.id.in_({c.client_id for c in care}))
        )
    }

    # 1. hours above the indicatie are "niet gedekt": the whole week waits
    per_week: dict[tuple[int, int, date], int] = defaultdict(int)
    for c in care:
        if c.legitimation_id and c.product_id in time_products:
            per_week[(c.client_id, c.legitimation_id, week_start(c.datum))] += c.minutes or 0
    held: set[tuple[int, int, date]] = set()
    caps = {leg_id: weekly_minutes(leg) for leg_id, leg in legs.items()}
    for (client_id, leg_id, wk), minutes in sorted(per_week.items()):
        cap = caps.get(leg_id)
        if cap is not None and minutes > cap:
            held.add((client_id, leg_id, wk))
            skipped.append(
                Issue(
                    "niet-gedekt",
                    f"Week {iso_week_label(wk)} van {names.get(client_id, client_id)}: "
                    f"{minutes_label(minutes)} zorg op een indicatie van {minutes_label(cap)} "
                    f"per week; {minutes_label(minutes - cap)} is niet gedekt. De week wordt niet "
                    "gedeclareerd tot een stapelregel (bijv. naar particulier) of een nieuwe "
                    "indicatie het regelt.",
                    "week",
                )
            )

    # 2. group the care per prestatie (what depends only on the indicatie, or on product, list
    # and day, is worked out once: a month of a large organisation is 100,000 pieces)
    groups: dict[tuple, list[Care]] = defaultdict(list)
    chosen: dict[tuple, ContractLine] = {}
    leg_facts = {leg.id: (leg.begindatum, leg.einddatum, std.kind_of(leg)) for leg in legs.values()}
    resolved: dict[tuple, tuple] = {}  # (product, list, day) -> (line, problem, bucket start)
    for c in care:
        facts = leg_facts.get(c.legitimation_id) if c.legitimation_id else None
        if facts is None:
            skipped.append(
                Issue(
                    "indicatie",
                    f"Zorg op {c.datum:%d-%m-%Y} van {names.get(c.client_id, c.client_id)} "
                    "valt onder geen indicatie van deze zorgverzekeraar.",
                    "legitimation",
                )
            )
            continue
        leg_begin, leg_end, kind = facts
        day = c.datum
        if held and (c.client_id, c.legitimation_id, week_start(day)) in held:
            continue
        if day < leg_begin or (leg_end is not None and day > leg_end):
            skipped.append(
                Issue(
                    "indicatie-beeindigd",
                    f"Zorg op {day:%d-%m-%Y} van {names.get(c.client_id, c.client_id)} valt "
                    "buiten de periode van de indicatie; niet gedeclareerd.",
                    "legitimation",
                )
            )
            continue
        rkey = (c.product_id, kind.lijst, day)
        found = resolved.get(rkey)
        if found is None:
            cl = pick(contract.get(c.product_id, []), day, kind.lijst)
            found = resolved[rkey] = (
                cl,
                contract_line_problem(cl) if cl is not None else None,
                _bucket(cl.eenheid, day, period_begin)[0] if cl is not None else None,
            )
        cl, problem, begin = found
        if cl is None:
            other = contract.get(c.product_id)
            why = (
                f"het contract heeft voor dit product alleen prestaties uit lijst "
                f"{', '.join(sorted({lijst_of(x) for x in other}))}, de indicatie "
                f"({kind.label}) vraagt lijst {kind.lijst}"
                if other
                else "het contract met deze zorgverzekeraar heeft geen prestatie voor dit product"
            )
            skipped.append(
                Issue(
                    "contract",
                    f"Zorg op {day:%d-%m-%Y} van {names.get(c.client_id, c.client_id)}: "
                    f"{why} op die datum.",
                    "contract",
                )
            )
            continue
        if problem:
            skipped.append(
                Issue(
                    "contractregel",
                    f"Zorg op {day:%d-%m-%Y} van {names.get(c.client_id, c.client_id)}: de "
                    f"contractregel {cl.productcode} kan niet worden gedeclareerd: {problem}. "
                    "Pas het contract aan.",
                    "contract",
                )
            )
            continue
        key = (c.client_id, c.legitimation_id, cl.id, begin)
        if key not in chosen:
            chosen[key] = cl
        groups[key].append(c)

    # a period tariff (month, year) is declared once per period: care in a period whose
    # prestatie is declared already (sent or awarded, not rejected or credited) is covered by it
    periodic = [k for k in groups if chosen[k].eenheid in (Unit.MAAND.value, Unit.JAAR.value)]
    declared: dict[tuple, str] = {}
    if periodic:
        for row in session.execute(
            select(
                DeclarationLine.client_id,
                DeclarationLine.legitimation_id,
                DeclarationLine.contract_line_id,
                DeclarationLine.begindatum,
                DeclarationLine.referentie,
            ).where(
                DeclarationLine.client_id.in_({k[0] for k in periodic}),
                DeclarationLine.financier_id == financier.id,
                DeclarationLine.debet_credit == "D",
                DeclarationLine.status.in_((LINE_SENT, LINE_AWARDED)),
                DeclarationLine.eenheid.in_((Unit.MAAND.value, Unit.JAAR.value)),
            )
        ):
            declared[(row.client_id, row.legitimation_id, row.contract_line_id, row.begindatum)] = (
                row.referentie
            )

    made: list[LineDraft] = []
    for key in sorted(groups, key=lambda k: (k[0], k[3], k[1], k[2])):
        if key in declared:
            skipped.append(
                Issue(
                    "periode-gedeclareerd",
                    f"Zorg van {names.get(key[0], key[0])} vanaf {key[3]:%d-%m-%Y} valt onder "
                    f"de al gedeclareerde periodeprestatie {declared[key]}; niet nog eens "
                    "gedeclareerd.",
                    "periode",
                )
            )
            continue
        client_id, leg_id, _cl_id, begin = key
        cl, pieces = chosen[key], groups[key]
        kind = leg_facts[leg_id][2]
        unit = cl.eenheid
        tarief = cl.tarief_cents
        toelichting = {"lijst": lijst_of(cl), "soort": kind.code}
        minutes = sum(p.minutes or 0 for p in pieces)
        if unit == Unit.MINUUT.value:
            volume = minutes
        elif unit == Unit.UUR.value:
            if minutes % 60 == 0:
                volume = minutes // 60
            else:  # AW319 counts whole units: declare the minutes at the hourly tariff / 60
                unit, volume, tarief = Unit.MINUUT.value, minutes, round(cl.tarief_cents / 60)
                toelichting["omgerekend"] = "uurtarief omgerekend naar minuten"
        elif unit == Unit.DAG.value:
            volume = len({p.datum for p in pieces})
        elif unit in (Unit.MAAND.value, Unit.JAAR.value):
            volume = 1
        else:  # etmaal, dagdeel, stuk: the registered quantity (a day when none is given)
            volume = sum(p.aantal or 0 for p in pieces) or len({p.datum for p in pieces})
        if volume <= 0:
            continue
        if volume > MAX_VOLUME:
            skipped.append(
                Issue(
                    "aantal",
                    f"Prestatie {cl.productcode} van {names.get(client_id, client_id)} vanaf "
                    f"{begin:%d-%m-%Y}: {volume} is meer dan AW319 in één prestatie toelaat.",
                    "volume",
                )
            )
            continue
        days = [p.datum for p in pieces]
        if unit in (Unit.MAAND.value, Unit.JAAR.value):
            first, last = _bucket(cl.eenheid, begin, period_begin)
        else:
            first, last = min(days), max(days)
        made.append(
            LineDraft(
                client_id=client_id,
                legitimation_id=leg_id,
                begindatum=first,
                einddatum=last,
                volume=volume,
                eenheid=unit,
                tarief_cents=tarief,
                bedrag_cents=volume * tarief,
                product_id=cl.product_id,
                contract_line_id=cl.id,
                productcategorie=lijst_of(cl),
                productcode=cl.productcode,
                groep=str(kind.ei_code),
                care=pieces,
                toelichting=toelichting,
            )
        )
    return DeclarationLines(made, skipped)


# --- numbers ----------------------------------------------------------------------------------


def numbering(declaration: Declaration, n_lines: int, session: Session) -> DeclarationNumbering:
    """Invoice number (0116, AN 12) ``ZVyyyymm-n`` and references (0431, AN 20)
    ``<nummer>-<i>``: unique for ever within the portal, so certainly for five years, and never
    equal to another financing's numbers (an AW320 is routed by them)."""
    base = f"ZV{declaration.periode_begin:%Y%m}-"
    taken = set(
        session.scalars(
            select(Declaration.nummer).where(
                Declaration.financing == std.CODE, Declaration.nummer.like(f"{base}%")
            )
        )
    )
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    nummer = f"{base}{n}"
    return DeclarationNumbering(nummer, [f"{nummer}-{i}" for i in range(1, n_lines + 1)])


def credit_reference(line: DeclarationLine, session: Session, today: date | None = None) -> str:
    base = f"ZC{(today or date.today()):%Y%m%d}-"
    taken = set(
        session.scalars(
            select(DeclarationLine.referentie).where(DeclarationLine.referentie.like(f"{base}%"))
        )
    )
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


# --- checks -----------------------------------------------------------------------------------


def issues(declaration: Declaration, session: Session, today: date | None = None) -> list[Issue]:
    today = today or date.today()
    found: list[Issue] = []
    if (
        session.scalar(select(OrganisationAgb.agb_code).where(OrganisationAgb.hoofd.is_(True)))
        is None
    ):
        found.append(Issue("agb", "De organisatie heeft geen (hoofd-)AGB-code.", "agb"))
    if not (declaration.financier.code or "").isdigit():
        found.append(
            Issue("uzovi", "De zorgverzekeraar heeft geen geldige UZOVI-code.", "financier")
        )
    mine = DeclarationLine.declaration_id == declaration.id
    for ref, end in session.execute(
        select(DeclarationLine.referentie, DeclarationLine.einddatum)
        .where(mine, DeclarationLine.einddatum > today)
        .limit(20)
    ):
        found.append(
            Issue(
                "toekomst",
                f"Prestatie {ref} loopt tot {end:%d-%m-%Y}: een periode in de toekomst kan niet "
                "worden gedeclareerd.",
                "einddatum",
            )
        )
    client_ids = select(DeclarationLine.client_id).where(mine).distinct()
    for who, geslacht, born in session.execute(
        select(Client.achternaam, Client.geslacht, Client.geboortedatum).where(
            Client.id.in_(client_ids),
            or_(Client.geslacht.not_in(("1", "2")), Client.geboortedatum.is_(None)),
        )
    ):
        if geslacht not in ("1", "2"):
            found.append(
                Issue(
                    "geslacht",
                    f"Cliënt {who}: het geslacht is onbekend; de AW319 kent alleen man en vrouw. "
                    "Vul het geslacht in bij de cliënt.",
                    "geslacht",
                )
            )
        if born is None:
            found.append(
                Issue("geboortedatum", f"Cliënt {who}: geboortedatum ontbreekt.", "geboortedatum")
            )
    return found


# --- build: AW319 -----------------------------------------------------------------------------


def _soort_bericht(settings) -> str:
    own = (settings or {}).get(std.CODE, {}) if settings else {}
    return "T" if own.get("testbericht") else "P"


def drafts(declaration: Declaration, session: Session, settings=None, today: date | None = None):
    today = today or date.today()
    agb = session.scalar(select(OrganisationAgb.agb_code).where(OrganisationAgb.hoofd.is_(True)))
    uzovi = declaration.financier.code
    L = DeclarationLine
    rows = session.execute(
        select(
            L.client_id, L.legitimation_id, L.begindatum, L.einddatum, L.productcategorie,
            L.productcode, L.volume, L.eenheid, L.tarief_cents, L.bedrag_cents, L.debet_credit,
            L.referentie, L.credit_of_id,
        )
        .where(L.declaration_id == declaration.id)
        .order_by(L.client_id, L.begindatum, L.id)
    ).all()  # fmt: skip
    if not rows:
        return []
    ei_code = int(declaration.groep or 428)
    begin = min([declaration.periode_begin] + [ln.begindatum for ln in rows])
    end = max([declaration.periode_eind] + [ln.einddatum for ln in rows])
    end = min(end, max(today, begin))
    credit_refs = dict(
        session.execute(
            select(L.id, L.referentie).where(
                L.id.in_({ln.credit_of_id for ln in rows if ln.credit_of_id})
            )
        ).all()
    )
    numbers = {
        leg_id: (keys or {}).get("verzekerdennummer") or ""
        for leg_id, keys in session.execute(
            select(Legitimation.id, Legitimation.sleutels).where(
                Legitimation.id.in_({ln.legitimation_id for ln in rows})
            )
        )
    }
    clients = {
        c.id: c
        for c in session.execute(
            select(
                Client.id, Client.bsn, Client.clientnummer, Client.geboortedatum, Client.geslacht,
                Client.achternaam, Client.tussenvoegsel, Client.voorletters, Client.voornamen,
                Client.postcode, Client.huisnummer,
            ).where(Client.id.in_({ln.client_id for ln in rows}))
        )
    }  # fmt: skip
    records: list = [
        (
            "01",
            {
                "0102": ei_code,
                "0103": 1,
                "0104": 4,
                "0105": _soort_bericht(settings),
                "0108": uzovi,
                "0112": agb,
                "0113": 4,
                "0114": begin,
                "0115": end,
                "0116": declaration.nummer,
                "0117": today,
                "0119": "EUR",
            },
        )
    ]
    current = None
    verz = ""
    for line in rows:
        if line.client_id != current:
            current = line.client_id
            c = clients[current]
            verz = numbers.get(line.legitimation_id, "")[:15]
            records.append(
                (
                    "02",
                    {
                        "0203": c.bsn,
                        "0204": uzovi,
                        "0205": verz,
                        "0206": (c.clientnummer or "")[:11],
                        "0207": c.geboortedatum,
                        "0208": 2 if c.geslacht == "2" else 1,
                        "0209": 1,
                        "0210": _ascii(c.achternaam)[:25],
                        "0211": _ascii(c.tussenvoegsel or "")[:10],
                        "0215": _initials(c),
                        "0217": _postcode(c.postcode),
                        "0219": _house(c.huisnummer),
                        "0223": 2,
                    },
                )
            )
        sign = -1 if line.debet_credit == "C" else 1
        records.append(
            (
                "04",
                {
                    "0403": c.bsn,
                    "0404": uzovi,
                    "0405": verz,
                    "0407": 1,
                    "0414": line.begindatum,
                    "0415": line.einddatum,
                    "0416": line.productcategorie or "065",
                    "0417": line.productcode,
                    "0418": line.volume,
                    "0419": std.UNIT_CODES.get(line.eenheid, "00"),
                    "0420": agb,
                    "0425": line.tarief_cents or 0,
                    "0426": sign * (line.tarief_cents or 0) * line.volume,
                    "0429": sign * line.bedrag_cents,
                    "0431": line.referentie,
                    "0432": credit_refs.get(line.credit_of_id, ""),
                },
            )
        )
    payload = ei.build(AW319, records)  # checked against the layout before it is returned
    return [
        MessageDraft(
            standard="EI",
            code="AW319",
            payload=payload,
            geadresseerde=("Zorgverzekeraar", uzovi),
            reference=declaration.nummer,
            filename=f"AW319_{uzovi}_{declaration.nummer}.asc",
        )
    ]


def _ascii(text: str) -> str:
    import unicodedata

    return (
        unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").strip()
    )


def _initials(c) -> str:
    found = "".join(ch for ch in _ascii(c.voorletters or "") if ch.isalpha())
    return (found or _ascii(c.voornamen or "X")[:1] or "X")[:6].upper()


def _postcode(value: str | None) -> str:
    v = (value or "").replace(" ", "").upper()
    return v if len(v) == 6 and v[:4].isdigit() and v[0] != "0" and v[4:].isalpha() else ""


def _house(value: str | None) -> int:
    digits = ""
    for ch in value or "":
        if not ch.isdigit():
            break
        digits += ch
    return int(digits[:5]) if digits else 0


# --- the answer: AW320 ------------------------------------------------------------------------


def is_aw320(payload: bytes) -> bool:
    return payload[:2] == b"01" and payload[2:5] in AW320_CODES


def read_aw320(payload: bytes) -> ParseOutcome:
    """An AW320 read line by line (the core applies it). A file that is not a valid AW320
    (wrong record length, broken records) is refused with the reason and changes nothing."""
    try:
        retour = ei.parse(AW320, payload)
    except ei.EiError as exc:
        return ParseOutcome(
            standard="EI",
            code="AW320",
            summary=f"AW320 geweigerd, er is niets gewijzigd: {exc}",
            needs_action=True,
            issues=[Issue("aw320-ongeldig", str(exc), None)],
        )
    head = retour.header

    def codes(record, fields) -> tuple[AnswerCode, ...]:
        found = [(record.get(f) or "").strip() for f in fields]
        return tuple(AnswerCode(c, std.meaning(c)) for c in found if c and c not in std.AWARDED)

    line_answers = []
    for p in retour.of_type("04"):
        found = codes(p, ("0485", "0486", "0487"))
        line_answers.append(
            LineAnswer(
                reference=p["0431"],
                awarded=not found,
                codes=found,
                awarded_cents=p.signed("0483"),
            )
        )
    whole = codes(head, ("0183", "0184", "0185"))
    return ParseOutcome(
        standard="EI",
        code="AW320",
        summary=f"Retour op declaratie {head['0116']}.",
        reference=head.get("0181") or None,
        answers_reference=head["0116"],
        declaration_answer=DeclarationAnswer(
            message_reference=head["0116"],
            number=head["0116"],
            rejected_whole=bool(whole),
            codes=list(whole),
            lines=line_answers,
            unlisted_awarded=False,
            awarded_total_cents=retour.trailer.signed("9909"),
            reference=head.get("0181") or None,
        ),
        financing=std.CODE,
    )
