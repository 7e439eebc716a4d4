"""The provider's side of the iWmo/iJw chain: toewijzingen in, start/stop and requests out.

* :func:`process` applies an incoming message (301, 306, 308, 316, 318, 319, 325) to the portal's
  data and says what it did (a :class:`~portal.domain.ParseOutcome`, with the 302/320 reply).
* :func:`start_draft`, :func:`stop_draft`, :func:`vot_draft`, :func:`vow_draft` build outgoing
  chain messages from legitimations; the in-message and state rules run first and a failing rule
  raises :class:`RuleError` with Dutch issues (nothing is built then).
* :func:`actions` lists what a user may do now with a toewijzing (guided actions).

Start/stop state lives in ``Legitimation.sleutels["starts"]``: a list of
``{"begindatum", "status", "codes", "bericht", "einddatum"?, "reden"?, "stop_status"?}``.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugins.wmo_jw import messages as msgs
from plugins.wmo_jw import rules
from plugins.wmo_jw.standard import IJW, IWMO, Standard
from portal.domain import Issue, MessageDraft, ParseOutcome, Severity
from portal.models import Client, Financier, Legitimation, Organisation

CODE = "wmo_jw"

# iStandaard Eenheid/Frequentie -> the portal's Unit/Frequency values.
EENHEID_UNIT = {
    "01": "minuut",
    "04": "uur",
    "14": "etmaal",
    "16": "dagdeel",
    "82": "stuk",
    "83": "euro",
    "84": "stuk",
}
UNIT_EENHEID = {"minuut": "01", "uur": "04", "etmaal": "14", "dagdeel": "16", "stuk": "84"}
UNIT_EENHEID["euro"] = "83"
FREQ_FREQUENCY = {"1": "dag", "2": "week", "4": "maand", "6": "totaal"}
FREQUENCY_FREQ = {v: k for k, v in FREQ_FREQUENCY.items()}

# status of a start or stop in sleutels
VERZONDEN, GEACCEPTEERD, AFGEWEZEN = "verzonden", "geaccepteerd", "afgewezen"
INTREKKEN, INGETROKKEN = "intrekken", "ingetrokken"  # a withdrawal (305, status 3) sent / done
# RedenBeeindiging "Levering is tijdelijk beeindigd" (the same code in iWmo and iJw): care may
# start again on the same toewijzing; every other reason ends the care on it.
TIJDELIJK = "20"


class RuleError(ValueError):
    """Blocking findings: the message is not built. ``issues`` hold the Dutch texts."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("; ".join(f"{i.code}: {i.message}" for i in issues))


# --- small lookups ------------------------------------------------------------------------------


def own_agb(session: Session) -> str | None:
    org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    return org.main_agb if org else None


def standard_of(legitimation: Legitimation) -> Standard:
    """iJw for youth categories (the iJw list), iWmo otherwise; a 301 records it exactly."""
    key = (legitimation.sleutels or {}).get("standaard")
    if key in ("iwmo", "ijw"):
        return IWMO if key == "iwmo" else IJW
    cat = legitimation.productcategorie
    return IJW if cat and cat in IJW.codes("LDT_ProductCategorie") else IWMO


def gemeente(session: Session, code: str) -> Financier:
    """The financier for a CBS gemeentecode; created when a 301 names an unknown one."""
    fin = session.scalar(
        select(Financier).where(
            Financier.financing == CODE, Financier.soort == "gemeente", Financier.code == code
        )
    )
    if fin is None:
        fin = Financier(financing=CODE, soort="gemeente", code=code, naam=f"Gemeente {code}")
        session.add(fin)
        session.flush()
    return fin


def _header(session: Session, std: Standard, ontvanger: str, today: date) -> msgs.Header:
    agb = own_agb(session)
    if not agb:
        raise RuleError(
            [Issue("agb", "De organisatie heeft nog geen AGB-code; vul die eerst in.", "agb")]
        )
    return msgs.Header(
        afzender=agb,
        ontvanger=ontvanger,
        identificatie=msgs.new_identificatie(),
        dagtekening=today,
    )


def draft_for(b: msgs.Bericht, payload: bytes) -> MessageDraft:
    heen = b.kind in ("305", "307", "315", "317", "323")
    gemeente_code = b.header.ontvanger if heen else b.header.afzender
    return MessageDraft(
        standard=b.std.label,
        code=b.name,
        payload=payload,
        geadresseerde=("Gemeente", gemeente_code),
        reference=b.header.identificatie if heen else b.header.identificatie_retour,
        filename=f"{b.name}_{b.header.identificatie}.xml",
    )


def checked_build(b: msgs.Bericht, today: date | None = None) -> bytes:
    """Rules first (they name the field), then the XSD; raises RuleError when a rule fails."""
    found = [i for i in rules.check_message(b, today) if i.severity is Severity.BLOCKING]
    if found:
        raise RuleError(found)
    return msgs.build(b)


def persoon(client: Client) -> msgs.Persoon:
    return msgs.Persoon(
        bsn=client.bsn,
        geboortedatum=client.geboortedatum,
        geslacht=client.geslacht or "0",
        achternaam=client.achternaam,
        voorvoegsel=client.tussenvoegsel,
        voorletters="".join(ch for ch in (client.voorletters or "") if ch.isalpha())[:6] or None,
    )


# --- start / stop state --------------------------------------------------------------------------


def starts(leg: Legitimation) -> list[dict[str, Any]]:
    """Copies: changing them never touches the loaded JSON (its change would go unnoticed)."""
    return [dict(s) for s in (leg.sleutels or {}).get("starts", [])]


def _save_starts(leg: Legitimation, items: list[dict[str, Any]]) -> None:
    sleutels = dict(leg.sleutels or {})
    sleutels["starts"] = items
    leg.sleutels = sleutels  # reassign: JSON columns do not track in-place changes
    leg.keten_stand = keten_stand(items)


STOP_STAND = {
    VERZONDEN: "stop_verzonden",
    GEACCEPTEERD: "gestopt",
    AFGEWEZEN: "stop_afgewezen",
    INTREKKEN: "stop_verzonden",
}
START_STAND = {
    VERZONDEN: "start_verzonden",
    INTREKKEN: "start_verzonden",
    GEACCEPTEERD: "gestart",
    INGETROKKEN: "start_ingetrokken",
    AFGEWEZEN: "start_afgewezen",
}


def keten_stand(items: list[dict[str, Any]]) -> str | None:
    """Where start/stop stands, from the latest item (kept in ``Legitimation.keten_stand`` for
    the worklist; migration 0010 has a copy of this mapping)."""
    if not items:
        return None
    last = items[-1]
    if last.get("stop_status") in STOP_STAND:
        return STOP_STAND[last["stop_status"]]
    return START_STAND.get(last["status"])


def active_start(leg: Legitimation) -> dict[str, Any] | None:
    """The start that counts now: sent or accepted, and not (being) stopped."""
    for item in reversed(starts(leg)):
        if item["status"] in (VERZONDEN, GEACCEPTEERD) and item.get("stop_status") not in (
            VERZONDEN,
            GEACCEPTEERD,
        ):
            return item
    return None


def pending(leg: Legitimation) -> str | None:
    """What waits for the gemeente's 306/308: "start", "intrekken", "stop" or None."""
    for s in starts(leg):
        if s["status"] == VERZONDEN:
            return "start"
        if s["status"] == INTREKKEN:
            return "intrekken"
        if s.get("stop_status") == VERZONDEN:
            return "stop"
        if s.get("stop_status") == INTREKKEN:
            return "stop_intrekken"
    return None


def earliest_start(leg: Legitimation) -> date:
    """A new start lies on or after the toewijzing's ingangsdatum and after earlier care."""
    earliest = leg.begindatum
    for s in starts(leg):
        if s["status"] == GEACCEPTEERD and s.get("stop_status") in (VERZONDEN, GEACCEPTEERD):
            earliest = max(earliest, date.fromisoformat(s["einddatum"]) + timedelta(days=1))
    return earliest


def actions(leg: Legitimation, today: date | None = None) -> list[dict[str, Any]]:
    """What a user may do now with this toewijzing; only what is valid is offered.

    A start and a stop carry the earliest and latest date their form accepts (``min``/``max``):
    never after today, the message's date (TR134), and a start not after the toewijzing's end.
    A start is offered from the toewijzing's ingangsdatum on (:func:`start_waits_until`).
    """
    if leg.financing != CODE or not leg.toewijzingnummer:
        return []
    today = today or date.today()
    found: list[dict[str, Any]] = []
    current = active_start(leg)
    waiting = pending(leg) is not None
    items = starts(leg)
    final_stop = bool(items) and (
        items[-1].get("stop_status") == GEACCEPTEERD and items[-1].get("reden") != TIJDELIJK
    )
    if leg.status == "actief" and current is None and not waiting and not final_stop:
        earliest = earliest_start(leg)
        latest = min(today, leg.einddatum) if leg.einddatum else today
        if earliest <= latest:
            found.append(
                {
                    "action": "start",
                    "label": "Start zorg melden (305)",
                    "id": leg.id,
                    "min": earliest,
                    "max": latest,
                }
            )
    if current is not None and current["status"] == GEACCEPTEERD and not waiting:
        found.append(
            {
                "action": "stop",
                "label": "Stop zorg melden (307)",
                "id": leg.id,
                "min": date.fromisoformat(current["begindatum"]),
                "max": max(today, date.fromisoformat(current["begindatum"])),
            }
        )
        found.append(
            {
                "action": "start_intrekken",
                "label": "Start intrekken (305, verwijderen)",
                "id": leg.id,
            }
        )
    if items and items[-1].get("stop_status") == GEACCEPTEERD and not waiting:
        # a wrong stop is corrected by withdrawing it (307, StatusAanlevering 3) and sending a
        # new one; only the latest stop, not one a later start has followed
        found.append(
            {"action": "stop_intrekken", "label": "Stop intrekken (307, verwijderen)", "id": leg.id}
        )
    return found


def start_waits_until(leg: Legitimation, today: date | None = None) -> date | None:
    """The day a start may be reported when that lies after today (TR134: a start is not after
    the message's date), else None."""
    today = today or date.today()
    if leg.financing != CODE or not leg.toewijzingnummer or leg.status != "actief":
        return None
    if active_start(leg) is not None or pending(leg) is not None:
        return None
    earliest = earliest_start(leg)
    return earliest if earliest > today else None


def _state_for(leg: Legitimation) -> rules.StartState:
    state = rules.StartState(
        toewijzingen={
            leg.toewijzingnummer: rules.ToewijzingState(
                nummer=leg.toewijzingnummer, bsn="", ingangsdatum=leg.begindatum
            )
        }
    )
    for s in starts(leg):
        if s["status"] in (VERZONDEN, GEACCEPTEERD):
            begin = date.fromisoformat(s["begindatum"])
            state.starts.setdefault(leg.toewijzingnummer, []).append(begin)
            if s.get("stop_status") in (VERZONDEN, GEACCEPTEERD):
                state.stops[(leg.toewijzingnummer, begin)] = date.fromisoformat(s["einddatum"])
    return state


def _startstop_bericht(session, leg, kind, product: msgs.StartStop, today) -> msgs.Bericht:
    std = standard_of(leg)
    b = msgs.Bericht(
        std=std,
        kind=kind,
        header=_header(session, std, leg.financier.code, today),
        client=persoon(leg.client),
        producten=[product],
    )
    issues = rules.check_startstop_state(kind, product, _state_for(leg))
    if kind == "305" and product.status == "1" and product.begindatum < leg.begindatum:
        issues.append(
            Issue(
                "9307",
                f"De start ({product.begindatum:%d-%m-%Y}) ligt vóór de ingangsdatum van de "
                f"toewijzing ({leg.begindatum:%d-%m-%Y}).",
                "Begindatum",
            )
        )
    elif kind == "305" and product.status == "1" and product.begindatum < earliest_start(leg):
        before = earliest_start(leg) - timedelta(days=1)
        issues.append(
            Issue(
                "overlap",
                f"De start ({product.begindatum:%d-%m-%Y}) ligt niet na de einddatum van de "
                f"vorige levering ({before:%d-%m-%Y}); kies een latere begindatum.",
                "Begindatum",
            )
        )
    if leg.einddatum and product.begindatum > leg.einddatum:
        issues.append(
            Issue("9308", "De start ligt na de einddatum van de toewijzing.", "Begindatum")
        )
    if issues:
        raise RuleError(issues)
    return b


def _product(leg: Legitimation, **kw) -> msgs.StartStop:
    return msgs.StartStop(
        toewijzingnummer=leg.toewijzingnummer,
        categorie=leg.productcategorie,
        code=leg.productcode,
        toewijzing_ingangsdatum=leg.begindatum,
        **kw,
    )


def start_draft(
    session: Session, leg: Legitimation, begindatum: date, *, delete: bool = False, today=None
) -> MessageDraft:
    """A 305 (start, or with ``delete`` the withdrawal of the active start) for one toewijzing.

    Records the start as ``verzonden``; the 306 makes it ``geaccepteerd`` or ``afgewezen``.
    """
    today = today or date.today()
    product = _product(leg, begindatum=begindatum, status="3" if delete else "1")
    b = _startstop_bericht(session, leg, "305", product, today)
    payload = checked_build(b, today)
    items = starts(leg)
    if delete:  # only the start that counts now; earlier withdrawn ones stay as they were
        for s in items:
            if (
                s["begindatum"] == begindatum.isoformat()
                and s["status"] in (VERZONDEN, GEACCEPTEERD)
                and s.get("stop_status") not in (VERZONDEN, GEACCEPTEERD)
            ):
                s["status"], s["bericht"] = INTREKKEN, b.header.identificatie
    else:
        items.append(
            {
                "begindatum": begindatum.isoformat(),
                "status": VERZONDEN,
                "codes": [],
                "bericht": b.header.identificatie,
            }
        )
    _save_starts(leg, items)
    return draft_for(b, payload)


def stop_withdraw_draft(session: Session, leg: Legitimation, *, today=None) -> MessageDraft:
    """A 307 with StatusAanlevering 3: withdraw the latest accepted stop (the correction of a
    wrong stop is: withdraw it, then send the right one). The 308 makes it ``ingetrokken``, and
    the start counts again."""
    today = today or date.today()
    items = starts(leg)
    last = items[-1] if items else None
    if last is None or last.get("stop_status") != GEACCEPTEERD:
        raise RuleError(
            [Issue("9063", "Er is geen geaccepteerde stop om in te trekken.", "Einddatum")]
        )
    product = _product(
        leg,
        begindatum=date.fromisoformat(last["begindatum"]),
        einddatum=date.fromisoformat(last["einddatum"]),
        reden=last["reden"],
        status="3",
    )
    b = _startstop_bericht(session, leg, "307", product, today)
    payload = checked_build(b, today)
    last.update(stop_status=INTREKKEN, stop_bericht=b.header.identificatie, stop_codes=[])
    _save_starts(leg, items)
    return draft_for(b, payload)


def stop_draft(
    session: Session, leg: Legitimation, einddatum: date, reden: str, *, today=None
) -> MessageDraft:
    """A 307 for the active start of a toewijzing, with the standard's own reason list."""
    today = today or date.today()
    current = active_start(leg)
    if current is None or current["status"] != GEACCEPTEERD:
        raise RuleError(
            [Issue("9069", "Er is geen geaccepteerde start om te stoppen.", "Begindatum")]
        )
    std = standard_of(leg)
    begin = date.fromisoformat(current["begindatum"])
    issues = []
    if not reden:
        issues.append(Issue("XSD", "Kies een reden van beëindiging.", "RedenBeeindiging"))
    elif reden not in std.codes("LDT_RedenBeeindiging"):
        law = "Jeugdwet (iJw)" if std is IJW else "Wmo (iWmo)"
        issues.append(
            Issue(  # the reason list is the XSD's LDT_RedenBeeindiging of each standard
                "XSD",
                f"Reden {reden} hoort niet bij de {law}; kies een reden uit de lijst.",
                "RedenBeeindiging",
            )
        )
    if einddatum < begin:
        issues.append(
            Issue(
                "TR018",
                f"De einddatum ({einddatum:%d-%m-%Y}) ligt vóór de begindatum van de zorg "
                f"({begin:%d-%m-%Y}); kies een einddatum op of na de begindatum.",
                "Einddatum",
            )
        )
    if issues:
        raise RuleError(issues)
    product = _product(
        leg,
        begindatum=begin,
        einddatum=einddatum,
        reden=reden,
        status="1",
    )
    b = _startstop_bericht(session, leg, "307", product, today)
    payload = checked_build(b, today)
    items = starts(leg)
    for s in items:
        if s["begindatum"] == current["begindatum"] and s["status"] == GEACCEPTEERD:
            s.update(
                einddatum=einddatum.isoformat(),
                reden=reden,
                stop_status=VERZONDEN,
                stop_bericht=b.header.identificatie,
                stop_codes=[],  # a new stop after a rejected one: the old codes are history
            )
    _save_starts(leg, items)
    return draft_for(b, payload)


def vot_draft(
    session: Session,
    client: Client,
    financier: Financier,
    std: Standard,
    aanvragen: list[msgs.Aanvraag],
    *,
    today=None,
) -> MessageDraft:
    """A 315 (verzoek om toewijzing)."""
    today = today or date.today()
    b = msgs.Bericht(
        std=std,
        kind="315",
        header=_header(session, std, financier.code, today),
        client=persoon(client),
        aanvragen=aanvragen,
    )
    return draft_for(b, checked_build(b, today))


def vow_draft(
    session: Session,
    client: Client,
    financier: Financier,
    std: Standard,
    verzoek: msgs.Verzoek,
    *,
    today=None,
) -> MessageDraft:
    """A 317 (verzoek om wijziging); must list every current toewijzing (TR349)."""
    today = today or date.today()
    legs = {
        leg.toewijzingnummer: leg
        for leg in client.legitimations
        if leg.financing == CODE
        and leg.financier_id == financier.id
        and leg.status == "actief"
        and (leg.einddatum is None or leg.einddatum >= today)
        and standard_of(leg) == std
    }
    current = {nr: leg.begindatum for nr, leg in legs.items()}
    products = {
        nr: rules.ToewijzingState(
            nr, client.bsn, leg.begindatum, leg.einddatum, leg.productcategorie, leg.productcode
        )
        for nr, leg in legs.items()
    }
    b = msgs.Bericht(
        std=std,
        kind="317",
        header=_header(session, std, financier.code, today),
        client=msgs.Persoon(bsn=client.bsn, geboortedatum=client.geboortedatum),
        verzoek=verzoek,
    )
    issues = (
        rules.check_message(b, today)
        + rules.check_317_state(b, set(current))
        + rules.check_317_dates(b, current)
        + rules.check_317_products(b, products)
    )
    if issues:
        raise RuleError(issues)
    return draft_for(b, msgs.build(b))


# --- incoming --------------------------------------------------------------------------------


def process(session: Session, payload: bytes, today: date | None = None) -> ParseOutcome | None:
    """Apply an incoming iWmo/iJw message; None when the payload is not iWmo/iJw at all."""
    found = msgs.recognise(payload[:65536])
    if found is None:
        return None
    std, kind = found
    try:
        b = msgs.parse(payload)
    except msgs.MessageError as exc:
        return ParseOutcome(
            standard=std.label,
            code=std.message_name(kind),
            summary=f"Geweigerd: {exc}",
            needs_action=True,
            issues=[Issue("XSD", str(exc), None)],
        )
    handler = {
        "301": _process_301,
        "306": _checked_retour(_process_retour_startstop),
        "308": _checked_retour(_process_retour_startstop),
        "316": _checked_retour(_process_retour_request),
        "318": _checked_retour(_process_retour_request),
        "319": _process_319,
        "325": _process_325,
    }.get(kind)
    if handler is None:
        return ParseOutcome(
            standard=std.label,
            code=b.name,
            summary=f"Een {b.name}-bericht is voor een gemeente bedoeld; het is niet verwerkt.",
            needs_action=True,
            reference=b.header.identificatie,
        )
    return handler(session, b, payload, today or date.today())


def _checked_retour(handler):
    def process_retour(session, b: msgs.Bericht, payload, today) -> ParseOutcome:
        return _flag_rules(handler(session, b, payload, today), b, today)

    return process_retour


def _retour_reply(b: msgs.Bericht, payload: bytes, today: date, **kw) -> MessageDraft:
    ident = msgs.new_identificatie()
    retour = msgs.build_retour(b.std, payload, identificatie=ident, dagtekening=today, **kw)
    kind = msgs.RETOUR_OF[b.kind]
    return MessageDraft(
        standard=b.std.label,
        code=b.std.message_name(kind),
        payload=retour,
        geadresseerde=("Gemeente", b.header.afzender),
        reference=ident,
        filename=f"{b.std.message_name(kind)}_{ident}.xml",
    )


def _301_retourcodes(b: msgs.Bericht, problems: list[Issue]) -> dict:
    """The 302's codes for a 301 we refuse. Every rule the portal checks on a 301 alone is a
    rule of the message's content (retourcode 0001, the XSLT level of the standard): the whole
    message is refused in the header, and the finding names the rule."""
    return {"header_codes": ["0001"]}


def client_details(p: msgs.Persoon) -> dict[str, Any]:
    """What a 301 says of the client beyond the columns of ``Client``: kept on every toewijzing
    of that 301 (``sleutels["client"]``) and shown on the client's toewijzingen page."""
    std_codes = IWMO.codes
    return {
        "partnernaam": p.partnernaam,
        "naamgebruik": std_codes("LDT_NaamGebruik").get(p.naamgebruik or "", p.naamgebruik),
        "landcode": p.landcode,
        "huisnummer_toevoeging": p.huisnummer_toevoeging,
        "telefoon": p.telefoon,
        "email": p.email,
        "communicatie": " ".join(
            x
            for x in (
                std_codes("LDT_Communicatievorm").get(p.communicatie_vorm or "", ""),
                f"({p.communicatie_taal})" if p.communicatie_taal else "",
            )
            if x
        )
        or None,
        "juridische_status": p.juridische_status,
        "wettelijke_vertegenwoordiging": p.wettelijke_vertegenwoordiging,
        "commentaar": p.commentaar,
        "relaties": [
            dict(r, soort_label=std_codes("LDT_SoortRelatie").get(r.get("soort") or "", ""))
            for r in p.relaties
        ],
    }


def _stamp(t: msgs.Toewijzing) -> str:
    return f"{t.toewijzingsdatum.isoformat()}T{t.toewijzingstijd}"


def _process_301(session: Session, b: msgs.Bericht, payload: bytes, today: date) -> ParseOutcome:
    outcome = ParseOutcome(
        standard=b.std.label, code=b.name, summary="", reference=b.header.identificatie
    )
    problems = [i for i in rules.check_message(b, today) if i.code != "TR135"]
    if b.header.ontvanger != own_agb(session):
        problems.append(
            Issue("ontvanger", f"Het bericht is gericht aan AGB {b.header.ontvanger}.", "Ontvanger")
        )
    if problems:
        outcome.summary = "Toewijzing afgekeurd: " + "; ".join(
            f"{i.message} ({i.code})" for i in problems
        )
        outcome.needs_action = True
        outcome.issues = problems
        outcome.replies = [_retour_reply(b, payload, today, **_301_retourcodes(b, problems))]
        return outcome

    fin = gemeente(session, b.header.afzender)
    p = b.client
    client = session.scalar(select(Client).where(Client.bsn == p.bsn))
    created = client is None
    if created:
        client = Client(bsn=p.bsn, achternaam=p.achternaam, geboortedatum=p.geboortedatum)
        session.add(client)
    client.geboortedatum = p.geboortedatum
    client.geslacht = p.geslacht
    client.achternaam = p.achternaam or client.achternaam
    client.tussenvoegsel = p.voorvoegsel
    client.voorletters = p.voorletters or client.voorletters
    client.voornamen = p.voornamen or client.voornamen
    for attr in ("straat", "huisnummer", "postcode", "plaats", "huisnummer_toevoeging"):
        if getattr(p, attr):
            setattr(client, attr, getattr(p, attr))
    client.telefoon = p.telefoon or client.telefoon
    client.email = p.email or client.email
    details = client_details(p)
    session.flush()

    existing = {
        leg.toewijzingnummer: leg
        for leg in session.scalars(
            select(Legitimation).where(
                Legitimation.client_id == client.id,
                Legitimation.financing == CODE,
                Legitimation.financier_id == fin.id,
            )
        )
    }
    new = changed = removed = 0
    seen = set()
    granted: dict[str, list[Legitimation]] = {}  # ReferentieAanbieder -> legitimations (TR379)
    refused: dict[tuple[str, int], list[str]] = {}  # codes per ToegewezenProduct for the 302
    for n, t in enumerate(b.toewijzingen):
        seen.add(t.nummer)
        leg = existing.get(t.nummer)
        if t.reden_wijziging == "13" and leg is not None and _awarded_lines(session, leg):
            # TR385: a toewijzing with awarded, uncredited prestaties is not deleted; it stays
            # as it was and the 302 refuses this ToegewezenProduct with 9385
            refused[("ToegewezenProduct", n)] = ["9385"]
            outcome.issues.append(
                Issue(
                    "9385",
                    f"Toewijzing {t.nummer}: de gemeente verwijdert een toewijzing waarop al "
                    "prestaties zijn toegekend; de toewijzing blijft staan. Crediteer eerst de "
                    "prestaties of neem contact op met de gemeente.",
                    "RedenWijziging",
                )
            )
            continue
        if leg is not None and t.referentie_aanbieder:
            granted.setdefault(t.referentie_aanbieder, []).append(leg)
        if leg is not None and (leg.sleutels or {}).get("toegewezen_op", "") > _stamp(t):
            continue  # IV013: a newer toewijzing was already processed
        if leg is None:
            leg = Legitimation(client_id=client.id, financing=CODE, financier_id=fin.id)
            session.add(leg)
            new += 1
            if t.referentie_aanbieder:
                granted.setdefault(t.referentie_aanbieder, []).append(leg)
        else:
            changed += 1
        leg.toewijzingnummer = t.nummer
        leg.begindatum = t.ingangsdatum
        leg.einddatum = t.einddatum
        leg.productcategorie = t.categorie
        leg.productcode = t.code
        leg.volume = t.volume
        leg.eenheid = EENHEID_UNIT.get(t.eenheid) if t.eenheid else None
        leg.frequentie = FREQ_FREQUENCY.get(t.frequentie) if t.frequentie else None
        leg.budget_cents = t.budget
        leg.reden_wijziging = t.reden_wijziging
        leg.referentienummer = t.referentie_aanbieder
        leg.opmerking = t.commentaar
        leg.bron = "301"
        if t.reden_wijziging == "13":
            leg.status = "vervallen"
            removed += 1
        else:
            leg.status = "actief" if (t.einddatum is None or t.einddatum >= today) else "beeindigd"
        sleutels = dict(leg.sleutels or {})
        sleutels.update(
            standaard=b.std.key,
            eenheid=t.eenheid,
            frequentie=t.frequentie,
            toegewezen_op=_stamp(t),
            bericht=b.header.identificatie,
            client=details,
        )
        leg.sleutels = sleutels
    # Snapshot: a current toewijzing that the gemeente no longer sends has lapsed.
    for nummer, leg in existing.items():
        current = leg.einddatum is None or leg.einddatum >= b.header.dagtekening
        if nummer not in seen and leg.status == "actief" and current:
            leg.status = "vervallen"
            removed += 1
    session.flush()
    from plugins.wmo_jw import verzoeken

    honoured = verzoeken.on_toewijzingen(session, granted)
    outcome.client_ids = [client.id]
    parts = [f"{new} nieuw"] if new else []
    if changed:
        parts.append(f"{changed} bijgewerkt")
    if removed:
        parts.append(f"{removed} vervallen")
    outcome.summary = (
        f"Toewijzing van gemeente {fin.code} voor cliënt {client.naam}: "
        + (", ".join(parts) or "niets gewijzigd")
        + "."
        + "".join(f" Verzoek {v.referentie} is toegekend." for v in honoured)
    )
    outcome.needs_action = created or new > 0
    if refused:
        outcome.needs_action = True
        outcome.summary += " " + " ".join(i.message + f" ({i.code})" for i in outcome.issues)
    outcome.replies = [_retour_reply(b, payload, today, codes=refused)]
    return outcome


def _awarded_lines(session: Session, leg: Legitimation) -> int:
    """How many awarded, uncredited debet prestaties a toewijzing has (TR385)."""
    from portal.models.declaration import LINE_AWARDED, DeclarationLine

    return session.scalar(
        select(func.count())
        .select_from(DeclarationLine)
        .where(
            DeclarationLine.legitimation_id == leg.id,
            DeclarationLine.status == LINE_AWARDED,
            DeclarationLine.debet_credit == "D",
        )
    )


def _legitimations_by_nummer(session: Session, bsn: str, nummers: list[str]):
    rows = session.scalars(
        select(Legitimation)
        .join(Client, Client.id == Legitimation.client_id)
        .where(
            Client.bsn == bsn,
            Legitimation.financing == CODE,
            Legitimation.toewijzingnummer.in_(nummers),
        )
    )
    return {leg.toewijzingnummer: leg for leg in rows}


def _bad(codes: list[str]) -> list[str]:
    return [c for c in codes if c not in ("0200", "0233")]


def _process_retour_startstop(session, b: msgs.Bericht, payload, today) -> ParseOutcome:
    stop = b.kind == "308"
    ident = b.header.identificatie
    rejected_all = _bad(b.header.retourcodes)
    outcome = ParseOutcome(
        standard=b.std.label,
        code=b.name,
        summary="",
        reference=b.header.identificatie_retour,
        answers_reference=ident,
    )
    # The legitimations whose start/stop was sent in the heenbericht with this identificatie:
    # looked up by the client and toewijzingnummers the retour repeats; a retour with only a
    # header (0001) repeats neither, then every toewijzing is looked at.
    nummers = [p.toewijzingnummer for p in b.producten if p.toewijzingnummer]
    if b.client and b.client.bsn and nummers:
        candidates = list(_legitimations_by_nummer(session, b.client.bsn, nummers).values())
    else:
        candidates = session.scalars(
            select(Legitimation).where(
                Legitimation.financing == CODE, Legitimation.toewijzingnummer.is_not(None)
            )
        )
    legs = [
        leg
        for leg in candidates
        if any(s.get("stop_bericht" if stop else "bericht") == ident for s in starts(leg))
    ]
    codes_by_nr = {p.toewijzingnummer: _bad(p.retourcodes) for p in b.producten}
    client_codes = _bad(b.client.retourcodes) if b.client else []
    accepted = rejected = duplicates = 0
    for leg in legs:
        codes = rejected_all or client_codes or codes_by_nr.get(leg.toewijzingnummer, [])
        items = starts(leg)
        for s in items:
            if s.get("stop_bericht" if stop else "bericht") != ident:
                continue
            # Only a state that waits for this retour moves; the same retour again (VECOZO
            # may offer it twice) changes nothing. Legitimation.status stays the gemeente's
            # view of the toewijzing: stopping care does not end the toewijzing.
            if stop and s.get("stop_status") == INTREKKEN:  # a refused withdrawal: it stands
                s["stop_status"] = GEACCEPTEERD if codes else INGETROKKEN
                s["stop_codes"] = codes
            elif stop and s.get("stop_status") == VERZONDEN:
                s["stop_status"] = AFGEWEZEN if codes else GEACCEPTEERD
                s["stop_codes"] = codes
            elif not stop and s["status"] == INTREKKEN:  # a refused withdrawal: it stands
                s["status"] = GEACCEPTEERD if codes else INGETROKKEN
                s["codes"] = codes
            elif not stop and s["status"] == VERZONDEN:
                s["status"] = AFGEWEZEN if codes else GEACCEPTEERD
                s["codes"] = codes
            else:
                duplicates += 1
                continue
            if codes:
                rejected += 1
                for code in codes:
                    outcome.issues.append(
                        Issue(
                            code,
                            f"Toewijzing {leg.toewijzingnummer}: "
                            + b.std.meaning("LDT_RetourCode", code),
                            "ToewijzingNummer",
                        )
                    )
            else:
                accepted += 1
        _save_starts(leg, items)
        outcome.client_ids.append(leg.client_id)
    what = "Stop" if stop else "Start"
    if legs and duplicates and not (accepted or rejected):
        outcome.summary = f"Retour {b.name} was al verwerkt; er is niets gewijzigd."
    elif not legs:
        outcome.summary = f"Retour {b.name} hoort bij geen bekend bericht ({ident})."
        outcome.needs_action = True
    elif rejected:
        outcome.summary = f"{what} zorg afgewezen voor {rejected} toewijzing(en)."
        outcome.needs_action = True
    else:
        outcome.summary = f"{what} zorg geaccepteerd door de gemeente ({accepted})."
    return outcome


def _process_retour_request(session, b: msgs.Bericht, payload, today) -> ParseOutcome:
    from plugins.wmo_jw import verzoeken

    # every class of a 316/318 can carry codes (Header, Client, AangevraagdProduct, Verzoek,
    # TeWijzigenProduct, …): all of them count
    found = list(b.header.retourcodes)
    if b.client:
        found += b.client.retourcodes
    for a in b.aanvragen:
        found += a.retourcodes
    if b.verzoek:
        found += b.verzoek.all_retourcodes()
    codes = list(dict.fromkeys(_bad(found)))
    what = "verzoek om toewijzing" if b.kind == "316" else "verzoek om wijziging"
    verzoek = verzoeken.on_retour(session, b.header.identificatie, codes)
    outcome = ParseOutcome(
        standard=b.std.label,
        code=b.name,
        summary=(
            f"Het {what} is afgekeurd: "
            + "; ".join(f"{c} {b.std.meaning('LDT_RetourCode', c)}" for c in codes)
            if codes
            else f"Het {what} is ontvangen en goedgekeurd door de gemeente."
        ),
        needs_action=bool(codes),
        issues=[Issue(c, b.std.meaning("LDT_RetourCode", c), None) for c in codes],
        reference=b.header.identificatie_retour,
        answers_reference=b.header.identificatie,
    )
    if verzoek is None:
        outcome.summary += (
            f" Dit retourbericht hoort bij geen bekend verzoek (bericht {b.header.identificatie});"
            " controleer het."
        )
        outcome.needs_action = True
    else:
        outcome.summary = f"Verzoek {verzoek.referentie}: " + outcome.summary
        outcome.client_ids = [verzoek.client_id]
    return outcome


def _process_319(session, b: msgs.Bericht, payload, today) -> ParseOutcome:
    a = b.antwoord
    meaning = b.std.meaning("LDT_VerzoekAntwoord", a.antwoord)
    reden = (
        " — " + b.std.meaning("LDT_RedenAfwijzingVerzoek", a.reden_afwijzing)
        if a.reden_afwijzing
        else ""
    )
    if a.woonplaats_gemeente:
        reden += f" (verantwoordelijke gemeente: {a.woonplaats_gemeente})"
    from plugins.wmo_jw import verzoeken

    problems = [i for i in rules.check_message(b, today) if i.code != "TR135"]
    if problems:
        return ParseOutcome(
            standard=b.std.label,
            code=b.name,
            summary="Antwoordbericht afgekeurd: "
            + "; ".join(f"{i.message} ({i.code})" for i in problems),
            needs_action=True,
            issues=problems,
            reference=b.header.identificatie,
            replies=[_retour_reply(b, payload, today, header_codes=["0001"])],
        )
    ident = b.header.identificatie
    found = verzoeken.check_antwoord(verzoeken.by_referentie(session, a.referentie), a, ident)
    if found and found[0].code != "9355":
        # the answer breaks a rule against the request it answers: our 320 says which, and
        # the request keeps the state it had
        verzoek = verzoeken.by_referentie(session, a.referentie)
        return ParseOutcome(
            standard=b.std.label,
            code=b.name,
            summary="Antwoordbericht afgekeurd: "
            + "; ".join(f"{i.message} ({i.code})" for i in found),
            needs_action=True,
            issues=found,
            reference=ident,
            replies=[
                _retour_reply(b, payload, today, codes={("Antwoord", 0): [i.code for i in found]})
            ],
            client_ids=[verzoek.client_id],
        )
    verzoek = verzoeken.on_antwoord(session, a, b.std, ident)
    unknown = (
        " Dit antwoord hoort bij geen bekend verzoek (9355); controleer het."
        if verzoek is None
        else ""
    )
    return ParseOutcome(
        standard=b.std.label,
        code=b.name,
        summary=f"Antwoord op verzoek {a.referentie}: {meaning}{reden}.{unknown}",
        needs_action=a.antwoord == "1" or verzoek is None,
        issues=found,
        reference=b.header.identificatie,
        replies=[
            _retour_reply(b, payload, today, codes={("Antwoord", 0): [i.code for i in found]})
        ],
        client_ids=[verzoek.client_id] if verzoek else [],
    )


def _process_325(session, b: msgs.Bericht, payload, today) -> ParseOutcome:
    """A 325 is read here and applied by the core's declaration run (``declaration_answer``)."""
    from plugins.wmo_jw.declaration import answer_325

    # the gemeente's answer is applied as it is (it is the gemeente's decision); a 325 that
    # breaks the standard's rules (TR342: the rejected lines do not explain the totals, …) gets
    # no answer of its own, so the findings are shown with the message and need a person
    problems = received_rule_issues(b, today)
    return ParseOutcome(
        standard=b.std.label,
        code=b.name,
        summary=f"Declaratie-antwoord op declaratie {b.declaratie.nummer}.",
        needs_action=bool(problems),
        issues=problems,
        reference=b.header.identificatie,
        answers_reference=b.header.declaratie_identificatie,
        declaration_answer=answer_325(b),
    )


def received_rule_issues(b: msgs.Bericht, today: date) -> list[Issue]:
    """The in-message rules of the standard on a message we received. A retour (306, 308,
    316, 318) repeats its heenbericht with RetourCodes added, so the heenbericht's rules apply
    to what it repeats; TR135 (a date in the future) is left to the transport, whose clock may
    differ from the sender's by a day."""
    kind = {retour: heen for heen, retour in msgs.RETOUR_OF.items()}.get(b.kind, b.kind)
    as_sent = dataclasses.replace(b, kind=kind) if kind != b.kind else b
    return [i for i in rules.check_message(as_sent, today) if i.code != "TR135"]


def _flag_rules(outcome: ParseOutcome, b: msgs.Bericht, today: date) -> ParseOutcome:
    """Add the findings of :func:`received_rule_issues` to a retour's outcome: a retour gets no
    answer, so a person looks at it (the codes are the standard's)."""
    problems = received_rule_issues(b, today)
    if problems:
        outcome.issues = list(outcome.issues) + problems
        outcome.needs_action = True
        outcome.summary += " Het retourbericht breekt regels van de standaard: " + "; ".join(
            f"{i.message} ({i.code})" for i in problems
        )
    return outcome


def now_stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")
