"""The invoice screens as the back office uses them."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select

from portal.models import AuditEvent, Invoice, InvoiceRun
from tests.conftest import form_errors
from tests.portal.invoices import builders as b


def test_lezer_sees_invoices_but_cannot_make_them(client, db, lezer):
    assert client.get("/facturen/").status_code == 200
    assert client.get("/facturen/nieuw").status_code == 403
    resp = client.post("/facturen/nieuw", data={"financing": "pgb", "periode": "2025-10"})
    assert resp.status_code == 403


def test_choose_preview_create_render_download(client, db, backoffice, run_jobs):
    b.pgb_scenario(db)
    page = client.get("/facturen/nieuw").get_data(as_text=True)
    assert "PGB" in page and "Particulier" in page and "Onderaanneming" in page
    assert "Wlz" not in page.split("<legend>Financieringen")[1].split("</fieldset>")[0]

    # a month that has not ended is refused with the reason
    from datetime import date

    this_month = date.today().strftime("%Y-%m")
    html = client.post(
        "/facturen/nieuw", data={"financing": "pgb", "periode": this_month, "action": "voorbeeld"}
    ).get_data(as_text=True)
    assert "is nog niet voorbij" in html

    html = client.post(
        "/facturen/nieuw", data={"financing": "pgb", "periode": "2025-10", "action": "voorbeeld"}
    ).get_data(as_text=True)
    assert "Voorbeeld: PGB, oktober 2025" in html
    assert "M.J. van der Heijden" in html and "€ 1.897,50" in html
    assert "1 facturen aanmaken" in html
    assert db.scalar(select(func.count()).select_from(Invoice)) == 0  # a preview stores nothing

    resp = client.post(
        "/facturen/nieuw", data={"financing": "pgb", "periode": "2025-10", "action": "aanmaken"}
    )
    assert resp.status_code == 302
    run = db.scalars(select(InvoiceRun)).one()
    assert resp.headers["Location"].endswith(f"/facturen/run/{run.id}")
    page = client.get(f"/facturen/run/{run.id}").get_data(as_text=True)
    assert f'hx-get="/taken/{run.job_id}"' in page  # the progress fragment polls while rendering

    # double click: the second create is refused and nothing is invoiced twice
    resp = client.post(
        "/facturen/nieuw", data={"financing": "pgb", "periode": "2025-10", "action": "aanmaken"}
    )
    assert "niets (meer) te factureren" in resp.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Invoice)) == 1

    run_jobs()
    inv = db.scalars(select(Invoice)).one()
    resp = client.get(f"/facturen/{inv.id}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data[:5] == b"%PDF-"
    resp = client.get(f"/facturen/run/{run.id}/pdf.zip")
    assert zipfile.ZipFile(io.BytesIO(resp.data)).namelist() == [f"factuur-{inv.nummer}.pdf"]
    page = client.get(f"/facturen/{inv.id}").get_data(as_text=True)
    assert inv.nummer in page and "Per e-mail versturen" in page
    # looking at an invoice with client data is logged
    assert db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "factuur.bekeken")
    )


def test_send_pay_and_credit_from_the_invoice_page(client, db, backoffice, run_jobs, app):
    b.particulier_scenario(db)
    from datetime import date

    from portal.services import invoicing

    invoicing.create_run(
        db, app.extensions["hooks"], "particulier", b.OCT_START, b.OCT_END, today=date(2025, 11, 3)
    )
    run_jobs()
    inv = db.scalars(select(Invoice)).one()

    resp = client.post(f"/facturen/{inv.id}/versturen", follow_redirects=True)
    assert "De factuur is per e-mail verstuurd." in resp.get_data(as_text=True)
    resp = client.post(f"/facturen/{inv.id}/versturen", follow_redirects=True)
    assert "al verstuurd" in resp.get_data(as_text=True)

    page = client.get("/facturen/vervallen").get_data(as_text=True)
    assert inv.nummer in page and "Herinneringen versturen…" in page
    page = client.get("/facturen/").get_data(as_text=True)
    assert inv.nummer in page and "P. Jansen" in page and "vervallen" in page
    page = client.get("/facturen/?q=Jansen&status=verstuurd", headers={"HX-Request": "true"})
    assert inv.nummer in page.get_data(as_text=True)
    assert "<html" not in page.get_data(as_text=True)  # htmx gets only the list
    resp = client.post(
        f"/facturen/{inv.id}/herinnering",
        data={"next": "/facturen/vervallen"},
        follow_redirects=True,
    )
    assert "De herinnering is verstuurd." in resp.get_data(as_text=True)

    resp = client.post(f"/facturen/{inv.id}/betaald", data={"paid_at": "31-02-2025"})
    assert resp.status_code == 302
    resp = client.get(resp.headers["Location"])
    assert "Vul een geldige betaaldatum in" in resp.get_data(as_text=True)

    resp = client.post(f"/facturen/{inv.id}/crediteren", data={"reden": ""}, follow_redirects=True)
    assert "Vul de reden van de creditering in" in resp.get_data(as_text=True)
    resp = client.post(f"/facturen/{inv.id}/crediteren", data={"reden": "Dubbel geregistreerd"})
    credit = db.scalars(select(Invoice).where(Invoice.soort == "creditnota")).one()
    assert resp.headers["Location"].endswith(f"/facturen/{credit.id}")
    run_jobs()
    page = client.get(f"/facturen/{credit.id}").get_data(as_text=True)
    assert f"Creditnota {credit.nummer}" in page and "Dubbel geregistreerd" in page
    db.expire_all()
    assert db.get(Invoice, inv.id).status == "gecrediteerd"


def test_inkoop_upload_shows_errors_per_field_and_row(client, db, backoffice):
    b.organisation(db)
    db.commit()
    resp = client.post(
        "/facturen/inkoop",
        data={
            "leverancier_naam": "",
            "leverancier_agb": "12",
            "factuurnummer": "X1",
            "factuurdatum": "2025-11-01",
            "bedrag": "abc",
            "bestand": (io.BytesIO(b"bsn;datum\n"), "spec.csv"),
        },
        content_type="multipart/form-data",
    )
    errors = form_errors(resp.get_data(as_text=True))
    assert "Vul de naam van de onderaannemer in." in errors
    assert db.scalar(select(func.count()).select_from(Invoice)) == 0
    assert any("AGB" in e for e in errors)
    assert any("totaalbedrag" in e for e in errors)


def test_inkoop_upload_loads_and_shows_the_differences(client, db, backoffice):
    b.organisation(db)
    prod = b.product(db, "PV-UUR", ["wlz"])
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor", code="5503")
    c = b.client(db, "123456782", "Smit")
    b.legitimation(db, c, zk, "wlz", prod, volume=6)
    db.commit()
    csv = b"bsn;datum;product;minuten;tarief\n123456782;06-10-2025;PV-UUR;60;52,00\n"
    resp = client.post(
        "/facturen/inkoop",
        data={
            "leverancier_naam": "Thuiszorg Klein",
            "leverancier_agb": "73111111",
            "factuurnummer": "K-77",
            "factuurdatum": "2025-11-01",
            "bedrag": "60,00",
            "bestand": (io.BytesIO(csv), "spec.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Factuur K-77 van Thuiszorg Klein" in page
    assert "Gefactureerd € 60,00 maar de specificatie komt op € 52,00" in page
    assert "1 in het bestand, 1 ingelezen als gefiatteerde productie" in page


def test_start_page_shows_open_and_overdue_invoices(client, db, backoffice, app):
    from datetime import date

    from portal.services import invoicing

    b.particulier_scenario(db)
    invoicing.create_run(
        db,
        app.extensions["hooks"],
        "particulier",
        b.OCT_START,
        b.OCT_END,
        today=date(2025, 11, 3),
        enqueue_render=False,
    )
    page = client.get("/").get_data(as_text=True)
    block = page.split("<h2>Facturen</h2>")[1].split("</section>")[0]
    assert '/facturen/vervallen">1</a>' in block  # vervaldatum 17-11-2025 has passed
    assert "Openstaand bedrag € 236,25" in block
