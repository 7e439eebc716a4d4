"""DJI behind the VECOZO stand-in (hook ``financier_reply``).

It answers what a provider sends as DJI would, with its checks against what it knows: the
placements it issued (FZ821, :func:`issue_821`, or :func:`register_placement` for a placement it
made on paper), the starts and ends reported to it, the prestaties already declared and, when
set, the agreed tariffs. A message that does not fit its (provisional) format is refused as a
whole (0001). Its memory is a small SQLite store: the file named by the setting ``dji_db``,
else ``$PORTAL_INSTANCE/fz_dji.db`` (shared by the portal and the stand-in of one installation),
else one in-memory store per process.

Checks per prestatie (GDS801 and FZ303), each under its retourcode (``data/retourcodes.csv``):
9501 no placement with this number for this BSN · 9509 placement for another institution ·
9503 prestatie not allowed for the titel · 9502 outside the placement period · 9504 care not
started · 9505 declared before · 0611 tariff differs from the agreed one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import date
from typing import Any

from plugins.fz import codes, formats
from plugins.fz.placements import DJI_ROL, DJI_UZOVI, new_identificatie
from portal.domain import MessageDraft

_LOCK = threading.Lock()
_CONNECTIONS: dict[str, sqlite3.Connection] = {}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS plaatsing (nummer TEXT PRIMARY KEY, bsn TEXT, agb TEXT, titel TEXT,
    prestatiecode TEXT, begin TEXT, eind TEXT);
CREATE TABLE IF NOT EXISTS aanvang (nummer TEXT PRIMARY KEY, datum TEXT);
CREATE TABLE IF NOT EXISTS einde (nummer TEXT PRIMARY KEY, datum TEXT);
CREATE TABLE IF NOT EXISTS gedeclareerd (agb TEXT, referentie TEXT, PRIMARY KEY (agb, referentie));
CREATE TABLE IF NOT EXISTS tarief (prestatiecode TEXT PRIMARY KEY, cents INTEGER);
"""
TABLES = ("plaatsing", "aanvang", "einde", "gedeclareerd", "tarief")


class DjiStore:
    def __init__(self, path: str | None = None):
        key = path or ":memory:"
        with _LOCK:
            conn = _CONNECTIONS.get(key)
            if conn is None:
                conn = sqlite3.connect(key, check_same_thread=False, timeout=30)
                conn.executescript(_SCHEMA)
                _CONNECTIONS[key] = conn
        self.conn = conn

    def q(self, sql: str, *args: Any) -> list[tuple]:
        with _LOCK:
            rows = self.conn.execute(sql, args).fetchall()
            self.conn.commit()
            return rows

    def many(self, sql: str, rows: list[tuple]) -> None:
        with _LOCK:
            self.conn.executemany(sql, rows)
            self.conn.commit()

    def reset(self) -> None:
        for table in TABLES:
            self.q(f"DELETE FROM {table}")

    def set_tarief(self, prestatiecode: str, cents: int) -> None:
        self.q("INSERT OR REPLACE INTO tarief VALUES (?, ?)", prestatiecode, cents)


def store_for(settings) -> DjiStore:
    own = (settings or {}).get("fz", {}) if settings else {}
    path = own.get("dji_db")
    if not path and os.environ.get("PORTAL_INSTANCE"):
        path = os.path.join(os.environ["PORTAL_INSTANCE"], "fz_dji.db")
    return DjiStore(path)


def register_placement(
    settings,
    *,
    nummer: str,
    bsn: str,
    agb: str,
    titel: str,
    prestatiecode: str,
    begin: date,
    eind: date | None = None,
) -> None:
    """DJI knows this placement (it took the plaatsingsbesluit)."""
    store_for(settings).q(
        "INSERT OR REPLACE INTO plaatsing VALUES (?, ?, ?, ?, ?, ?, ?)",
        nummer,
        bsn,
        agb,
        titel,
        prestatiecode,
        begin.isoformat(),
        eind.isoformat() if eind else None,
    )


def issue_821(
    settings,
    *,
    agb: str,
    client: dict[str, Any],
    nummer: str,
    titel: str,
    prestatiecode: str,
    begin: date,
    eind: date | None = None,
    today: date | None = None,
) -> MessageDraft:
    """DJI places a client with the provider: an FZ821, remembered in DJI's store."""
    today = today or date.today()
    fmt = formats.active("FZ821", settings)
    prestatie = codes.prestaties().get(prestatiecode)
    values = {
        "afzender": DJI_UZOVI,
        "ontvanger": agb,
        "identificatie": new_identificatie(),
        "dagtekening": today,
        **client,
        "plaatsingsnummer": nummer,
        "titel": titel,
        "prestatiecode": prestatiecode,
        "soort": prestatie.soort if prestatie else "ambulant",
        "begindatum": begin,
        "einddatum": eind,
        "instelling": agb,
    }
    payload = fmt.build(values)
    register_placement(
        settings,
        nummer=nummer,
        bsn=client["bsn"],
        agb=agb,
        titel=titel,
        prestatiecode=prestatiecode,
        begin=begin,
        eind=eind,
    )
    return MessageDraft(
        standard=fmt.standard_label,
        code="FZ821",
        payload=payload,
        afzender=(DJI_ROL, DJI_UZOVI),
        geadresseerde=("Instelling", agb),
        reference=values["identificatie"],
        filename=f"FZ821_{values['identificatie']}.xml",
    )


# --- answers -------------------------------------------------------------------------------------


def reply(payload: bytes, settings, today: date | None = None) -> list[MessageDraft] | None:
    fmt = formats.identify(payload, settings)
    if fmt is None or fmt.message not in ("FZ823", "FZ825", "GDS801", "FZ303"):
        return None
    today = today or date.today()
    store = store_for(settings)
    try:
        v = fmt.read(payload)
    except formats.FormatError:
        # a message that does not fit its format gets no retour (VECOZO's check refuses it in
        # the real chain); the provider sees it in the stand-in's status
        return []
    if fmt.message in ("FZ823", "FZ825"):
        return [_chain_retour(store, fmt, v, settings, today)]
    return [_declaration_retour(store, fmt, v, payload, settings, today)]


def _placement(store: DjiStore, nummer: str | None) -> dict[str, Any] | None:
    rows = store.q("SELECT * FROM plaatsing WHERE nummer = ?", nummer or "")
    if not rows:
        return None
    keys = ("nummer", "bsn", "agb", "titel", "prestatiecode", "begin", "eind")
    p = dict(zip(keys, rows[0], strict=True))
    p["begin"] = date.fromisoformat(p["begin"])
    p["eind"] = date.fromisoformat(p["eind"]) if p["eind"] else None
    return p


def _within(p: dict[str, Any], begin: date, end: date) -> bool:
    return p["begin"] <= begin and (p["eind"] is None or end <= p["eind"])


def _chain_retour(store, fmt, v, settings, today) -> MessageDraft:
    nummer, datum = v["plaatsingsnummer"], date.fromisoformat(v["datum"])
    p = _placement(store, nummer)
    found: list[str] = []
    if p is None or p["bsn"] != v["bsn"]:
        found.append("9501")
    elif p["agb"] != v["afzender"]:
        found.append("9509")
    elif not _within(p, datum, datum):
        found.append("9508")
    elif fmt.message == "FZ823":
        if store.q("SELECT 1 FROM aanvang WHERE nummer = ?", nummer):
            found.append("9507")
    else:
        begun = store.q("SELECT datum FROM aanvang WHERE nummer = ?", nummer)
        if not begun or date.fromisoformat(begun[0][0]) > datum:
            found.append("9506")
    if not found:
        table = "aanvang" if fmt.message == "FZ823" else "einde"
        store.q(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", nummer, datum.isoformat())
    retour = formats.active("FZ824" if fmt.message == "FZ823" else "FZ826", settings)
    values = {
        "afzender": DJI_UZOVI,
        "ontvanger": v["afzender"],
        "identificatie_retour": v["identificatie"],
        "identificatie": new_identificatie(),
        "dagtekening": today,
        "plaatsingsnummer": nummer,
        "retourcodes": [
            {"code": c, "elementen": [{"naam": "Plaatsingsbesluitnummer", "waarde": nummer}]}
            for c in found
        ]
        or [{"code": "0200"}],
    }
    return MessageDraft(
        standard=retour.standard_label,
        code=retour.message,
        payload=retour.build(values),
        afzender=(DJI_ROL, DJI_UZOVI),
        reference=values["identificatie"],
        filename=f"{retour.message}_{values['identificatie']}.xml",
    )


def check_line(store: DjiStore, agb: str, line: dict[str, Any]) -> list[tuple[str, str, str]]:
    """DJI's findings on one prestatie: (retourcode, element name, element value)."""
    nummer = line.get("plaatsingsnummer")
    p = _placement(store, nummer)
    if p is None or p["bsn"] != line.get("bsn"):
        return [("9501", "Plaatsingsbesluit", nummer or "")]
    if p["agb"] != agb:
        return [("9509", "Plaatsingsbesluit", nummer or "")]
    code = line.get("prestatiecode") or ""
    if not codes.allowed(p["titel"], code):
        return [("9503", "Prestatiecode", code)]
    begin = date.fromisoformat(str(line["begindatum"]))
    end = date.fromisoformat(str(line["einddatum"]))
    if not _within(p, begin, end):
        return [("9502", "Begindatum", begin.isoformat())]
    started = store.q("SELECT datum FROM aanvang WHERE nummer = ?", nummer)
    if not started or date.fromisoformat(started[0][0]) > end:
        return [("9504", "Plaatsingsbesluit", nummer or "")]
    if store.q(
        "SELECT 1 FROM gedeclareerd WHERE agb = ? AND referentie = ?", agb, line["referentie"]
    ):
        return [("9505", "Referentie", line["referentie"])]
    agreed = store.q("SELECT cents FROM tarief WHERE prestatiecode = ?", code)
    if agreed and line.get("tarief") is not None and int(line["tarief"]) != agreed[0][0]:
        return [("0611", "Tarief", str(line["tarief"]))]
    return []


def _declaration_retour(store, fmt, v, payload, settings, today) -> MessageDraft:
    agb = str(v["afzender"])
    results = []
    awarded_refs = []
    for line in v["prestaties"]:
        found = check_line(store, agb, line)
        cents = _signed(line.get("bedrag"), line.get("debet_credit"))
        results.append((line["referentie"], found, 0 if found else cents))
        if not found:
            awarded_refs.append((agb, line["referentie"]))
    store.many("INSERT OR IGNORE INTO gedeclareerd VALUES (?, ?)", awarded_refs)
    if fmt.message == "GDS801":
        return _gds802(fmt, v, results, settings, today)
    return _fz304(fmt, payload, results, settings, today)


def _signed(amount, debet_credit) -> int:
    cents = int(amount or 0)
    return -cents if debet_credit == "C" else cents


def _gds802(fmt, v, results, settings, today) -> MessageDraft:
    retour = formats.active("GDS802", settings)
    values = {
        "afzender": DJI_UZOVI,
        "ontvanger": v["afzender"],
        "identificatie": new_identificatie(),
        "identificatie_retour": v["identificatie"],
        "dagtekening": today,
        "nummer": v["nummer"],
        "totaal_toegekend": sum(cents for _r, _f, cents in results),
        "retourcodes": [{"code": "0200"}],
        "prestaties": [
            {
                "referentie": ref,
                "toegekend": cents,
                "retourcodes": [
                    {"code": c, "elementen": [{"naam": n, "waarde": w}]} for c, n, w in found
                ]
                or [{"code": "8001"}],
            }
            for ref, found, cents in results
        ],
    }
    return MessageDraft(
        standard=retour.standard_label,
        code="GDS802",
        payload=retour.build(values),
        afzender=(DJI_ROL, DJI_UZOVI),
        reference=values["identificatie"],
        filename=f"GDS802_{values['identificatie']}.xml",
    )


def _fz304(fmt, payload, results, settings, today) -> MessageDraft:
    """FZ304: the FZ303 records returned with DJI's retour tail (as AW320 does for AW319)."""
    from portal.formats import ei

    retour = formats.active("FZ304", settings)
    sent = ei.parse(fmt.layout, bytes(payload))
    by_ref = {ref: (found, cents) for ref, found, cents in results}
    out = []
    for rec in sent.records:
        kind = rec.type
        if kind == "99":
            continue
        derived = {f"{kind}01", f"{kind}02"} if kind in ("02", "04") else {f"{kind}01"}
        values = {n: x for n, x in rec.values.items() if x not in (None, "") and n not in derived}
        if kind == "01":
            values.update({"0102": 304, "0182": today, "0183": "0200"})
        elif kind == "04":
            found, cents = by_ref[rec["0431"]]
            values.update(
                {
                    "0483": abs(cents),
                    "0484": "C" if cents < 0 else "D",
                    "0485": found[0][0] if found else "8001",
                }
            )
        out.append((kind, values))
    data = ei.build(retour.layout, out)
    ident = new_identificatie()
    return MessageDraft(
        standard=retour.standard_label,
        code="FZ304",
        payload=data,
        afzender=(DJI_ROL, DJI_UZOVI),
        reference=ident,
        filename=f"FZ304_{ident}.asc",
    )
