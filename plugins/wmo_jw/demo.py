"""Wmo's part of the demo organisation (hook ``seed_demo``): a year that the stand-in agrees with.

The simulated gemeenten of the VECOZO stand-in (:mod:`plugins.wmo_jw.financier`) and the portal
go through the year together, with the same code that runs when the demo is live; only "today"
is moved through the months:

* Each demo Wmo client (made by the core demo, :func:`portal.demo.wmo_jw_plan`) gets a 301 from
  its gemeente (``issue_301``: remembered in the gemeente's store), which the portal processes
  as the inbox does (``receive_payload``: the legitimations come from the 301) and answers with
  a 302. Most toewijzingen start with the history; a few clients join later in the year.
* Each start is reported with a 305 on the toewijzing's first day; the gemeente answers 306.
* Care is registered (and approved) week after week; each month, on the 5th of the next month,
  the core declaration run makes a 323 per gemeente from the approved care, and the gemeente's
  real 325 logic answers it.
* Two things go wrong, as they do, and can be fixed in the portal:
  - Five months ago the back office raised the huishoudelijke-hulp tariff of Gemeente
    Amersfoort in the contract before the gemeente did: those lines came back with 0611
    ("tarief wijkt af"), the tariff was put back and the lines were declared again with the next
    month, and awarded.
  - Last declared month one client got far more begeleiding than the toewijzing allows: the
    portal warned (9321 is a warning here: only the gemeente knows all its declarations) and
    the gemeente rejected that line with 9321. It is open: correct the care or ask for a
    bigger toewijzing (317) and declare it again.
* Last month's care is approved and not declared yet: the month to declare now, which the
  gemeente awards because it knows every toewijzing. This month's care is still concept.

Built through the real pipelines (no bulk shortcut): about 150 messages, each checked against
the XSD and the rules on both sides; a few seconds. The messages are shown as sent and answered
on their own dates; nothing of the history is sent again when the demo starts.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from plugins.wmo_jw import chain, financier, rules
from plugins.wmo_jw import declaration as declaring
from plugins.wmo_jw import messages as msgs
from plugins.wmo_jw.standard import IJW, IWMO
from portal.models import (
    ApprovalRun,
    Contract,
    ContractLine,
    Declaration,
    Legitimation,
    Message,
    Product,
    Registration,
    User,
)
from portal.models.registration import REG_APPROVED, REG_CONCEPT

CODE = chain.CODE
TOEWIJZING_COUNTER_START = 4_000_000  # the same counter as the stand-in's own demo 301s
LATE_JOINERS = 4  # every LATE_JOINERS-th client's toewijzing starts later in the year
HH_TARIEF_FOUT = 3250  # the tariff the back office entered too early (the gemeente pays 3150)


class _DayHooks:
    """The portal's hooks, with the two that check and build a 323 run on a given day (a 323
    carries its own dagtekening; the rules compare dates with it)."""

    def __init__(self, hooks, day: date):
        self._hooks, self.day = hooks, day

    def __getattr__(self, name):
        return getattr(self._hooks, name)

    def validate_declaration(self, decl):
        return declaring.issues(decl, object_session(decl), today=self.day)

    def build_declaration(self, decl, session):
        return declaring.drafts(decl, session, today=self.day)


def _at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def month_add(day: date, step: int) -> date:
    return rules.next_month(day, step)


class _Year:
    """The portal and the stand-in's gemeenten going through the demo year together."""

    def __init__(self, session: Session, hooks, settings):
        self.session, self.hooks, self.settings = session, hooks, settings
        self.store = financier.store_for(settings)
        self.agb = chain.own_agb(session)
        self.mine: list[int] = []  # ids of the messages of the history

    # -- the VECOZO leg, in process --------------------------------------------------------

    def deliver(self, draft, day: date, hour: int, answers: Message | None = None) -> Message:
        """A message of the gemeente arrives in the portal as the inbox takes it in."""
        from portal.services.messages import receive_payload
        from portal.vecozo.berichtstromen import berichtstroom_for

        payload = bytes(draft.payload)
        metadata = {
            "referentiegegevens": {
                "traceerId": str(uuid.uuid4()),
                "conversatieId": answers.conversatie_id if answers else str(uuid.uuid4()),
                "alsAntwoordOp": answers.traceer_id if answers else None,
            },
            "routeringgegevens": {
                "afzender": {"rol": draft.afzender[0], "code": draft.afzender[1]},
                "geadresseerden": [{"rol": "Instelling", "code": self.agb}],
                "berichtstroom": berichtstroom_for(draft.code, CODE) or {"berichttype": draft.code},
            },
            "basisgegevens": {"ontvangenOp": _at(day, hour).isoformat()},
        }
        message = receive_payload(
            self.session, metadata=metadata, payload=payload, hooks=self.hooks
        )
        self._dated(message, day, hour)
        # what the portal answered at once (a 302 on a 301): sent and fetched that day
        for reply in self.session.scalars(
            select(Message).where(Message.als_antwoord_op == message.traceer_id)
        ):
            self._sent(reply, day, hour, "bezorgd")
        return message

    def send(self, draft, day: date, hour: int) -> Message:
        """The portal sends a message (as the outbox does); the gemeente answers it."""
        from portal.services.messages import create_outgoing

        message = create_outgoing(self.session, draft, financing=CODE)
        self._sent(message, day, hour, "verzonden")
        self.answer(message, day, hour)
        return message

    def answer(self, message: Message, day: date, hour: int) -> None:
        for reply in financier.reply(bytes(message.payload), self.settings, today=day) or []:
            self.deliver(reply, day, hour + 2, answers=message)

    def _sent(self, message: Message, day: date, hour: int, status: str) -> None:
        message.status = status
        message.sent_at = _at(day, hour)
        message.vecozo_status = "Opgehaald" if status == "bezorgd" else None
        self._dated(message, day, hour)

    def _dated(self, message: Message, day: date, hour: int) -> None:
        message.created_at = message.updated_at = _at(day, hour)
        if message.received_at is not None:
            message.received_at = _at(day, hour)
        for event in message.events:
            event.at = _at(day, hour)
        self.mine.append(message.id)

    # -- toewijzingen ----------------------------------------------------------------------

    def toewijzing(self, gemeente: str, categorie: str, code: str, begin: date, volume: int, on):
        return msgs.Toewijzing(
            # the gemeente's own counter (its later 301s go on from here), in a range of its
            # own: the stand-in's store knows a toewijzing by its number alone
            nummer=str(
                self.store.next_number(
                    f"toewijzing-{gemeente}", start=TOEWIJZING_COUNTER_START + int(gemeente) * 1000
                )
            ),
            categorie=categorie,
            code=code,
            toewijzingsdatum=on,
            toewijzingstijd="10:15:00",
            ingangsdatum=begin,
            # an omvang per week has an end date (CD076): the end of the next year
            einddatum=date(begin.year + 1, 12, 31),
            volume=volume,
            eenheid="04",  # uur
            frequentie="2",  # per week
        )

    def issue(self, client, gemeente, toewijzingen, day: date, std=IWMO) -> list[Legitimation]:
        persoon = chain.persoon(client)
        persoon.voornamen = client.voornamen
        persoon.straat, persoon.huisnummer = client.straat, client.huisnummer
        persoon.postcode, persoon.plaats = client.postcode, client.plaats
        draft = financier.issue_301(
            self.settings, std, gemeente.code, self.agb, persoon, toewijzingen, today=day
        )
        message = self.deliver(draft, day, 8)
        message.needs_action = False  # the back office took it in: the start follows
        nummers = [t.nummer for t in toewijzingen]
        return list(
            self.session.scalars(
                select(Legitimation)
                .where(
                    Legitimation.financing == CODE,
                    Legitimation.client_id == client.id,
                    Legitimation.financier_id == gemeente.id,
                    Legitimation.toewijzingnummer.in_(nummers),
                )
                .order_by(Legitimation.toewijzingnummer)
            )
        )

    def start(self, leg: Legitimation) -> None:
        day = leg.begindatum
        draft = chain.start_draft(self.session, leg, leg.begindatum, today=day)
        self.send(draft, day, 11)


def seed(session: Session, today: date, settings, hooks=None) -> int:
    """The demo's Wmo year (module doc). Returns the number of clients given toewijzingen."""
    from portal import demo as core_demo

    if hooks is None:
        from flask import current_app, has_app_context

        if not has_app_context():
            return 0
        hooks = current_app.extensions["hooks"]
    plan = core_demo.wmo_jw_plan(session)
    year = _Year(session, hooks, settings)
    products = {p.code: p for p in session.scalars(select(Product))}
    worker = session.scalar(select(User).where(User.email == "zorg@demo.nl"))
    backoffice = session.scalar(select(User).where(User.email == "backoffice@demo.nl"))
    if not plan or not year.agb or worker is None or "BG-IND" not in products:
        return 0
    # A fresh demo: the gemeenten forget an earlier demo of this installation (its numbers and
    # declarations would clash with the new ones) and know their contract tariffs.
    year.store.reset()
    # one seed, about a thousand small writes: without an fsync each (set back at the end)
    year.store.conn.execute("PRAGMA synchronous = OFF")
    try:
        return _seed_year(session, today, year, plan, products, worker, backoffice)
    finally:
        year.store.conn.execute("PRAGMA synchronous = FULL")


def _seed_year(session, today, year, plan, products, worker, backoffice) -> int:
    from portal import demo as core_demo

    hooks = year.hooks
    lines = session.execute(
        select(ContractLine, Contract.financier_id)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(Contract.financier_id.in_({g.id for _, g in plan}))
    ).all()
    codes = {g.id: g.code for _, g in plan}
    for cl, financier_id in lines:
        if cl.productcategorie and cl.productcode:
            year.store.set_tarief(
                codes[financier_id], cl.productcategorie, cl.productcode, cl.tarief_cents
            )

    first = core_demo.history_start(today)
    this_month = today.replace(day=1)
    open_month = month_add(this_month, -1)  # last month: to declare now
    last_declared = month_add(open_month, -1)
    hh_fout_month = month_add(open_month, -5)
    rng = random.Random(3011)

    # 1. the 301s (with their 302s) and the starts (305/306)
    care_plan: list[tuple[Legitimation, Product, tuple[int, ...], tuple[int, ...]]] = []
    for n, (client, gemeente) in enumerate(plan):
        begin = first if n % LATE_JOINERS else month_add(first, 2 + n % 7)
        on = begin - timedelta(days=6)
        youth = (int(client.clientnummer[1:]) - 1000) % 20 == core_demo.JEUGD
        if youth:  # a child: ambulante jeugdhulp under the Jeugdwet (an iJw 301, JW323s)
            wanted = [year.toewijzing(gemeente.code, "45", "45A48", begin, 4, on)]
            legs = year.issue(client, gemeente, wanted, on, std=IJW)
        else:
            wanted = [year.toewijzing(gemeente.code, "07", "07A05", begin, 4, on)]
            if gemeente.code == "0307" and n % 2 == 0:  # Amersfoort: huishoudelijke hulp too
                wanted.append(year.toewijzing(gemeente.code, "01", "01A02", begin, 2, on))
            legs = year.issue(client, gemeente, wanted, on)
        for leg in legs:
            product = products["HH-UUR" if leg.productcode == "01A02" else "BG-IND"]
            leg.products = [product]
            year.start(leg)
            if product.code == "BG-IND":  # twice a week, 60 to 90 minutes
                days = tuple(sorted(rng.sample((0, 1, 2, 3, 4), 2)))
                care_plan.append((leg, product, days, (60, 75, 90)))
            else:  # once a week, two hours
                care_plan.append((leg, product, (rng.choice((0, 2, 4)),), (120,)))
    session.flush()

    # 2. care: approved up to last month's end, this month's still concept
    run = ApprovalRun(
        periode_start=first,
        periode_eind=this_month - timedelta(days=1),
        filters={"demo": "wmo"},
        created_by=backoffice.id if backoffice else worker.id,
        token=f"demo-wmo-{first.isoformat()}",
        aantal=0,
        minuten=0,
    )
    session.add(run)
    too_much = care_plan[0][0].client_id  # gets far more care than allowed last declared month
    rows = []
    for leg, product, weekdays, durations in care_plan:
        day = leg.begindatum
        while day < today:
            extra = leg.client_id == too_much and day.replace(day=1) == last_declared
            if day.weekday() in weekdays or (extra and day.weekday() < 5):
                approved = day < this_month
                minutes = 120 if extra else rng.choice(durations)
                rows.append(
                    Registration(
                        client_id=leg.client_id,
                        product_id=product.id,
                        uursoort_id=product.uursoort_id,
                        employee_id=worker.id,
                        datum=day,
                        duur_minuten=minutes,
                        status=REG_APPROVED if approved else REG_CONCEPT,
                        approval_run=run if approved else None,
                        bron="scherm",
                        waarschuwingen=[],
                        created_at=_at(min(day, today - timedelta(days=1)), 17),
                    )
                )
                if approved:
                    run.aantal += 1
                    run.minuten += minutes
            day += timedelta(days=1)
    session.add_all(rows)
    session.flush()

    # 3. a year of declarations, each answered by the gemeente's 325
    from portal.services import declarations as svc

    gemeenten = sorted({g.id: g for _, g in plan}.values(), key=lambda g: g.code)
    hh_line = next(
        (
            cl
            for cl, fid in lines
            if cl.productcode == "01A02" and codes.get(fid) == "0307"  # Amersfoort
        ),
        None,
    )
    month = first
    while month <= last_declared:
        day = month_add(month, 1) + timedelta(days=4)  # declared on the 5th of the next month
        for gemeente in gemeenten:
            wrong = hh_line is not None and month == hh_fout_month and gemeente.code == "0307"
            if wrong:  # the tariff raised before the gemeente did
                hh_line.tarief_cents = HH_TARIEF_FOUT
                session.flush()
            day_hooks = _DayHooks(hooks, day)
            prepared = svc.prepare(
                session,
                gemeente,
                month,
                hooks=day_hooks,
                user_id=backoffice.id if backoffice else None,
            )
            for decl in prepared.declarations:
                for message in svc.submit(
                    session,
                    decl.id,
                    day_hooks,
                    user_id=backoffice.id if backoffice else None,
                ):
                    year._sent(message, day, 10, "verzonden")
                    year.answer(message, day + timedelta(days=3), 8)
                decl.created_at = _at(day, 9)
                decl.sent_at = _at(day, 10)
                if decl.answered_at is not None:
                    decl.answered_at = _at(day + timedelta(days=3), 10)
            if wrong:  # the back office put the tariff back: the lines go again next month
                hh_line.tarief_cents = 3150
                session.flush()
        month = month_add(month, 1)
    # what was handled needs no action any more; the open rejection (9321) still does
    for message in session.scalars(select(Message).where(Message.id.in_(year.mine))):
        if message.code and message.code.endswith("306"):
            message.needs_action = False
    last = {
        d.id
        for d in session.scalars(
            select(Declaration).where(
                Declaration.financing == CODE, Declaration.periode_begin == last_declared
            )
        )
    }
    for decl in session.scalars(
        select(Declaration).where(Declaration.financing == CODE, Declaration.id.not_in(last))
    ):
        if decl.message_id:  # the 323 and its 325: handled
            for message in session.scalars(
                select(Message).where(
                    (Message.answers_id == decl.message_id) | (Message.id == decl.message_id)
                )
            ):
                message.needs_action = False
    # nothing of the history goes to VECOZO again when the demo starts
    pending = session.info.get("vecozo_send_pending") or []
    mine = set(year.mine)
    session.info["vecozo_send_pending"] = [i for i in pending if i not in mine]
    session.flush()
    return len(plan)
