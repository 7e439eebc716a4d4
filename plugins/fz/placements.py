"""The placement (plaatsingsbesluit) as legitimation, and the chain around it: FZ821 in, the
melding aanvang zorg (FZ823) and melding einde zorg (FZ825) out, DJI's retours FZ824/FZ826 in.

A placement is a :class:`~portal.models.Legitimation` of financing ``fz`` with DJI as financier:
``referentienummer`` is the plaatsingsbesluitnummer, ``productcode`` the zorgprestatie or ZZP,
``begindatum``/``einddatum`` the period; ``sleutels`` hold ``titel`` (forensische titel) and
``instelling`` (AGB of the institution), and the chain's history under ``aanvang`` and ``einde``
(``{"datum", "status", "codes", "bericht", "reden"?}``). ``keten_stand`` is where the chain
stands, so worklists select in SQL:

    geplaatst → aanvang-verzonden → gestart → einde-verzonden → beeindigd
    (a rejected start goes back to ``geplaatst``, a rejected end back to ``gestart``)

A start needs a placement (and the day within it); an end needs an accepted start.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from plugins.fz import codes, formats
from portal.domain import FinancierKind, Issue, MessageDraft, ParseOutcome, Severity
from portal.models import Client, Financier, Legitimation, Organisation

CODE = "fz"
DJI_UZOVI = "9992"
DJI_ROL = "DJI"

GEPLAATST = "geplaatst"
AANVANG_VERZONDEN = "aanvang-verzonden"
GESTART = "gestart"
EINDE_VERZONDEN = "einde-verzonden"
BEEINDIGD = "beeindigd"
STAND_LABELS = {
    GEPLAATST: "geplaatst, zorg niet gestart",
    AANVANG_VERZONDEN: "aanvang zorg gemeld, wacht op DJI",
    GESTART: "zorg gestart",
    EINDE_VERZONDEN: "einde zorg gemeld, wacht op DJI",
    BEEINDIGD: "zorg beëindigd",
}
REDENEN_EINDE = {
    "01": "Einde plaatsing volgens plan",
    "02": "Voortijdig beëindigd op verzoek van DJI of de reclassering",
    "03": "Voortijdig beëindigd door de zorgaanbieder",
    "04": "Overplaatsing naar een andere instelling",
    "05": "Overlijden van de cliënt",
    "99": "Overige reden",
}
VERZONDEN, GEACCEPTEERD, AFGEWEZEN = "verzonden", "geaccepteerd", "afgewezen"


class ChainError(ValueError):
    """A chain message we refuse to build; ``issues`` hold the Dutch reasons."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__(" ".join(i.message for i in issues))


# --- the environment guard -----------------------------------------------------------------------


def vecozo_environment() -> str:
    """Where messages go: "standin" (the local stand-in) or a real VECOZO environment."""
    if has_app_context():
        return str(current_app.config.get("VECOZO_ENVIRONMENT") or "standin")
    return "standin"


def provisional_refusal(fmt: formats.Format, *, warn: bool = False) -> Issue | None:
    """A provisional format never goes to a real VECOZO environment (only to the stand-in).
    With ``warn``, the stand-in case is a warning that says so (shown before sending)."""
    env = vecozo_environment()
    if not fmt.provisional:
        return None
    if env == "standin":
        if not warn:
            return None
        return Issue(
            "voorlopig-formaat",
            f"{fmt.message} gebruikt een voorlopig formaat ({fmt.label}): het bericht gaat naar "
            "de stand-in (oefenomgeving), niet naar DJI.",
            "formaat",
            Severity.WARNING,
        )
    return Issue(
        "voorlopig-formaat",
        f"{fmt.message} wordt niet verstuurd naar VECOZO ({env}): het portaal kent van dit "
        f"bericht alleen een voorlopig formaat ({fmt.label}), omdat DJI het officiële formaat "
        "niet openbaar heeft gemaakt. Installeer eerst het officiële formaat (zie de handleiding "
        "forensische zorg, docs/fz.md); tot dan kan alleen met de stand-in worden geoefend.",
        "formaat",
    )


# --- small lookups -------------------------------------------------------------------------------


def own_agb(session: Session) -> str | None:
    org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    return org.main_agb if org else None


def dji(session: Session) -> Financier:
    """DJI as financier (created the first time a placement arrives)."""
    fin = session.scalar(
        select(Financier).where(Financier.financing == CODE, Financier.code == DJI_UZOVI)
    )
    if fin is None:
        fin = Financier(
            financing=CODE,
            soort=FinancierKind.DJI.value,
            code=DJI_UZOVI,
            naam="Dienst Justitiële Inrichtingen",
        )
        session.add(fin)
        session.flush()
    return fin


def new_identificatie() -> str:
    return "FZ" + uuid.uuid4().hex[:16].upper()


def keys(leg: Legitimation) -> dict[str, Any]:
    return dict(leg.sleutels or {})


def save_keys(leg: Legitimation, **changes: Any) -> None:
    """Change keys of the placement's ``sleutels`` (a JSON column: marked as modified)."""
    data = keys(leg)
    data.update(changes)
    leg.sleutels = data
    flag_modified(leg, "sleutels")


def stand(leg: Legitimation) -> str:
    return leg.keten_stand or GEPLAATST


def aanvang(leg: Legitimation) -> dict[str, Any] | None:
    return keys(leg).get("aanvang")


def einde(leg: Legitimation) -> dict[str, Any] | None:
    return keys(leg).get("einde")


def started_on(leg: Legitimation) -> date | None:
    a = aanvang(leg)
    if a and a.get("status") == GEACCEPTEERD:
        return date.fromisoformat(a["datum"])
    return None


def placement_issues(leg: Legitimation) -> list[Issue]:
    """What the portal checks on a placement besides the core's rules (validate_legitimation)."""
    out: list[Issue] = []
    sleutels = keys(leg)
    titel = sleutels.get("titel")
    if titel and titel not in codes.titels():
        out.append(Issue("titel", f"Forensische titel {titel} is onbekend.", "titel"))
    if not titel:
        out.append(
            Issue(
                "titel",
                "Vul de forensische titel van het plaatsingsbesluit in; zonder titel kan het "
                "portaal niet controleren of de prestatie bij de titel past.",
                "titel",
                Severity.WARNING,
            )
        )
    code = leg.productcode
    if code and code not in codes.prestaties():
        out.append(
            Issue(
                "productcode",
                f"Prestatie of ZZP {code} komt niet voor in de (voorlopige) codelijst van DJI.",
                "productcode",
                Severity.WARNING,
            )
        )
    if titel in codes.titels() and code in codes.prestaties() and not codes.allowed(titel, code):
        out.append(
            Issue(
                "titel-prestatie",
                f"Prestatie {codes.prestatie_label(code)} is niet toegestaan bij de titel "
                f"{codes.titel_label(titel)}.",
                "productcode",
            )
        )
    instelling = sleutels.get("instelling")
    if instelling and not (str(instelling).isdigit() and len(str(instelling)) == 8):
        out.append(
            Issue("instelling", "De instelling is een AGB-code van 8 cijfers.", "instelling")
        )
    return out


# --- what may be done now -------------------------------------------------------------------------


def actions(leg: Legitimation, today: date | None = None) -> list[dict[str, Any]]:
    """The chain messages a user may send now for this placement (only valid ones)."""
    today = today or date.today()
    if leg.financing != CODE:
        return []
    s = stand(leg)
    if s == GEPLAATST and leg.status == "actief" and leg.begindatum <= today:
        return [{"kind": "aanvang", "label": "Aanvang zorg melden (FZ823)", "bericht": "FZ823"}]
    if s == GESTART:  # also when the placement was ended or withdrawn: the end is still due
        return [{"kind": "einde", "label": "Einde zorg melden (FZ825)", "bericht": "FZ825"}]
    return []


# --- FZ823 / FZ825 --------------------------------------------------------------------------------


def _client_values(client: Client) -> dict[str, Any]:
    return {"bsn": client.bsn, "geboortedatum": client.geboortedatum}


def _draft(fmt: formats.Format, values: Mapping[str, Any], identificatie: str) -> MessageDraft:
    return MessageDraft(
        standard=fmt.standard_label,
        code=fmt.message,
        payload=fmt.build(values),
        geadresseerde=(DJI_ROL, DJI_UZOVI),
        reference=identificatie,
        filename=f"{fmt.message}_{identificatie}.xml",
    )


def _header(session: Session, today: date) -> dict[str, Any]:
    agb = own_agb(session)
    if not agb:
        raise ChainError([Issue("agb", "De organisatie heeft nog geen AGB-code.", "agb")])
    return {
        "afzender": agb,
        "ontvanger": DJI_UZOVI,
        "identificatie": new_identificatie(),
        "dagtekening": today,
    }


def start_draft(
    session: Session, leg: Legitimation, datum: date, *, settings=None, today: date | None = None
) -> MessageDraft:
    """The FZ823 for ``leg`` starting on ``datum``; :class:`ChainError` when not allowed."""
    today = today or date.today()
    problems: list[Issue] = []
    if leg.financing != CODE or leg.status != "actief":
        problems.append(Issue("plaatsing", "Aanvang zorg kan alleen bij een actieve plaatsing."))
    elif stand(leg) != GEPLAATST:
        problems.append(
            Issue(
                "9507",
                "Voor deze plaatsing is de aanvang van de zorg al gemeld "
                f"({STAND_LABELS.get(stand(leg), stand(leg))}).",
            )
        )
    if datum < leg.begindatum or (leg.einddatum and datum > leg.einddatum):
        problems.append(
            Issue(
                "9508",
                f"De aanvangsdatum {datum:%d-%m-%Y} ligt buiten de plaatsing "
                f"({leg.begindatum:%d-%m-%Y} – "
                f"{leg.einddatum.strftime('%d-%m-%Y') if leg.einddatum else 'onbepaald'}).",
                "datum",
            )
        )
    if datum > today:
        problems.append(
            Issue("datum", "Meld de aanvang van de zorg pas als de zorg is begonnen.", "datum")
        )
    fmt = formats.active("FZ823", settings)
    refusal = provisional_refusal(fmt)
    if refusal:
        problems.append(refusal)
    if problems:
        raise ChainError(problems)
    values = {
        **_header(session, today),
        **_client_values(leg.client),
        "plaatsingsnummer": leg.referentienummer,
        "datum": datum,
    }
    return _draft(fmt, values, values["identificatie"])


def end_draft(
    session: Session,
    leg: Legitimation,
    datum: date,
    reden: str,
    *,
    settings=None,
    today: date | None = None,
) -> MessageDraft:
    """The FZ825 for ``leg`` ending on ``datum``; an end needs an accepted start."""
    today = today or date.today()
    problems: list[Issue] = []
    begun = started_on(leg)
    if leg.financing != CODE or stand(leg) != GESTART or begun is None:
        problems.append(
            Issue(
                "9506",
                "Einde zorg kan pas worden gemeld als DJI de aanvang van de zorg heeft "
                f"geaccepteerd (nu: {STAND_LABELS.get(stand(leg), stand(leg))}).",
            )
        )
    elif datum < begun:
        problems.append(
            Issue(
                "datum",
                f"De einddatum ligt vóór de aanvang van de zorg ({begun:%d-%m-%Y}).",
                "datum",
            )
        )
    if leg.einddatum and datum > leg.einddatum:
        problems.append(
            Issue(
                "9508",
                f"De einddatum ligt na het einde van de plaatsing ({leg.einddatum:%d-%m-%Y}).",
                "datum",
            )
        )
    if reden not in REDENEN_EINDE:
        problems.append(Issue("reden", "Kies een reden voor het einde van de zorg.", "reden"))
    fmt = formats.active("FZ825", settings)
    refusal = provisional_refusal(fmt)
    if refusal:
        problems.append(refusal)
    if problems:
        raise ChainError(problems)
    values = {
        **_header(session, today),
        **_client_values(leg.client),
        "plaatsingsnummer": leg.referentienummer,
        "datum": datum,
        "reden": reden,
    }
    return _draft(fmt, values, values["identificatie"])


def report_start(
    session: Session,
    leg: Legitimation,
    datum: date,
    *,
    settings=None,
    user_id: int | None = None,
    today: date | None = None,
):
    """Build the FZ823, put it in the outbox and record it on the placement (one transaction:
    the caller commits). A second click finds the stand moved on and is refused."""
    from portal.db import lock_row
    from portal.services import audit
    from portal.services.messages import create_outgoing

    lock_row(session, Legitimation, leg.id)
    session.refresh(leg)
    draft = start_draft(session, leg, datum, settings=settings, today=today)
    message = create_outgoing(session, draft, financing=CODE, created_by=user_id)
    message.client_ids = [leg.client_id]
    save_keys(
        leg,
        aanvang={"datum": datum.isoformat(), "status": VERZONDEN, "bericht": draft.reference},
    )
    leg.keten_stand = AANVANG_VERZONDEN
    audit.record(
        session,
        "fz.aanvang_gemeld",
        user_id=user_id,
        client_id=leg.client_id,
        object_type="legitimation",
        object_id=leg.id,
        detail={"datum": datum.isoformat()},
    )
    session.flush()
    return message


def report_end(
    session: Session,
    leg: Legitimation,
    datum: date,
    reden: str,
    *,
    settings=None,
    user_id: int | None = None,
    today: date | None = None,
):
    """Build the FZ825, put it in the outbox and record it (the caller commits)."""
    from portal.db import lock_row
    from portal.services import audit
    from portal.services.messages import create_outgoing

    lock_row(session, Legitimation, leg.id)
    session.refresh(leg)
    draft = end_draft(session, leg, datum, reden, settings=settings, today=today)
    message = create_outgoing(session, draft, financing=CODE, created_by=user_id)
    message.client_ids = [leg.client_id]
    save_keys(
        leg,
        einde={
            "datum": datum.isoformat(),
            "reden": reden,
            "status": VERZONDEN,
            "bericht": draft.reference,
        },
    )
    leg.keten_stand = EINDE_VERZONDEN
    audit.record(
        session,
        "fz.einde_gemeld",
        user_id=user_id,
        client_id=leg.client_id,
        object_type="legitimation",
        object_id=leg.id,
        detail={"datum": datum.isoformat(), "reden": reden},
    )
    session.flush()
    return message


# --- incoming: FZ821, FZ824, FZ826 ---------------------------------------------------------------


def _outcome(fmt: formats.Format, summary: str, **kw) -> ParseOutcome:
    return ParseOutcome(standard=fmt.standard_label, code=fmt.message, summary=summary, **kw)


def process_821(session: Session, fmt: formats.Format, v: dict[str, Any]) -> ParseOutcome:
    """A placement from DJI: the client (found by BSN, or created) and the placement, created
    or updated by its plaatsingsbesluitnummer."""
    agb = own_agb(session)
    if v.get("ontvanger") != agb:
        return _outcome(
            fmt,
            f"Plaatsing {v.get('plaatsingsnummer')} is gericht aan AGB {v.get('ontvanger')}, niet "
            "aan deze organisatie; er is niets gewijzigd.",
            needs_action=True,
            issues=[Issue("ontvanger", "Bericht voor een andere zorgaanbieder.", "Ontvanger")],
            reference=v.get("identificatie"),
        )
    client = session.scalar(select(Client).where(Client.bsn == v["bsn"]))
    if client is None:
        client = Client(
            bsn=v["bsn"],
            achternaam=v["achternaam"],
            geboortedatum=date.fromisoformat(v["geboortedatum"]),
            geslacht=v.get("geslacht") or "0",
            tussenvoegsel=v.get("voorvoegsel"),
            voorletters=v.get("voorletters"),
        )
        session.add(client)
        session.flush()
    fin = dji(session)
    leg = session.scalar(
        select(Legitimation).where(
            Legitimation.financing == CODE,
            Legitimation.client_id == client.id,
            Legitimation.referentienummer == v["plaatsingsnummer"],
        )
    )
    created = leg is None
    if created:
        leg = Legitimation(
            client_id=client.id,
            financing=CODE,
            financier_id=fin.id,
            bron="FZ821",
            status="actief",
            keten_stand=GEPLAATST,
            sleutels={},
        )
        session.add(leg)
    prestatie = codes.prestaties().get(v["prestatiecode"])
    leg.referentienummer = v["plaatsingsnummer"]
    leg.productcode = v["prestatiecode"]
    leg.begindatum = date.fromisoformat(v["begindatum"])
    leg.einddatum = date.fromisoformat(v["einddatum"]) if v.get("einddatum") else None
    leg.eenheid = prestatie.eenheid if prestatie else leg.eenheid
    save_keys(leg, titel=v["titel"], instelling=v["instelling"], soort=v.get("soort"))
    session.flush()
    _link_products(session, leg)
    what = "ontvangen" if created else "bijgewerkt"
    # DJI decided it, so it is stored; what does not fit our lists is shown to check
    doubts = [i for i in placement_issues(leg) if i.blocking]
    summary = (
        f"Plaatsing {leg.referentienummer} ({codes.titel_label(v['titel'])}, "
        f"{codes.prestatie_label(leg.productcode)}) {what} voor {client.achternaam}."
    )
    if doubts:
        summary += " Controleer: " + " ".join(i.message for i in doubts)
    return _outcome(
        fmt,
        summary,
        needs_action=created or bool(doubts),  # a new placement: the care has to be started
        issues=doubts,
        reference=v.get("identificatie"),
        client_ids=[client.id],
    )


def _link_products(session: Session, leg: Legitimation) -> None:
    """Own products whose contract line with DJI names the placement's prestatie."""
    from portal.models import Contract, ContractLine, Product

    if leg.products:
        return
    ids = session.scalars(
        select(ContractLine.product_id)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(
            Contract.financier_id == leg.financier_id, ContractLine.productcode == leg.productcode
        )
        .distinct()
    ).all()
    if ids:
        leg.products = list(session.scalars(select(Product).where(Product.id.in_(ids))))


def process_retour(session: Session, fmt: formats.Format, v: dict[str, Any]) -> ParseOutcome:
    """DJI's FZ824 (on an FZ823) or FZ826 (on an FZ825): accepted (0200) or rejected."""
    kind = "aanvang" if fmt.message == "FZ824" else "einde"
    heen = v.get("identificatie_retour")
    codes_found = [c["code"] for c in v.get("retourcodes") or []]
    legs = session.scalars(
        select(Legitimation).where(
            Legitimation.financing == CODE,
            Legitimation.referentienummer == v.get("plaatsingsnummer"),
        )
    ).all()
    leg = next((x for x in legs if (keys(x).get(kind) or {}).get("bericht") == heen), None)
    label = "aanvang zorg" if kind == "aanvang" else "einde zorg"
    if leg is None or (keys(leg).get(kind) or {}).get("status") != VERZONDEN:
        return _outcome(
            fmt,
            f"Retour op een onbekende of al verwerkte melding {label} ({heen}); er is niets "
            "gewijzigd.",
            needs_action=True,
            issues=[Issue("onbekend", "Geen openstaande melding bij dit retour.", None)],
            reference=v.get("identificatie"),
            answers_reference=heen,
        )
    item = dict(keys(leg)[kind])
    accepted = bool(codes_found) and all(codes.is_ok(c) for c in codes_found)
    item["codes"] = codes_found
    item["status"] = GEACCEPTEERD if accepted else AFGEWEZEN
    save_keys(leg, **{kind: item})
    issues: list[Issue] = []
    if accepted:
        leg.keten_stand = GESTART if kind == "aanvang" else BEEINDIGD
        summary = f"DJI heeft de melding {label} van plaatsing {leg.referentienummer} geaccepteerd."
    else:
        leg.keten_stand = GEPLAATST if kind == "aanvang" else GESTART
        issues = [Issue(c, codes.meaning(c), kind) for c in codes_found if not codes.is_ok(c)]
        summary = (
            f"DJI heeft de melding {label} van plaatsing {leg.referentienummer} afgewezen: "
            + "; ".join(f"{i.code} {i.message}" for i in issues)
        )
    session.flush()
    return _outcome(
        fmt,
        summary,
        needs_action=not accepted,
        issues=issues,
        reference=v.get("identificatie"),
        answers_reference=heen,
        client_ids=[leg.client_id],
    )
