"""Declaring forensische zorg to DJI through the core's declaration run.

* :func:`lines` (hook ``declaration_lines``): approved care → prestaties, one per client,
  placement, prestatie and month (clipped to the placement). The placement is the legitimation:
  care on a day no placement of the client covers, or whose prestatie the placement does not name,
  is not declared and is reported in Dutch. Zorgprestatiemodel prestaties (klinisch, ambulant) go
  in a GDS801 declaration, ZZP's and extramurale parameters in an FZ303 (``LineDraft.groep``).
* :func:`issues` (hook ``validate_declaration``): the same rules on the stored lines (placement,
  titel, period), and the refusal to send a provisional format to a real VECOZO environment.
* :func:`drafts` (hook ``build_declaration``): the GDS801 or FZ303 in its active format.
* :func:`read_answer`: a GDS802 or FZ304 read line by line into a ``DeclarationAnswer``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.fz import codes, formats
from plugins.fz.placements import (
    CODE,
    DJI_ROL,
    DJI_UZOVI,
    new_identificatie,
    own_agb,
    provisional_refusal,
)
from portal.domain import (
    AnswerCode,
    Care,
    DeclarationAnswer,
    DeclarationLines,
    Issue,
    LineAnswer,
    LineDraft,
    MessageDraft,
    ParseOutcome,
    Unit,
)
from portal.models import Client, Contract, ContractLine, Financier, Legitimation
from portal.models.declaration import Declaration, DeclarationLine
from portal.services.declarations import month_bounds

GDS801, FZ303 = "GDS801", "FZ303"


def _legs(session: Session, financier: Financier) -> dict[int, list[Legitimation]]:
    found: dict[int, list[Legitimation]] = {}
    for leg in session.scalars(
        select(Legitimation).where(
            Legitimation.financier_id == financier.id,
            Legitimation.financing == CODE,
            Legitimation.status.in_(("actief", "beeindigd")),
        )
    ):
        found.setdefault(leg.client_id, []).append(leg)
    return found


def _contract_lines(session: Session, financier: Financier) -> dict[int, list[ContractLine]]:
    found: dict[int, list[ContractLine]] = {}
    for cl in session.scalars(
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(Contract.financier_id == financier.id)
    ):
        found.setdefault(cl.product_id, []).append(cl)
    return found


def lines(financier: Financier, care: Iterable[Care], session: Session) -> DeclarationLines:
    legs = _legs(session, financier)
    contract = _contract_lines(session, financier)
    groups: dict[tuple, dict[str, Any]] = {}
    skipped: list[Issue] = []
    for d in care:
        on_day = [
            cl
            for cl in contract.get(d.product_id, [])
            if cl.begindatum <= d.datum and (cl.einddatum is None or d.datum <= cl.einddatum)
        ]
        if not on_day:
            skipped.append(
                Issue(
                    "contract",
                    f"Zorg op {d.datum:%d-%m-%Y}: geen contractregel met DJI voor dit product; "
                    "niet gedeclareerd.",
                    "product",
                )
            )
            continue
        covering = [
            leg
            for leg in legs.get(d.client_id, [])
            if leg.begindatum <= d.datum and (leg.einddatum is None or d.datum <= leg.einddatum)
        ]
        pair = next(
            (
                (cl, leg)
                for leg in covering
                for cl in on_day
                if cl.productcode == leg.productcode
                and (d.legitimation_id is None or d.legitimation_id == leg.id)
            ),
            None,
        )
        if pair is None:
            skipped.append(
                Issue(
                    "plaatsing",
                    f"Zorg op {d.datum:%d-%m-%Y} (cliënt {d.client_id}, prestatie "
                    f"{on_day[0].productcode}) valt niet onder een plaatsing van DJI: zonder "
                    "plaatsingsbesluit wordt deze zorg niet gedeclareerd. Leg de plaatsing vast "
                    "of corrigeer de registratie.",
                    "plaatsing",
                )
            )
            continue
        cl, leg = pair
        first, last = month_bounds(d.datum)
        begin = max(first, leg.begindatum)
        end = min(last, leg.einddatum) if leg.einddatum else last
        key = (d.client_id, leg.id, cl.id, begin)
        g = groups.setdefault(
            key,
            {"leg": leg, "cl": cl, "begin": begin, "end": end, "minutes": 0, "n": 0, "care": []},
        )
        g["minutes"] += d.minutes or 0
        g["n"] += d.aantal if d.aantal else 1
        g["care"].append(d)

    made = []
    for key, g in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][1])):
        cl: ContractLine = g["cl"]
        leg: Legitimation = g["leg"]
        unit, tarief = Unit(cl.eenheid), cl.tarief_cents
        if unit is Unit.UUR:
            if g["minutes"] % 60 == 0:
                volume = g["minutes"] // 60
            else:  # not whole hours: minutes at the minute tariff
                unit, volume, tarief = Unit.MINUUT, g["minutes"], round(cl.tarief_cents / 60)
        elif unit is Unit.MINUUT:
            volume = g["minutes"]
        else:
            volume = g["n"]
        if volume <= 0:
            continue
        prestatie = codes.prestaties().get(cl.productcode or "")
        made.append(
            LineDraft(
                client_id=key[0],
                legitimation_id=leg.id,
                begindatum=g["begin"],
                einddatum=g["end"],
                volume=volume,
                eenheid=unit.value,
                tarief_cents=tarief,
                bedrag_cents=volume * tarief,
                product_id=cl.product_id,
                contract_line_id=cl.id,
                productcode=cl.productcode,
                groep=prestatie.bericht if prestatie else GDS801,
                care=g["care"],
                toelichting={
                    "plaatsingsnummer": leg.referentienummer or "",
                    "titel": (leg.sleutels or {}).get("titel") or "",
                },
            )
        )
    return DeclarationLines(made, skipped)


# --- checks before anything is built ---------------------------------------------------------


def _format_for(declaration: Declaration, settings) -> formats.Format:
    return formats.active(declaration.groep or GDS801, settings)


def issues(declaration: Declaration, session: Session, settings) -> list[Issue]:
    found: list[Issue] = []
    refusal = provisional_refusal(_format_for(declaration, settings), warn=True)
    if refusal:
        found.append(refusal)
    rows = session.execute(
        select(DeclarationLine, Legitimation)
        .outerjoin(Legitimation, Legitimation.id == DeclarationLine.legitimation_id)
        .where(DeclarationLine.declaration_id == declaration.id)
    ).all()
    for line, leg in rows:
        where = f"Prestatie {line.referentie} ({line.begindatum:%d-%m-%Y})"
        if leg is None or leg.financing != CODE or not leg.referentienummer:
            found.append(
                Issue(
                    "plaatsing",
                    f"{where} heeft geen plaatsing van DJI: een prestatie zonder "
                    "plaatsingsbesluit wordt niet verstuurd.",
                    "plaatsing",
                )
            )
            continue
        if line.begindatum < leg.begindatum or (leg.einddatum and line.einddatum > leg.einddatum):
            found.append(
                Issue(
                    "9502",
                    f"{where} valt buiten de plaatsing {leg.referentienummer}.",
                    "periode",
                )
            )
        titel = (leg.sleutels or {}).get("titel")
        if titel and not codes.allowed(titel, line.productcode):
            found.append(
                Issue(
                    "9503",
                    f"{where}: {codes.prestatie_label(line.productcode)} is niet toegestaan bij "
                    f"de titel {codes.titel_label(titel)}.",
                    "productcode",
                )
            )
    return found


# --- build -----------------------------------------------------------------------------------


def _placement_of(line: DeclarationLine) -> dict[str, Any]:
    """The placement a line was declared on (a credit: that of the line it credits)."""
    if line.toelichting and line.toelichting.get("plaatsingsnummer"):
        return line.toelichting
    if line.credit_of is not None and (line.credit_of.toelichting or {}).get("plaatsingsnummer"):
        return line.credit_of.toelichting
    leg = line.legitimation
    return {
        "plaatsingsnummer": leg.referentienummer if leg else None,
        "titel": (leg.sleutels or {}).get("titel") if leg else None,
    }


def _line_values(line: DeclarationLine, client: Client) -> dict[str, Any]:
    extra = _placement_of(line)
    return {
        "referentie": line.referentie,
        "vorige_referentie": line.credit_of.referentie if line.credit_of else None,
        "bsn": client.bsn,
        "geboortedatum": client.geboortedatum,
        "plaatsingsnummer": extra.get("plaatsingsnummer"),
        "titel": extra.get("titel") or None,
        "prestatiecode": line.productcode,
        "begindatum": line.begindatum,
        "einddatum": line.einddatum,
        "aantal": line.volume,
        "eenheid": line.eenheid,
        "tarief": line.tarief_cents or 0,
        "bedrag": line.bedrag_cents,
        "debet_credit": line.debet_credit,
    }


def drafts(declaration: Declaration, session: Session, settings) -> list[MessageDraft]:
    fmt = _format_for(declaration, settings)
    agb = own_agb(session) or ""
    lines_ = list(
        session.scalars(
            select(DeclarationLine)
            .where(DeclarationLine.declaration_id == declaration.id)
            .order_by(DeclarationLine.client_id, DeclarationLine.id)
        )
    )
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client).where(Client.id.in_({line.client_id for line in lines_}))
        )
    }
    identificatie = new_identificatie()
    total = sum(-x.bedrag_cents if x.debet_credit == "C" else x.bedrag_cents for x in lines_)
    head = {
        "afzender": agb,
        "ontvanger": DJI_UZOVI,
        "identificatie": identificatie,
        "dagtekening": date.today(),
        "nummer": declaration.nummer,
        "periode_begin": declaration.periode_begin,
        "periode_eind": declaration.periode_eind,
        "totaal": abs(total),
        "debet_credit": "C" if total < 0 else "D",
    }
    if fmt.kind == "xml":
        head["prestaties"] = [_line_values(x, clients[x.client_id]) for x in lines_]
        payload = fmt.build(head)
        filename = f"{fmt.message}_{declaration.nummer}.xml"
    else:
        per_client: dict[int, dict[str, Any]] = {}
        for x in lines_:
            c = clients[x.client_id]
            entry = per_client.setdefault(
                c.id,
                {
                    "bsn": c.bsn,
                    "geboortedatum": c.geboortedatum,
                    "geslacht": 2 if c.geslacht == "2" else 1,
                    "achternaam": c.achternaam,
                    "voorvoegsel": c.tussenvoegsel,
                    "voorletters": "".join(ch for ch in (c.voorletters or "") if ch.isalpha())[:6]
                    or "X",
                    "prestaties": [],
                },
            )
            v = _line_values(x, c)
            sign = -1 if x.debet_credit == "C" else 1
            prestatie = codes.prestaties().get(x.productcode or "")
            v.update(
                {
                    "tijdseenheid": "01"
                    if x.eenheid == Unit.MINUUT.value
                    else (prestatie.tijdseenheid if prestatie else "00"),
                    "uitvoerder": agb,
                    "berekend": sign * x.bedrag_cents,
                    "bedrag": sign * x.bedrag_cents,
                    "vorige_referentie": v["vorige_referentie"] or "",
                }
            )
            entry["prestaties"].append(v)
        head["clients"] = list(per_client.values())
        payload = fmt.build(head)
        filename = f"{fmt.message}_{declaration.nummer}.asc"
        identificatie = declaration.nummer  # an EI file is known by its factuurnummer
    return [
        MessageDraft(
            standard=fmt.standard_label,
            code=fmt.message,
            payload=payload,
            geadresseerde=(DJI_ROL, DJI_UZOVI),
            reference=identificatie,
            filename=filename,
        )
    ]


# --- the answer ------------------------------------------------------------------------------


def _codes(items: list[dict[str, Any]]) -> tuple[AnswerCode, ...]:
    out = []
    for c in items or []:
        code = c.get("code") or ""
        if not code or codes.is_ok(code):
            continue
        about = ", ".join(
            f"{e.get('naam')} {e.get('waarde')}".strip() for e in c.get("elementen") or []
        )
        meaning = codes.meaning(code) + (f" ({about})" if about else "")
        out.append(AnswerCode(code, meaning))
    return tuple(out)


def read_answer(fmt: formats.Format, v: dict[str, Any]) -> ParseOutcome:
    if fmt.kind == "xml":  # GDS802
        whole = _codes(v.get("retourcodes"))
        line_answers = [
            LineAnswer(
                reference=p["referentie"],
                awarded=not _codes(p.get("retourcodes")),
                codes=_codes(p.get("retourcodes")),
                awarded_cents=int(p["toegekend"]) if p.get("toegekend") else None,
            )
            for p in v.get("prestaties") or []
        ]
        message_reference = v.get("identificatie_retour")
        total = int(v["totaal_toegekend"]) if v.get("totaal_toegekend") else None
    else:  # FZ304
        parsed = v["_records"]
        whole = _codes(
            [{"code": v.get(f"retourcode_{i}")} for i in (1, 2, 3) if v.get(f"retourcode_{i}")]
        )
        line_answers = []
        for rec in parsed.of_type("04"):
            found = _codes([{"code": rec.get(f)} for f in ("0485", "0486", "0487") if rec.get(f)])
            line_answers.append(
                LineAnswer(
                    reference=rec["0431"],
                    awarded=not found,
                    codes=found,
                    awarded_cents=rec.signed("0483"),
                )
            )
        message_reference = v.get("nummer")
        total = parsed.trailer.signed("9909") if parsed.trailer is not None else None
    return ParseOutcome(
        standard=fmt.standard_label,
        code=fmt.message,
        summary=f"Retour van DJI op declaratie {v.get('nummer')}.",
        reference=v.get("identificatie") if fmt.kind == "xml" else None,
        answers_reference=message_reference,
        declaration_answer=DeclarationAnswer(
            message_reference=message_reference,
            number=v.get("nummer"),
            rejected_whole=bool(whole),
            codes=list(whole),
            lines=line_answers,
            unlisted_awarded=False,
            awarded_total_cents=total,
            reference=v.get("identificatie"),
        ),
        financing=CODE,
    )
