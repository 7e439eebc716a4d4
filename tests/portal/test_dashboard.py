"""The start page's "Vraagt actie": each count, its list, and that it goes once the work is done."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.domain import Role
from portal.models import ExportPart, Invoice, Message, Organisation
from portal.models.declaration import Declaration, DeclarationLine
from portal.models.registration import REG_APPROVED, REG_CONCEPT
from portal.plugins import Hooks, get_plugin_manager
from tests.portal.production import factory

TODAY = date.today()


def _actions(html: str) -> dict[str, tuple[int, str]]:
    """{key: (count, href)} of the "Vraagt actie" card."""
    found = re.findall(
        r'<li data-key="([^"]+)"><a href="([^"]+)"><span class="count">(\d+)</span>', html
    )
    return {key: (int(n), href.replace("&amp;", "&")) for key, href, n in found}


def test_nothing_to_do_says_so(client, backoffice):
    html = client.get("/").get_data(as_text=True)
    assert "Vraagt actie" in html and "Er wacht nu niets op u" in html
    assert _actions(html) == {}


def test_care_waiting_for_approval_and_not_covered(client, db, backoffice, make_user):
    org = factory.organisation(db)
    emp = make_user(Role.ZORGPROFESSIONAL)
    covered, _wlz, _prive = factory.seed_client(db, org)
    loose = factory.new_client(db, achternaam="Zonder")
    loose.clientnummer = "C-77"
    yesterday = TODAY - timedelta(days=1)
    factory.registration(db, covered, org.pv, emp.id, yesterday, 90, status=REG_CONCEPT)
    factory.registration(db, loose, org.pv, emp.id, yesterday, 60, status=REG_CONCEPT)
    db.commit()

    actions = _actions(client.get("/").get_data(as_text=True))
    assert actions["fiatteren"] == (2, "/fiatteren/")
    assert actions["niet_gedekt"][0] == 1
    # the list behind it names the client so two Zonders can be told apart
    page = client.get(actions["niet_gedekt"][1]).get_data(as_text=True)
    assert "Zonder" in page and "C-77" in page and "02-03-1940" in page
    assert "Jansen" not in page

    # a legitimation for the loose client: the care is covered, the item goes
    factory.legitimation(db, loose, org.zorgkantoor, [org.pv])
    db.commit()
    assert "niet_gedekt" not in _actions(client.get("/").get_data(as_text=True))


def test_rejected_lines_per_retourcode_and_resent_ones_drop_out(client, db, backoffice):
    org = factory.organisation(db)
    c, wlz, _ = factory.seed_client(db, org)
    decl = Declaration(
        financing="wmo_jw",
        financier_id=org.gemeente.id,
        periode_begin=date(2026, 1, 1),
        periode_eind=date(2026, 1, 31),
        nummer="D-1",
        status="beantwoord",
    )
    db.add(decl)
    db.flush()

    def line(ref, codes, status="afgewezen", declaration=decl):
        ln = DeclarationLine(
            declaration_id=declaration.id,
            financing="wmo_jw",
            financier_id=org.gemeente.id,
            client_id=c.id,
            legitimation_id=wlz.id,
            productcategorie="07",
            productcode="07A05",
            begindatum=date(2026, 1, 1),
            einddatum=date(2026, 1, 31),
            volume=60,
            eenheid="uur",
            bedrag_cents=5000,
            referentie=ref,
            status=status,
            retourcodes=codes,
        )
        db.add(ln)
        db.flush()
        return ln

    line("R1", ["0611"])
    ln2 = line("R2", ["0611", "8001"])
    ln2.productcode = "07A06"
    db.commit()
    actions = _actions(client.get("/").get_data(as_text=True))
    assert actions["afgewezen.wmo_jw.0611"][0] == 2
    assert actions["afgewezen.wmo_jw.8001"][0] == 1
    html = client.get("/").get_data(as_text=True)
    assert "0611 " in html  # with its meaning from the iWmo code list
    listing = client.get(actions["afgewezen.wmo_jw.8001"][1]).get_data(as_text=True)
    assert "07A06" in listing and "07A05" not in listing

    # R1 corrected and sent again in a new declaration: no longer "vraagt actie"
    again = Declaration(
        financing="wmo_jw",
        financier_id=org.gemeente.id,
        periode_begin=date(2026, 2, 1),
        periode_eind=date(2026, 2, 28),
        nummer="D-2",
        status="ingediend",
    )
    db.add(again)
    db.flush()
    line("R3", [], status="ingediend", declaration=again)
    db.commit()
    actions = _actions(client.get("/").get_data(as_text=True))
    assert actions["afgewezen.wmo_jw.0611"][0] == 1


def test_messages_without_answer_past_the_deadline(client, db, backoffice):
    def msg(days_ago: int, status: str, code: str, answers: str | None = None) -> Message:
        sent = datetime.now(UTC) - timedelta(days=days_ago)
        m = Message(
            direction="uit",
            financing="wmo_jw",
            code=code,
            payload=b"x",
            sha256="0" * 64,
            size=1,
            traceer_id=f"t-{code}-{days_ago}-{status}",
            conversatie_id="c",
            als_antwoord_op=answers,
            status=status,
            sent_at=sent,
        )
        db.add(m)
        return m

    msg(12, "verzonden", "WMO305")  # late
    msg(12, "beantwoord", "WMO323")  # answered
    msg(12, "verzonden", "WMO302", answers="t-301")  # a retour expects no answer
    msg(1, "verzonden", "WMO307")  # not late yet
    db.commit()
    actions = _actions(client.get("/").get_data(as_text=True))
    n, href = actions["berichten.te_laat"]
    assert n == 1
    page = client.get(href).get_data(as_text=True)
    assert "WMO305" in page and "WMO307" not in page and "WMO323" not in page


def test_invoices_to_send_and_overdue(client, db, backoffice):
    org = Organisation(naam="Zorg BV")
    db.add(org)
    db.flush()

    def invoice(nummer, status, due):
        db.add(
            Invoice(
                organisation_id=org.id,
                financing="particulier",
                nummer=nummer,
                groep_sleutel=nummer,
                factuurdatum=due - timedelta(days=14),
                vervaldatum=due,
                periode_start=date(2026, 1, 1),
                periode_eind=date(2026, 1, 31),
                totaal_cents=12345,
                status=status,
            )
        )

    invoice("F1", "definitief", TODAY + timedelta(days=10))
    invoice("F2", "verstuurd", TODAY - timedelta(days=3))
    invoice("F3", "betaald", TODAY - timedelta(days=30))
    db.commit()
    html = client.get("/").get_data(as_text=True)
    actions = _actions(html)
    assert actions["facturen.versturen"] == (1, "/facturen/?status=definitief")
    assert actions["facturen.vervallen"][0] == 1
    assert "€ 123,45" in html


@pytest.fixture
def wlz_cannot_declare(app, monkeypatch):
    """Wlz as it was before it could declare (issue 11): a plugin that only describes itself."""
    from plugins.wlz import hooks as wlz_hooks

    class DescribeOnly:
        financing_info = staticmethod(wlz_hooks.financing_info)

    pm = get_plugin_manager(blocked=["wlz"], load_entrypoints=False)
    pm.register(DescribeOnly(), name="wlz-describe-only")
    monkeypatch.setitem(app.extensions, "hooks", Hooks(pm, app.config["PLUGIN_SETTINGS"]))


def test_approved_care_no_financing_can_declare_yet(
    client, db, backoffice, make_user, wlz_cannot_declare
):
    """A financing that cannot declare yet: its approved care waits, in hours and euros."""
    org = factory.organisation(db)
    emp = make_user(Role.ZORGPROFESSIONAL)
    c = factory.new_client(db)
    wlz = factory.legitimation(db, c, org.zorgkantoor, [org.pv])
    factory.registration(db, c, org.pv, emp.id, date(2026, 1, 5), 90, status=REG_APPROVED)
    done = factory.registration(db, c, org.pv, emp.id, date(2026, 1, 6), 60, status=REG_APPROVED)
    db.add(  # an earlier export counted this one: not waiting any more
        ExportPart(
            registration_id=done.id,
            client_id=c.id,
            financing="wlz",
            legitimation_id=wlz.id,
            datum=done.datum,
            week_start=date(2026, 1, 5),
            minutes=60,
            kind="declaratie",
        )
    )
    db.commit()
    html = client.get("/").get_data(as_text=True)
    n, href = _actions(html)["niet_declarabel"]
    assert n == 1
    assert "1,5 uur, ongeveer € 90,00" in html  # 1.5 h at 60 euro
    assert "05-01-2026" in client.get(href).get_data(as_text=True)
    # once the client also has a private agreement (which can invoice), it is not stuck
    factory.legitimation(db, c, org.prive, [org.pv], priority=2)
    db.commit()
    assert "niet_declarabel" not in _actions(client.get("/").get_data(as_text=True))


def test_care_staff_get_their_button_not_the_back_office_counts(client, zorgprofessional):
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="zorg-registreren"' in html
    assert "Vraagt actie" not in html


def test_plots_with_their_figures_one_click_away(client, db, backoffice):
    org = factory.organisation(db)
    this_month = TODAY.replace(day=1)
    last_end = this_month - timedelta(days=1)
    decl = Declaration(
        financing="wmo_jw",
        financier_id=org.gemeente.id,
        periode_begin=last_end.replace(day=1),
        periode_eind=last_end,
        nummer="D-9",
        status="beantwoord",
        total_cents=100000,
        awarded_cents=80000,
        answered_at=datetime.combine(last_end + timedelta(days=12), datetime.min.time(), UTC),
    )
    db.add(decl)
    db.commit()
    start = client.get("/").get_data(as_text=True)
    assert 'hx-get="/start/geld' in start  # loaded after the page shows
    html = client.get("/start/geld", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html  # htmx gets only the plots
    for key in ("omzet", "afwijzingen", "openstaand", "doorlooptijd"):
        assert f'data-testid="plot-{key}"' in html
    assert html.count('<svg class="chart"') == 4 and html.count('role="img"') >= 4
    assert "<summary>Cijfers</summary>" in html
    assert "€ 1.000,00" in html and "€ 800,00" in html  # declared and awarded of last month
    assert ">12</td>" in html  # twelve days from the end of the care to the award
    # only one financing: a private financing has no declarations
    html = client.get("/start/geld?financiering=particulier").get_data(as_text=True)
    assert "Omzet per maand van zorg (Particulier)" in html and "€ 1.000,00" not in html


def test_plots_are_not_for_care_staff(client, db, zorgprofessional):
    assert "/start/geld" not in client.get("/").get_data(as_text=True)
    assert client.get("/start/geld").status_code == 403


def test_charts_escape_names_and_describe_themselves():
    from portal import charts

    svg = charts.lines(
        "Afwijzingen",
        "Per maand",
        ["jan", "feb", "mrt"],
        [charts.Series('<script>alert("x")</script>', [10, None, 30])],
        lambda v: f"{v:.0f}%",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<circle") == 2  # the missing month is a gap, not a zero
    bars = charts.bars("Omzet", "x", ["a", "b"], [charts.Series("S", [0, 250])], str)
    assert "<title>b, S: 250</title>" in bars
