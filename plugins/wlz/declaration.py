"""The Wlz declaration: AW319 v1.4 (Vektis EI, EI code 187, prestatiecodelijst 055) out through
the core's declaration run, AW320 back, matched line by line.

* :func:`lines` turns the stacked care the core chose (whole ISO weeks, Wlz first) into
  prestaties: one per client, toewijzing, product and declaratieperiode of the zorgkantoor's
  contract (calendar month, or the four-week periods of the ISO year: setting
  ``PLUGIN_SETTINGS["wlz"]["vierwekenperiode"]`` = list of zorgkantoor codes). ZZP/VPT are
  declared per etmaal, functies per hour (minutes when not whole), dagdeel or minute, at the
  contract's tariff.
* :func:`numbering`: factuurnummer (0116, 12 positions) = zorgkantoor + YYMM + sequence, so it
  is unique per zorgkantoor for far longer than five years; line references (0431) =
  factuurnummer + line number, kept unique for ever by the database (``uq_declaration_line_reference``).
* :func:`drafts` builds the AW319 with 0224/0225/0408–0413 from the AW33 the toewijzing came in.
* :func:`read_aw320` reads the AW320 (layout ``aw320/1.4-afgeleid``) into a
  ``DeclarationAnswer`` with each code's Dutch meaning and action (``data/aw320-retourcodes.csv``).
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import (
    AnswerCode,
    DeclarationAnswer,
    DeclarationLines,
    DeclarationNumbering,
    Issue,
    LineAnswer,
    LineDraft,
    MessageDraft,
    ParseOutcome,
    Severity,
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
)

CODE = "wlz"
EI_CODE = 187  # AW319 Wlz (COD002)
PRESTATIECODELIJST = "055"  # Prestatiecodelijst Wlz/AWBZ (COD367)
AW319 = ei.load_layout("aw319", "1.4")
AW320 = ei.load_layout("aw320", "1.4-afgeleid")
# TIJDSEENHEID ZORGPERIODE (0419) per unit of the contract line
TIJDSEENHEID = {"minuut": "01", "uur": "04", "etmaal": "14", "dag": "14", "dagdeel": "16"}
TIJDSEENHEID["stuk"] = "81"
DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Retourcode:
    code: str
    toegekend: bool
    betekenis: str
    actie: str


@cache
def retourcodes() -> dict[str, Retourcode]:
    rows = [
        line
        for line in (DATA / "aw320-retourcodes.csv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    return {
        r["code"]: Retourcode(r["code"], r["toegekend"] == "ja", r["betekenis"], r["actie"])
        for r in csv.DictReader(rows)
    }


def meaning(code: str) -> str:
    rc = retourcodes().get(code)
    if rc is None:
        return f"Retourcode {code} (onbekend in de codetabel)"
    return f"{rc.betekenis}. {rc.actie}".strip() if rc.actie else rc.betekenis


# --- periods ------------------------------------------------------------------------------------


def four_week_period(day: date) -> tuple[date, date]:
    """The four-week period (1–13) of the ISO year that ``day`` falls in; week 53 joins 13."""
    year, week, _ = day.isocalendar()
    n = min((week - 1) // 4, 12)
    first_monday = date.fromisocalendar(year, 1, 1)
    begin = first_monday + timedelta(weeks=4 * n)
    last_week = 52 if n < 12 else date(year, 12, 28).isocalendar()[1]
    end = date.fromisocalendar(year, min(4 * n + 4, last_week) if n < 12 else last_week, 7)
    return begin, end


def period_of(day: date, four_weekly: bool) -> tuple[date, date]:
    if four_weekly:
        return four_week_period(day)
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def is_four_weekly(settings, zorgkantoor_code: str | None) -> bool:
    return zorgkantoor_code in set((settings.get(CODE) or {}).get("vierwekenperiode", []))


# --- lines --------------------------------------------------------------------------------------


def _contract_lines(session: Session, financier) -> list[ContractLine]:
    return list(
        session.scalars(
            select(ContractLine)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(Contract.financier_id == financier.id)
            .order_by(ContractLine.begindatum.desc(), ContractLine.id)
        )
    )


def _pick(lines: list[ContractLine], product_id: int, code: str, day: date) -> ContractLine | None:
    for cl in lines:
        if cl.product_id != product_id or cl.productcategorie not in (code, None):
            continue
        if cl.begindatum <= day and (cl.einddatum is None or day <= cl.einddatum):
            return cl
    return None


def lines(financier, care, session: Session, settings) -> DeclarationLines:
    """Prestaties of the chosen care; care that cannot be declared is skipped with a reason."""
    four = is_four_weekly(settings, financier.code)
    contract = _contract_lines(session, financier)
    legs = {
        leg.id: leg
        for leg in session.scalars(
            select(Legitimation).where(
                Legitimation.id.in_({c.legitimation_id for c in care if c.legitimation_id})
            )
        )
    }
    groups: dict[tuple, list] = defaultdict(list)
    skipped: list[Issue] = []
    no_aw33: set[int] = set()
    for c in care:
        leg = legs.get(c.legitimation_id)
        if leg is None:
            skipped.append(
                Issue("legitimatie", f"Zorg op {c.datum:%d-%m-%Y} zonder Wlz-indicatie.")
            )
            continue
        s = leg.sleutels or {}
        if not s.get("besluitnummer"):
            no_aw33.add(leg.id)
            continue
        begin, _ = period_of(c.datum, four)
        groups[(c.client_id, leg.id, c.product_id, begin)].append(c)
    for leg_id in sorted(no_aw33):
        leg = legs[leg_id]
        skipped.append(
            Issue(
                "0551",
                f"Indicatie {leg.productcode or leg.id} van cliënt {leg.client_id} komt niet uit "
                "een toewijzing (AW33): zonder besluitnummer wijst het zorgkantoor de prestatie af "
                "(0551). Verwerk eerst de AW33 van het zorgkantoor.",
                "indicatie",
            )
        )
    out: list[LineDraft] = []
    for (client_id, leg_id, product_id, _begin), pieces in sorted(groups.items()):
        leg = legs[leg_id]
        s = leg.sleutels
        first = min(p.datum for p in pieces)
        cl = _pick(contract, product_id, s["code"], first)
        if cl is None:
            skipped.append(
                Issue(
                    "contract",
                    f"Geen contractregel van {financier.naam} voor dit product en "
                    f"{'ZZP' if s['soort'] == 'zzp' else 'functie'} {s['code']} op "
                    f"{first:%d-%m-%Y}; voeg die toe en declareer opnieuw.",
                    "contract",
                )
            )
            continue
        volume, eenheid, tarief = _quantity(pieces, cl)
        if volume is None:
            skipped.append(
                Issue(
                    "eenheid",
                    f"Zorg in {cl.eenheid} kan niet als {cl.productcode} worden gedeclareerd.",
                )
            )
            continue
        if volume > 9999:
            skipped.append(
                Issue(
                    "aantal",
                    f"Meer dan 9999 {eenheid} in één prestatie (cliënt {client_id}); "
                    "verdeel de zorg over kortere perioden.",
                )
            )
            continue
        if volume <= 0:
            continue
        out.append(
            LineDraft(
                client_id=client_id,
                legitimation_id=leg_id,
                begindatum=first,
                einddatum=max(p.datum for p in pieces),
                volume=volume,
                eenheid=eenheid,
                tarief_cents=tarief,
                bedrag_cents=volume * tarief,
                product_id=product_id,
                contract_line_id=cl.id,
                productcategorie=s["code"],
                productcode=cl.productcode,
                care=pieces,
                toelichting={"soort": s["soort"], "besluitnummer": s["besluitnummer"]},
            )
        )
    return DeclarationLines(out, skipped)


def _quantity(pieces, cl: ContractLine) -> tuple[int | None, str, int]:
    """(volume, unit, tariff per unit): hours when the minutes are whole hours, else minutes at
    the tariff per minute (the contract's hourly tariff / 60, rounded to a cent)."""
    if cl.eenheid in ("uur", "minuut"):
        minutes = sum(p.minutes or 0 for p in pieces)
        if cl.eenheid == "uur" and minutes % 60 == 0:
            return minutes // 60, "uur", cl.tarief_cents
        per_minute = cl.tarief_cents if cl.eenheid == "minuut" else round(cl.tarief_cents / 60)
        return minutes, "minuut", per_minute
    if cl.eenheid in ("etmaal", "dag", "dagdeel", "stuk"):
        return sum(p.aantal or 0 for p in pieces), cl.eenheid, cl.tarief_cents
    return None, cl.eenheid, cl.tarief_cents


# --- numbering ----------------------------------------------------------------------------------


def numbering(declaration: Declaration, n_lines: int, session: Session) -> DeclarationNumbering:
    prefix = f"{declaration.financier.code or '0000'}{declaration.periode_begin:%y%m}"
    taken = session.scalar(
        select(func.count(Declaration.id)).where(
            Declaration.financing == CODE,
            Declaration.nummer.like(f"{prefix}%"),
        )
    )
    nummer = f"{prefix}{taken + 1:04d}"
    while session.scalar(select(Declaration.id).where(Declaration.nummer == nummer)):
        taken += 1
        nummer = f"{prefix}{taken + 1:04d}"
    return DeclarationNumbering(nummer, [f"{nummer}{i:05d}" for i in range(1, n_lines + 1)])


def credit_reference(line: DeclarationLine, session: Session) -> str:
    n = 1
    while True:
        ref = f"{line.referentie[:17]}C{n}"
        if not session.scalar(select(DeclarationLine.id).where(DeclarationLine.referentie == ref)):
            return ref
        n += 1


# --- checks and building ------------------------------------------------------------------------


def issues(declaration: Declaration, session: Session) -> list[Issue]:
    found = []
    own = session.scalar(select(OrganisationAgb.agb_code).where(OrganisationAgb.hoofd.is_(True)))
    if not own:
        found.append(Issue("agb", "De organisatie heeft nog geen AGB-code.", "agb"))
    if not (declaration.financier.code or "").isdigit():
        found.append(Issue("0018", "Het zorgkantoor heeft geen (UZOVI-)code.", "financier"))
    rows = session.scalars(
        select(DeclarationLine).where(DeclarationLine.declaration_id == declaration.id)
    ).all()
    legs = _legitimations(session, rows)
    for line in rows:
        leg = legs.get(line.legitimation_id)
        if leg is None or not (leg.sleutels or {}).get("besluitnummer"):
            # the run never makes such a line (``lines`` skips it); a warning for lines that
            # came in another way
            found.append(
                Issue(
                    "0551",
                    f"Prestatie {line.referentie}: geen toewijzing (AW33); het zorgkantoor "
                    "wijst die af met 0551.",
                    "regel",
                    Severity.WARNING,
                )
            )
            continue
        s = leg.sleutels
        begin = date.fromisoformat(s["toewijzing_ingangsdatum"])
        end = leg.einddatum
        if line.debet_credit == "D" and (line.begindatum < begin or (end and line.einddatum > end)):
            found.append(
                Issue(
                    "0553",
                    f"Prestatie {line.referentie} ({line.begindatum:%d-%m-%Y} – "
                    f"{line.einddatum:%d-%m-%Y}) valt buiten de toegewezen periode; het "
                    "zorgkantoor wijst die af met 0553.",
                    "regel",
                    Severity.WARNING,
                )
            )
    return found


def _legitimations(session: Session, rows) -> dict[int, Legitimation]:
    """The lines' legitimations in one query per thousand (not one per line)."""
    ids = sorted({r.legitimation_id for r in rows if r.legitimation_id})
    found: dict[int, Legitimation] = {}
    for i in range(0, len(ids), 1000):
        for leg in session.scalars(
            select(Legitimation).where(Legitimation.id.in_(ids[i : i + 1000]))
        ):
            found[leg.id] = leg
    return found


def _agb(session: Session) -> str:
    return session.scalar(
        select(OrganisationAgb.agb_code).order_by(OrganisationAgb.hoofd.desc(), OrganisationAgb.id)
    )


def _geslacht(value: str | None) -> int:
    return 2 if value == "2" else 1


def drafts(
    declaration: Declaration, session: Session, today: date | None = None
) -> list[MessageDraft]:
    """The AW319 of a concept declaration (checked against the layout before it is returned)."""
    today = today or date.today()
    agb = int(_agb(session))
    zk = int(declaration.financier.code)
    rows = session.scalars(
        select(DeclarationLine)
        .where(DeclarationLine.declaration_id == declaration.id)
        .order_by(DeclarationLine.client_id, DeclarationLine.begindatum, DeclarationLine.id)
    ).all()
    begin = min([declaration.periode_begin, *(r.begindatum for r in rows)])
    end = max([declaration.periode_eind, *(r.einddatum for r in rows)])
    records = [
        (
            "01",
            {
                "0102": EI_CODE,
                "0103": 1,
                "0104": 4,
                "0105": "T",
                "0108": zk,
                "0112": agb,
                "0113": 4,
                "0114": begin,
                "0115": min(end, today),
                "0116": declaration.nummer,
                "0117": today,
                "0119": "EUR",
            },
        )
    ]
    clients = {
        c.id: c
        for c in session.scalars(select(Client).where(Client.id.in_({r.client_id for r in rows})))
    }
    legs = _legitimations(session, rows)
    originals = dict(
        session.execute(
            select(DeclarationLine.id, DeclarationLine.referentie).where(
                DeclarationLine.id.in_({r.credit_of_id for r in rows if r.credit_of_id})
            )
        ).all()
    )
    current = None
    for line in rows:
        c = clients[line.client_id]
        leg = legs.get(line.legitimation_id)
        s = (leg.sleutels if leg else {}) or {}
        if c.id != current:
            current = c.id
            ind_code = int(s.get("zorgkantoor") or zk)
            records.append(
                (
                    "02",
                    {
                        "0203": c.bsn,
                        "0204": zk,
                        "0207": c.geboortedatum,
                        "0208": _geslacht(c.geslacht),
                        "0209": 1,
                        "0210": _ascii(c.achternaam)[:25],
                        "0211": _ascii(c.tussenvoegsel or "")[:10],
                        "0215": _ascii("".join(ch for ch in (c.voorletters or "") if ch.isalpha()))[
                            :6
                        ]
                        or "X",
                        "0217": (c.postcode or "").replace(" ", "")[:6],
                        "0223": 2,
                        "0224": ind_code,
                        "0225": c.bsn,
                    },
                )
            )
        sign = -1 if line.debet_credit == "C" else 1
        besluit = int(s.get("besluitnummer") or 0)
        records.append(
            (
                "04",
                {
                    "0403": c.bsn,
                    "0404": zk,
                    "0407": 1,
                    "0408": ind_code,
                    "0409": c.bsn,
                    "0410": besluit,
                    "0411": besluit,
                    "0412": int(s["code"]) if s.get("soort") == "functie" else 0,
                    "0413": int(s["code"]) if s.get("soort") == "zzp" else 0,
                    "0414": line.begindatum,
                    "0415": line.einddatum,
                    "0416": PRESTATIECODELIJST,
                    "0417": line.productcode,
                    "0418": line.volume,
                    "0419": TIJDSEENHEID.get(line.eenheid, "00"),
                    "0420": agb,
                    "0425": line.tarief_cents,
                    "0426": sign * line.bedrag_cents,
                    "0429": sign * line.bedrag_cents,
                    "0431": line.referentie,
                    "0432": originals.get(line.credit_of_id, ""),
                },
            )
        )
    payload = ei.build(AW319, records)
    return [
        MessageDraft(
            standard="EI",
            code="AW319",
            payload=payload,
            geadresseerde=("Zorgkantoor", declaration.financier.code),
            reference=declaration.nummer,
            filename=f"AW319_{declaration.nummer}.asc",
        )
    ]


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


# --- the answer ---------------------------------------------------------------------------------


def is_aw320(payload: bytes) -> bool:
    return bytes(payload[:5]) == b"01188"


def invoice_number(payload: bytes) -> str | None:
    """The AW319's invoice number an AW320 names (0116, positions 81–92), unparsed."""
    head = bytes(payload[:100]).decode("latin-1", "replace")
    return head[80:92].strip() or None if len(head) >= 92 else None


def _codes(record, fields) -> list[str]:
    return [record.get(f) for f in fields if record.get(f)]


def read_aw320(payload: bytes) -> ParseOutcome:
    """The AW320 read line by line; refused as a whole (EiError) when anything is malformed."""
    retour = ei.parse(AW320, payload)
    head = retour.header
    table = retourcodes()

    def answer_codes(found: list[str]) -> tuple[AnswerCode, ...]:
        return tuple(
            AnswerCode(c, meaning(c)) for c in found if not (table.get(c) and table[c].toegekend)
        )

    line_answers = []
    for p in retour.of_type("04"):
        bad = answer_codes(_codes(p, ("0485", "0486", "0487")))
        line_answers.append(
            LineAnswer(
                reference=p["0431"],
                awarded=not bad,
                codes=bad,
                awarded_cents=p.signed("0483"),
            )
        )
    whole = answer_codes(_codes(head, ("0183", "0184", "0185")))
    n_bad = sum(1 for la in line_answers if not la.awarded)
    return ParseOutcome(
        standard="EI",
        code="AW320",
        summary=f"AW320 op declaratie {head['0116']}: {len(line_answers) - n_bad} toegekend, {n_bad} afgewezen.",
        reference=head["0116"],
        answers_reference=head["0116"],
        declaration_answer=DeclarationAnswer(
            message_reference=head["0116"],
            number=head["0116"],
            rejected_whole=bool(whole),
            codes=list(whole),
            lines=line_answers,
            unlisted_awarded=False,
            awarded_total_cents=retour.trailer.signed("9909") if retour.trailer else None,
        ),
        financing=CODE,
    )


def parse_aw320(payload: bytes) -> ParseOutcome:
    """An AW320 for the inbox: read it, or refuse it whole (nothing applied) with the reason."""
    try:
        return read_aw320(payload)
    except ei.EiError as exc:
        logging.getLogger(__name__).warning(
            "AW320 geweigerd (%d bytes), niets verwerkt: %s", len(payload), exc
        )
        return ParseOutcome(
            standard="EI",
            code="AW320",
            summary=f"Geweigerd, niets verwerkt: {exc}",
            needs_action=True,
            issues=[Issue("AW320", str(exc), None)],
            financing=CODE,
        )
