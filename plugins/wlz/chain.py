"""The provider's side of the iWlz chain with the zorgkantoor.

* :func:`process` applies an incoming AW33 (toewijzing: a full snapshot per client) and reads the
  AW36/AW310 retours; an AW33 is answered with its AW34 (per client all or nothing, OP093).
* :func:`start_draft` (AW35), :func:`mutatie_draft` (AW39) and :func:`withdraw_draft`
  (StatusAanlevering 3) build the outgoing meldingen from a Wlz legitimation after the checks of
  :mod:`plugins.wlz.rules`; a failing check raises :class:`RuleError` and nothing is built.
* :func:`actions` lists what a user may do now with a toewijzing.

One legitimation per toegewezen ZZP or functie (``productcategorie`` = the iWlz code,
``toewijzingnummer`` = the besluitnummer). What the chain knows of it lives in ``sleutels``:
``besluitnummer, soort, code, toewijzing_ingangsdatum, einddatum, klasse, leveringsvorm,
etmalen, instelling, zorgkantoor, indicatie{…}, aw33, historie[…]`` and ``start``/``mutatie``
(each ``{datum, status, bericht, codes, …}``); ``keten_stand`` says where it stands for the
worklist.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.wlz import messages as msgs
from plugins.wlz import rules
from plugins.wlz.standard import Release, current
from portal.domain import Issue, MessageDraft, ParseOutcome, Severity
from portal.models import (
    Client,
    Contract,
    ContractLine,
    Financier,
    Legitimation,
    Organisation,
    OrganisationAgb,
)
from portal.validators import check_bsn

CODE = "wlz"
log = logging.getLogger(__name__)
ACCEPTED = ("0200",)  # "Geen opmerking": the only code that accepts a line
VERZONDEN, GEACCEPTEERD, AFGEWEZEN = "verzonden", "geaccepteerd", "afgewezen"
INTREKKEN, INGETROKKEN = "intrekken", "ingetrokken"

# keten_stand: what the worklist selects on
NIEUW = "nieuw"  # toegewezen, no start yet: an AW35 (or an AW39 "nog niet") is due
EINDE_MELDEN = "einde_melden"  # the toewijzing ended or changed after care started: AW39 due
# Klasse → the weekly volume the legitimation holds (upper bound of the class), for stacking.
KLASSE_VOLUME = {
    "K0": (1, "uur"),
    "K1": (2, "uur"),
    "K2": (4, "uur"),
    "K3": (7, "uur"),
    "K4": (10, "uur"),
    "K5": (13, "uur"),
    "K6": (16, "uur"),
    "K7": (20, "uur"),
    "K8": (25, "uur"),
}
for _n in range(1, 16):
    KLASSE_VOLUME[f"KD{_n:02d}"] = (_n, "dagdeel")
for _n in range(1, 8):
    KLASSE_VOLUME[f"KE{_n}"] = (_n, "etmaal")


class RuleError(ValueError):
    """Blocking findings: nothing is built. ``issues`` hold the Dutch texts."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("; ".join(f"{i.code}: {i.message}" for i in issues))


# --- lookups ------------------------------------------------------------------------------------


def own_agbs(session: Session) -> set[str]:
    return set(session.scalars(select(OrganisationAgb.agb_code)))


def own_agb(session: Session) -> str | None:
    org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    return org.main_agb if org else None


def zorgkantoor(session: Session, code: str, release: Release) -> Financier:
    fin = session.scalar(
        select(Financier).where(Financier.financing == CODE, Financier.code == code)
    )
    if fin is None:
        naam = release.codes("LDT_ZorgkantoorCode").get(code) or f"Zorgkantoor {code}"
        fin = Financier(financing=CODE, soort="zorgkantoor", code=code, naam=naam)
        session.add(fin)
        session.flush()
    return fin


def wlz_legs(client: Client) -> list[Legitimation]:
    return [leg for leg in client.legitimations if leg.financing == CODE]


def state(leg: Legitimation) -> dict[str, Any]:
    return dict(leg.sleutels or {})


def _save(leg: Legitimation, s: dict[str, Any]) -> None:
    leg.sleutels = s  # reassign: JSON columns do not see in-place changes
    leg.keten_stand = keten_stand(s, leg)


def keten_stand(s: dict[str, Any], leg: Legitimation) -> str | None:
    start, mut = s.get("start") or {}, s.get("mutatie") or {}
    if mut.get("status") in (VERZONDEN, INTREKKEN):
        return "mutatie_verzonden"
    if mut.get("status") == AFGEWEZEN:
        return "mutatie_afgewezen"
    if mut.get("status") == GEACCEPTEERD and mut.get("code") in ("17", "19", "20", "21"):
        return "beeindigd"
    if start.get("status") in (VERZONDEN, INTREKKEN):
        return "start_verzonden"
    if start.get("status") == AFGEWEZEN:
        return "start_afgewezen"
    if start.get("status") == GEACCEPTEERD:
        if s.get("einde_te_melden"):
            return EINDE_MELDEN
        return "gestart"
    if leg.status != "actief":
        return None
    if mut.get("status") == GEACCEPTEERD:  # "nog niet" (12/18): waiting, start later
        return "wacht"
    return NIEUW


def started_on(leg: Legitimation) -> date | None:
    start = state(leg).get("start") or {}
    if start.get("status") == GEACCEPTEERD:
        return date.fromisoformat(start["datum"])
    return None


def persoon(client: Client) -> msgs.Persoon:
    return msgs.Persoon(
        bsn=client.bsn,
        geboortedatum=client.geboortedatum,
        geslacht=client.geslacht or "0",
        achternaam=client.achternaam,
        voorvoegsel=client.tussenvoegsel,
        voorletters=client.voorletters,
    )


# --- AW33 in ------------------------------------------------------------------------------------


def _client_issues(item: msgs.AW33Client) -> list[tuple[Any, str, str]]:
    """Per-client findings as (element or None for the client, retourcode, Dutch text)."""
    found = []
    if check_bsn(item.persoon.bsn):
        found.append(
            (
                None,
                "S002",
                f"Het BSN van de cliënt ({item.persoon.bsn[-3:]} …) voldoet niet aan de 11-proef.",
            )
        )
    for t in item.indicatie.toewijzingen:
        if t.einddatum and t.einddatum < t.ingangsdatum:
            found.append(
                (
                    t,
                    "S003",
                    f"Toewijzing {t.code}: de einddatum ligt vóór de ingangsdatum.",
                )
            )
    return found


def _element_of(item: msgs.AW33Client, t: msgs.Toewijzing, rel: Release):
    ns = {"m": rel.ns("AW33")}
    path = (
        "m:Indicatie/m:ToegewezenZorgzwaartepakketten/m:ToegewezenZorgzwaartepakket"
        if t.soort == "zzp"
        else "m:Indicatie/m:ToegewezenFuncties/m:ToegewezenFunctie"
    )
    code_el = "m:ZzpCode" if t.soort == "zzp" else "m:FunctieCode"
    for e in item.element.findall(path, ns):
        if (
            e.findtext(code_el, namespaces=ns) == t.code
            and e.findtext("m:Ingangsdatum", namespaces=ns) == t.ingangsdatum.isoformat()
        ):
            return e
    return item.element


def _contract_products(session: Session, financier: Financier, code: str) -> list[ContractLine]:
    return list(
        session.scalars(
            select(ContractLine)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(Contract.financier_id == financier.id, ContractLine.productcategorie == code)
        )
    )


def _client_for(session: Session, p: msgs.Persoon) -> Client:
    client = session.scalar(select(Client).where(Client.bsn == p.bsn))
    if client is None:
        client = Client(
            bsn=p.bsn,
            achternaam=p.achternaam,
            tussenvoegsel=p.voorvoegsel,
            voorletters=p.voorletters,
            voornamen=p.voornamen,
            geboortedatum=p.geboortedatum,
            geslacht=p.geslacht or "0",
            straat=p.straat,
            huisnummer=p.huisnummer,
            postcode=p.postcode,
            plaats=p.plaats,
        )
        session.add(client)
        session.flush()
    return client


def _toewijzing_values(aw33: msgs.AW33, ind: msgs.Indicatie, t: msgs.Toewijzing) -> dict:
    return {
        "besluitnummer": ind.besluitnummer,
        "soort": t.soort,
        "code": t.code,
        "toewijzing_ingangsdatum": t.ingangsdatum.isoformat(),
        "einddatum": t.einddatum.isoformat() if t.einddatum else None,
        "klasse": t.klasse,
        "leveringsvorm": t.leveringsvorm,
        "etmalen": t.etmalen,
        "percentage": t.percentage,
        "instelling": t.instelling,
        "zorgkantoor": t.zorgkantoor,
        "reden_intrekking": t.reden_intrekking,
        "indicatie": {
            "soort": ind.soort,
            "afgiftedatum": ind.afgiftedatum.isoformat(),
            "ingangsdatum": ind.ingangsdatum.isoformat(),
            "einddatum": ind.einddatum.isoformat() if ind.einddatum else None,
            "grondslagen": list(ind.grondslagen),
        },
    }


# the values whose change is a changed toewijzing (the rest is bookkeeping)
COMPARED = ("einddatum", "klasse", "leveringsvorm", "etmalen", "percentage", "reden_intrekking")


def _apply_client(
    session: Session, aw33: msgs.AW33, item: msgs.AW33Client, ours: set[str], today: date
) -> tuple[Client, list[str], list[Issue]]:
    """Create/update the client's Wlz legitimations from one client's snapshot. Returns the
    client, Dutch lines of what changed, and issues needing attention."""
    rel = aw33.release
    client = _client_for(session, item.persoon)
    ind = item.indicatie
    changes: list[str] = []
    issues: list[Issue] = []
    existing = {}
    for leg in wlz_legs(client):
        s = leg.sleutels or {}
        if s.get("besluitnummer"):
            existing[(s["besluitnummer"], s["soort"], s["code"], s["toewijzing_ingangsdatum"])] = (
                leg
            )
    seen = set()
    for t in ind.toewijzingen:
        if t.instelling not in ours:
            continue  # toegewezen to another provider (e.g. a functie elsewhere): not ours
        fin = zorgkantoor(session, t.zorgkantoor, rel)
        key = (ind.besluitnummer, t.soort, t.code, t.ingangsdatum.isoformat())
        seen.add(key)
        values = _toewijzing_values(aw33, ind, t)
        ended = t.reden_intrekking is not None
        einde = t.einddatum or ind.einddatum
        volume, eenheid = (
            (7, "etmaal") if t.soort == "zzp" else KLASSE_VOLUME.get(t.klasse, (None, None))
        )
        label = _label(rel, t)
        leg = existing.get(key)
        if leg is None:
            lines = _contract_products(session, fin, t.code)
            leg = Legitimation(
                client_id=client.id,
                financing=CODE,
                financier_id=fin.id,
                begindatum=t.ingangsdatum,
                einddatum=einde,
                priority=1,
                volume=volume,
                eenheid=eenheid,
                frequentie="week" if volume else None,
                productcategorie=t.code,
                productcode=lines[0].productcode if lines else None,
                toewijzingnummer=ind.besluitnummer,
                status="ingetrokken" if ended else "actief",
                bron="bericht",
                sleutels={**values, "aw33": aw33.header.identificatie, "historie": []},
            )
            leg.products = sorted({cl.product for cl in lines}, key=lambda p: p.code)
            session.add(leg)
            client.legitimations.append(leg)
            s = dict(leg.sleutels)
            s["historie"] = [_event(today, aw33, "Toegewezen")]
            _save(leg, s)
            changes.append(f"nieuw: {label} vanaf {t.ingangsdatum:%d-%m-%Y}")
            if not lines:
                issues.append(
                    Issue(
                        "contract",
                        f"Geen contractregel van {fin.naam} voor {label}: voeg die toe om te "
                        "kunnen declareren.",
                        "contract",
                        Severity.WARNING,
                    )
                )
            continue
        s = state(leg)
        diff = [k for k in COMPARED if s.get(k) != values[k]]
        if not diff and leg.einddatum == einde and s.get("indicatie") == values["indicatie"]:
            if s.get("aw33") != aw33.header.identificatie:
                s["aw33"] = aw33.header.identificatie
                _save(leg, s)
            continue
        before = {k: s.get(k) for k in diff}
        s.update(values)
        s["aw33"] = aw33.header.identificatie
        s.setdefault("historie", []).append(
            _event(
                today,
                aw33,
                "Gewijzigd: " + ", ".join(f"{k} {before[k]} → {values[k]}" for k in diff),
            )
        )
        leg.einddatum = einde
        leg.volume, leg.eenheid = volume, eenheid
        leg.frequentie = "week" if volume else None
        if ended:
            leg.status = "ingetrokken"
        if started_on(leg) and (ended or "einddatum" in diff):
            s["einde_te_melden"] = True
        _save(leg, s)
        changes.append(f"gewijzigd: {label} ({', '.join(diff) or 'indicatie'})")
    for key, leg in existing.items():
        if key in seen or key[0] != ind.besluitnummer or leg.status != "actief":
            continue
        # no longer in the snapshot: kept, marked and shown, never deleted silently
        s = state(leg)
        leg.status = "vervallen"
        s.setdefault("historie", []).append(
            _event(today, aw33, "Niet meer in de toewijzing van het zorgkantoor")
        )
        if started_on(leg):
            s["einde_te_melden"] = True
        _save(leg, s)
        label = f"{'ZZP' if s['soort'] == 'zzp' else 'functie'} {s['code']}"
        changes.append(f"vervallen: {label}")
        issues.append(
            Issue(
                "vervallen",
                f"{label} staat niet meer in de toewijzing; de legitimatie is bewaard als "
                "'vervallen'. Controleer of een einde zorg (AW39) nodig is.",
                "toewijzing",
                Severity.WARNING,
            )
        )
    return client, changes, issues


def _label(rel: Release, t) -> str:
    if t.soort == "zzp":
        return f"ZZP {t.code} ({rel.meaning('LDT_ZzpCode', t.code).split(':')[0]})"
    return f"functie {t.code} ({rel.meaning('LDT_FunctieCode', t.code).split(':')[0]})"


def _event(today: date, aw33: msgs.AW33, text: str) -> dict:
    return {"datum": today.isoformat(), "bericht": aw33.header.identificatie, "tekst": text}


def _draft(rel: Release, message: str, payload: bytes, zk: str, reference: str) -> MessageDraft:
    return MessageDraft(
        standard=f"iWlz {rel.name}",
        code=message,
        payload=payload,
        geadresseerde=("Zorgkantoor", zk),
        reference=reference,
        filename=f"{message}_{reference}.xml",
    )


def process_aw33(session: Session, payload: bytes, today: date) -> ParseOutcome:
    try:
        rel, _message, root = msgs.load(payload)
    except msgs.MessageError as exc:
        return _refused(payload, str(exc), today)
    aw33 = msgs.read_aw33(rel, root)
    ident = msgs.new_identificatie()
    ours = own_agbs(session)
    zk = aw33.header.afzender
    if aw33.header.ontvanger not in ours:
        text = (
            f"Het AW33-bericht is gericht aan AGB {aw33.header.ontvanger}, niet aan een AGB-code "
            "van deze organisatie; niets verwerkt, afgekeurd met retourcode 0001."
        )
        codes = {msgs.path_of(c.element): ["0233"] for c in aw33.clients}
        reply = msgs.build_retour(
            rel,
            "AW33",
            root,
            codes=codes,
            header_codes=["0001"],
            identificatie=ident,
            dagtekening=today,
        )
        return ParseOutcome(
            standard=f"iWlz {rel.name}",
            code="AW33",
            summary=text,
            needs_action=True,
            issues=[Issue("0001", text, "Ontvanger")],
            replies=[_draft(rel, "AW34", reply, zk, ident)],
            reference=aw33.header.identificatie,
        )
    codes: dict[str, list[str]] = {}
    done, refused, lines, issues, client_ids = 0, 0, [], [], []
    for item in aw33.clients:
        found = _client_issues(item)
        if found:
            refused += 1
            for target, code, text in found:
                el = item.element if target is None else _element_of(item, target, rel)
                codes.setdefault(msgs.path_of(el), []).append(code)
                issues.append(Issue(code, text, "Client"))
            continue
        client, changes, more = _apply_client(session, aw33, item, ours, today)
        done += 1
        client_ids.append(client.id)
        issues.extend(more)
        lines.extend(changes)
    reply = msgs.build_retour(
        rel,
        "AW33",
        root,
        codes=codes,
        header_codes=["0200"],
        identificatie=ident,
        dagtekening=today,
    )
    parts = [f"Toewijzing van zorgkantoor {zk}: {done} cliënt(en) verwerkt"]
    if refused:
        parts.append(f"{refused} afgekeurd in de AW34")
    parts.append("; ".join(lines) if lines else "niets gewijzigd")
    return ParseOutcome(
        standard=f"iWlz {rel.name}",
        code="AW33",
        summary=". ".join(parts) + ".",
        needs_action=bool(refused) or any(i.code == "vervallen" for i in issues),
        issues=issues,
        replies=[_draft(rel, "AW34", reply, zk, ident)],
        reference=aw33.header.identificatie,
        client_ids=client_ids,
    )


def _refused(payload: bytes, reason: str, today: date) -> ParseOutcome:
    """A message we cannot read: nothing changes. When its header is still readable enough to
    address an answer, the zorgkantoor gets an AW34 with 0001 and no clients."""
    log.warning("iWlz-bericht geweigerd (%d bytes), niets verwerkt: %s", len(payload), reason)
    return ParseOutcome(
        standard="iWlz",
        code="AW33",
        summary=f"Geweigerd, niets verwerkt: {reason}",
        needs_action=True,
        issues=[Issue("0001", reason, None)],
        replies=_header_only_aw34(payload, today),
    )


def _header_only_aw34(payload: bytes, today: date) -> list[MessageDraft]:
    """An AW34 with 0001 for an AW33 that fails its XSD, when its header itself is valid."""
    try:
        rel, message, root = msgs.load(payload, validate=False)
    except msgs.MessageError:
        return []
    if message != "AW33":
        return []
    ns = {"m": rel.ns("AW33")}
    for cl in root.findall("m:Clienten", ns):
        root.remove(cl)
    try:
        header = msgs.read_header(rel, "AW33", root)
        ident = msgs.new_identificatie()
        reply = msgs.build_retour(
            rel,
            "AW33",
            root,
            codes={},
            header_codes=["0001"],
            identificatie=ident,
            dagtekening=today,
            keep_clients=False,
        )
    except (msgs.MessageError, AttributeError, ValueError):
        return []
    return [_draft(rel, "AW34", reply, header.afzender, ident)]


# --- AW36 / AW310 in ----------------------------------------------------------------------------


def process_retour(session: Session, payload: bytes, today: date) -> ParseOutcome:
    try:
        rel, message, root = msgs.load(payload)
    except msgs.MessageError as exc:
        return ParseOutcome(
            standard="iWlz",
            code="AW36/AW310",
            summary=f"Geweigerd: {exc}",
            needs_action=True,
            issues=[Issue("XSD", str(exc), None)],
        )
    meldingen = msgs.read_melding(rel, message, root)
    header = msgs.read_header(rel, message, root)
    whole = [c for c in header.retourcodes if c not in ACCEPTED]
    kind = "start" if message == "AW36" else "mutatie"
    accepted, rejected, unknown, client_ids, issues = 0, 0, 0, [], []
    for m in meldingen:
        client = session.scalar(select(Client).where(Client.bsn == m.persoon.bsn))
        bad_client = [c for c in m.client_retourcodes if c not in ACCEPTED]
        for line in m.leveringen:
            leg = _find_leg(client, line) if client else None
            if leg is None:
                unknown += 1
                continue
            client_ids.append(client.id)
            s = state(leg)
            item = dict(s.get(kind) or {})
            if item.get("bericht") != header.identificatie:
                unknown += 1
                continue
            codes = [c for c in line.retourcodes + bad_client + whole if c not in ACCEPTED]
            item["codes"] = codes
            withdrawing = item.get("status") == INTREKKEN
            if codes:
                rejected += 1
                item["status"] = GEACCEPTEERD if withdrawing else AFGEWEZEN
                if withdrawing:
                    item["intrekken_afgewezen"] = codes
                text = "; ".join(f"{c} {rel.meaning('LDT_RetourCode', c)}" for c in codes)
                issues.append(
                    Issue(codes[0], f"{leg.client.achternaam}: {kind} afgewezen ({text}).", kind)
                )
            else:
                accepted += 1
                item["status"] = INGETROKKEN if withdrawing else GEACCEPTEERD
                if kind == "mutatie" and not withdrawing and item.get("code") in ("19",):
                    leg.status = "beeindigd"
                    leg.einddatum = leg.einddatum or date.fromisoformat(item["datum"])
                if kind == "mutatie" and not withdrawing:
                    s.pop("einde_te_melden", None)
            s[kind] = item
            s.setdefault("historie", []).append(
                {
                    "datum": today.isoformat(),
                    "bericht": header.identificatie,
                    "tekst": f"{message}: {kind} {item['status']}"
                    + (f" ({', '.join(codes)})" if codes else ""),
                }
            )
            _save(leg, s)
    summary = f"{message} op {header.identificatie}: {accepted} geaccepteerd, {rejected} afgewezen"
    if unknown:
        summary += f", {unknown} regel(s) niet herkend (niets gewijzigd)"
    return ParseOutcome(
        standard=f"iWlz {rel.name}",
        code=message,
        summary=summary + ".",
        needs_action=bool(rejected or unknown),
        issues=issues,
        reference=header.identificatie_retour,
        answers_reference=header.identificatie,
        client_ids=sorted(set(client_ids)),
    )


def _find_leg(client: Client, line: msgs.Levering) -> Legitimation | None:
    for leg in wlz_legs(client):
        s = leg.sleutels or {}
        if (
            s.get("besluitnummer") == line.besluitnummer
            and s.get("code") == line.code
            and s.get("soort") == line.soort
            and s.get("toewijzing_ingangsdatum") == line.toewijzing_ingangsdatum.isoformat()
        ):
            return leg
    return None


def process(session: Session, payload: bytes, today: date | None = None) -> ParseOutcome | None:
    """Apply an incoming iWlz message; None when it is not one of ours."""
    found = msgs.recognise(payload)
    if found is None:
        return None
    today = today or date.today()
    rel, message = found
    if message == "AW33":
        return process_aw33(session, payload, today)
    if message in ("AW36", "AW310"):
        return process_retour(session, payload, today)
    return ParseOutcome(
        standard=f"iWlz {rel.name}",
        code=message,
        summary=f"Een {message}-bericht is voor een zorgkantoor bedoeld; het is niet verwerkt.",
        needs_action=True,
    )


# --- AW35 / AW39 out ----------------------------------------------------------------------------


def _levering(leg: Legitimation, **kw) -> msgs.Levering:
    s = state(leg)
    return msgs.Levering(
        soort=s["soort"],
        besluitnummer=s["besluitnummer"],
        code=s["code"],
        toewijzing_ingangsdatum=date.fromisoformat(s["toewijzing_ingangsdatum"]),
        instelling=s["instelling"],
        klasse=s.get("klasse"),
        leveringsvorm=s.get("leveringsvorm"),
        **kw,
    )


def _melding(session, leg, message, levering, today, aanvragen=()) -> tuple[msgs.Melding, bytes]:
    agb = state(leg).get("instelling") or own_agb(session)
    rel = current(today)
    m = msgs.Melding(
        message=message,
        release=rel,
        header=msgs.Header(
            afzender=agb,
            ontvanger=leg.financier.code,
            identificatie=msgs.new_identificatie(),
            dagtekening=today,
        ),
        persoon=persoon(leg.client),
        leveringen=[levering],
        aanvragen=list(aanvragen),
    )
    try:
        return m, msgs.build_melding(m)
    except msgs.MessageError as exc:
        raise RuleError([Issue("XSD", str(exc), None)]) from None


def _not_ours(leg: Legitimation) -> list[Issue]:
    if leg.financing != CODE or not (leg.sleutels or {}).get("besluitnummer"):
        return [Issue("toewijzing", "Dit is geen Wlz-toewijzing uit een AW33.", None)]
    return []


def start_draft(
    session: Session,
    leg: Legitimation,
    begindatum: date | None,
    *,
    etmalen: str | None = None,
    today: date | None = None,
) -> MessageDraft:
    """AW35: care started on a toewijzing that has no (pending or accepted) start."""
    today = today or date.today()
    s = state(leg)
    issues = _not_ours(leg)
    if not issues:
        start = s.get("start") or {}
        if start.get("status") in (VERZONDEN, GEACCEPTEERD, INTREKKEN):
            issues.append(
                Issue("start", "Voor deze toewijzing is de start al gemeld.", "begindatum")
            )
        if leg.status != "actief":
            issues.append(Issue("start", "Deze toewijzing is niet (meer) actief.", "begindatum"))
        issues += rules.start_issues(
            s, begindatum, today, leveringsvorm=s.get("leveringsvorm"), etmalen=etmalen
        )
    if issues:
        raise RuleError(issues)
    levering = _levering(
        leg,
        begindatum=begindatum,
        status="1",
        leveringsstatus=rules.LEVERINGSSTATUS_START[0],
        etmalen=etmalen or s.get("etmalen"),
    )
    m, payload = _melding(session, leg, "AW35", levering, today)
    s["start"] = {
        "datum": begindatum.isoformat(),
        "status": VERZONDEN,
        "bericht": m.header.identificatie,
        "codes": [],
        "etmalen": levering.etmalen,
    }
    _save(leg, s)
    return _draft(m.release, "AW35", payload, leg.financier.code, m.header.identificatie)


def mutatie_draft(
    session: Session,
    leg: Legitimation,
    mutatiecode: str,
    mutatiedatum: date | None,
    *,
    leveringsstatus: str | None = None,
    bestemming: str | None = None,
    aanvraag: msgs.Aanvraag | None = None,
    today: date | None = None,
) -> MessageDraft:
    """AW39: a mutatie (not yet, overplaatsing, overdracht) or the end of care, optionally with
    an Aanvraag for an adjusted toewijzing."""
    today = today or date.today()
    s = state(leg)
    issues = _not_ours(leg)
    if not issues:
        mut = s.get("mutatie") or {}
        if mut.get("status") in (VERZONDEN, INTREKKEN):
            issues.append(
                Issue("mutatie", "Er wacht nog een mutatie op antwoord van het zorgkantoor.", None)
            )
        if (s.get("start") or {}).get("status") in (VERZONDEN, INTREKKEN):
            issues.append(
                Issue("mutatie", "De start wacht nog op antwoord van het zorgkantoor.", None)
            )
        issues += rules.mutatie_issues(
            s, started_on(leg), mutatiecode, mutatiedatum, leveringsstatus, today, bestemming
        )
        if aanvraag is not None:
            rel = current(today)
            if aanvraag.zzp not in rel.codes("LDT_ZzpCode"):
                issues.append(
                    Issue("aanvraag", "Kies een bestaand zorgzwaartepakket.", "aanvraag_zzp")
                )
            if aanvraag.leveringsvorm not in rel.codes("LDT_Leveringsvorm"):
                issues.append(
                    Issue("aanvraag", "Kies een leveringsvorm.", "aanvraag_leveringsvorm")
                )
            if aanvraag.ingangsdatum < date.fromisoformat(s["toewijzing_ingangsdatum"]):
                issues.append(
                    Issue(
                        "aanvraag",
                        "De gevraagde toewijzing kan niet ingaan vóór de huidige toewijzing.",
                        "aanvraag_ingangsdatum",
                    )
                )
    if issues:
        raise RuleError(issues)
    started = started_on(leg)
    levering = _levering(
        leg,
        begindatum=started,
        status="1",
        mutatiecode=mutatiecode,
        mutatiedatum=mutatiedatum,
        leveringsstatus=leveringsstatus or "5",
        instelling_bestemming=bestemming or None,
    )
    m, payload = _melding(session, leg, "AW39", levering, today, [aanvraag] if aanvraag else [])
    s["mutatie"] = {
        "code": mutatiecode,
        "datum": mutatiedatum.isoformat(),
        "leveringsstatus": levering.leveringsstatus,
        "bestemming": bestemming,
        "status": VERZONDEN,
        "bericht": m.header.identificatie,
        "codes": [],
        "aanvraag": bool(aanvraag),
    }
    _save(leg, s)
    return _draft(m.release, "AW39", payload, leg.financier.code, m.header.identificatie)


def withdraw_draft(
    session: Session, leg: Legitimation, kind: str, *, today: date | None = None
) -> MessageDraft:
    """Withdraw the accepted start (AW35) or mutatie (AW39) with StatusAanlevering 3, so a
    corrected one can be sent; a start with a mutatie after it cannot be withdrawn first."""
    today = today or date.today()
    s = state(leg)
    item = dict(s.get(kind) or {})
    issues = _not_ours(leg)
    if item.get("status") != GEACCEPTEERD:
        issues.append(Issue(kind, f"Er is geen geaccepteerde {kind} om in te trekken.", None))
    if kind == "start" and (s.get("mutatie") or {}).get("status") in (VERZONDEN, GEACCEPTEERD):
        issues.append(
            Issue(
                "start", "Trek eerst de mutatie in; daarna kan de start worden ingetrokken.", None
            )
        )
    if issues:
        raise RuleError(issues)
    if kind == "start":
        levering = _levering(
            leg,
            begindatum=date.fromisoformat(item["datum"]),
            status="3",
            leveringsstatus=rules.LEVERINGSSTATUS_START[0],
            etmalen=item.get("etmalen"),
        )
        message = "AW35"
    else:
        levering = _levering(
            leg,
            begindatum=started_on(leg),
            status="3",
            mutatiecode=item["code"],
            mutatiedatum=date.fromisoformat(item["datum"]),
            leveringsstatus=item.get("leveringsstatus") or "5",
            instelling_bestemming=item.get("bestemming"),
        )
        message = "AW39"
    m, payload = _melding(session, leg, message, levering, today)
    item.update(status=INTREKKEN, bericht=m.header.identificatie, codes=[])
    s[kind] = item
    _save(leg, s)
    return _draft(m.release, message, payload, leg.financier.code, m.header.identificatie)


def actions(leg: Legitimation, today: date | None = None) -> list[dict[str, Any]]:
    """What a user may do now with this toewijzing (only valid actions)."""
    if leg.financing != CODE or not (leg.sleutels or {}).get("besluitnummer"):
        return []
    today = today or date.today()
    s = state(leg)
    start, mut = s.get("start") or {}, s.get("mutatie") or {}
    waiting = start.get("status") in (VERZONDEN, INTREKKEN) or mut.get("status") in (
        VERZONDEN,
        INTREKKEN,
    )
    out: list[dict[str, Any]] = []
    if waiting:
        return out
    ingang = date.fromisoformat(s["toewijzing_ingangsdatum"])
    started = start.get("status") == GEACCEPTEERD
    if leg.status == "actief" and not started and ingang <= today:
        out.append(
            {
                "action": "start",
                "label": "Start zorg melden (AW35)",
                "id": leg.id,
                "min": ingang,
                "max": min(today, leg.einddatum) if leg.einddatum else today,
            }
        )
    if mut.get("status") != GEACCEPTEERD or mut.get("code") in ("12", "18"):
        codes = rules.MUTATIE_NA_START if started else rules.MUTATIE_VOOR_START
        out.append(
            {
                "action": "mutatie",
                "label": "Mutatie of einde zorg melden (AW39)",
                "id": leg.id,
                "codes": list(codes),
                "min": date.fromisoformat(start["datum"]) if started else ingang,
            }
        )
    if started and mut.get("status") not in (GEACCEPTEERD,):
        out.append(
            {
                "action": "start_intrekken",
                "label": "Start intrekken (AW35, verwijderen)",
                "id": leg.id,
            }
        )
    if mut.get("status") == GEACCEPTEERD:
        out.append(
            {
                "action": "mutatie_intrekken",
                "label": "Mutatie intrekken (AW39, verwijderen)",
                "id": leg.id,
            }
        )
    return out
