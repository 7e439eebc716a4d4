"""Test data for invoice runs: an organisation, products, legitimations and approved care.

Everything goes through the real models; the invoice runs under test read it through the real
stacking service."""

from __future__ import annotations

import io
import subprocess
from datetime import date, timedelta

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
from portal.models.registration import REG_APPROVED, Registration, StackRule

MONTH = (2025, 10)  # a month that has ended, whatever day the tests run
OCT_START, OCT_END = date(2025, 10, 1), date(2025, 10, 31)


def logo_png() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 70), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 70, 70), fill=(15, 118, 110))
    draw.ellipse((85, 10, 135, 60), fill=(245, 158, 11))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def organisation(db, *, logo: bool = True, btw_nummer: str | None = None) -> Organisation:
    org = Organisation(
        naam="Zorggroep De Linde",
        kvk_nummer="41234567",
        iban="NL91ABNA0417164300",
        btw_nummer=btw_nummer,
        straat="Lindelaan",
        huisnummer="12",
        postcode="3511AB",
        plaats="Utrecht",
        email="administratie@delinde.example",
        telefoon="030-1234567",
        logo_png=logo_png() if logo else None,
    )
    org.agb_codes = [OrganisationAgb(agb_code="73730001", locatie="Utrecht", hoofd=True)]
    db.add(org)
    db.flush()
    return org


def employee(db) -> User:
    user = User(
        email=f"zorg{db.query(User).count()}@test.nl",
        naam="Zoë Zorg",
        role="zorgprofessional",
        password_hash="x",
    )
    db.add(user)
    db.flush()
    return user


def product(db, code: str, financings: list[str], eenheid: str = "uur") -> Product:
    us = Uursoort(code=code[:10], naam=f"Uursoort {code}")
    us.financings = [
        UursoortFinancing(financing=f, position=i + 1) for i, f in enumerate(financings)
    ]
    p = Product(code=code, naam="Persoonlijke verzorging", eenheid=eenheid, uursoort=us)
    db.add_all([us, p])
    db.flush()
    return p


def financier(db, financing: str, soort: str, naam: str, code=None, **kw) -> Financier:
    f = Financier(financing=financing, soort=soort, naam=naam, code=code, **kw)
    db.add(f)
    db.flush()
    return f


def contract_line(db, fin: Financier, prod: Product, tarief: int, **kw) -> ContractLine:
    c = Contract(financier=fin, naam=f"Contract {fin.naam}", begindatum=date(2025, 1, 1))
    line = ContractLine(
        product=prod,
        eenheid=kw.pop("eenheid", "uur"),
        tarief_cents=tarief,
        begindatum=date(2025, 1, 1),
        **kw,
    )
    c.lines = [line]
    db.add(c)
    db.flush()
    return line


def client(db, bsn: str, achternaam: str, **kw) -> Client:
    c = Client(
        bsn=bsn,
        clientnummer=kw.pop("clientnummer", f"C{bsn[-4:]}"),
        voorletters=kw.pop("voorletters", "A."),
        voornamen=kw.pop("voornamen", "Anna"),
        achternaam=achternaam,
        geboortedatum=kw.pop("geboortedatum", date(1948, 5, 17)),
        straat=kw.pop("straat", "Dorpsstraat"),
        huisnummer=kw.pop("huisnummer", "5"),
        postcode=kw.pop("postcode", "3511AA"),
        plaats=kw.pop("plaats", "Utrecht"),
        **kw,
    )
    db.add(c)
    db.flush()
    return c


def legitimation(db, c: Client, fin: Financier, financing: str, prod: Product, **kw):
    leg = Legitimation(
        client=c,
        financier=fin,
        financing=financing,
        begindatum=kw.pop("begindatum", date(2025, 1, 1)),
        volume=kw.pop("volume", 2),
        eenheid=kw.pop("eenheid", "uur"),
        frequentie=kw.pop("frequentie", "week"),
        **kw,
    )
    leg.products = [prod]
    db.add(leg)
    db.flush()
    return leg


def register(db, c: Client, prod: Product, emp: User, day: date, minutes: int) -> Registration:
    reg = Registration(
        client_id=c.id,
        product_id=prod.id,
        uursoort_id=prod.uursoort_id,
        employee_id=emp.id,
        datum=day,
        duur_minuten=minutes,
        status=REG_APPROVED,
    )
    db.add(reg)
    db.flush()
    return reg


def stack(db, prod: Product) -> None:
    db.add(StackRule(product_id=prod.id, onto_product_id=prod.id))
    db.flush()


def weekdays(start: date, end: date):
    d = start
    while d <= end:
        if d.weekday() < 5:
            yield d
        d += timedelta(days=1)


# -- scenarios --------------------------------------------------------------------------------


def pgb_scenario(db, *, representative: bool = True, vat: int = 0):
    """A budget holder (a representative of the client) with a zorgovereenkomst of 55,00 per
    hour, paid from the Wlz budget, and 1:30 of care on every weekday of October 2025."""
    org = organisation(db, btw_nummer="NL001234567B01" if vat else None)
    emp = employee(db)
    prod = product(db, "PV-UUR", ["pgb"])
    fin = financier(db, "pgb", "budgethouder", "Budgethouder (PGB)")
    if vat:
        contract_line(db, fin, prod, 5500, btw_percentage=vat)
    extra = {}
    if representative:
        extra = dict(
            budgethouder_is_client=False,
            budgethouder_voorletters="M.J.",
            budgethouder_tussenvoegsel="van der",
            budgethouder_achternaam="Heijden",
            budgethouder_bsn="111222333",
            budgethouder_straat="Kerkweg",
            budgethouder_huisnummer="7a",
            budgethouder_postcode="3811BC",
            budgethouder_plaats="Amersfoort",
        )
    c = client(db, "123456782", "Vries", tussenvoegsel="de", email="budget@example.nl", **extra)
    leg = legitimation(
        db,
        c,
        fin,
        "pgb",
        prod,
        volume=10,
        tarief_cents=5500,
        sleutels={"wet": "wlz"},
        referentienummer="ZO-2025-014",
    )
    days = list(weekdays(OCT_START, OCT_END))
    for d in days:
        register(db, c, prod, emp, d, 90)
    # care outside the month is not on this invoice
    register(db, c, prod, emp, date(2025, 11, 3), 90)
    register(db, c, prod, emp, date(2025, 9, 29), 90)
    db.commit()
    return {"org": org, "client": c, "leg": leg, "product": prod, "days": days, "fin": fin}


def stacked_scenario(db):
    """DESIGN §6: 2 h Wlz + 2 h private per week, 4 h delivered in one week (Mon–Thu 1 h)."""
    org = organisation(db)
    emp = employee(db)
    prod = product(db, "PV-UUR", ["wlz", "particulier"])
    stack(db, prod)
    zk = financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code="5503")
    part = financier(db, "particulier", "client", "Cliënt zelf")
    contract_line(db, zk, prod, 5896, afronding_minuten=0)
    contract_line(db, part, prod, 6200, afronding_minuten=15)
    c = client(db, "123456782", "Bakker", email="bakker@example.nl")
    legitimation(db, c, zk, "wlz", prod, priority=1, volume=2)
    private = legitimation(
        db, c, part, "particulier", prod, priority=2, volume=2, tarief_cents=6200
    )
    week = [date(2025, 10, 6) + timedelta(days=i) for i in range(4)]
    for d in week:
        register(db, c, prod, emp, d, 60)
    db.commit()
    return {"org": org, "client": c, "private": private, "product": prod, "week": week}


def particulier_scenario(db, *, payer: bool = False):
    org = organisation(db)
    emp = employee(db)
    prod = product(db, "HH-UUR", ["particulier"])
    fin = financier(db, "particulier", "client", "Cliënt zelf")
    c = client(db, "123456782", "Jansen", email="jansen@example.nl", voorletters="P.")
    sleutels = {}
    if payer:
        sleutels = {
            "betaler_naam": "K. Jansen-de Boer",
            "betaler_adres": "Molenlaan 3\n1211AB Hilversum",
            "betaler_email": "dochter@example.nl",
        }
    leg = legitimation(
        db, c, fin, "particulier", prod, volume=6, tarief_cents=3500, sleutels=sleutels
    )
    for d in [date(2025, 10, 7), date(2025, 10, 14), date(2025, 10, 21)]:
        register(db, c, prod, emp, d, 135)
    db.commit()
    return {"org": org, "client": c, "leg": leg, "product": prod}


def onderaanneming_scenario(db):
    org = organisation(db)
    emp = employee(db)
    prod = product(db, "OA-PV", ["onderaanneming"])
    prod.naam = "Persoonlijke verzorging in onderaanneming"
    hoofd = financier(
        db,
        "onderaanneming",
        "instelling",
        "Thuiszorg Regio Midden",
        code="73999991",
        straat="Zorgplein",
        huisnummer="1",
        postcode="3811BB",
        plaats="Amersfoort",
        email="crediteuren@trm.example",
    )
    contract_line(db, hoofd, prod, 5400)
    clients = [
        client(db, "123456782", "Smit", voorletters="H."),
        client(db, "111222333", "Visser", voorletters="G.", geboortedatum=date(1939, 2, 1)),
    ]
    for i, c in enumerate(clients):
        legitimation(
            db, c, hoofd, "onderaanneming", prod, volume=5, referentienummer=f"ORD-2025-11{i}"
        )
        for d in [date(2025, 10, 2), date(2025, 10, 9), date(2025, 10, 16)]:
            register(db, c, prod, emp, d, 60 + 30 * i)
    db.commit()
    return {"org": org, "clients": clients, "hoofd": hoofd, "product": prod, "employee": emp}


# -- reading PDFs -----------------------------------------------------------------------------


def pdf_text(pdf: bytes, layout: bool = True) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + ["-", "-"]
    return subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()


def pdf_info(pdf: bytes) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    info = {}
    for line in out.decode().splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def squash(text: str) -> str:
    """Whitespace collapsed, so a check does not depend on column layout."""
    return " ".join(text.split())


def multi_scenario(db, month: date = OCT_START):
    """One organisation with care for three financings in one month (October 2025 unless
    ``month`` says otherwise): a PGB budget holder (client email), a private client, and two
    clients in onderaanneming for one main contractor (one invoice to the contractor)."""
    org = organisation(db)
    emp = employee(db)
    pgb_prod = product(db, "PV-UUR", ["pgb"])
    pgb_fin = financier(db, "pgb", "budgethouder", "Budgethouder (PGB)")
    pgb_client = client(db, "123456782", "Vries", tussenvoegsel="de", email="budget@example.nl")
    legitimation(
        db, pgb_client, pgb_fin, "pgb", pgb_prod, volume=10, tarief_cents=5500,
        sleutels={"wet": "wlz"}, referentienummer="ZO-2025-014",
    )  # fmt: skip
    for d in [month.replace(day=6), month.replace(day=13)]:
        register(db, pgb_client, pgb_prod, emp, d, 120)

    hh = product(db, "HH-UUR", ["particulier"])
    part_fin = financier(db, "particulier", "client", "Cliënt zelf")
    part_client = client(db, "111222333", "Jansen", email="jansen@example.nl", voorletters="P.")
    legitimation(db, part_client, part_fin, "particulier", hh, volume=6, tarief_cents=3500)
    for d in [month.replace(day=7), month.replace(day=14), month.replace(day=21)]:
        register(db, part_client, hh, emp, d, 135)

    oa = product(db, "OA-PV", ["onderaanneming"])
    hoofd = financier(
        db, "onderaanneming", "instelling", "Thuiszorg Regio Midden", code="73999991",
        straat="Zorgplein", huisnummer="1", postcode="3811BB", plaats="Amersfoort",
        email="crediteuren@trm.example",
    )  # fmt: skip
    contract_line(db, hoofd, oa, 5400)
    for i, (bsn, naam) in enumerate([("100000009", "Smit"), ("100000010", "Visser")]):
        c = client(db, bsn, naam, voorletters="H.")
        legitimation(db, c, hoofd, "onderaanneming", oa, volume=5, referentienummer=f"ORD-{i}")
        register(db, c, oa, emp, month.replace(day=2), 60)
    db.commit()
    return {"org": org, "pgb_client": pgb_client, "part_client": part_client, "hoofd": hoofd}
