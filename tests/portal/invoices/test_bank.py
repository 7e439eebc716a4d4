"""Bank statements (CAMT.053): safe reading, matching payments to invoices (reference, IBAN,
amount and name; partial payments), manual matching, and the same statement twice changes
nothing. The statements in ``camt/`` were written for these tests after the ISO 20022
camt.053.001.02 structure."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import BankPayment, BankStatement, Invoice
from portal.services import invoicing
from portal.services.invoicing import InvoiceError, bank
from tests.concurrency import parallel_calls
from tests.portal.invoices import builders as b

CAMT = Path(__file__).parent / "camt"
NOVEMBER = (CAMT / "november-2025.xml").read_bytes()
OVERLAP = (CAMT / "overlap-nov-dec-2025.xml").read_bytes()
ALL = ["pgb", "particulier", "onderaanneming"]


def _invoices(db, hooks):
    b.multi_scenario(db)
    run = invoicing.create_run(
        db, hooks, ALL, b.OCT_START, b.OCT_END, today=date(2025, 11, 5), enqueue_render=False
    )
    by = {inv.financing: inv for inv in run.invoices}
    # the numbers the statements in camt/ refer to
    assert [by[f].nummer for f in ALL] == ["2025-00001", "2025-00002", "2025-00003"]
    return by


def _state(db, inv_id):
    db.expire_all()
    inv = db.get(Invoice, inv_id)
    return inv.status, inv.betaald_cents, inv.partly_paid


def test_parse_reads_booked_credits_only():
    (st,) = bank.parse_camt053(NOVEMBER)
    assert st.iban == "NL91ABNA0417164300" and st.afschrift_id == "NL91ABNA0417164300-2025-11"
    assert (st.datum_van, st.datum_tot) == (date(2025, 11, 1), date(2025, 11, 30))
    # 3 single credits + a batch of 2; the bank costs are a debit; the pending one is not money
    assert [t.bedrag_cents for t in st.credits] == [23625, 5000, 22000, 2000, 3000]
    assert st.n_debits == 1
    first = st.credits[0]
    assert first.tegen_naam == "P. Jansen" and first.tegen_iban == "NL02RABO0123456789"
    assert first.end_to_end_id == "E2E-JANSEN-1" and "2025-00002" in first.omschrijving
    assert len({t.sleutel for t in st.credits}) == 5


def test_import_matches_by_reference_iban_and_by_hand_and_counts_once(db, hooks):
    by = _invoices(db, hooks)
    pgb, part, oa = by["pgb"], by["particulier"], by["onderaanneming"]
    st = bank.import_statement(
        db, NOVEMBER, filename="november.xml", org_iban="NL91 ABNA 0417 1643 00"
    )
    assert st.waarschuwing is None and st.n_bijschrijvingen == 5
    # the invoice number in the description: paid in full
    assert _state(db, part.id) == ("betaald", 23625, False)
    assert db.get(Invoice, part.id).paid_at == date(2025, 11, 20)
    # the payment reference typed with spaces: a partial payment, still open
    assert _state(db, oa.id) == ("definitief", 5000, True)
    assert db.get(Invoice, oa.id).betaal_label.startswith("Deels betaald")
    # the SVB names no invoice and the amount's debtor name differs: waits for a person
    assert _state(db, pgb.id) == ("definitief", 0, False)
    waiting = bank.open_payments(db)
    assert [p.bedrag_cents for p in waiting] == [22000, 2000, 3000]

    # the same file again: refused, nothing changes
    with pytest.raises(InvoiceError, match="al ingelezen"):
        bank.import_statement(db, NOVEMBER)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(BankPayment)) == 5

    # an overlapping statement: the Jansen payment again (skipped) and the rest of the
    # contractor's invoice from the same IBAN without any reference (matched on IBAN)
    st2 = bank.import_statement(db, OVERLAP)
    assert st2.n_al_bekend == 1 and len(st2.payments) == 1
    assert st2.payments[0].gekoppeld_door == "iban"
    assert _state(db, part.id) == ("betaald", 23625, False)  # not paid twice
    assert _state(db, oa.id) == ("betaald", 10800, False)

    # by hand: the SVB transfer is the PGB invoice; a double click changes nothing
    svb = next(p for p in bank.open_payments(db) if p.bedrag_cents == 22000)
    assert bank.candidates(db, svb)[0].id == pgb.id  # same amount due comes first
    bank.match_by_hand(db, svb.id, pgb.id)
    bank.match_by_hand(db, svb.id, pgb.id)
    assert _state(db, pgb.id) == ("betaald", 22000, False)
    with pytest.raises(InvoiceError, match="staat niet open"):
        other = next(p for p in bank.open_payments(db))
        bank.match_by_hand(db, other.id, pgb.id)
    db.rollback()
    donation = next(p for p in bank.open_payments(db) if p.bedrag_cents == 2000)
    bank.ignore(db, donation.id)
    assert [p.bedrag_cents for p in bank.open_payments(db)] == [3000]

    # a wrong match undone: the invoice opens again, the payment waits again
    bank.unmatch(db, svb.id)
    assert _state(db, pgb.id) == ("definitief", 0, False)
    assert sorted(p.bedrag_cents for p in bank.open_payments(db)) == [3000, 22000]


def test_outside_files_are_not_trusted(db, hooks):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>'
    )
    with pytest.raises(InvoiceError, match="DOCTYPE of entiteit"):
        bank.import_statement(db, bomb)
    with pytest.raises(InvoiceError, match="te groot"):
        bank.import_statement(db, b"<a>" + b" " * bank.MAX_BYTES + b"</a>")
    pain = NOVEMBER.replace(b"camt.053.001.02", b"pain.001.001.03")
    with pytest.raises(InvoiceError, match=r"geen CAMT\.053"):
        bank.import_statement(db, pain)
    with pytest.raises(InvoiceError, match="geen geldige XML"):
        bank.import_statement(db, NOVEMBER[:-40])
    dollars = NOVEMBER.replace(b'<Amt Ccy="EUR">236.25', b'<Amt Ccy="USD">236.25')
    with pytest.raises(InvoiceError, match="geen bedrag in euro"):
        bank.import_statement(db, dollars)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(BankStatement)) == 0
    # another account than the organisation's: read, with a warning on the page
    st = bank.import_statement(db, NOVEMBER, org_iban="NL39RABO0300065264")
    assert "niet van de rekening van de organisatie" in st.waarschuwing


def test_the_same_statement_read_twice_at_once_counts_once(app, db, hooks):
    by = _invoices(db, hooks)
    db.commit()
    sm = app.extensions["db_sessionmaker"]

    def read(i):
        with app.app_context(), sm() as s:
            try:
                return bank.import_statement(s, NOVEMBER).id
            except InvoiceError as exc:
                return str(exc)

    results = parallel_calls(3, read)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert db.scalar(select(func.count()).select_from(BankPayment)) == 5
    assert _state(db, by["particulier"].id) == ("betaald", 23625, False)


def test_the_bank_screens(client, db, hooks, backoffice):
    by = _invoices(db, hooks)
    db.commit()
    page = client.get("/facturen/").get_data(as_text=True)
    assert "Bankafschrift inlezen" in page
    resp = client.post(
        "/facturen/bank",
        data={"bestand": (io.BytesIO(NOVEMBER), "november-2025.xml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "2 betalingen gekoppeld, 3 nog te koppelen" in html
    assert "Sociale Verzekeringsbank" in html and "Koppelen" in html
    # the start page asks for the three payments nobody matched yet
    home = client.get("/").get_data(as_text=True)
    assert re.search(
        r'<li data-key="betalingen.koppelen"><a href="/facturen/bank"><span class="count">3</span>',
        home,
    )
    svb = db.scalars(select(BankPayment).where(BankPayment.bedrag_cents == 22000)).one()
    resp = client.post(
        f"/facturen/bank/betaling/{svb.id}",
        data={"action": "koppelen", "factuur": str(by["pgb"].id)},
        follow_redirects=True,
    )
    assert "gekoppeld aan factuur 2025-00001" in resp.get_data(as_text=True)
    page = client.get(f"/facturen/{by['onderaanneming'].id}").get_data(as_text=True)
    assert "Deels betaald" in page and "nog open € 58,00" in page
    again = client.post(
        "/facturen/bank",
        data={"bestand": (io.BytesIO(NOVEMBER), "november-2025.xml")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "al ingelezen" in again
    empty = client.post("/facturen/bank", data={}).get_data(as_text=True)
    assert "Kies het bankafschrift" in empty
