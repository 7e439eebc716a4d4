"""Benchmark: reading a bank statement (CAMT.053) and matching its payments to open invoices.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m bench.bank [--quick] [--invoices N]

A scratch database with N PGB clients and a real invoice run (N open invoices, as in
``bench.invoices``), then one CAMT.053 statement with N incoming payments: half name the invoice
number, a quarter the betalingskenmerk with spaces and only part of the amount, the rest name
nothing (they wait to be matched by hand). Measured: parsing plus matching plus storing, one
transaction, as the screen does it; then the same file again (refused at once).

Target: 2000 payments against 2000 open invoices in at most 10 s (``--quick``: 300).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import uuid
from datetime import date

from sqlalchemy import func, select

from bench.invoices import PERIOD, scratch_database, seed
from portal.migrate import upgrade

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def statement(invoices) -> bytes:
    entries = []
    for i, (nummer, kenmerk, cents, naam) in enumerate(invoices):
        if i % 4 in (0, 1):
            text, amount = f"Factuur {nummer}", cents
        elif i % 4 == 2:
            text, amount = f"kenmerk {kenmerk[:4]} {kenmerk[4:8]} {kenmerk[8:]}", cents // 2
        else:
            text, amount = "zorg oktober", cents
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{amount // 100}.{amount % 100:02d}</Amt>'
            "<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
            "<BookgDt><Dt>2025-11-20</Dt></BookgDt>"
            f"<AcctSvcrRef>BENCH-{i:07d}</AcctSvcrRef><NtryDtls><TxDtls>"
            f"<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
            f"<RltdPties><Dbtr><Nm>{naam}</Nm></Dbtr><DbtrAcct><Id><IBAN>NL02RABO{i:010d}</IBAN>"
            f"</Id></DbtrAcct></RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf>"
            "</TxDtls></NtryDtls></Ntry>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{NS}"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2025-11-30T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--invoices", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.invoices or (300 if args.quick else 2000)
    base_url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    url = scratch_database(base_url, "bench_bank")
    upgrade(url)
    instance = tempfile.mkdtemp(prefix="bench-bank-instance-")
    os.environ["PORTAL_INSTANCE"] = instance

    from portal.app import create_app
    from portal.db import session_scope
    from portal.models import BankPayment, Invoice
    from portal.services import invoicing
    from portal.services.invoicing import bank

    config = {"DATABASE_URL": url, "RQ_QUEUE_PREFIX": f"benchbank{uuid.uuid4().hex[:6]}"}
    if os.environ.get("REDIS_URL"):
        config["REDIS_URL"] = os.environ["REDIS_URL"]
    app = create_app(config)
    with app.app_context():
        hooks = app.extensions["hooks"]
        with session_scope() as s:
            seed(s, n)
        with session_scope() as s:
            invoicing.create_run(
                s, hooks, "pgb", *PERIOD, today=date(2025, 11, 3), enqueue_render=False
            )
        with session_scope() as s:
            rows = s.execute(
                select(
                    Invoice.nummer, Invoice.betaalkenmerk, Invoice.totaal_cents,
                    Invoice.debiteur_naam,
                ).order_by(Invoice.nummer)
            ).all()  # fmt: skip
        payload = statement(rows)
        print(f"{n} open invoices; statement of {len(payload) // 1024} kB with {n} payments")
        with session_scope() as s:
            t = time.perf_counter()
            bank.import_statement(s, payload, org_iban="NL91ABNA0417164300")
            seconds = time.perf_counter() - t
        with session_scope() as s:
            matched = s.scalar(
                select(func.count())
                .select_from(BankPayment)
                .where(BankPayment.status == "gekoppeld")
            )
            paid = s.scalar(
                select(func.count()).select_from(Invoice).where(Invoice.status == "betaald")
            )
            t = time.perf_counter()
            with contextlib.suppress(invoicing.InvoiceError):
                bank.import_statement(s, payload)  # refused: already read
            again_ms = (time.perf_counter() - t) * 1000
        print(f"matched {matched} of {n} payments; {paid} invoices paid in full")
        expected = n - n // 4  # the payments that name nothing wait for a person
        if matched < expected:
            raise SystemExit(f"only {matched} payments matched, expected at least {expected}")
    print(f"RESULT camt_import_seconds {seconds:.2f} s target {10 * n / 2000:.2f}")
    print(f"RESULT camt_payments_per_second {n / seconds:.0f} payments/s target 200")
    print(f"RESULT camt_same_file_again_ms {again_ms:.0f} ms target 500")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
