"""The client dossier: its tabs, only the cards that apply, codes with their names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal.domain import Role
from portal.models import Message
from portal.models.declaration import Declaration, DeclarationLine
from portal.models.registration import REG_APPROVED, REG_CONCEPT
from tests.portal.production import factory

TODAY = date.today()


def _wmo_client(db, org):
    c = factory.new_client(db, achternaam="Visser")
    c.clientnummer = "C-9"
    leg = factory.legitimation(db, c, org.gemeente, [org.bg])
    return c, leg


def test_tabs_and_no_pgb_card_for_a_wmo_client(client, db, backoffice):
    org = factory.organisation(db)
    c, _leg = _wmo_client(db, org)
    db.commit()
    page = client.get(f"/clienten/{c.id}").get_data(as_text=True)
    for label in ("Legitimaties", "Geregistreerde zorg", "Declaraties", "Facturen", "Berichten"):
        assert f">{label}</a>" in page
    assert "Wie keek" not in page  # the audit trail is for those with audit.view
    assert 'data-testid="budgethouder"' not in page and "Budgethouder (PGB)" not in page
    assert "Cliëntnummer C-9 · geboren 02-03-1940" in page


def test_care_per_week_and_month_with_approval_and_cover(client, db, backoffice, make_user):
    org = factory.organisation(db)
    emp = make_user(Role.ZORGPROFESSIONAL)
    c, _wlz, _prive = factory.seed_client(db, org)
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    factory.registration(db, c, org.pv, emp.id, monday, 120, status=REG_APPROVED)
    factory.registration(db, c, org.pv, emp.id, monday + timedelta(days=1), 30, status=REG_CONCEPT)
    factory.registration(db, c, org.bg, emp.id, monday + timedelta(days=2), 60, status=REG_CONCEPT)
    db.commit()
    page = client.get(f"/clienten/{c.id}/dossier/zorg").get_data(as_text=True)
    week = monday.isocalendar().week
    assert f"Week {week} " in page
    assert "3,5 uur" in page  # the week's total
    assert "1,5 uur" in page  # not yet approved
    assert "1 niet gedekt" in page  # begeleiding: no legitimation holds it
    assert f"week={monday.isocalendar().year}-W{week:02d}" in page  # to the stacking split
    page = client.get(f"/clienten/{c.id}/dossier/zorg?per=maand").get_data(as_text=True)
    assert "Maand" in page and "Week " not in page


def test_declaration_lines_with_code_names_and_messages_in_dutch(client, db, backoffice):
    org = factory.organisation(db)
    c, leg = _wmo_client(db, org)
    decl = Declaration(
        financing="wmo_jw",
        financier_id=org.gemeente.id,
        periode_begin=date(2026, 1, 1),
        periode_eind=date(2026, 1, 31),
        nummer="D-77",
        groep="iwmo",
        status="beantwoord",
    )
    db.add(decl)
    db.flush()
    db.add(
        DeclarationLine(
            declaration_id=decl.id,
            financing="wmo_jw",
            financier_id=org.gemeente.id,
            client_id=c.id,
            legitimation_id=leg.id,
            product_id=org.bg.id,
            productcategorie="07",
            productcode="07A05",
            begindatum=date(2026, 1, 1),
            einddatum=date(2026, 1, 31),
            volume=60,
            eenheid="uur",
            bedrag_cents=5000,
            referentie="R-1",
            status="afgewezen",
            retourcodes=["0611"],
        )
    )
    db.add(
        Message(
            direction="uit",
            financing="wmo_jw",
            code="WMO323",
            payload=b"x",
            sha256="0" * 64,
            size=1,
            traceer_id="t-1",
            conversatie_id="c-1",
            status="verzonden",
            vecozo_status="Ontvangen",
            client_ids=[c.id],
            created_at=datetime.now(UTC),
        )
    )
    db.commit()
    page = client.get(f"/clienten/{c.id}/dossier/declaraties").get_data(as_text=True)
    assert "07A05 Begeleiding individueel" in page and "07 07A05" not in page
    assert "Wmo en Jeugdwet" in page and "iwmo" not in page
    assert "0611 " in page and "Afgewezen" in page
    page = client.get(f"/clienten/{c.id}/dossier/berichten").get_data(as_text=True)
    assert "WMO323" in page and "Verstuurd naar VECOZO" in page


def test_the_audit_tab_shows_who_looked(client, db, beheerder):
    org = factory.organisation(db)
    c, _leg = _wmo_client(db, org)
    db.commit()
    client.get(f"/clienten/{c.id}")
    page = client.get(f"/clienten/{c.id}/dossier/inzage").get_data(as_text=True)
    assert "Dossier bekeken" in page and beheerder.naam in page
    assert client.get(f"/clienten/{c.id}/dossier/onzin").status_code == 404


def test_backoffice_cannot_open_the_audit_tab(client, db, backoffice):
    org = factory.organisation(db)
    c, _leg = _wmo_client(db, org)
    db.commit()
    assert client.get(f"/clienten/{c.id}/dossier/inzage").status_code == 404
