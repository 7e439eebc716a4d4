"""Declaring the Voorbeeldfinanciering: a small fixed-width file of our own, through the portal's
declaration run. Everything here is what belongs to *this* format; the portal does the rest
(choosing approved care that was not exported yet, storing lines and what they count, the
outbox, applying the answer, credits).

* :func:`lines` (hook ``declaration_lines``): one line per client, opdracht and calendar month,
  in minutes at the contract's tariff per minute.
* :func:`build` (hook ``build_declaration``): the file, from the layout table
  ``layouts/vb-declaratie-1.0.csv`` shipped in this package (data, not code), built and checked
  by ``portal.formats.ei``.
* :func:`read_answer` (hook ``parse_message``): the institution's retour (``vb-retour-1.0.csv``)
  read into per-line outcomes; ``OK`` means awarded.
* :func:`reply` (hook ``financier_reply``): the institution's side, for the VECOZO stand-in.
"""

from __future__ import annotations

import calendar
from collections import defaultdict

from sqlalchemy import select

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
from portal.models import Client, Contract, ContractLine, Legitimation, OrganisationAgb
from portal.models.declaration import DeclarationLine

DECLARATIE = ei.Layout.from_resource(__package__, "layouts/vb-declaratie-1.0.csv")
RETOUR = ei.Layout.from_resource(__package__, "layouts/vb-retour-1.0.csv")
AWARDED = "OK"
MEANINGS = {"OK": "Toegekend", "TA": "Tarief onbekend", "GO": "Geen opdracht"}


def lines(financier, care, session) -> DeclarationLines:
    tariffs = {
        cl.product_id: cl
        for cl in session.scalars(
            select(ContractLine)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(Contract.financier_id == financier.id)
        )
    }
    opdrachten: dict[int, list[Legitimation]] = defaultdict(list)
    for leg in session.scalars(
        select(Legitimation).where(Legitimation.financier_id == financier.id)
    ):
        opdrachten[leg.client_id].append(leg)
    groups: dict[tuple, list] = defaultdict(list)
    skipped = []
    for c in care:
        leg = next(
            (
                lg
                for lg in opdrachten[c.client_id]
                if lg.begindatum <= c.datum and (lg.einddatum is None or c.datum <= lg.einddatum)
            ),
            None,
        )
        if leg is None or c.product_id not in tariffs:
            skipped.append(
                Issue("opdracht", f"Zorg op {c.datum:%d-%m-%Y} valt buiten een opdracht.")
            )
            continue
        month = c.datum.replace(day=1)
        groups[(c.client_id, leg.id, c.product_id, month)].append(c)
    made = []
    for (client_id, leg_id, product_id, month), pieces in sorted(groups.items()):
        minutes = sum(p.minutes or 0 for p in pieces)
        per_minute = round(tariffs[product_id].tarief_cents / 60)
        last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        made.append(
            LineDraft(
                client_id=client_id,
                legitimation_id=leg_id,
                begindatum=month,
                einddatum=last,
                volume=minutes,
                eenheid=Unit.MINUUT.value,
                tarief_cents=per_minute,
                bedrag_cents=minutes * per_minute,
                product_id=product_id,
                contract_line_id=tariffs[product_id].id,
                care=pieces,
            )
        )
    return DeclarationLines(made, skipped)


def build(declaration, session) -> list[MessageDraft]:
    agb = session.scalar(select(OrganisationAgb.agb_code).where(OrganisationAgb.hoofd.is_(True)))
    records = [
        (
            "01",
            {
                "0102": "VB01",
                "0103": agb,
                "0104": declaration.financier.code,
                "0105": declaration.nummer,
                "0106": declaration.periode_begin,
                "0107": declaration.periode_eind,
            },
        )
    ]
    for line in session.scalars(
        select(DeclarationLine)
        .where(DeclarationLine.declaration_id == declaration.id)
        .order_by(DeclarationLine.id)
    ):
        sign = -1 if line.debet_credit == "C" else 1
        records.append(
            (
                "04",
                {
                    "0403": session.get(Client, line.client_id).bsn,
                    "0404": session.get(Legitimation, line.legitimation_id).referentienummer,
                    "0405": line.begindatum,
                    "0406": line.einddatum,
                    "0407": line.volume,
                    "0408": line.tarief_cents,
                    "0409": sign * line.bedrag_cents,
                    "0411": line.referentie,
                },
            )
        )
    payload = ei.build(DECLARATIE, records)  # checked against the table before it is returned
    return [
        MessageDraft(
            standard="VB-DECLARATIE 1.0",
            code="VB01",
            payload=payload,
            geadresseerde=("Instelling", declaration.financier.code),
            reference=declaration.nummer,
            filename=f"VB01_{declaration.nummer}.txt",
        )
    ]


def read_answer(payload: bytes) -> ParseOutcome | None:
    if payload[:6] != b"01VB02":
        return None  # not ours
    retour = ei.parse(RETOUR, payload)  # refused in Dutch when anything is wrong
    nummer = retour.header["0103"]
    return ParseOutcome(
        standard="VB-RETOUR 1.0",
        code="VB02",
        summary=f"Retour op declaratie {nummer}.",
        declaration_answer=DeclarationAnswer(
            message_reference=nummer,
            number=nummer,
            rejected_whole=retour.header["0104"] != AWARDED,
            codes=[AnswerCode(retour.header["0104"], "Bestand afgekeurd")]
            if retour.header["0104"] != AWARDED
            else [],
            lines=[
                LineAnswer(
                    reference=r["0403"],
                    awarded=r["0406"] == AWARDED,
                    codes=()
                    if r["0406"] == AWARDED
                    else (AnswerCode(r["0406"], MEANINGS.get(r["0406"], r["0406"])),),
                    awarded_cents=r.signed("0404"),
                )
                for r in retour.of_type("04")
            ],
            unlisted_awarded=False,
            awarded_total_cents=retour.trailer.signed("9903"),
        ),
    )


def reply(payload: bytes, rejected: dict[str, str] | None = None) -> bytes | None:
    """The institution's retour: every line awarded unless its reference is in ``rejected``."""
    if payload[:6] != b"01VB01":
        return None
    rejected = rejected or {}
    sent = ei.parse(DECLARATIE, payload)
    records = [("01", {"0102": "VB02", "0103": sent.header["0105"], "0104": AWARDED})]
    for r in sent.of_type("04"):
        code = rejected.get(r["0411"], AWARDED)
        amount = r.signed("0409") if code == AWARDED else 0
        records.append(("04", {"0403": r["0411"], "0404": amount, "0406": code}))
    return ei.build(RETOUR, records)
