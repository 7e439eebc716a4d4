"""The simulated zorgverzekeraar behind the VECOZO stand-in (hook ``financier_reply``).

It answers an AW319 (EI code 428 or 430) with an AW320 (429 or 431) as an insurer would: a file
that breaks the layout gets no AW320 (VECOZO refuses it first); an invoice number it saw before
gets ``0030`` on the voorlooprecord (the whole file); then per prestatie what it knows: the client must be insured with it on the
day of the care (``0402``), the prestatiecode must be in its contract (``0613``), the tariff not
above its maximum (``0611``), and the care not in the future (``8176``). Everything else is
awarded (``8001``).

Its knowledge — insured persons per UZOVI, contracted prestatiecodes with their maximum tariff,
invoice numbers seen — lives in a small SQLite store: the file named by the plugin setting
``verzekeraar_db``, else one in the portal's instance folder (shared by the portal and the
stand-in of one installation), else one in memory per process.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import date

from plugins.zvw_msvt import standard as std
from plugins.zvw_msvt.declaration import AW319, AW320
from portal.domain import MessageDraft
from portal.formats import ei

_LOCK = threading.Lock()
_CONNECTIONS: dict[str, sqlite3.Connection] = {}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verzekerde (uzovi TEXT, bsn TEXT, begin TEXT, eind TEXT,
    verzekerdennummer TEXT, PRIMARY KEY (uzovi, bsn, begin));
CREATE TABLE IF NOT EXISTS contract (uzovi TEXT, lijst TEXT, code TEXT, max_cents INTEGER,
    PRIMARY KEY (uzovi, lijst, code));
CREATE TABLE IF NOT EXISTS factuur (agb TEXT, uzovi TEXT, nummer TEXT,
    PRIMARY KEY (agb, uzovi, nummer));
"""


class InsurerStore:
    """What the simulated insurers know (thread-safe: one connection per store)."""

    def __init__(self, path: str | None = None):
        key = path or ":memory:"
        with _LOCK:
            conn = _CONNECTIONS.get(key)
            if conn is None:
                conn = sqlite3.connect(key, check_same_thread=False, timeout=30)
                conn.executescript(_SCHEMA)
                _CONNECTIONS[key] = conn
        self.conn = conn

    def reset(self) -> None:
        """Forget everything: insured persons, contracts and the invoice numbers seen (a new
        demo starts a new story; numbers of an earlier one would be refused as doubles, 0030)."""
        with _LOCK, self.conn:
            for table in ("verzekerde", "contract", "factuur"):
                self.conn.execute(f"DELETE FROM {table}")

    def insure(
        self,
        uzovi: str,
        bsn: str,
        begin: date,
        end: date | None = None,
        verzekerdennummer: str = "",
    ) -> None:
        with _LOCK, self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO verzekerde VALUES (?, ?, ?, ?, ?)",
                (
                    uzovi,
                    bsn,
                    begin.isoformat(),
                    end.isoformat() if end else None,
                    verzekerdennummer,
                ),
            )

    def insure_many(self, rows) -> None:
        """``(uzovi, bsn, begin, end)`` rows at once (demo, benchmark)."""
        with _LOCK, self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO verzekerde VALUES (?, ?, ?, ?, '')",
                [(u, b, s.isoformat(), e.isoformat() if e else None) for u, b, s, e in rows],
            )

    def contract(self, uzovi: str, lijst: str, code: str, max_cents: int) -> None:
        with _LOCK, self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO contract VALUES (?, ?, ?, ?)",
                (uzovi, lijst, code, max_cents),
            )

    def insured_periods(self, uzovi: str) -> dict[str, list[tuple[str, str | None]]]:
        found: dict[str, list[tuple[str, str | None]]] = {}
        with _LOCK:
            rows = self.conn.execute(
                "SELECT bsn, begin, eind FROM verzekerde WHERE uzovi = ?", (uzovi,)
            ).fetchall()
        for bsn, begin, end in rows:
            found.setdefault(bsn, []).append((begin, end))
        return found

    def tariffs(self, uzovi: str) -> dict[tuple[str, str], int]:
        with _LOCK:
            rows = self.conn.execute(
                "SELECT lijst, code, max_cents FROM contract WHERE uzovi = ?", (uzovi,)
            ).fetchall()
        return {(lijst, code): cents for lijst, code, cents in rows}

    def invoice_seen(self, agb: str, uzovi: str, nummer: str) -> bool:
        """Remember an invoice number; True when it was seen before."""
        with _LOCK, self.conn:
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO factuur VALUES (?, ?, ?)", (agb, uzovi, nummer)
            )
            return cur.rowcount == 0


def store_for(settings) -> InsurerStore:
    own = (settings or {}).get(std.CODE, {}) if settings else {}
    path = own.get("verzekeraar_db")
    if not path and os.environ.get("PORTAL_INSTANCE"):
        path = os.path.join(os.environ["PORTAL_INSTANCE"], "zvw_verzekeraar.db")
    return InsurerStore(path)


def _insured(periods, bsn: str, day: str) -> bool:
    return any(b <= day and (e is None or day <= e) for b, e in periods.get(bsn, ()))


def reply(payload: bytes, settings, today: date | None = None) -> list[MessageDraft] | None:
    """The insurer's AW320 for an AW319 of wijkverpleging/ELV (428) or ZG (430); None for
    anything else."""
    if payload[:2] != b"01" or payload[2:5] not in (b"428", b"430"):
        return None
    today = today or date.today()
    store = store_for(settings)
    retour_code = 429 if payload[2:5] == b"428" else 431
    try:
        sent = ei.parse(AW319, payload)
    except ei.EiError:
        return []  # a file that breaks the layout is refused by VECOZO's own check: no AW320
    head = sent.header
    uzovi, agb, nummer = head["0108"], head["0112"], head["0116"]
    if store.invoice_seen(agb, uzovi, nummer):
        return [_answer(sent, retour_code, today, header="0030", per_line={})]
    periods = store.insured_periods(uzovi)
    tariffs = store.tariffs(uzovi)
    today_s = today.isoformat()
    per_line: dict[str, str] = {}
    for p in sent.of_type("04"):
        ref = p["0431"]
        begin = p["0414"].isoformat()
        if p["0415"].isoformat() > today_s or begin > today_s:
            per_line[ref] = std.FUTURE
        elif not _insured(periods, p["0403"], begin):
            per_line[ref] = std.NOT_INSURED
        elif (p["0416"], p["0417"]) not in tariffs:
            per_line[ref] = std.NOT_IN_CONTRACT
        elif p.int("0425") > tariffs[(p["0416"], p["0417"])]:
            per_line[ref] = std.TARIFF
    return [_answer(sent, retour_code, today, header="8001", per_line=per_line)]


def _answer(sent, retour_code: int, today: date, *, header: str, per_line: dict[str, str]):
    whole = header != "8001"
    out = []
    for rec in sent.records:
        kind = rec.type
        if kind == "99":
            continue  # the builder writes the closing record with the retour totals
        derived = {f"{kind}01", f"{kind}02"} if kind in ("02", "04", "98") else {f"{kind}01"}
        values = {n: v for n, v in rec.values.items() if v not in (None, "") and n not in derived}
        if kind == "01":
            values.update({"0102": retour_code, "0182": today, "0183": header})
        elif kind == "04":
            code = "0000" if whole else per_line.get(rec["0431"], "8001")
            awarded = 0 if whole or code != "8001" else rec.signed("0429")
            values.update({"0483": awarded, "0484": rec["0430"], "0485": code})
        out.append((kind, values))
    return _draft(ei.build(AW320, out), sent.header)


def _draft(body: bytes, header) -> MessageDraft:
    uzovi = header.get("0108") or ""
    agb = header.get("0112") or ""
    return MessageDraft(
        standard="EI",
        code="AW320",
        payload=body,
        afzender=("Zorgverzekeraar", uzovi),
        geadresseerde=("Instelling", agb),
        reference=header.get("0116"),
        filename=f"AW320_{uzovi}_{header.get('0116')}.asc",
    )
