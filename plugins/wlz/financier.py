"""The simulated zorgkantoor behind the VECOZO stand-in (hook ``financier_reply``).

It issues AW33s (:func:`issue_aw33`, from the portal's demo screen or ``portal wlz-aw33``),
answers an AW35 with an AW36 and an AW39 with an AW310 (XSD first: an invalid message gets no
retour; then its own checks → the iWlz retourcodes), accepts an AW34 without answer, and answers
an AW319 with an AW320 after realistic checks: no toewijzing (0551), outside the toegewezen
period (0553), a tariff above the contract (0611), a functie or ZZP that was not toegewezen
(1113). Every fifth AW320 is sent twice (the portal must apply it once). It remembers what it
issued in a small SQLite store: the file named by the plugin setting ``zorgkantoor_db`` (shared
by processes) or, without it, one in-memory store per process.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from datetime import date
from functools import cache
from pathlib import Path

from lxml import etree

from plugins.wlz import declaration as decl
from plugins.wlz import messages as msgs
from plugins.wlz.standard import current
from portal.domain import MessageDraft
from portal.formats import ei

_LOCK = threading.Lock()
_MEMORY: dict[str, sqlite3.Connection] = {}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS toewijzing (zk TEXT, agb TEXT, bsn TEXT, besluitnummer TEXT,
    soort TEXT, code TEXT, ingang TEXT, einde TEXT,
    PRIMARY KEY (zk, agb, bsn, besluitnummer, soort, code, ingang));
CREATE TABLE IF NOT EXISTS tarief (zk TEXT, prestatiecode TEXT, cents INTEGER,
    PRIMARY KEY (zk, prestatiecode));
CREATE TABLE IF NOT EXISTS teller (naam TEXT PRIMARY KEY, waarde INTEGER);
"""


class ZorgkantoorStore:
    def __init__(self, path: str | None = None):
        key = path or ":memory:"
        with _LOCK:
            conn = _MEMORY.get(key)
            if conn is None:
                conn = sqlite3.connect(key, check_same_thread=False, timeout=30)
                conn.executescript(_SCHEMA)
                _MEMORY[key] = conn
        self.conn = conn

    def q(self, sql: str, *args) -> list[tuple]:
        with _LOCK:
            rows = self.conn.execute(sql, args).fetchall()
            self.conn.commit()
            return rows

    def reset(self) -> None:
        for table in ("toewijzing", "tarief", "teller"):
            self.q(f"DELETE FROM {table}")

    def save(self, zk: str, agb: str, bsn: str, besluit: str, t: msgs.Toewijzing) -> None:
        self.q(
            "INSERT OR REPLACE INTO toewijzing VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            zk,
            agb,
            bsn,
            besluit,
            t.soort,
            t.code,
            t.ingangsdatum.isoformat(),
            t.einddatum.isoformat() if t.einddatum else None,
        )

    def toewijzingen(self, zk: str, agb: str, bsn: str) -> list[tuple]:
        return self.q(
            "SELECT besluitnummer, soort, code, ingang, einde FROM toewijzing "
            "WHERE zk = ? AND agb = ? AND bsn = ?",
            zk,
            agb,
            bsn,
        )

    def set_tarief(self, zk: str, prestatiecode: str, cents: int) -> None:
        self.q("INSERT OR REPLACE INTO tarief VALUES (?, ?, ?)", zk, prestatiecode, cents)

    def tarief(self, zk: str, prestatiecode: str) -> int | None:
        rows = self.q(
            "SELECT cents FROM tarief WHERE zk = ? AND prestatiecode = ?", zk, prestatiecode
        )
        return rows[0][0] if rows else None

    def next(self, name: str, start: int = 1) -> int:
        with _LOCK:
            row = self.conn.execute("SELECT waarde FROM teller WHERE naam = ?", (name,)).fetchone()
            value = (row[0] + 1) if row else start
            self.conn.execute("INSERT OR REPLACE INTO teller VALUES (?, ?)", (name, value))
            self.conn.commit()
            return value


@cache
def contract_tariffs() -> dict[str, int]:
    """The simulated zorgkantoor's contract (``data/zorgkantoor-contract.csv``)."""
    text = (Path(__file__).parent / "data" / "zorgkantoor-contract.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return {r["prestatiecode"]: int(r["tarief_cents"]) for r in rows}


def store_for(settings) -> ZorgkantoorStore:
    return ZorgkantoorStore((settings.get("wlz") or {}).get("zorgkantoor_db"))


# --- issuing ------------------------------------------------------------------------------------


def issue_aw33(
    settings,
    zk: str,
    agb: str,
    persoon: msgs.Persoon,
    indicatie: msgs.Indicatie,
    *,
    today: date | None = None,
) -> MessageDraft:
    """An AW33 (full snapshot of one client's indicatie and toewijzingen), remembered."""
    today = today or date.today()
    store = store_for(settings)
    ident = f"ZK{store.next(f'aw33-{zk}', start=1):010d}"
    rel = current(today)
    payload = msgs.build_aw33(
        rel, msgs.Header(zk, agb, ident, today), [msgs.AW33Client(persoon, indicatie)]
    )
    for t in indicatie.toewijzingen:
        store.save(zk, t.instelling, persoon.bsn, indicatie.besluitnummer, t)
    return MessageDraft(
        standard=f"iWlz {rel.name}",
        code="AW33",
        payload=payload,
        afzender=("Zorgkantoor", zk),
        geadresseerde=("Instelling", agb),
        reference=ident,
        filename=f"AW33_{ident}.xml",
    )


# --- answering ----------------------------------------------------------------------------------


def reply(payload: bytes, settings, today: date | None = None) -> list[MessageDraft] | None:
    today = today or date.today()
    if bytes(payload[:5]) == b"01187":
        return _aw320(payload, settings, today)
    found = msgs.recognise(payload)
    if found is None:
        return None
    rel, message = found
    if message == "AW34":
        _learn_from_aw34(payload, settings)
        return []  # a retour: accepted, nothing to answer
    if message not in ("AW35", "AW39"):
        return None
    try:
        rel, message, root = msgs.load(payload)
    except msgs.MessageError:
        return []  # invalid against the XSD: the chain gives no retour
    store = store_for(settings)
    ns = {"m": rel.ns(message)}
    header = msgs.read_header(rel, message, root)
    codes: dict[str, list[str]] = {}
    for c in root.findall("m:Clienten/m:Client", ns):
        bsn = c.findtext("m:Bsn", namespaces=ns)
        known = store.toewijzingen(header.ontvanger, header.afzender, bsn)
        if not known:
            continue  # a client from before this zorgkantoor's memory: taken on trust
        for e in c.iter():
            if not isinstance(e.tag, str) or etree.QName(e).localname not in msgs._LINES:
                continue
            codes[msgs.path_of(e)] = _line_codes(e, ns, known)
    ident = msgs.new_identificatie()
    retour = msgs.build_retour(
        rel,
        message,
        root,
        codes=codes,
        header_codes=["0200"],
        identificatie=ident,
        dagtekening=today,
    )
    name = "AW36" if message == "AW35" else "AW310"
    return [
        MessageDraft(
            standard=f"iWlz {rel.name}",
            code=name,
            payload=retour,
            afzender=("Zorgkantoor", header.ontvanger),
            geadresseerde=("Instelling", header.afzender),
            reference=ident,
            filename=f"{name}_{ident}.xml",
        )
    ]


def _line_codes(e, ns, known) -> list[str]:
    besluit = e.findtext("m:Besluitnummer", namespaces=ns)
    code = e.findtext("m:ZzpCode", namespaces=ns) or e.findtext("m:FunctieCode", namespaces=ns)
    ingang = e.findtext("m:ToewijzingIngangsdatum", namespaces=ns)
    match = [k for k in known if k[0] == besluit and k[2] == code and k[3] == ingang]
    if not match:
        return ["0699"] if etree.QName(e).localname.startswith("Geleverd") else ["1156"]
    _, _, _, start, end = match[0]
    begin = e.findtext("m:Begindatum", namespaces=ns)
    mut = e.findtext("m:Mutatiedatum", namespaces=ns)
    if begin and (begin < start or (end and begin > end)):
        return ["0699"]
    if mut and begin and mut < begin:
        return ["1156"]
    return ["0200"]


def _learn_from_aw34(payload: bytes, settings) -> None:
    """What the provider accepted (a client with 0200 in its AW34) is what this zorgkantoor
    holds against its AW35/AW39/AW319 later, also for AW33s placed from another process."""
    try:
        rel, _message, root = msgs.load(payload)
    except msgs.MessageError:
        return
    ns = {"m": rel.ns("AW34")}
    header = msgs.read_header(rel, "AW34", root)
    store = store_for(settings)
    for c in root.findall("m:Clienten/m:Client", ns):
        if [x.text for x in c.findall("m:RetourCodes/m:RetourCode", ns)] != ["0200"]:
            continue
        bsn = c.findtext("m:Bsn", namespaces=ns)
        besluit = c.findtext("m:Indicatie/m:Besluitnummer", namespaces=ns)
        for path, soort, code_el in (
            (
                "m:Indicatie/m:ToegewezenZorgzwaartepakketten/m:ToegewezenZorgzwaartepakket",
                "zzp",
                "m:ZzpCode",
            ),
            ("m:Indicatie/m:ToegewezenFuncties/m:ToegewezenFunctie", "functie", "m:FunctieCode"),
        ):
            for e in c.findall(path, ns):
                end = e.findtext("m:Einddatum", namespaces=ns)
                store.save(
                    header.afzender,
                    e.findtext("m:Instelling", namespaces=ns),
                    bsn,
                    besluit,
                    msgs.Toewijzing(
                        soort,
                        e.findtext(code_el, namespaces=ns),
                        e.findtext("m:Instelling", namespaces=ns),
                        header.afzender,
                        date.fromisoformat(e.findtext("m:Ingangsdatum", namespaces=ns)),
                        einddatum=date.fromisoformat(end) if end else None,
                    ),
                )


def _aw320(payload: bytes, settings, today: date) -> list[MessageDraft]:
    try:
        sent = ei.parse(decl.AW319, payload)
    except ei.EiError:
        return []  # the file itself is refused by VECOZO's first check; no AW320
    store = store_for(settings)
    head = sent.header
    zk, agb = f"{int(head['0108']):04d}", f"{int(head['0112']):08d}"
    out = []
    for rec in sent.records:
        kind = rec.type
        if kind == "99":
            continue
        derived = {f"{kind}01", f"{kind}02"} if kind in ("02", "04") else {f"{kind}01"}
        values = {n: v for n, v in rec.values.items() if v not in (None, "") and n not in derived}
        if kind == "01":
            values.update({"0102": 188, "0182": today, "0183": "8001"})
        elif kind == "04":
            code = _prestatie_code(rec, store, zk, agb)
            values.update(
                {
                    "0483": 0 if code else rec.int("0429"),
                    "0484": rec["0430"],
                    "0485": code or "8001",
                }
            )
        out.append((kind, values))
    body = ei.build(decl.AW320, out)
    draft = MessageDraft(
        standard="EI",
        code="AW320",
        payload=body,
        afzender=("Zorgkantoor", zk),
        geadresseerde=("Instelling", agb),
        reference=head["0116"],
        filename=f"AW320_{head['0116']}.asc",
    )
    twice = store.next(f"aw320-{zk}") % 5 == 0  # now and then a zorgkantoor sends it twice
    return [draft, draft] if twice else [draft]


def _prestatie_code(rec, store: ZorgkantoorStore, zk: str, agb: str) -> str | None:
    if rec["0430"] == "C":
        return None  # a credit of an earlier line is accepted
    functie, zzp = rec.int("0412"), rec.int("0413")
    if functie and zzp:
        return "1113"
    known = store.toewijzingen(zk, agb, rec["0403"])
    if not known:
        return None  # a client from before this zorgkantoor's memory: taken on trust
    besluit = str(rec.int("0411"))
    mine = [k for k in known if k[0] == besluit]
    if not mine:
        return "0551"
    soort, code = ("functie", f"{functie:02d}") if functie else ("zzp", f"{zzp:03d}")
    same = [k for k in mine if k[1] == soort and k[2] == code]
    if not same:
        return "1113"
    begin, end = rec["0414"], rec["0415"]
    inside = any(
        date.fromisoformat(k[3]) <= begin and (k[4] is None or end <= date.fromisoformat(k[4]))
        for k in same
    )
    if not inside:
        return "0553"
    tarief = store.tarief(zk, rec["0417"])
    if tarief is not None:
        unit = rec["0419"]
        limit = round(tarief / 60) if unit == "01" and tarief > 0 else tarief
        if rec.int("0425") > limit:
            return "0611"
    return None
