"""Demo data that looks like a real mid-size provider, and a BSN generator for demo and benchmarks.

Every later flow can be tried at once: one organisation with two locations, users for each role,
financiers of all seven financings, own products and uursoorten with priorities, contracts with
product mappings, ~50 clients with valid BSNs and their legitimations.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import Role
from portal.models import (
    Client,
    Contract,
    ContractLine,
    Financier,
    Legitimation,
    Organisation,
    OrganisationAgb,
    Product,
    User,
    Uursoort,
    UursoortFinancing,
)

if TYPE_CHECKING:
    from portal.plugins import Hooks

DEMO_PASSWORD = "demo-wachtwoord-2026"
DEMO_USERS = [
    ("beheerder@demo.nl", "Bea Beheer", Role.BEHEERDER),
    ("backoffice@demo.nl", "Bram Backoffice", Role.BACKOFFICE),
    ("zorg@demo.nl", "Zoë Zorg", Role.ZORGPROFESSIONAL),
    ("lezer@demo.nl", "Lex Lezer", Role.ALLEEN_LEZEN),
    ("privacy@demo.nl", "Pim Privacy", Role.PRIVACY),
]


def generate_bsn(rng: random.Random) -> str:
    """A random 9-digit number that passes the 11-proef (for demo and test data only)."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        if digits[0] == 0 and digits[1] == 0:
            continue
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last <= 9:
            return "".join(map(str, digits)) + str(last)


# First names with the gender they go with (the client's geslacht: 1 man, 2 vrouw), from the
# generations the clients were born in; a second name now and then gives two voorletters.
MEN = [
    "Jan",
    "Kees",
    "Henk",
    "Gerrit",
    "Willem",
    "Dirk",
    "Johannes",
    "Cornelis",
    "Hendrik",
    "Pieter",
    "Bert",
    "Frank",
    "Marco",
    "Sander",
    "Erik",
    "Mohammed",
    "Ahmed",
    "Mustafa",
    "Umut",
    "Daan",
    "Sem",
    "Noah",
    "Lucas",
    "Finn",
    "Otto",
    "Theo",
    "Ruud",
    "Wim",
]
WOMEN = [
    "Anna",
    "Maria",
    "Johanna",
    "Cornelia",
    "Geertruida",
    "Wilhelmina",
    "Els",
    "Ina",
    "Greet",
    "Nel",
    "Truus",
    "Lies",
    "Carla",
    "Petra",
    "Vera",
    "Rina",
    "Sandra",
    "Fatima",
    "Khadija",
    "Zeynep",
    "Yara",
    "Julia",
    "Emma",
    "Sophie",
    "Lotte",
    "Fenna",
    "Ineke",
    "Marijke",
]
MIDDLE = {
    "1": ["Johannes", "Maria", "Hendrik", "Pieter", "Jacobus"],
    "2": ["Maria", "Johanna", "Anna", "Elisabeth"],
}
FIRST = MEN + WOMEN  # kept for callers that only need a name
LAST = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van den", "Berg"),
    ("", "Bakker"),
    ("van", "Dijk"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Yilmaz"),
    ("El", "Amrani"),
    ("", "Kok"),
    ("van der", "Heijden"),
    ("", "Willems"),
    ("", "Schouten"),
]
STREETS = ["Dorpsstraat", "Kerkweg", "Molenlaan", "Stationsplein", "Wilhelminastraat", "Beukenlaan"]
TOWNS = [("3511", "Utrecht"), ("3811", "Amersfoort"), ("1211", "Hilversum"), ("3431", "Nieuwegein")]


def seed(
    session: Session,
    *,
    force: bool = False,
    n_clients: int = 50,
    rng_seed: int = 2026,
    hooks: Hooks | None = None,
) -> bool:
    """Load the demo organisation. Does nothing when there is data already (unless ``force``).

    With ``hooks``, every financing plugin adds its own part (the ``seed_demo`` hook)."""
    if not force and session.scalar(select(func.count()).select_from(Organisation)):
        return False
    rng = random.Random(rng_seed)

    org = Organisation(
        naam="Zorggroep De Linde",
        kvk_nummer="41234567",
        iban="NL91ABNA0417164300",
        straat="Lindelaan",
        huisnummer="12",
        postcode="3511AB",
        plaats="Utrecht",
        email="administratie@delinde.example",
        telefoon="030-1234567",
    )
    org.agb_codes = [
        OrganisationAgb(agb_code="73730001", locatie="Hoofdlocatie Utrecht", hoofd=True),
        OrganisationAgb(agb_code="73730002", locatie="Wijkteam Amersfoort"),
    ]
    session.add(org)

    for email, naam, role in DEMO_USERS:
        if session.scalar(select(User).where(User.email == email)) is None:
            user = User(
                email=email, naam=naam, role=role.value, team="Team Utrecht", session_version=0
            )
            user.set_password(DEMO_PASSWORD)
            session.add(user)

    fin = {}

    def financier(key, financing, soort, code, naam, **kw):
        f = Financier(financing=financing, soort=soort, code=code, naam=naam, **kw)
        session.add(f)
        fin[key] = f
        return f

    financier(
        "utrecht",
        "wmo_jw",
        "gemeente",
        "0344",
        "Gemeente Utrecht",
        postcode="3511AA",
        plaats="Utrecht",
    )
    financier(
        "amersfoort",
        "wmo_jw",
        "gemeente",
        "0307",
        "Gemeente Amersfoort",
        postcode="3811AA",
        plaats="Amersfoort",
    )
    financier(
        "hilversum",
        "wmo_jw",
        "gemeente",
        "0402",
        "Gemeente Hilversum",
        postcode="1211AA",
        plaats="Hilversum",
    )
    financier("zorgkantoor", "wlz", "zorgkantoor", "5503", "Zorgkantoor Utrecht", plaats="Utrecht")
    financier(
        "verzekeraar",
        "zvw_msvt",
        "zorgverzekeraar",
        "3311",
        "Zorgverzekeraar Midden",
        plaats="Utrecht",
    )
    financier("dji", "fz", "dji", "9992", "Dienst Justitiële Inrichtingen", plaats="Den Haag")
    financier("budgethouder", "pgb", "budgethouder", None, "Budgethouder (PGB)")
    financier("particulier", "particulier", "client", None, "Cliënt zelf")
    financier(
        "hoofdaannemer",
        "onderaanneming",
        "instelling",
        "73999991",
        "Thuiszorg Regio Midden (hoofdaannemer)",
        straat="Zorgplein",
        huisnummer="1",
        postcode="3811BB",
        plaats="Amersfoort",
        kvk_nummer="30123456",
    )

    uursoorten = {}
    for code, naam, financings in [
        ("PV", "Persoonlijke verzorging", ["wlz", "zvw_msvt", "pgb", "particulier"]),
        ("VP", "Verpleging", ["zvw_msvt", "wlz", "particulier"]),
        ("BG", "Begeleiding", ["wmo_jw", "wlz", "pgb", "particulier"]),
        ("HH", "Huishoudelijke hulp", ["wmo_jw", "particulier"]),
        ("FZ", "Forensische begeleiding", ["fz"]),
        ("OA", "Onderaanneming thuiszorg", ["onderaanneming"]),
    ]:
        u = Uursoort(code=code, naam=naam)
        u.financings = [
            UursoortFinancing(financing=f, position=i + 1) for i, f in enumerate(financings)
        ]
        session.add(u)
        uursoorten[code] = u

    products = {}
    for code, naam, eenheid, us in [
        ("PV-UUR", "Persoonlijke verzorging", "uur", "PV"),
        ("VP-UUR", "Verpleging", "uur", "VP"),
        ("BG-IND", "Begeleiding individueel", "uur", "BG"),
        ("BG-GRP", "Begeleiding groep (dagdeel)", "dagdeel", "BG"),
        ("HH-UUR", "Huishoudelijke hulp", "uur", "HH"),
        ("FZ-BEG", "Forensische ambulante begeleiding", "uur", "FZ"),
        ("OA-PV", "Persoonlijke verzorging in onderaanneming", "uur", "OA"),
        ("LOG-ETM", "Logeeropvang", "etmaal", None),
    ]:
        p = Product(
            code=code, naam=naam, eenheid=eenheid, uursoort=uursoorten.get(us) if us else None
        )
        session.add(p)
        products[code] = p
    session.flush()

    year_start = date(date.today().year, 1, 1)

    def contract(fkey, naam, lines, begin=year_start):
        c = Contract(financier=fin[fkey], naam=naam, begindatum=begin)
        c.lines = [
            ContractLine(
                product=products[p],
                productcategorie=cat,
                productcode=pc,
                eenheid=unit,
                tarief_cents=cents,
                begindatum=begin,
                afronding_minuten=rnd,
            )
            for p, cat, pc, unit, cents, rnd in lines
        ]
        session.add(c)

    # the Wmo contracts hold since before the demo's year of history (see ``history_start``),
    # the PGB and onderaanneming agreements since before the invoices of the last half year
    wmo_begin = history_start(date.today())
    invoice_begin = min(year_start, _month(date.today(), -(INVOICE_MONTHS + 1)))
    for g in ("utrecht", "amersfoort", "hilversum"):
        contract(
            g,
            f"Wmo-contract {fin[g].naam} {wmo_begin.year}-{wmo_begin.year + 2}",
            [
                ("BG-IND", "07", "07A05", "uur", 6450, 0),
                ("BG-GRP", "07", "07A07", "dagdeel", 5200, 0),
                ("HH-UUR", "01", "01A02", "uur", 3150, 0),
                ("BG-IND", "45", "45A48", "uur", 7150, 0),  # Jeugdwet: ambulante jeugdhulp
            ],
            begin=wmo_begin,
        )
    contract(
        "zorgkantoor",
        f"Wlz-productieafspraak {year_start.year}",
        [
            ("PV-UUR", None, "H126", "uur", 5896, 0),
            ("VP-UUR", None, "H127", "uur", 7850, 0),
            ("BG-IND", None, "H300", "uur", 6250, 0),
        ],
    )
    contract(
        "verzekeraar",
        f"Wijkverpleging {year_start.year}",
        [
            ("VP-UUR", None, "1004", "uur", 7600, 5),
            ("PV-UUR", None, "1003", "uur", 6100, 5),
        ],
    )
    contract(
        "dji", f"Forensische zorg {year_start.year}", [("FZ-BEG", None, "FZ3A", "uur", 9800, 0)]
    )
    contract(
        "budgethouder",
        f"PGB-tarieven {year_start.year}",
        [("PV-UUR", None, None, "uur", 5500, 30), ("BG-IND", None, None, "uur", 5800, 30)],
        begin=invoice_begin,
    )
    contract(
        "particulier",
        f"Prijslijst particulier {year_start.year}",
        [("PV-UUR", None, None, "uur", 6200, 15), ("HH-UUR", None, None, "uur", 3500, 15)],
    )
    contract(
        "hoofdaannemer",
        f"Onderaanneming thuiszorg {year_start.year}",
        [("OA-PV", None, "OA-PV", "uur", 5400, 0)],
        begin=invoice_begin,
    )

    clients = []
    used = set()
    for i in range(n_clients):
        bsn = generate_bsn(rng)
        while bsn in used:
            bsn = generate_bsn(rng)
        used.add(bsn)
        geslacht = rng.choice("12")
        names = [rng.choice(MEN if geslacht == "1" else WOMEN)]
        if rng.random() < 0.3:
            names.append(rng.choice([n for n in MIDDLE[geslacht] if n != names[0]]))
        tv, last = rng.choice(LAST)
        pc4, town = rng.choice(TOWNS)
        c = Client(
            bsn=bsn,
            clientnummer=f"C{1000 + i}",
            voornamen=" ".join(names),
            voorletters="".join(n[0] + "." for n in names),
            tussenvoegsel=tv or None,
            achternaam=last,
            geboortedatum=date(
                rng.randint(2010, 2016)
                if i % 20 == JEUGD
                else rng.randint(1930, 2000 if i % 10 in WMO_KINDS else 2015),
                rng.randint(1, 12),
                rng.randint(1, 28),
            ),
            geslacht=geslacht,
            straat=rng.choice(STREETS),
            huisnummer=str(rng.randint(1, 140)),
            postcode=f"{pc4}{rng.choice('ABCDEFGH')}{rng.choice('KLMNPRST')}",
            plaats=town,
            team=rng.choice(["Team Utrecht", "Team Amersfoort"]),
        )
        session.add(c)
        clients.append(c)
    session.flush()

    for i, c in enumerate(clients):
        kind = i % 10
        if kind in WMO_KINDS:
            # Wmo: the toewijzingen arrive from the gemeente as 301s (the wmo_jw plugin's part
            # of the demo, ``wmo_jw_plan``), as they do in real life
            continue
        if kind in (4, 5):  # Wlz PV, stacked with particulier for some
            _leg(
                session,
                c,
                "wlz",
                fin["zorgkantoor"],
                [products["PV-UUR"]],
                year_start,
                volume=2,
                eenheid="uur",
                frequentie="week",
                productcode="H126",
                priority=1,
            )
            if kind == 4:
                _leg(
                    session,
                    c,
                    "particulier",
                    fin["particulier"],
                    [products["PV-UUR"]],
                    year_start,
                    volume=2,
                    eenheid="uur",
                    frequentie="week",
                    tarief_cents=6200,
                    priority=2,
                )
        elif kind == 6:  # wijkverpleging
            _leg(
                session,
                c,
                "zvw_msvt",
                fin["verzekeraar"],
                [products["VP-UUR"], products["PV-UUR"]],
                year_start,
                volume=6,
                eenheid="uur",
                frequentie="week",
            )
        elif kind == 7:  # PGB
            c.budgethouder_is_client = True
            _leg(
                session,
                c,
                "pgb",
                fin["budgethouder"],
                [products["PV-UUR"], products["BG-IND"]],
                invoice_begin,
                volume=5,
                eenheid="uur",
                frequentie="week",
                tarief_cents=5500,
                sleutels={"wet": "wlz"},
            )
        elif kind == 8:  # forensisch
            _leg(
                session,
                c,
                "fz",
                fin["dji"],
                [products["FZ-BEG"]],
                year_start,
                volume=3,
                eenheid="uur",
                frequentie="week",
                productcode="FZ3A",
                referentienummer=f"DJI-{2026000 + i}",
            )
        else:  # onderaanneming
            _leg(
                session,
                c,
                "onderaanneming",
                fin["hoofdaannemer"],
                [products["OA-PV"]],
                invoice_begin,
                volume=3,
                eenheid="uur",
                frequentie="week",
                referentienummer="ORD-2026-118",
            )
    session.flush()
    if hooks is not None:
        seed_invoice_history(session, hooks)
    seed_invoice_demo(session)
    seed_registration_demo(session)
    if hooks is not None:
        hooks.seed_demo(session, date.today())
        session.flush()
    return True


WMO_KINDS = (0, 1, 2, 3)  # client i with i % 10 in WMO_KINDS is a Wmo client …
JEUGD = 13  # … and a child under the Jeugdwet when i % 20 == JEUGD (i % 10 == 3)
WMO_GEMEENTEN = ("0344", "0307", "0402")  # client i lives in gemeente WMO_GEMEENTEN[i % 3]


INVOICE_MONTHS = 6  # months of PGB and onderaanneming invoices before last month


def _month(day: date, step: int) -> date:
    """The first day of the month ``step`` months from the month of ``day``."""
    index = day.year * 12 + day.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def history_start(today: date) -> date:
    """The first day of the demo's history: 13 months before this month, so that a year of
    months has been declared and answered before last month (the month to declare now)."""
    return _month(today, -13)


def wmo_jw_plan(session: Session) -> list[tuple[Client, Financier]]:
    """The demo's Wmo clients with their gemeente: the core made the clients, the gemeente's
    301s (the wmo_jw plugin's ``seed_demo``) bring their toewijzingen."""
    gemeenten = {
        f.code: f for f in session.scalars(select(Financier).where(Financier.financing == "wmo_jw"))
    }
    out = []
    for client in session.scalars(
        select(Client).where(Client.clientnummer.like("C%")).order_by(Client.id)
    ):
        try:
            i = int(client.clientnummer[1:]) - 1000
        except ValueError:
            continue
        gemeente = gemeenten.get(WMO_GEMEENTEN[i % 3])
        if i >= 0 and i % 10 in WMO_KINDS and gemeente is not None:
            out.append((client, gemeente))
    return out


def _leg(session, client, financing, financier, products, start, **kw):
    leg = Legitimation(
        client=client,
        financing=financing,
        financier=financier,
        begindatum=start,
        priority=kw.pop("priority", 1),
        **kw,
    )
    leg.products = list(products)
    session.add(leg)
    return leg


def seed_invoice_demo(session: Session, today: date | None = None) -> int:
    """Approved care last month for the PGB, private (stacked on Wlz) and onderaanneming clients,
    so that the three invoice runs for last month can be made at once. Returns registrations."""
    from datetime import timedelta

    from portal.models.registration import REG_APPROVED, ApprovalRun, Registration, StackRule

    today = today or date.today()
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    week_from = start - timedelta(days=start.weekday())
    week_to = min(end + timedelta(days=6 - end.weekday()), today - timedelta(days=1))
    employee = session.scalar(select(User).where(User.email == "zorg@demo.nl"))
    products = {p.code: p for p in session.scalars(select(Product))}
    if employee is None or "PV-UUR" not in products:
        return 0
    if (
        session.scalar(select(StackRule).where(StackRule.product_id == products["PV-UUR"].id))
        is None
    ):
        # PV: Wlz first, what is above the Wlz volume goes to the private agreement
        session.add(
            StackRule(product_id=products["PV-UUR"].id, onto_product_id=products["PV-UUR"].id)
        )
    # (financing, product, weekdays, minutes)
    plan = {
        "pgb": ("PV-UUR", (0, 2, 4), 90),
        "particulier": ("PV-UUR", (0, 1, 2, 3), 60),
        "onderaanneming": ("OA-PV", (1, 3), 75),
    }
    approval = ApprovalRun(
        periode_start=week_from,
        periode_eind=week_to,
        filters={"demo": "facturen"},
        created_by=employee.id,
        token=f"demo-facturen-{start.isoformat()}",
    )
    session.add(approval)
    n = minutes = 0
    for leg in session.scalars(select(Legitimation).where(Legitimation.financing.in_(list(plan)))):
        code, weekdays, duration = plan[leg.financing]
        if leg.begindatum > week_from:
            leg.begindatum = week_from
        client = leg.client
        if not client.email:
            client.email = f"{client.clientnummer.lower()}@example.nl"
        day = week_from
        while day <= week_to:
            # PGB and onderaanneming from the month's first day (the month before is in the
            # invoice history); particulier whole weeks (it stacks on the Wlz per week)
            if day.weekday() in weekdays and (leg.financing == "particulier" or day >= start):
                session.add(
                    Registration(
                        client_id=client.id,
                        product_id=products[code].id,
                        uursoort_id=products[code].uursoort_id,
                        employee_id=employee.id,
                        datum=day,
                        duur_minuten=duration,
                        status=REG_APPROVED,
                        approval_run=approval,
                        bron="scherm",
                        waarschuwingen=[],
                    )
                )
                n += 1
                minutes += duration
            day += timedelta(days=1)
    approval.aantal, approval.minuten = n, minutes
    hoofdaannemer = session.scalar(select(Financier).where(Financier.financing == "onderaanneming"))
    if hoofdaannemer is not None and not hoofdaannemer.email:
        hoofdaannemer.email = "crediteuren@thuiszorg-midden.example"
    session.flush()
    return n


def seed_registration_demo(
    session: Session, today: date | None = None, max_clients: int = 16
) -> int:
    """Care registered over the last two months for Wlz, Zvw and Wmo clients without demo care
    yet: whole weeks up to last week approved (one approval run), this and last week still
    concept, so registration, approval, stacking and declarations can be tried. Returns rows."""
    from datetime import time, timedelta

    from portal.models.registration import REG_APPROVED, REG_CONCEPT, ApprovalRun, Registration

    today = today or date.today()
    employee = session.scalar(select(User).where(User.email == "zorg@demo.nl"))
    if employee is None:
        return 0
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=8)
    approved_until = this_monday - timedelta(days=8)  # the Sunday before last week
    busy = set(session.scalars(select(Registration.client_id).distinct()))
    chosen: list[tuple[int, Product]] = []
    for leg in session.scalars(
        select(Legitimation)
        .where(Legitimation.financing.in_(["wlz", "zvw_msvt", "wmo_jw"]))
        .order_by(Legitimation.id)
    ):
        product = next((p for p in leg.products if p.eenheid in ("uur", "minuut")), None)
        if product is None or leg.client_id in busy:
            continue
        busy.add(leg.client_id)
        chosen.append((leg.client_id, product))
        if len(chosen) >= max_clients:
            break
    if not chosen:
        return 0
    run = ApprovalRun(
        periode_start=first,
        periode_eind=approved_until,
        filters={"demo": "registraties"},
        created_by=employee.id,
        token=f"demo-registraties-{first.isoformat()}",
    )
    session.add(run)
    rng = random.Random(first.toordinal())
    n = minutes_total = 0
    day = first
    while day < today:
        if day.weekday() < 5:
            clock = 7 * 60 + 30
            for i, (client_id, product) in enumerate(chosen):
                if (i + day.toordinal()) % 2:
                    continue  # every client about every other working day
                duration = rng.choice((30, 45, 60, 90))
                approved = day <= approved_until
                session.add(
                    Registration(
                        client_id=client_id,
                        product_id=product.id,
                        uursoort_id=product.uursoort_id,
                        employee_id=employee.id,
                        datum=day,
                        starttijd=time(clock // 60, clock % 60),
                        duur_minuten=duration,
                        status=REG_APPROVED if approved else REG_CONCEPT,
                        approval_run=run if approved else None,
                        bron="scherm",
                        waarschuwingen=[],
                    )
                )
                clock += duration + 15
                n += 1
                minutes_total += duration if approved else 0
                run.aantal = (run.aantal or 0) + (1 if approved else 0)
        day += timedelta(days=1)
    run.minuten = minutes_total
    session.flush()
    return n


# (financing, product, weekdays, minutes) of the demo's invoiced care
INVOICE_PLAN = {
    "pgb": ("PV-UUR", (0, 2, 4), 90),
    "particulier": ("PV-UUR", (0, 1, 2, 3), 60),
    "onderaanneming": ("OA-PV", (1, 3), 75),
}


@contextmanager
def _one_transaction(session: Session):
    """The services commit where a user acts; the demo seed is one transaction (nothing of a
    half-made demo is kept): inside, a commit only flushes."""
    commit = session.commit
    session.commit = session.flush  # type: ignore[method-assign]
    try:
        yield
    finally:
        session.commit = commit  # type: ignore[method-assign]


def seed_invoice_history(session: Session, hooks: Hooks, today: date | None = None) -> int:
    """Half a year of PGB and onderaanneming invoices before last month, made by the real
    invoice run on the 5th of each next month: the older ones paid, a few of the last months
    overdue, the newest sent and not yet due. (Particulier care stacks on the Wlz, whose
    history is the Wlz plugin's; its invoices start with last month.) Returns invoices."""
    from datetime import UTC, datetime, time, timedelta

    from portal.models.registration import REG_APPROVED, ApprovalRun, Registration
    from portal.services import invoicing

    today = today or date.today()
    employee = session.scalar(select(User).where(User.email == "zorg@demo.nl"))
    backoffice = session.scalar(select(User).where(User.email == "backoffice@demo.nl"))
    products = {p.code: p for p in session.scalars(select(Product))}
    financings = ["pgb", "onderaanneming"]
    if employee is None or not all(hooks.can(f, "build_invoice") for f in financings):
        return 0
    legs = list(
        session.scalars(
            select(Legitimation)
            .where(Legitimation.financing.in_(financings))
            .order_by(Legitimation.id)
        )
    )
    first = _month(today, -(INVOICE_MONTHS + 1))
    last_month = _month(today, -1)
    run = ApprovalRun(
        periode_start=first,
        periode_eind=last_month - timedelta(days=1),
        filters={"demo": "facturen-historie"},
        created_by=employee.id,
        token=f"demo-facturen-historie-{first.isoformat()}",
    )
    session.add(run)
    n = minutes = 0
    for leg in legs:
        code, weekdays, duration = INVOICE_PLAN[leg.financing]
        day = max(first, leg.begindatum)
        while day < last_month:
            if day.weekday() in weekdays:
                session.add(
                    Registration(
                        client_id=leg.client_id,
                        product_id=products[code].id,
                        uursoort_id=products[code].uursoort_id,
                        employee_id=employee.id,
                        datum=day,
                        duur_minuten=duration,
                        status=REG_APPROVED,
                        approval_run=run,
                        bron="scherm",
                        waarschuwingen=[],
                    )
                )
                n += 1
                minutes += duration
            day += timedelta(days=1)
    run.aantal, run.minuten = n, minutes
    session.flush()

    made = []
    rng = random.Random(612)
    month = first
    while month < last_month:
        end = _month(month, 1) - timedelta(days=1)
        invoice_day = end + timedelta(days=5)
        with _one_transaction(session):
            try:
                inv_run = invoicing.create_run(
                    session,
                    hooks,
                    financings,
                    month,
                    end,
                    user_id=backoffice.id if backoffice else None,
                    today=invoice_day,
                    enqueue_render=False,
                )
            except invoicing.InvoiceError:
                month = _month(month, 1)
                continue
        inv_run.created_at = datetime.combine(invoice_day, time(10), tzinfo=UTC)
        age = (last_month.year - month.year) * 12 + last_month.month - month.month
        for inv in inv_run.invoices:
            inv.status = "verstuurd"
            inv.sent_at = datetime.combine(invoice_day, time(11), tzinfo=UTC)
            paid_on = invoice_day + timedelta(days=rng.randint(6, 24))
            # the older months are paid; of the two before last, a few are still open (overdue)
            if paid_on < today and (age > 3 or (age > 1 and rng.random() < 0.6)):
                inv.status, inv.paid_at = "betaald", paid_on
                inv.betaald_cents = inv.totaal_cents
            made.append(inv)
        month = _month(month, 1)
    session.flush()
    return len(made)


def queue_demo_pdfs(session: Session) -> int:
    """Queue the PDFs of the demo's invoice runs that have none yet (the workers make them):
    after the demo's transaction, so that a worker finds the invoices."""
    from portal.models import Invoice, InvoiceRun
    from portal.services.invoicing.run import queue_render

    runs = session.scalars(
        select(InvoiceRun)
        .where(
            InvoiceRun.id.in_(
                select(Invoice.run_id).where(
                    Invoice.pdf_sha256.is_(None), Invoice.nummer.is_not(None)
                )
            )
        )
        .order_by(InvoiceRun.id)
    ).all()
    for run in runs:
        queue_render(session, run)
    return len(runs)
