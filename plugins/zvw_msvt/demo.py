"""The Zvw part of the demo organisation (hook ``seed_demo``).

The core demo has one insurer (UZOVI 3311) with a wijkverpleging contract and a few clients with
an indicatie. Here: a second insurer (UZOVI 7029) with its own contract, MSVT on contract with
the first one (the second leaves MSVT to the hospital: onderaanneming), the indicaties completed
(who set them, BIG, verzekerdennummer, hours per zorgsoort) and spread over both insurers, the
insurers' own knowledge in the stand-in (insured persons, contracted codes and maximum tariffs),
and three declared months: AW319s built by the run and answered by the insurer's AW320, so the
history in the portal is what the stand-in remembers.

One client's insurance ends halfway last month: declaring last month shows the story of the
issue — the insurer rejects the care after that date (0402), the back office moves it to
particulier and invoices it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from plugins.zvw_msvt import declaration as declaring
from plugins.zvw_msvt import financier as insurer
from plugins.zvw_msvt import standard as std
from portal.domain import Care
from portal.models import (
    Contract,
    ContractLine,
    Financier,
    Legitimation,
    Message,
    Product,
    User,
)
from portal.models._base import utcnow
from portal.models.message import IN
from portal.models.registration import REG_APPROVED, ApprovalRun, Registration
from portal.services import declarations

STEWARDS = ("M. Bakker", "J. El Amrani", "S. de Wit")


class _OwnHooks:
    """What the declaration run asks of the facade, answered by this plugin (the demo's seed
    hook gets no facade; the history it makes is Zvw's own)."""

    def __init__(self, settings):
        self.settings = settings

    def declaration_lines(self, financier, care, begin, end, session):
        return declaring.lines(financier, care, begin, end, session)

    def declaration_numbering(self, declaration, n_lines, session):
        return declaring.numbering(declaration, n_lines, session)

    def validate_declaration(self, declaration):
        return declaring.issues(declaration, object_session(declaration))

    def build_declaration(self, declaration, session):
        return declaring.drafts(declaration, session, self.settings)


def seed(session: Session, today: date, settings) -> int:
    first_ins = session.scalar(
        select(Financier).where(Financier.financing == std.CODE, Financier.code == "3311")
    )
    products = {p.code: p for p in session.scalars(select(Product))}
    if first_ins is None or "VP-UUR" not in products:
        return 0
    year_start = date(today.year, 1, 1)
    second = Financier(
        financing=std.CODE,
        soort="zorgverzekeraar",
        code="7029",
        naam="Zorgverzekeraar Kust",
        plaats="Den Haag",
    )
    session.add(second)
    msvt = Product(
        code="MSVT-UUR",
        naam="Medisch-specialistische verpleging thuis",
        eenheid="uur",
        uursoort=products["VP-UUR"].uursoort,
    )
    session.add(msvt)
    session.flush()
    session.add(
        ContractLine(
            contract=session.scalar(select(Contract).where(Contract.financier_id == first_ins.id)),
            product=msvt,
            productcategorie="065",
            productcode="19001",
            eenheid="uur",
            tarief_cents=9100,
            begindatum=year_start,
            afronding_minuten=5,
        )
    )
    contract = Contract(
        financier=second, naam=f"Wijkverpleging {today.year}", begindatum=year_start
    )
    contract.lines = [
        ContractLine(product=products["VP-UUR"], productcategorie="065", productcode="1004",
                     eenheid="uur", tarief_cents=7450, begindatum=year_start, afronding_minuten=5),
        ContractLine(product=products["PV-UUR"], productcategorie="065", productcode="1003",
                     eenheid="uur", tarief_cents=5990, begindatum=year_start, afronding_minuten=5),
    ]  # fmt: skip
    session.add(contract)
    for line in session.scalars(
        select(ContractLine).join(Contract).where(Contract.financier_id == first_ins.id)
    ):
        line.productcategorie = line.productcategorie or "065"

    store = insurer.store_for(settings)
    store.reset()  # a new demo: the insurers' memory of an earlier one would refuse this one
    for fin in (first_ins, second):
        for line in session.scalars(
            select(ContractLine).join(Contract).where(Contract.financier_id == fin.id)
        ):
            # the insurer's maximum: 5 % above what it contracted with us
            store.contract(fin.code, "065", line.productcode, round(line.tarief_cents * 1.05))

    legs = list(
        session.scalars(
            select(Legitimation).where(Legitimation.financing == std.CODE).order_by(Legitimation.id)
        )
    )
    last_month_end = today.replace(day=1) - timedelta(days=1)
    story_end = last_month_end.replace(day=14)
    # the story's client: at the first insurer, with approved care after the 14th of last month
    with_care = set(
        session.scalars(
            select(Registration.client_id).where(
                Registration.status == REG_APPROVED,
                Registration.datum > story_end,
                Registration.datum <= last_month_end,
            )
        )
    )
    story = None
    for i, leg in enumerate(legs):
        leg.financier = first_ins if i % 2 == 0 else second
        if story is None and i % 2 == 0 and leg.client_id in with_care:
            story = leg
    for i, leg in enumerate(legs):
        fin = leg.financier
        verz = f"{100000000 + leg.client_id * 7919:09d}"[-9:]
        weekly = (leg.volume or 6) * 60
        leg.sleutels = {
            "soort": "wijkverpleging",
            "indicatiesteller": STEWARDS[i % len(STEWARDS)],
            "big_nummer": f"{19000000000 + leg.client_id * 13:011d}",
            "verzekerdennummer": verz,
            "uren_pv_vp": f"{(weekly - 60) // 60}:{(weekly - 60) % 60:02d}",
            "uren_cmd": "1",
        }
        if i == 0:
            leg.products = [*leg.products, msvt]
        end = story_end if leg is story else None  # insured until the 14th of last month
        store.insure(fin.code, leg.client.bsn, date(2015, 1, 1), end, verz)
    session.flush()
    _history(session, today, settings, legs, products["VP-UUR"])
    return 0  # the clients are the core demo's


def _history(session: Session, today: date, settings, legs, product) -> None:
    """Three declared months before the registration demo's window, answered by the insurer."""
    employee = session.scalar(select(User).where(User.email == "zorg@demo.nl"))
    if employee is None or not legs:
        return
    this_monday = today - timedelta(days=today.weekday())
    window = this_monday - timedelta(weeks=8)  # seed_registration_demo starts here
    months = []
    m = window.replace(day=1)
    for _ in range(3):
        m = (m - timedelta(days=1)).replace(day=1)
        if m >= date(today.year, 1, 1):
            months.append(m)
    months.sort()
    if not months:
        return
    run = ApprovalRun(
        periode_start=months[0],
        periode_eind=declarations.month_bounds(months[-1])[1],
        filters={"demo": "zvw-historie"},
        created_by=employee.id,
        token=f"demo-zvw-historie-{months[0].isoformat()}",
    )
    session.add(run)
    hooks = _OwnHooks(settings)
    for month in months:
        begin, end = declarations.month_bounds(month)
        care: dict[int, list[Care]] = {}
        for leg in legs:
            day = begin
            while day <= end:
                if day.weekday() in (0, 3):  # Monday and Thursday, an hour of verpleging
                    reg = Registration(
                        client_id=leg.client_id,
                        product_id=product.id,
                        uursoort_id=product.uursoort_id,
                        employee_id=employee.id,
                        datum=day,
                        starttijd=time(9, 0),
                        duur_minuten=60,
                        status=REG_APPROVED,
                        approval_run=run,
                        bron="scherm",
                        waarschuwingen=[],
                    )
                    session.add(reg)
                    session.flush()
                    care.setdefault(leg.financier_id, []).append(
                        Care(leg.client_id, product.id, day, 60, None, reg.id, leg.id)
                    )
                day += timedelta(days=1)
        for fin_id, pieces in care.items():
            fin = session.get(Financier, fin_id)
            prepared = declarations.prepare(session, fin, month, hooks=hooks, care=pieces)
            for decl in prepared.declarations:
                (message,) = declarations.submit(session, decl.id, hooks)
                message.status = "beantwoord"  # history: sent and answered long ago
                answered_on = min(today, end + timedelta(days=18))
                (retour,) = insurer.reply(bytes(message.payload), settings, today=answered_on)
                outcome = declarations.apply_outcome(session, declaring.read_aw320(retour.payload))
                _inbound(session, retour, message, fin, outcome.summary)
    session.flush()


def _inbound(session: Session, draft, heen: Message, fin: Financier, summary: str) -> None:
    payload = draft.payload
    session.add(
        Message(
            direction=IN,
            financing=std.CODE,
            standard="EI",
            code="AW320",
            payload=payload,
            sha256=hashlib.sha256(payload).hexdigest(),
            size=len(payload),
            filename=draft.filename,
            traceer_id=str(uuid.uuid4()),
            conversatie_id=heen.conversatie_id,
            als_antwoord_op=heen.traceer_id,
            afzender_rol="Zorgverzekeraar",
            afzender_code=fin.code,
            financier_id=fin.id,
            reference=draft.reference,
            answers_reference=heen.reference,
            answers_id=heen.id,
            status="verwerkt",
            needs_action=False,
            summary=summary,
            issues=[],
            meldingen=[],
            client_ids=[],
            received_at=utcnow(),
        )
    )
