"""A test-only plugin that declares Wlz care (stacked, per ISO week) in Vektis EI (AW319).

Registered by the tests (and ``bench/stacked_export.py``) that need a stacking financing to
declare through the core's run before the real Wlz plugin does. It implements only the declaring
hooks for ``wlz`` — one prestatie per client, indicatie, product and ISO week, in minutes at the
contract's tariff per minute; the AW319 built with ``portal.formats.ei``; an AW320 read back into
per-line outcomes; and the zorgkantoor's side (an AW320 for an AW319) — so it shows what the run
asks of a plugin and nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from portal import hookimpl
from portal.domain import (
    AnswerCode,
    DeclarationAnswer,
    DeclarationLines,
    Issue,
    LineAnswer,
    LineDraft,
    MessageDraft,
    ParseOutcome,
    Unit,
)
from portal.formats import ei
from portal.models import Client, Contract, ContractLine, DeclarationLine, OrganisationAgb

CODE = "wlz"
AW319 = ei.load_layout("aw319", "1.4")
AW320 = ei.load_layout("aw320", "1.4-afgeleid")
ACCEPTED = {"", "8001"}  # this zorgkantoor's "toegekend"
MEANINGS = {"8001": "Toegekend", "0611": "Tarief wijkt af van het contract"}


def _tariffs(session, financier):
    found = {}
    for cl in session.scalars(
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(Contract.financier_id == financier.id)
    ):
        found.setdefault(cl.product_id, cl)
    return found


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    contract = _tariffs(session, financier)
    groups: dict[tuple, list] = defaultdict(list)
    skipped = []
    for c in care:
        if c.legitimation_id is None:
            skipped.append(Issue("legitimatie", f"Zorg op {c.datum:%d-%m-%Y} zonder indicatie."))
            continue
        week = c.datum - timedelta(days=c.datum.weekday())
        groups[(c.client_id, c.legitimation_id, c.product_id, week)].append(c)
    lines = []
    for (client_id, leg_id, product_id, week), pieces in sorted(groups.items()):
        cl = contract.get(product_id)
        if cl is None:
            skipped.append(Issue("contract", f"Geen contractregel voor product {product_id}."))
            continue
        minutes = sum(p.minutes or 0 for p in pieces)
        if minutes <= 0:
            continue
        per_minute = round(cl.tarief_cents / 60)
        lines.append(
            LineDraft(
                client_id=client_id,
                legitimation_id=leg_id,
                begindatum=week,
                einddatum=week + timedelta(days=6),
                volume=minutes,
                eenheid=Unit.MINUUT.value,
                tarief_cents=per_minute,
                bedrag_cents=minutes * per_minute,
                product_id=product_id,
                contract_line_id=cl.id,
                productcode=cl.productcode,
                care=pieces,
            )
        )
    return DeclarationLines(lines, skipped)


@hookimpl
def build_declaration(declaration, session, settings):
    if declaration.financing != CODE:
        return None
    agb = session.scalar(select(OrganisationAgb.agb_code).where(OrganisationAgb.hoofd.is_(True)))
    zk = int(declaration.financier.code)
    records = [
        (
            "01",
            {
                "0102": 187,
                "0103": 1,
                "0104": 4,
                "0105": "T",
                "0108": zk,
                "0112": int(agb),
                "0113": 4,
                "0114": declaration.periode_begin,
                "0115": declaration.periode_eind,
                "0116": declaration.nummer,
                "0117": date.today(),
                "0119": "EUR",
            },
        )
    ]
    lines = session.scalars(
        select(DeclarationLine)
        .where(DeclarationLine.declaration_id == declaration.id)
        .order_by(DeclarationLine.client_id, DeclarationLine.id)
    ).all()
    client = None
    for line in lines:
        c = session.get(Client, line.client_id)
        if c is not client:
            client = c
            records.append(
                (
                    "02",
                    {
                        "0203": c.bsn,
                        "0204": zk,
                        "0207": c.geboortedatum,
                        "0208": 2 if c.geslacht == "2" else 1,
                        "0209": 1,
                        "0210": c.achternaam,
                        "0215": c.voorletters or "X",
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
                    "0404": zk,
                    "0407": 1,
                    "0414": line.begindatum,
                    "0415": line.einddatum,
                    "0416": "055",
                    "0417": line.productcode or "H126",
                    "0418": line.volume,
                    "0419": "01",
                    "0420": int(agb),
                    "0425": line.tarief_cents,
                    "0426": sign * line.bedrag_cents,
                    "0429": sign * line.bedrag_cents,
                    "0431": line.referentie,
                    "0432": line.credit_of.referentie if line.credit_of else "",
                },
            )
        )
    payload = ei.build(AW319, records)  # checked against the layout before it is returned
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


@hookimpl
def parse_message(message, session, settings):
    payload = bytes(message.payload)
    if payload[:5] != b"01188":
        return None
    return read_aw320(payload)


def read_aw320(payload: bytes) -> ParseOutcome:
    """An AW320 read into per-line outcomes (the core applies them)."""
    retour = ei.parse(AW320, payload)  # EiError (Dutch) when anything is wrong
    head = retour.header

    def codes(record, fields):
        found = [record.get(f) for f in fields]
        return tuple(AnswerCode(c, MEANINGS.get(c, c)) for c in found if c and c not in ACCEPTED)

    lines = [
        LineAnswer(
            reference=p["0431"],
            awarded=not codes(p, ("0485", "0486", "0487")),
            codes=codes(p, ("0485", "0486", "0487")),
            awarded_cents=p.signed("0483"),
        )
        for p in retour.of_type("04")
    ]
    whole = codes(head, ("0183", "0184", "0185"))
    return ParseOutcome(
        standard="EI",
        code="AW320",
        summary=f"Retour op declaratie {head['0116']}.",
        declaration_answer=DeclarationAnswer(
            message_reference=head["0116"],
            number=head["0116"],
            rejected_whole=bool(whole),
            codes=list(whole),
            lines=lines,
            unlisted_awarded=False,
            awarded_total_cents=retour.trailer.signed("9909"),
        ),
    )


def reply(payload: bytes, rejected: dict[str, str] | None = None) -> bytes:
    """The zorgkantoor's AW320 for an AW319: every prestatie awarded (8001) unless listed in
    ``rejected`` (reference -> retourcode)."""
    rejected = rejected or {}
    sent = ei.parse(AW319, payload)
    out = []
    for rec in sent.records:
        kind = rec.type
        if kind == "99":
            continue  # the builder writes the closing record with the new totals
        derived = {f"{kind}01", f"{kind}02"} if kind in ("02", "04") else {f"{kind}01"}
        values = {n: v for n, v in rec.values.items() if v not in (None, "") and n not in derived}
        if kind == "01":
            values.update({"0102": 188, "0182": date.today(), "0183": "8001"})
        elif kind == "04":
            code = rejected.get(rec["0431"])
            values.update(
                {
                    "0483": 0 if code else rec.int("0429"),
                    "0484": rec["0430"],
                    "0485": code or "8001",
                }
            )
        out.append((kind, values))
    return ei.build(AW320, out)
