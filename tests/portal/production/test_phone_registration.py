"""Care staff on a phone: the client stays chosen, only the client's products, a compact week,
and "Vorige week overnemen" for care without start times."""

from __future__ import annotations

from datetime import date, timedelta

from portal.models import Registration
from portal.models.registration import REG_CONCEPT
from tests.portal.production.factory import legitimation, new_client, organisation, registration


def test_client_kept_and_only_its_products(client, db, zorgprofessional):
    org = organisation(db)
    c = new_client(db, achternaam="Visser")
    legitimation(db, c, org.zorgkantoor, [org.pv])
    db.commit()
    # choosing the client narrows the products to what its legitimation holds
    field = client.get(
        f"/registreren/producten?client_id={c.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "Persoonlijke verzorging" in field and "Begeleiding individueel" not in field
    # a client without any legitimation: every product (the care shows as "niet gedekt")
    loose = new_client(db, achternaam="Los")
    db.commit()
    field = client.get(f"/registreren/producten?client_id={loose.id}").get_data(as_text=True)
    assert "Begeleiding individueel" in field and "Dagbesteding" in field

    yesterday = date.today() - timedelta(days=1)
    r = client.post(
        "/registreren/nieuw",
        data={
            "client_id": c.id,
            "product_id": org.pv.id,
            "datum": yesterday.strftime("%d%m%Y"),  # digits only, as on a number pad
            "starttijd": "0930",
            "duur": "45",
        },
    )
    assert r.status_code == 303 and f"client={c.id}" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f'name="client_id" value="{c.id}" checked' in page  # still chosen for the next one
    assert "Begeleiding individueel" not in page.split('id="product-field"')[1].split("</div>")[0]


def test_week_view_per_day_and_copy_without_times(client, db, zorgprofessional):
    org = organisation(db)
    c = new_client(db)
    legitimation(db, c, org.gemeente, [org.dag], uren=None)
    this_monday = date.today() - timedelta(days=date.today().weekday())
    last_monday = this_monday - timedelta(days=7)
    registration(db, c, org.dag, zorgprofessional.id, last_monday, start=None, aantal=1,
                 status=REG_CONCEPT)  # fmt: skip
    registration(db, c, org.dag, zorgprofessional.id, last_monday + timedelta(days=6), start=None,
                 aantal=2, status=REG_CONCEPT)  # fmt: skip
    db.commit()
    iso = last_monday.isocalendar()
    week = client.get(f"/registreren/week?week={iso.year}-W{iso.week:02d}").get_data(as_text=True)
    assert week.count('<section class="week-day') == 7
    assert week.count('class="week-day empty"') == 5
    this_iso = this_monday.isocalendar()
    r = client.post(
        "/registreren/week/kopieren",
        data={"week": f"{this_iso.year}-W{this_iso.week:02d}"},
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert "registratie(s) van vorige week overgenomen" in r.get_data(as_text=True)
    copied = db.query(Registration).filter(Registration.datum >= this_monday).all()
    assert this_monday in {reg.datum for reg in copied}
