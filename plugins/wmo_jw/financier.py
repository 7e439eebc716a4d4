"""The simulated gemeente behind the VECOZO stand-in (hook ``financier_reply``).

It answers what a provider sends as a real gemeente would: XSD first (an invalid message gets no
retour, as in the real chain), then the in-message rules (→ 0001), then its own checks against
what it knows (→ the specific retourcodes). It remembers toewijzingen it issued, contract
tariffs, starts/stops, references and declaration numbers in a small SQLite store: a file named
by the plugin setting ``gemeente_db`` (shared by processes) or, without it, one in-memory store
per process.

It can also issue 301s for demo clients (:func:`issue_301`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
from datetime import date, datetime, timedelta
from typing import Any

from plugins.wmo_jw import messages as msgs
from plugins.wmo_jw import rules
from plugins.wmo_jw.standard import Standard
from portal.domain import MessageDraft

_LOCK = threading.Lock()
_MEMORY: dict[str, sqlite3.Connection] = {}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS toewijzing (nummer TEXT PRIMARY KEY, gemeente TEXT, agb TEXT,
    bsn TEXT, std TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS persoon (bsn TEXT PRIMARY KEY, data TEXT);
CREATE TABLE IF NOT EXISTS tarief (gemeente TEXT, categorie TEXT, code TEXT, cents INTEGER,
    PRIMARY KEY (gemeente, categorie, code));
CREATE TABLE IF NOT EXISTS ident (agb TEXT, kind TEXT, identificatie TEXT,
    PRIMARY KEY (agb, kind, identificatie));
CREATE TABLE IF NOT EXISTS prestatie (agb TEXT, referentie TEXT, status TEXT,
    PRIMARY KEY (agb, referentie));
CREATE TABLE IF NOT EXISTS start (nummer TEXT, begindatum TEXT, einddatum TEXT,
    PRIMARY KEY (nummer, begindatum));
CREATE TABLE IF NOT EXISTS verzoek (agb TEXT, referentie TEXT, PRIMARY KEY (agb, referentie));
CREATE TABLE IF NOT EXISTS teller (naam TEXT PRIMARY KEY, waarde INTEGER);
CREATE TABLE IF NOT EXISTS declaratieperiode (agb TEXT, gemeente TEXT, domein TEXT,
    nummer TEXT, begin TEXT, PRIMARY KEY (agb, domein, nummer));
CREATE TABLE IF NOT EXISTS onderzoek (agb TEXT, gemeente TEXT, bsn TEXT, referentie TEXT,
    PRIMARY KEY (agb, referentie));
CREATE TABLE IF NOT EXISTS gedeclareerd (agb TEXT, referentie TEXT, nummer TEXT, volume REAL,
    cents INTEGER, PRIMARY KEY (agb, referentie));
"""


TABLES = (
    "toewijzing",
    "persoon",
    "tarief",
    "ident",
    "prestatie",
    "declaratieperiode",
    "start",
    "verzoek",
    "teller",
    "gedeclareerd",
    "onderzoek",
)


class GemeenteStore:
    """The gemeente's memory (thread-safe; one connection per store)."""

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
        with _LOCK:
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            self.conn.commit()

    # toewijzingen
    def save_toewijzing(self, gemeente: str, agb: str, bsn: str, std: Standard, t: msgs.Toewijzing):
        data = {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in t.__dict__.items()
            if k != "retourcodes"
        }
        self.q(
            "INSERT OR REPLACE INTO toewijzing VALUES (?, ?, ?, ?, ?, ?)",
            t.nummer,
            gemeente,
            agb,
            bsn,
            std.key,
            json.dumps(data),
        )

    def toewijzingen(
        self, gemeente: str, agb: str, bsn: str | None = None
    ) -> list[msgs.Toewijzing]:
        sql = "SELECT data FROM toewijzing WHERE gemeente = ? AND agb = ?"
        args: list[Any] = [gemeente, agb]
        if bsn:
            sql += " AND bsn = ?"
            args.append(bsn)
        return [_toewijzing(json.loads(row[0])) for row in self.q(sql + " ORDER BY nummer", *args)]

    def state(self, gemeente: str, agb: str, domein: str = "iwmo") -> rules.DeclarationState:
        """What this gemeente knows for a 323 of ``agb`` in one domain (iwmo/ijw): numbers and
        the sequence of periods are per provider and domain (TR333, TR318/TR319)."""
        st = rules.DeclarationState()
        for nummer, bsn, data in self.q(
            "SELECT nummer, bsn, data FROM toewijzing WHERE gemeente = ? AND agb = ?", gemeente, agb
        ):
            t = _toewijzing(json.loads(data))
            st.toewijzingen[nummer] = rules.ToewijzingState(
                nummer=nummer,
                bsn=bsn,
                ingangsdatum=t.ingangsdatum,
                einddatum=t.einddatum,
                categorie=t.categorie,
                code=t.code,
                eenheid=t.eenheid,
                volume=t.volume,
                frequentie=t.frequentie,
                budget=t.budget,
                reden_wijziging=t.reden_wijziging,
            )
        for cat, code, cents in self.q(
            "SELECT categorie, code, cents FROM tarief WHERE gemeente = ?", gemeente
        ):
            st.tarieven[(cat, code)] = cents
        for ref, status in self.q("SELECT referentie, status FROM prestatie WHERE agb = ?", agb):
            st.known_references.add(ref)
            if status in ("toegekend", "gecrediteerd"):
                st.awarded.add(ref)
            if status == "gecrediteerd":
                st.credited.add(ref)
        rows = self.q(
            "SELECT nummer, begin, gemeente FROM declaratieperiode WHERE agb = ? AND domein = ?",
            agb,
            domein,
        )
        st.declaration_numbers = {r[0] for r in rows}
        st.last_period = max(
            (date.fromisoformat(r[1]) for r in rows if r[2] == gemeente), default=None
        )
        st.products = set(st.tarieven)  # the gemeente's product list (TR381)
        for nummer, volume, cents in self.q(
            "SELECT nummer, SUM(volume), SUM(cents) FROM gedeclareerd WHERE agb = ? "
            "GROUP BY nummer",
            agb,
        ):
            st.declared_volume[nummer] = volume or 0
            st.declared_cents[nummer] = cents or 0
        return st

    def set_tarief(self, gemeente: str, categorie: str, code: str, cents: int) -> None:
        self.q(
            "INSERT OR REPLACE INTO tarief VALUES (?, ?, ?, ?)", gemeente, categorie, code, cents
        )

    def seen(self, agb: str, kind: str, identificatie: str) -> bool:
        """TR056: True when this identificatie was used before (and remember it)."""
        if self.q(
            "SELECT 1 FROM ident WHERE agb = ? AND kind = ? AND identificatie = ?",
            agb,
            kind,
            identificatie,
        ):
            return True
        self.q("INSERT INTO ident VALUES (?, ?, ?)", agb, kind, identificatie)
        return False

    def next_number(self, naam: str, start: int = 1000) -> int:
        rows = self.q("SELECT waarde FROM teller WHERE naam = ?", naam)
        value = (rows[0][0] if rows else start) + 1
        self.q("INSERT OR REPLACE INTO teller VALUES (?, ?)", naam, value)
        return value

    def start_state(self, nummer: str) -> rules.StartState:
        st = rules.StartState()
        rows = self.q("SELECT data FROM toewijzing WHERE nummer = ?", nummer)
        if rows:
            t = _toewijzing(json.loads(rows[0][0]))
            st.toewijzingen[nummer] = rules.ToewijzingState(
                nummer=nummer, bsn="", ingangsdatum=t.ingangsdatum
            )
        for begin, eind in self.q(
            "SELECT begindatum, einddatum FROM start WHERE nummer = ?", nummer
        ):
            st.starts.setdefault(nummer, []).append(date.fromisoformat(begin))
            if eind:
                st.stops[(nummer, date.fromisoformat(begin))] = date.fromisoformat(eind)
        return st

    def save_start_state(self, nummer: str, st: rules.StartState) -> None:
        self.q("DELETE FROM start WHERE nummer = ?", nummer)
        for begin in st.starts.get(nummer, []):
            eind = st.stops.get((nummer, begin))
            self.q(
                "INSERT INTO start VALUES (?, ?, ?)",
                nummer,
                begin.isoformat(),
                eind.isoformat() if eind else None,
            )


def _toewijzing(data: dict) -> msgs.Toewijzing:
    for k in ("toewijzingsdatum", "ingangsdatum", "einddatum"):
        if data.get(k):
            data[k] = date.fromisoformat(data[k])
    return msgs.Toewijzing(**data)


def store_for(settings) -> GemeenteStore:
    """The store named by the setting ``gemeente_db``; else a file in the portal's instance
    folder (shared by the portal and the stand-in of one installation); else in memory."""
    own = (settings or {}).get("wmo_jw", {}) if settings else {}
    path = own.get("gemeente_db")
    if not path and os.environ.get("PORTAL_INSTANCE"):
        path = os.path.join(os.environ["PORTAL_INSTANCE"], "wmo_gemeente.db")
    return GemeenteStore(path)


# --- replies --------------------------------------------------------------------------------


def reply(payload: bytes, settings, today: date | None = None) -> list[MessageDraft] | None:
    """The gemeente's answer to a provider message; None when it is not iWmo/iJw."""
    found = msgs.recognise(payload[:65536])
    if found is None:
        return None
    kind = found[1]
    if kind not in ("305", "307", "315", "317", "323", "302", "320"):
        return None
    try:
        b = msgs.parse(payload)
    except msgs.MessageError:
        return []  # level 1: an XSD-invalid message gets no retour, only a transport error
    if kind in ("302", "320"):
        return []  # retours on our own messages: nothing to answer
    today = today or date.today()
    store = store_for(settings)
    if store.seen(b.header.afzender, kind, b.header.identificatie):
        codes = ["9056"]
        if kind == "323":
            return [_325(b, store, today, header_codes=codes)]
        return [_retour(b, payload, today, header_codes=codes)]
    if rules.check_message(b, today):
        if kind == "323":
            return [_325(b, store, today, header_codes=["0001"])]
        return [_retour(b, payload, today, header_codes=["0001"])]
    return {
        "305": _startstop,
        "307": _startstop,
        "315": _vot,
        "317": _vow,
        "323": _declaratie,
    }[kind](b, payload, store, settings, today)


def _draft(std: Standard, kind: str, payload: bytes, gemeente: str, agb: str, ident: str):
    return MessageDraft(
        standard=std.label,
        code=std.message_name(kind),
        payload=payload,
        afzender=("Gemeente", gemeente),
        geadresseerde=("Instelling", agb),
        reference=ident,
        filename=f"{std.message_name(kind)}_{ident}.xml",
    )


def _retour(b: msgs.Bericht, payload: bytes, today: date, **kw) -> MessageDraft:
    ident = msgs.new_identificatie()
    body = msgs.build_retour(b.std, payload, identificatie=ident, dagtekening=today, **kw)
    return _draft(b.std, msgs.RETOUR_OF[b.kind], body, b.header.ontvanger, b.header.afzender, ident)


def _startstop(b: msgs.Bericht, payload, store: GemeenteStore, settings, today):
    codes: dict[tuple[str, int], list[str]] = {}
    name = "StopProduct" if b.kind == "307" else "StartProduct"
    for n, p in enumerate(b.producten):
        st = store.start_state(p.toewijzingnummer or "")
        found = rules.check_startstop_state(b.kind, p, st)
        if found:
            codes[(name, n)] = [found[0].code]
        else:
            rules.apply_startstop(b.kind, p, st)
            store.save_start_state(p.toewijzingnummer, st)
    return [_retour(b, payload, today, codes=codes)]


def _vot(b: msgs.Bericht, payload, store: GemeenteStore, settings, today):
    agb, gemeente = b.header.afzender, b.header.ontvanger
    codes = {}
    busy = _in_onderzoek(store, agb, gemeente, b.client.bsn)
    for n, a in enumerate(b.aanvragen):
        if store.q("SELECT 1 FROM verzoek WHERE agb = ? AND referentie = ?", agb, a.referentie):
            codes[("AangevraagdProduct", n)] = ["9347"]
        elif busy:
            codes[("AangevraagdProduct", n)] = ["9374"]
    replies = [_retour(b, payload, today, codes=codes)]
    if codes:
        return replies
    for a in b.aanvragen:
        store.q("INSERT INTO verzoek VALUES (?, ?)", agb, a.referentie)
    refusal = _refusal(b, [a.referentie for a in b.aanvragen], settings, today, store)
    if refusal:
        return replies + refusal
    new = [_assign(store, gemeente, a.referentie, a, today) for a in b.aanvragen]
    # a 301 always carries every current toewijzing of the client (OP087), not only the new one
    current = _current(store, gemeente, agb, b.client.bsn, today)
    for t in new:  # the new toewijzing replaces a running one of the same product (TR302)
        for old in current:
            same = old.categorie == t.categorie and (
                old.code == t.code or not old.code or not t.code
            )
            if same and (old.einddatum is None or old.einddatum >= t.ingangsdatum):
                if old.ingangsdatum < t.ingangsdatum:
                    old.einddatum = t.ingangsdatum - timedelta(days=1)
                else:  # it never started: withdrawn (CS335)
                    old.reden_wijziging, old.einddatum = "13", old.ingangsdatum
                old.toewijzingsdatum, old.toewijzingstijd = today, new[0].toewijzingstijd
    # the client as the gemeente knows it (BRP), else as the request describes it
    persoon = _persoon(store, b.client.bsn, b.client)
    replies.append(issue_301(settings, b.std, gemeente, agb, persoon, current + new, today=today))
    return replies


def _in_onderzoek(store: GemeenteStore, agb: str, gemeente: str, bsn: str) -> bool:
    """A request of this provider for this client is still being looked into (TR374)."""
    return bool(
        store.q(
            "SELECT 1 FROM onderzoek WHERE agb = ? AND gemeente = ? AND bsn = ?", agb, gemeente, bsn
        )
    )


def _refusal(
    b: msgs.Bericht, referenties: list[str], settings, today: date, store: GemeenteStore
) -> list:
    """319s instead of a 301 when the setting ``vot_antwoord`` says so: ``afwijzen`` (antwoord 1,
    reason ``vot_reden``, default 7; with reason 8 in iJw the gemeente ``vot_woonplaats``) or
    ``onderzoek`` (antwoord 2)."""
    own = (settings or {}).get("wmo_jw", {})
    mode = own.get("vot_antwoord")
    if mode not in ("afwijzen", "onderzoek"):
        return []
    reden = str(own.get("vot_reden") or "7") if mode == "afwijzen" else None
    if mode == "onderzoek":  # open until the gemeente assigns (a 301 for the client)
        for ref in referenties:
            store.q(
                "INSERT OR REPLACE INTO onderzoek VALUES (?, ?, ?, ?)",
                b.header.afzender,
                b.header.ontvanger,
                b.client.bsn,
                ref,
            )
    woonplaats = None
    if reden == "8" and b.std.key == "ijw":
        woonplaats = str(own.get("vot_woonplaats") or "0344")
    return [
        antwoord_319(
            b.std,
            b.header.ontvanger,
            b.header.afzender,
            ref,
            "1" if mode == "afwijzen" else "2",
            reden,
            woonplaats=woonplaats,
            today=today,
        )
        for ref in referenties
    ]


def _assign(store: GemeenteStore, gemeente: str, referentie: str, asked, today: date):
    """A new toewijzing for what was asked (an AangevraagdProduct or a Wijziging), carrying the
    provider's ReferentieAanbieder (TR379)."""
    return msgs.Toewijzing(
        nummer=str(store.next_number(f"toewijzing-{gemeente}")),
        referentie_aanbieder=referentie,
        categorie=asked.categorie,
        code=asked.code,
        toewijzingsdatum=today,
        toewijzingstijd=datetime.now().strftime("%H:%M:%S"),
        ingangsdatum=asked.ingangsdatum,
        einddatum=asked.einddatum,
        volume=asked.volume,
        eenheid=asked.eenheid,
        frequentie=asked.frequentie,
        budget=asked.budget,
    )


def _current(store: GemeenteStore, gemeente: str, agb: str, bsn: str, today: date):
    return [
        t
        for t in store.toewijzingen(gemeente, agb, bsn)
        if t.reden_wijziging != "13" and (t.einddatum is None or t.einddatum >= today)
    ]


def _vow(b: msgs.Bericht, payload, store: GemeenteStore, settings, today):
    agb, gemeente = b.header.afzender, b.header.ontvanger
    v = b.verzoek
    current = {t.nummer: t for t in _current(store, gemeente, agb, b.client.bsn, today)}
    found = (
        rules.check_317_state(b, set(current))
        + rules.check_317_dates(b, {nr: t.ingangsdatum for nr, t in current.items()})
        + rules.check_317_products(b, current)
    )
    if store.q("SELECT 1 FROM verzoek WHERE agb = ? AND referentie = ?", agb, v.referentie):
        found.append(rules.Issue("9347", "Referentie al gebruikt", "ReferentieAanbieder"))
    elif _in_onderzoek(store, agb, gemeente, b.client.bsn):
        found.append(rules.Issue("9374", "Er is al een verzoek onderhanden", "Verzoek"))
    if found:
        return [_retour(b, payload, today, codes={("Verzoek", 0): [i.code for i in found]})]
    store.q("INSERT INTO verzoek VALUES (?, ?)", agb, v.referentie)
    replies = [_retour(b, payload, today)]
    refusal = _refusal(b, [v.referentie], settings, today, store)
    if refusal:
        return replies + refusal
    now = datetime.now().strftime("%H:%M:%S")
    changed = []
    for w in v.te_wijzigen:
        t = current[w.toewijzingnummer]
        t.reden_wijziging = "12"  # geïnitieerd door de aanbieder
        t.toewijzingsdatum, t.toewijzingstijd = today, now
        same_omvang = (w.volume, w.eenheid, w.frequentie) == (t.volume, t.eenheid, t.frequentie)
        if w.volume is None or same_omvang:
            # the period or the budget (which holds for the whole toewijzing, TR373) changes,
            # the omvang is repeated as it was (TR411): the same toewijzing, changed
            t.einddatum, t.referentie_aanbieder = w.einddatum or t.einddatum, v.referentie
            t.budget = w.budget if w.budget is not None else t.budget
            changed.append(t)
            continue
        # a new omvang holds from the desired date: the current toewijzing ends the day before
        # and a new one starts (what was declared under the old omvang stays valid)
        new = _assign(store, gemeente, v.referentie, w, today)
        new.categorie, new.code, new.budget = t.categorie, t.code, t.budget
        new.ingangsdatum = max(w.ingangsdatum, t.ingangsdatum)
        # the new toewijzing ends where asked, else where the old one ended, unless that lies
        # before its start (a change asked from after the toewijzing's end): then open-ended
        keeps = t.einddatum is not None and t.einddatum >= new.ingangsdatum
        new.einddatum = w.einddatum or (t.einddatum if keeps else None)
        if w.ingangsdatum > t.ingangsdatum:
            day_before = w.ingangsdatum - timedelta(days=1)
            if t.einddatum is None or day_before < t.einddatum:  # only ever shortened
                t.einddatum = day_before
        else:  # the change holds from the start: the old toewijzing is withdrawn (CS335)
            t.reden_wijziging, t.einddatum = "13", t.ingangsdatum
        changed += [t, new]
    changed += [_assign(store, gemeente, v.referentie, w, today) for w in v.nieuw]
    keep = [t for nr, t in current.items() if nr not in {c.nummer for c in changed}]
    persoon = _persoon(store, b.client.bsn)
    replies.append(issue_301(settings, b.std, gemeente, agb, persoon, keep + changed, today=today))
    return replies


def _persoon(store: GemeenteStore, bsn: str, asked: msgs.Persoon | None = None) -> msgs.Persoon:
    rows = store.q("SELECT data FROM persoon WHERE bsn = ?", bsn)
    if not rows:
        # no address known: the 301's one contact is then a correspondence contact (CD034),
        # reached by phone (TR006: a contact without house number and postcode has a phone)
        base = asked or msgs.Persoon(bsn=bsn, geboortedatum=date(2000, 1, 1), achternaam="Onbekend")
        has_address = base.huisnummer and base.postcode
        return (
            base
            if has_address or base.telefoon
            else dataclasses.replace(base, telefoon="0301234567")
        )
    data = json.loads(rows[0][0])
    data["geboortedatum"] = date.fromisoformat(data["geboortedatum"])
    return msgs.Persoon(**data)


def _declaratie(b: msgs.Bericht, payload, store: GemeenteStore, settings, today):
    return [_325(b, store, today)]


def _325(b: msgs.Bericht, store: GemeenteStore, today: date, header_codes=None) -> MessageDraft:
    """The declaratie-antwoord: 8001 when all is awarded, else only the rejected prestaties."""
    agb, gemeente = b.header.afzender, b.header.ontvanger
    d = b.declaratie
    ident = msgs.new_identificatie()
    header = msgs.Header(
        afzender=gemeente,
        ontvanger=agb,
        identificatie=ident,
        dagtekening=today,
        declaratie_identificatie=b.header.identificatie,
        declaratie_dagtekening=b.header.dagtekening,
        xsd_versie_retour=b.header.xsd_versie,
        retourcodes=header_codes or ["0200"],
    )
    answer = msgs.Declaratie(
        nummer=d.nummer,
        totaal=d.totaal,
        debet_credit=d.debet_credit,
        toegekend_totaal=0,
        toegekend_debet_credit="D",
        prestaties=[],
    )
    if header_codes:
        answer.retourcodes = ["0233"]
    else:
        state = store.state(gemeente, agb, b.std.key)
        top, per_line = rules.check_323_state(b, state)
        if top:
            answer.retourcodes = [i.code for i in top]
        else:
            rejected = []
            for p in d.prestaties:
                if p.referentie in per_line:
                    p.retourcodes = sorted({i.code for i in per_line[p.referentie]})
                    rejected.append(p)
            awarded = [p for p in d.prestaties if p.referentie not in per_line]
            total = sum(p.signed_cents for p in awarded)
            answer.toegekend_totaal = abs(total)
            answer.toegekend_debet_credit = "C" if total < 0 else "D"
            answer.prestaties = rejected
            answer.retourcodes = ["0200"] if rejected else ["8001"]
            answer.client_retourcodes = {p.bsn: ["0200"] for p in rejected}
            for p in d.prestaties:
                status = "afgewezen" if p.referentie in per_line else "toegekend"
                store.q(
                    "INSERT OR REPLACE INTO prestatie VALUES (?, ?, ?)", agb, p.referentie, status
                )
                if status == "toegekend" and p.vorig_referentie:
                    store.q(
                        "UPDATE prestatie SET status = 'gecrediteerd' WHERE agb = ? AND referentie = ?",
                        agb,
                        p.vorig_referentie,
                    )
                    store.q(
                        "DELETE FROM gedeclareerd WHERE agb = ? AND referentie = ?",
                        agb,
                        p.vorig_referentie,
                    )
                t = state.toewijzingen.get(p.toewijzingnummer)
                if status == "toegekend" and p.debet_credit == "D" and t is not None:
                    volume = rules.volume_in_toewijzing_unit(p.volume, p.eenheid, t.eenheid)
                    store.q(
                        "INSERT OR REPLACE INTO gedeclareerd VALUES (?, ?, ?, ?, ?)",
                        agb,
                        p.referentie,
                        t.nummer,
                        volume or 0,
                        p.bedrag,
                    )
            store.q(
                "INSERT OR REPLACE INTO declaratieperiode VALUES (?, ?, ?, ?, ?)",
                agb,
                gemeente,
                b.std.key,
                d.nummer,
                d.periode_begin.isoformat(),
            )
    body = msgs.build(msgs.Bericht(std=b.std, kind="325", header=header, declaratie=answer))
    return _draft(b.std, "325", body, gemeente, agb, ident)


# --- issuing -------------------------------------------------------------------------------------


def issue_301(
    settings,
    std: Standard,
    gemeente: str,
    agb: str,
    persoon: msgs.Persoon,
    toewijzingen: list[msgs.Toewijzing],
    *,
    today: date | None = None,
) -> MessageDraft:
    """A 301 with all current toewijzingen of one client (a snapshot), remembered by the gemeente."""
    today = today or date.today()
    store = store_for(settings)
    ident = msgs.new_identificatie()
    if persoon.postcode and not persoon.landcode:  # CD005: a Dutch postcode goes with NL
        persoon = dataclasses.replace(persoon, landcode="NL")
    b = msgs.Bericht(
        std=std,
        kind="301",
        header=msgs.Header(
            afzender=gemeente, ontvanger=agb, identificatie=ident, dagtekening=today
        ),
        client=persoon,
        toewijzingen=toewijzingen,
    )
    problems = rules.check_message(b, today)
    if problems:
        raise ValueError("; ".join(f"{i.code}: {i.message}" for i in problems))
    body = msgs.build(b)
    data = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in persoon.__dict__.items()
        if k != "retourcodes"
    }
    store.q("INSERT OR REPLACE INTO persoon VALUES (?, ?)", persoon.bsn, json.dumps(data))
    store.q(
        "DELETE FROM onderzoek WHERE agb = ? AND gemeente = ? AND bsn = ?",
        agb,
        gemeente,
        persoon.bsn,
    )
    for t in toewijzingen:
        store.save_toewijzing(gemeente, agb, persoon.bsn, std, t)
    return _draft(std, "301", body, gemeente, agb, ident)


def antwoord_319(
    std: Standard,
    gemeente: str,
    agb: str,
    referentie: str,
    antwoord: str,
    reden: str | None,
    *,
    woonplaats: str | None = None,
    today: date | None = None,
) -> MessageDraft:
    today = today or date.today()
    ident = msgs.new_identificatie()
    b = msgs.Bericht(
        std=std,
        kind="319",
        header=msgs.Header(
            afzender=gemeente, ontvanger=agb, identificatie=ident, dagtekening=today
        ),
        antwoord=msgs.Antwoord(
            referentie=referentie,
            antwoord=antwoord,
            reden_afwijzing=reden,
            woonplaats_gemeente=woonplaats,
        ),
    )
    problems = rules.check_message(b, today)
    if problems:
        raise ValueError("; ".join(f"{i.code}: {i.message}" for i in problems))
    return _draft(std, "319", msgs.build(b), gemeente, agb, ident)
