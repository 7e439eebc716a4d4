"""The stand-in's state: mailboxes, messages, status history and fault switches, in SQLite.

One SQLite file (WAL) shared by every thread and process of the stand-in; each change runs in a
``BEGIN IMMEDIATE`` transaction, so concurrent requests never interleave half-done work.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS bericht (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    traceer_id TEXT NOT NULL UNIQUE,
    conversatie_id TEXT NOT NULL,
    als_antwoord_op TEXT,
    referentie_id TEXT,
    afzender_rol TEXT NOT NULL,
    afzender_code TEXT,
    mailbox_rol TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    geadresseerden TEXT NOT NULL,
    berichtstroom TEXT NOT NULL,
    verwerkingscontext TEXT,
    payload BLOB NOT NULL,
    grootte INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    herkomst TEXT NOT NULL,
    indiener TEXT,
    ontvangen_op TEXT NOT NULL,
    status TEXT NOT NULL,
    status_op TEXT NOT NULL,
    meldingen TEXT,
    stap_op REAL,
    opgehaald INTEGER NOT NULL DEFAULT 0,
    extra_leveringen INTEGER NOT NULL DEFAULT 0,
    gedupliceerd INTEGER NOT NULL DEFAULT 0,
    keer_ingediend INTEGER NOT NULL DEFAULT 1,
    keer_opgehaald INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_bericht_mailbox ON bericht (mailbox, opgehaald, status, seq);
CREATE INDEX IF NOT EXISTS ix_bericht_stap ON bericht (stap_op);
CREATE INDEX IF NOT EXISTS ix_bericht_antwoord ON bericht (als_antwoord_op);
CREATE INDEX IF NOT EXISTS ix_bericht_conversatie ON bericht (conversatie_id);
CREATE TABLE IF NOT EXISTS historie (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    traceer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    op TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_historie_traceer ON historie (traceer_id);
CREATE TABLE IF NOT EXISTS fout (
    naam TEXT PRIMARY KEY,
    aantal INTEGER NOT NULL,
    seconden REAL NOT NULL DEFAULT 0,
    code TEXT
);
CREATE TABLE IF NOT EXISTS teller (
    naam TEXT PRIMARY KEY,
    waarde INTEGER NOT NULL
);
"""

# Fault switches (name → what it does). ``aantal`` is how many requests it affects; -1 = until off.
FAULTS: dict[str, str] = {
    "push_500": "Indienen geeft een 500-serverfout",
    "pull_500": "Ophalen (lijst, zoeken, download, bevestigen) geeft een 500-serverfout",
    "status_500": "Statusvraag geeft een 500-serverfout",
    "push_timeout": "Indienen: eerst `seconden` wachten, dan verwerken (de client geeft het op)",
    "pull_timeout": "Ophalen: eerst `seconden` wachten",
    "status_timeout": "Statusvraag: eerst `seconden` wachten",
    "traag": "Elk verzoek wacht eerst `seconden`",
    "push_verbreken": "Indienen: bericht aannemen en dan de verbinding verbreken zonder antwoord",
    "dubbel": "De volgende berichten in een lijst worden twee keer aangeboden",
    "ketenafkeur": "De volgende ingediende berichten worden in de ketencontrole afgekeurd",
}


def now_iso() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")


class Store:
    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.commit()
        finally:
            conn.close()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One exclusive write transaction (threads serialised here, processes by SQLite)."""
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def read(self) -> sqlite3.Connection:
        return self._conn()

    # -- faults ------------------------------------------------------------------------------

    def set_fault(self, name: str, aantal: int = 1, seconden: float = 0, code: str | None = None):
        if name not in FAULTS:
            raise KeyError(name)
        with self.write() as db:
            if aantal == 0:
                db.execute("DELETE FROM fout WHERE naam = ?", (name,))
            else:
                db.execute(
                    "INSERT INTO fout (naam, aantal, seconden, code) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (naam) DO UPDATE SET aantal = excluded.aantal, "
                    "seconden = excluded.seconden, code = excluded.code",
                    (name, aantal, seconden, code),
                )

    def clear_faults(self) -> None:
        with self.write() as db:
            db.execute("DELETE FROM fout")

    def faults(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.read().execute("SELECT * FROM fout ORDER BY naam")]

    def take_fault(self, name: str, db: sqlite3.Connection | None = None) -> dict | None:
        """Use one shot of a fault switch; None when it is off."""
        if db is None:
            with self.write() as conn:
                return self.take_fault(name, conn)
        row = db.execute("SELECT * FROM fout WHERE naam = ?", (name,)).fetchone()
        if row is None:
            return None
        if row["aantal"] > 0:
            if row["aantal"] == 1:
                db.execute("DELETE FROM fout WHERE naam = ?", (name,))
            else:
                db.execute("UPDATE fout SET aantal = aantal - 1 WHERE naam = ?", (name,))
        return dict(row)

    # -- counters ----------------------------------------------------------------------------

    def bump(self, db: sqlite3.Connection, name: str, by: int = 1) -> None:
        db.execute(
            "INSERT INTO teller (naam, waarde) VALUES (?, ?) "
            "ON CONFLICT (naam) DO UPDATE SET waarde = waarde + excluded.waarde",
            (name, by),
        )

    def counters(self) -> dict[str, int]:
        return {r["naam"]: r["waarde"] for r in self.read().execute("SELECT * FROM teller")}

    # -- messages ----------------------------------------------------------------------------

    def insert(self, db: sqlite3.Connection, row: dict[str, Any]) -> None:
        row = dict(row)
        for key in ("geadresseerden", "berichtstroom", "verwerkingscontext", "meldingen"):
            if key in row and not isinstance(row[key], str | None):
                row[key] = json.dumps(row[key])
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        db.execute(f"INSERT INTO bericht ({cols}) VALUES ({marks})", list(row.values()))
        db.execute(
            "INSERT INTO historie (traceer_id, status, op) VALUES (?, ?, ?)",
            (row["traceer_id"], row["status"], row["status_op"]),
        )

    def set_status(
        self,
        db: sqlite3.Connection,
        traceer_id: str,
        status: str,
        *,
        stap_op: float | None,
        meldingen: list[dict] | None = None,
    ) -> None:
        op = now_iso()
        if meldingen is None:
            db.execute(
                "UPDATE bericht SET status = ?, status_op = ?, stap_op = ? WHERE traceer_id = ?",
                (status, op, stap_op, traceer_id),
            )
        else:
            db.execute(
                "UPDATE bericht SET status = ?, status_op = ?, stap_op = ?, meldingen = ? "
                "WHERE traceer_id = ?",
                (status, op, stap_op, json.dumps(meldingen), traceer_id),
            )
        db.execute(
            "INSERT INTO historie (traceer_id, status, op) VALUES (?, ?, ?)",
            (traceer_id, status, op),
        )

    def get(self, traceer_id: str, db: sqlite3.Connection | None = None) -> sqlite3.Row | None:
        return (
            (db or self.read())
            .execute("SELECT * FROM bericht WHERE traceer_id = ?", (traceer_id,))
            .fetchone()
        )

    def due(self, db: sqlite3.Connection, now: float, limit: int = 5000) -> list[sqlite3.Row]:
        return db.execute(
            "SELECT * FROM bericht WHERE stap_op IS NOT NULL AND stap_op <= ? "
            "ORDER BY stap_op LIMIT ?",
            (now, limit),
        ).fetchall()

    def history(self, traceer_id: str) -> list[sqlite3.Row]:
        return (
            self.read()
            .execute("SELECT * FROM historie WHERE traceer_id = ? ORDER BY id", (traceer_id,))
            .fetchall()
        )

    def mailboxes(self) -> list[sqlite3.Row]:
        return (
            self.read()
            .execute(
                "SELECT mailbox, mailbox_rol, COUNT(*) AS totaal, "
                "SUM(CASE WHEN opgehaald = 0 THEN 1 ELSE 0 END) AS open "
                "FROM bericht GROUP BY mailbox, mailbox_rol ORDER BY mailbox"
            )
            .fetchall()
        )

    def recent(self, mailbox: str | None = None, limit: int = 200) -> list[sqlite3.Row]:
        sql = "SELECT * FROM bericht"
        args: list[Any] = []
        if mailbox:
            sql += " WHERE mailbox = ?"
            args.append(mailbox)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        return self.read().execute(sql, args).fetchall()

    def submitted_counts(self) -> dict[str, int]:
        """traceerId → how many times a client submitted it (for reliability tests)."""
        rows = self.read().execute(
            "SELECT traceer_id, keer_ingediend FROM bericht WHERE herkomst = 'ingediend'"
        )
        return {r["traceer_id"]: r["keer_ingediend"] for r in rows}

    def reset(self) -> None:
        with self.write() as db:
            for table in ("bericht", "historie", "fout", "teller"):
                db.execute(f"DELETE FROM {table}")


def tick() -> float:
    return time.time()
