"""Requests to a gemeente: verzoek om toewijzing (315) and verzoek om wijziging (317).

:mod:`plugins.wmo_jw.chain` builds the messages (``vot_draft``/``vow_draft``); this module adds
what the portal remembers of a request (a :class:`~portal.models.Verzoek`) and the rules that need
that memory or the screen's input:

* the ReferentieAanbieder is generated and never used before in this financing (TR347), once
  per message (TR383);
* one open request per client and gemeente (TR374);
* a change starts after the message date (TR380), a 317 lists current toewijzingen (TR352) and
  changes or asks something (TR353);
* the conditions on omvang, budget, end date and verwijzer (CD041, CD067, CD075, CD076, CD095,
  CS338, CS343) come from :mod:`plugins.wmo_jw.rules` and land on the field they are about;
* the answers are linked: a 316/318 through the identificatie of the heenbericht, a 319 and a
  301 (TR379) through the ReferentieAanbieder.

The form helpers turn posted fields into message parts with Dutch errors per field, so the screens
stay thin and nothing typed is lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.wmo_jw import chain
from plugins.wmo_jw import messages as msgs
from plugins.wmo_jw.standard import IWMO, STANDARDS, Standard
from portal.db import lock_row
from portal.domain import Issue
from portal.models import Client, Contract, ContractLine, Financier, Legitimation, Message, Verzoek
from portal.models.verzoek import OPEN
from portal.validators import clean, format_cents, parse_amount_cents, parse_date

CODE = chain.CODE
WETTEN = (("iwmo", "Wmo 2015 (iWmo)"), ("ijw", "Jeugdwet (iJw)"))
SOORT_LABEL = {"315": "Verzoek om toewijzing (315)", "317": "Verzoek om wijziging (317)"}
EENHEID_EURO = "83"  # a budget is asked as Budget, not as an Omvang in euro's


class FormErrors(ValueError):
    """Input that cannot be sent: ``errors`` maps a form field (or ``_form``) to a Dutch text."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


# --- what may be chosen ------------------------------------------------------------------------


def contracted_gemeenten(session: Session, today: date | None = None) -> list[Financier]:
    """Gemeenten of this financing with a contract that has not ended."""
    today = today or date.today()
    return list(
        session.scalars(
            select(Financier)
            .join(Contract, Contract.financier_id == Financier.id)
            .where(
                Financier.financing == CODE,
                Financier.soort == "gemeente",
                Financier.actief.is_(True),
                (Contract.einddatum.is_(None)) | (Contract.einddatum >= today),
            )
            .distinct()
            .order_by(Financier.naam)
        )
    )


def contract_lines(
    session: Session, financier_id: int, categorie: str | None = None, today: date | None = None
) -> list[ContractLine]:
    """The gemeente's contract lines with a product code (optionally of one category)."""
    today = today or date.today()
    stmt = (
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(
            Contract.financier_id == financier_id,
            ContractLine.productcode.is_not(None),
            (Contract.einddatum.is_(None)) | (Contract.einddatum >= today),
            (ContractLine.einddatum.is_(None)) | (ContractLine.einddatum >= today),
        )
        .order_by(ContractLine.productcategorie, ContractLine.productcode)
    )
    if categorie:
        stmt = stmt.where(ContractLine.productcategorie == categorie)
    seen, lines = set(), []
    for line in session.scalars(stmt):
        if line.productcode not in seen:
            seen.add(line.productcode)
            lines.append(line)
    return lines


def _options(codes: dict[str, str], skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(code, f"{code} {label}") for code, label in codes.items() if code not in skip]


def choices_315(session: Session, values: Mapping[str, str], today: date | None = None) -> dict:
    """The options of the 315 form; each choice narrows the next (gemeente → wet → categorie →
    productcode from that gemeente's contract lines in that category)."""
    gemeenten = contracted_gemeenten(session, today)
    fin = next((f for f in gemeenten if str(f.id) == values.get("gemeente")), None)
    std = STANDARDS.get(values.get("wet", ""))
    categorieen = _options(std.codes("LDT_ProductCategorie")) if std else []
    cat = values.get("categorie") if values.get("categorie") in dict(categorieen) else None
    codes = []
    if fin and cat:
        codes = [
            (line.productcode, f"{line.productcode} — {line.product.naam}")
            for line in contract_lines(session, fin.id, cat, today)
        ]
    basis = std or IWMO
    return {
        "gemeenten": [(str(f.id), f.label) for f in gemeenten],
        "wetten": list(WETTEN),
        "categorieen": categorieen,
        "codes": codes,
        "eenheden": _options(basis.codes("LDT_Eenheid"), skip=(EENHEID_EURO,)),
        "frequenties": _options(basis.codes("LDT_Frequentie")),
        "verwijzers": _options(basis.codes("LDT_TypeVerwijzer")),
        "financier": fin,
        "std": std,
    }


# --- state -----------------------------------------------------------------------------------


def open_request(session: Session, client_id: int, financier_id: int) -> Verzoek | None:
    """The request still waiting for its outcome for this client at this gemeente (TR374)."""
    return session.scalar(
        select(Verzoek)
        .where(
            Verzoek.financing == CODE,
            Verzoek.client_id == client_id,
            Verzoek.financier_id == financier_id,
            Verzoek.status.in_(OPEN),
        )
        .limit(1)
    )


def requests_of(session: Session, client_id: int) -> list[Verzoek]:
    return list(
        session.scalars(
            select(Verzoek)
            .where(Verzoek.financing == CODE, Verzoek.client_id == client_id)
            .order_by(Verzoek.id.desc())
        )
    )


def new_referentie(session: Session, soort: str, today: date) -> str:
    """A ReferentieAanbieder that was never used in this financing (TR347); ≤ 36 chars."""
    while True:
        ref = f"{soort}-{today:%Y%m%d}-{secrets.token_hex(4).upper()}"
        taken = session.scalar(
            select(Verzoek.id).where(Verzoek.financing == CODE, Verzoek.referentie == ref)
        )
        if taken is None and not session.scalar(
            select(Legitimation.id).where(
                Legitimation.financing == CODE, Legitimation.referentienummer == ref
            )
        ):
            return ref


def current_toewijzingen(
    session: Session, client: Client, financier: Financier, std: Standard, today: date
) -> list[Legitimation]:
    """The client's current toewijzingen at this gemeente under this standard (TR349)."""
    return [
        leg
        for leg in session.scalars(
            select(Legitimation)
            .where(
                Legitimation.client_id == client.id,
                Legitimation.financing == CODE,
                Legitimation.financier_id == financier.id,
                Legitimation.toewijzingnummer.is_not(None),
                Legitimation.status == "actief",
            )
            .order_by(Legitimation.toewijzingnummer)
        )
        if (leg.einddatum is None or leg.einddatum >= today) and chain.standard_of(leg) == std
    ]


def change_groups(session: Session, client: Client, today: date | None = None) -> list[dict]:
    """Per gemeente and standard the current toewijzingen a 317 would have to list."""
    today = today or date.today()
    groups: dict[tuple[int, str], dict] = {}
    for leg in session.scalars(
        select(Legitimation).where(
            Legitimation.client_id == client.id,
            Legitimation.financing == CODE,
            Legitimation.toewijzingnummer.is_not(None),
            Legitimation.status == "actief",
        )
    ):
        if leg.einddatum is not None and leg.einddatum < today:
            continue
        std = chain.standard_of(leg)
        group = groups.setdefault(
            (leg.financier_id, std.key), {"financier": leg.financier, "std": std, "legs": []}
        )
        group["legs"].append(leg)
    return list(groups.values())


# --- sending ----------------------------------------------------------------------------------


def _int(values: Mapping[str, str], name: str, errors: dict, label: str) -> int | None:
    raw = clean(values.get(name))
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= 99_999_999:
        errors[name] = f"{label} is een heel getal groter dan 0."
        return None
    return int(raw)


def _date(values: Mapping[str, str], name: str, errors: dict) -> date | None:
    try:
        return parse_date(values.get(name))
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _cents(values: Mapping[str, str], name: str, errors: dict) -> int | None:
    try:
        cents = parse_amount_cents(values.get(name))
    except ValueError as exc:
        errors[name] = str(exc)
        return None
    if cents is not None and not 0 < cents <= 99_999_999:
        errors[name] = "Het budget ligt tussen € 0,01 en € 999.999,99."
        return None
    return cents


def _omvang(values, prefix: str, std: Standard, errors: dict, *, required: bool):
    """(volume, eenheid, frequentie, budget) from the fields ``<prefix>volume`` etc."""
    volume = _int(values, f"{prefix}volume", errors, "De omvang")
    eenheid = clean(values.get(f"{prefix}eenheid")) or None
    frequentie = clean(values.get(f"{prefix}frequentie")) or None
    budget = _cents(values, f"{prefix}budget", errors)
    if volume is not None:
        if eenheid not in std.codes("LDT_Eenheid") or eenheid == EENHEID_EURO:
            errors[f"{prefix}eenheid"] = "Kies de eenheid van de omvang."
        if frequentie not in std.codes("LDT_Frequentie"):
            errors[f"{prefix}frequentie"] = "Kies de frequentie van de omvang."
    if volume is not None and budget is not None:
        errors[f"{prefix}budget"] = "Vraag een omvang óf een budget aan, niet allebei (CD077)."
    if (
        required
        and volume is None
        and budget is None
        and f"{prefix}volume" not in errors
        and f"{prefix}budget" not in errors
    ):
        errors[f"{prefix}volume"] = "Vul de omvang in (of een budget)."
    if volume is None:
        eenheid = frequentie = None
    return volume, eenheid, frequentie, budget


def _checked(session: Session, client: Client, fin: Financier, errors: dict) -> None:
    # a double click on "versturen" waits here for the first request, then finds it open
    lock_row(session, Client, client.id)
    if fin is not None and (found := open_request(session, client.id, fin.id)) is not None:
        errors["_form"] = (
            f"Er loopt al een verzoek ({found.referentie}, {found.status_label.lower()}) bij "
            f"{fin.label}. Wacht op het antwoord van de gemeente voordat u een nieuw verzoek "
            "stuurt (TR374)."
        )


def _record(
    session: Session,
    client: Client,
    fin: Financier,
    soort: str,
    referentie: str,
    draft,
    details: dict,
    created_by: int | None,
) -> Verzoek:
    from portal.services.messages import create_outgoing

    message = create_outgoing(session, draft, financing=CODE, created_by=created_by)
    verzoek = Verzoek(
        client_id=client.id,
        financier_id=fin.id,
        financing=CODE,
        soort=soort,
        referentie=referentie,
        message_id=message.id,
        status="verzonden",
        codes=[],
        details=details,
        legitimation_ids=[],
        created_by=created_by,
    )
    session.add(verzoek)
    session.flush()
    return verzoek


# The form field a 315/317 rule's finding is about (rules name the element of the standard).
FIELDS_315 = {
    "ToewijzingEinddatum": "einddatum",
    "Einddatum": "einddatum",
    "Omvang": "volume",
    "Frequentie": "frequentie",
    "Budget": "budget",
    "Naam": "verwijzer_naam",
    "ZorgverlenerCode": "verwijzer_agb",
    "Bsn": "_form",
}
_FIELDS_317 = {
    "GewensteIngangsdatum": "ingangsdatum",
    "Einddatum": "einddatum",
    "Omvang": "volume",
    "Frequentie": "frequentie",
    "Budget": "budget",
}


def _fields_317(issue) -> str:
    """A 317 finding names its product first: ``Nieuw product: …`` or ``Toewijzing 123: …``."""
    field = _FIELDS_317.get(issue.field or "")
    if field and issue.message.startswith("Nieuw product"):
        return f"nieuw-{field}"
    if field and issue.message.startswith("Toewijzing "):
        return f"t{issue.message.split()[1].rstrip(':')}-{field}"
    return "_form"


def _rule_errors(exc: chain.RuleError, fields) -> dict[str, str]:
    errors: dict[str, str] = {}
    for issue in exc.issues:
        key = fields(issue) if callable(fields) else fields.get(issue.field or "", "_form")
        text = f"{issue.message} ({issue.code})"
        errors[key] = f"{errors[key]} {text}" if key in errors else text
    return errors


def _omvang_text(std: Standard, volume, eenheid, frequentie, budget) -> str:
    if volume is not None:
        return (
            f"{volume} × {std.meaning('LDT_Eenheid', eenheid).lower()} "
            f"{std.meaning('LDT_Frequentie', frequentie).lower()}"
        )
    if budget is not None:
        return f"budget € {format_cents(budget)}"
    return "geen omvang"


def send_315(
    session: Session,
    client: Client,
    values: Mapping[str, str],
    *,
    created_by: int | None = None,
    today: date | None = None,
) -> Verzoek:
    """Check the 315 form, build and queue the message, remember the request.

    Raises :class:`FormErrors` (field → Dutch text); then nothing is stored or sent.
    """
    today = today or date.today()
    errors: dict[str, str] = {}
    choices = choices_315(session, values, today)
    fin, std = choices["financier"], choices["std"]
    if fin is None:
        errors["gemeente"] = "Kies een gemeente waarmee u een contract heeft."
    if std is None:
        errors["wet"] = "Kies de wet: Wmo of Jeugdwet."
    categorie = clean(values.get("categorie"))
    if std is not None and categorie not in dict(choices["categorieen"]):
        errors["categorie"] = f"Kies een productcategorie uit de lijst van {std.label}."
    code = clean(values.get("productcode")) or None
    if code is not None and fin is not None and code not in dict(choices["codes"]):
        errors["productcode"] = "Deze productcode staat niet in het contract met de gemeente."
    begin = _date(values, "ingangsdatum", errors)
    if begin is None and "ingangsdatum" not in errors:
        errors["ingangsdatum"] = "Vul de gewenste ingangsdatum in."
    end = _date(values, "einddatum", errors)
    if begin and end and end < begin:
        errors["einddatum"] = "De einddatum ligt vóór de ingangsdatum."
    volume, eenheid, frequentie, budget = _omvang(values, "", std or IWMO, errors, required=False)
    if code is not None and volume is None and not {"volume", "budget"} & set(errors):
        errors["volume"] = (
            "Bij een productcode hoort een omvang: vul volume, eenheid en frequentie in (CD041)."
        )
    verwijzer = clean(values.get("verwijzer_type"))
    if verwijzer not in (std or IWMO).codes("LDT_TypeVerwijzer"):
        errors["verwijzer_type"] = "Kies wie de cliënt heeft verwezen."
    naam = clean(values.get("verwijzer_naam")) or None
    if naam and len(naam) > 64:
        errors["verwijzer_naam"] = "De naam van de verwijzer is hoogstens 64 tekens."
    agb = clean(values.get("verwijzer_agb")) or None
    if agb and not (agb.isascii() and agb.isdigit() and len(agb) == 8):
        errors["verwijzer_agb"] = "De AGB-code van de verwijzer is 8 cijfers."
    commentaar = clean(values.get("commentaar")) or None
    if commentaar and len(commentaar) > 1000:
        errors["commentaar"] = "Het commentaar is hoogstens 1000 tekens."
    beschikking = clean(values.get("beschikking_nummer")) or None
    if beschikking and not (
        beschikking.isascii() and beschikking.isdigit() and len(beschikking) <= 9
    ):
        errors["beschikking_nummer"] = "Het beschikkingnummer is een getal van hoogstens 9 cijfers."
    beschikking_datum = _date(values, "beschikking_ingangsdatum", errors)
    _checked(session, client, fin, errors)
    if errors:
        raise FormErrors(errors)

    referentie = new_referentie(session, "315", today)
    aanvraag = msgs.Aanvraag(
        referentie=referentie,
        categorie=categorie,
        code=code,
        ingangsdatum=begin,
        einddatum=end,
        volume=volume,
        eenheid=eenheid,
        frequentie=frequentie,
        budget=budget,
        verwijzer_type=verwijzer,
        verwijzer_naam=naam,
        verwijzer_zorgverlenercode=agb,
        commentaar=commentaar,
        beschikking_nummer=beschikking,
        beschikking_ingangsdatum=beschikking_datum,
    )
    try:
        draft = chain.vot_draft(session, client, fin, std, [aanvraag], today=today)
    except chain.RuleError as exc:
        raise FormErrors(_rule_errors(exc, FIELDS_315)) from None
    cat_label = std.meaning("LDT_ProductCategorie", categorie)
    details = {
        "standaard": std.key,
        "omschrijving": [
            f"{categorie} {cat_label}"
            + (f", productcode {code}" if code else "")
            + f": {_omvang_text(std, volume, eenheid, frequentie, budget)}, "
            f"vanaf {begin:%d-%m-%Y}" + (f" t/m {end:%d-%m-%Y}" if end else ""),
            f"Verwijzer: {std.meaning('LDT_TypeVerwijzer', verwijzer)}"
            + (f" ({naam})" if naam else "")
            + (f" (AGB {agb})" if agb else ""),
        ]
        + ([f"Commentaar: {commentaar}"] if commentaar else [])
        + (
            [
                f"Beschikking {beschikking or ''}"
                + (f" vanaf {beschikking_datum:%d-%m-%Y}" if beschikking_datum else "")
            ]
            if beschikking or beschikking_datum
            else []
        ),
        "producten": [
            {
                "categorie": categorie,
                "code": code,
                "ingangsdatum": begin.isoformat(),
                "einddatum": end.isoformat() if end else None,
                "volume": volume,
                "eenheid": eenheid,
                "frequentie": frequentie,
                "budget": budget,
                "verwijzer_type": verwijzer,
                "verwijzer_naam": naam,
                "verwijzer_agb": agb,
                "commentaar": commentaar,
                "beschikking_nummer": beschikking,
                "beschikking_ingangsdatum": beschikking_datum.isoformat()
                if beschikking_datum
                else None,
            }
        ],
    }
    return _record(session, client, fin, "315", referentie, draft, details, created_by)


def send_317(
    session: Session,
    client: Client,
    fin: Financier,
    std: Standard,
    values: Mapping[str, str],
    *,
    created_by: int | None = None,
    today: date | None = None,
) -> Verzoek:
    """Check the 317 form (every current toewijzing listed as ongewijzigd or wijzigen, plus an
    optional new product), build and queue the message, remember the request."""
    today = today or date.today()
    errors: dict[str, str] = {}
    legs = current_toewijzingen(session, client, fin, std, today)
    reden = clean(values.get("reden"))
    if reden not in std.codes("LDT_RedenVerzoek"):
        errors["reden"] = "Kies de reden van het verzoek."
    ongewijzigd: list[str] = []
    te_wijzigen: list[msgs.Wijziging] = []
    lines: list[str] = []
    for leg in legs:
        nr = leg.toewijzingnummer
        if values.get(f"actie-{nr}", "ongewijzigd") != "wijzigen":
            ongewijzigd.append(nr)
            continue
        p = f"t{nr}-"
        begin = _date(values, f"{p}ingangsdatum", errors)
        if begin is None and f"{p}ingangsdatum" not in errors:
            errors[f"{p}ingangsdatum"] = "Vul de gewenste ingangsdatum van de wijziging in."
        elif begin is not None and begin <= today and begin != leg.begindatum:
            errors[f"{p}ingangsdatum"] = (
                f"De gewenste ingangsdatum moet na vandaag ({today:%d-%m-%Y}) liggen, of gelijk "
                f"zijn aan de ingangsdatum van de toewijzing ({leg.begindatum:%d-%m-%Y}) "
                "(TR357)."
            )
        if begin is not None and leg.einddatum and begin > leg.einddatum:
            errors[f"{p}ingangsdatum"] = (
                f"De gewenste ingangsdatum ligt na het einde van de toewijzing "
                f"({leg.einddatum:%d-%m-%Y}); vraag daarvoor een nieuw product aan."
            )
        end = _date(values, f"{p}einddatum", errors)
        if begin and end and end < begin:
            errors[f"{p}einddatum"] = "De einddatum ligt vóór de gewenste ingangsdatum (CS003)."
        volume, eenheid, frequentie, budget = _omvang(values, p, std, errors, required=False)
        whole = budget is not None or (volume is not None and frequentie == "6")
        if whole and begin is not None and begin != leg.begindatum:
            errors[f"{p}ingangsdatum"] = (
                f"Een nieuw {'budget' if budget is not None else 'totaal'} geldt voor de hele "
                "toewijzing: vraag het aan per de ingangsdatum van de toewijzing "
                f"({leg.begindatum:%d-%m-%Y}) (TR373)."
            )
        if (
            end is None
            and volume is None
            and budget is None
            and not any(k.startswith(p) for k in errors)
        ):
            errors[f"{p}einddatum"] = (
                "Geef een nieuwe einddatum en/of omvang op, of kies ongewijzigd."
            )
        # What is not changed is repeated as the toewijzing has it: a toewijzing with a product
        # code carries its omvang (TR411), a budget or an omvang per week its end date
        # (CD075, CD076).
        kept = leg.sleutels or {}
        if volume is None and budget is None and leg.productcode and leg.volume is not None:
            volume, eenheid, frequentie = leg.volume, kept.get("eenheid"), kept.get("frequentie")
        if end is None and leg.einddatum is not None:
            end = leg.einddatum
        te_wijzigen.append(
            msgs.Wijziging(
                toewijzingnummer=nr,
                ingangsdatum=begin or today,
                einddatum=end,
                volume=volume,
                eenheid=eenheid,
                frequentie=frequentie,
                budget=budget,
            )
        )
        lines.append(
            f"Toewijzing {nr} wijzigen per {begin:%d-%m-%Y}: "
            + ", ".join(
                part
                for part in (
                    f"einddatum {end:%d-%m-%Y}" if end else "",
                    _omvang_text(std, volume, eenheid, frequentie, budget)
                    if volume is not None or budget is not None
                    else "",
                )
                if part
            )
            if begin
            else f"Toewijzing {nr} wijzigen"
        )
    nieuw: list[msgs.Wijziging] = []
    new_code = clean(values.get("nieuw_product")) or None
    if new_code:
        line = next(
            (
                x
                for x in contract_lines(session, fin.id, today=today)
                if f"{x.productcategorie}|{x.productcode}" == new_code
                and x.productcategorie in std.codes("LDT_ProductCategorie")
            ),
            None,
        )
        if line is None:
            errors["nieuw_product"] = "Dit product staat niet in het contract met de gemeente."
        begin = _date(values, "nieuw-ingangsdatum", errors)
        if begin is None and "nieuw-ingangsdatum" not in errors:
            errors["nieuw-ingangsdatum"] = "Vul de gewenste ingangsdatum van het nieuwe product in."
        end = _date(values, "nieuw-einddatum", errors)
        if begin and end and end < begin:
            errors["nieuw-einddatum"] = "De einddatum ligt vóór de gewenste ingangsdatum."
        volume, eenheid, frequentie, budget = _omvang(values, "nieuw-", std, errors, required=True)
        if line is not None and begin is not None:
            nieuw.append(
                msgs.Wijziging(
                    categorie=line.productcategorie,
                    code=line.productcode,
                    ingangsdatum=begin,
                    einddatum=end,
                    volume=volume,
                    eenheid=eenheid,
                    frequentie=frequentie,
                    budget=budget,
                )
            )
            lines.append(
                f"Nieuw product {line.productcategorie} {line.productcode}: "
                f"{_omvang_text(std, volume, eenheid, frequentie, budget)}, "
                f"vanaf {begin:%d-%m-%Y}" + (f" t/m {end:%d-%m-%Y}" if end else "")
            )
    if not legs:
        errors["_form"] = (
            f"{client.naam} heeft geen actuele toewijzing van {fin.label}; vraag een nieuwe "
            "toewijzing aan (315): een verzoek om wijziging noemt minstens één actuele "
            "toewijzing (TR352)."
        )
    elif not te_wijzigen and not new_code and "_form" not in errors:
        errors["_form"] = (
            "Kies bij minstens één toewijzing 'wijzigen' of vraag een nieuw product aan (TR353)."
        )
    _checked(session, client, fin, errors)
    if errors:
        raise FormErrors(errors)

    referentie = new_referentie(session, "317", today)
    verzoek = msgs.Verzoek(
        referentie=referentie,
        reden=reden,
        ongewijzigd=ongewijzigd,
        te_wijzigen=te_wijzigen,
        nieuw=nieuw,
    )
    try:
        draft = chain.vow_draft(session, client, fin, std, verzoek, today=today)
    except chain.RuleError as exc:
        raise FormErrors(_rule_errors(exc, _fields_317)) from None
    details = {
        "standaard": std.key,
        "reden": reden,
        "omschrijving": [f"Reden: {std.meaning('LDT_RedenVerzoek', reden)}"]
        + lines
        + ([f"Ongewijzigd: {', '.join(ongewijzigd)}"] if ongewijzigd else []),
        "ongewijzigd": ongewijzigd,
        "te_wijzigen": [_wijziging_dict(w) for w in te_wijzigen],
        "nieuw": [_wijziging_dict(w) for w in nieuw],
    }
    return _record(session, client, fin, "317", referentie, draft, details, created_by)


def _wijziging_dict(w: msgs.Wijziging) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in w.__dict__.items()}


# --- answers (called from chain.process) ---------------------------------------------------------


def standard_of(verzoek: Verzoek) -> Standard:
    return STANDARDS.get((verzoek.details or {}).get("standaard", ""), IWMO)


def _by_identificatie(session: Session, identificatie: str | None) -> Verzoek | None:
    if not identificatie:
        return None
    return session.scalar(
        select(Verzoek)
        .join(Message, Message.id == Verzoek.message_id)
        .where(
            Verzoek.financing == CODE,
            Message.direction == "uit",
            Message.reference == identificatie,
        )
        .order_by(Verzoek.id.desc())
        .limit(1)
    )


def by_referentie(session: Session, referentie: str | None) -> Verzoek | None:
    if not referentie:
        return None
    return session.scalar(
        select(Verzoek).where(Verzoek.financing == CODE, Verzoek.referentie == referentie)
    )


def on_retour(session: Session, identificatie: str, codes: list[str]) -> Verzoek | None:
    """A 316/318: ``ontvangen`` without codes, ``afgekeurd`` with them. Later news (an answer or
    a toewijzing that came first) is never overwritten."""
    verzoek = _by_identificatie(session, identificatie)
    if verzoek is None:
        return None
    if verzoek.status in ("verzonden", "ontvangen"):
        verzoek.status = "afgekeurd" if codes else "ontvangen"
        verzoek.codes = list(codes)
    return verzoek


def check_antwoord(verzoek: Verzoek | None, a: msgs.Antwoord, bericht: str) -> list[Issue]:
    """The rules a 319 is judged by against the request it answers, each with the retourcode
    of our 320: TR355 (9355) it answers a request of ours; TR359 (9359) no answer after the
    request was granted by a 301; TR360 (9360) 'in onderzoek' only as the first answer; TR365
    (9365) a second answer only after 'in onderzoek'. The same 319 offered again (``bericht``,
    its BerichtIdentificatie) is no second answer."""
    if verzoek is None:
        return [
            Issue(
                "9355",
                f"Antwoord op verzoek {a.referentie}: deze referentie hoort bij geen verzoek van "
                "ons.",
                "ReferentieAanbieder",
            )
        ]
    if verzoek.status == "toegekend":
        return [
            Issue(
                "9359",
                f"Antwoord op verzoek {a.referentie}: de gemeente heeft dit verzoek al toegewezen "
                "(301); een antwoordbericht kan niet meer.",
                "ReferentieAanbieder",
            )
        ]
    earlier = verzoek.antwoord or {}
    if not earlier or earlier.get("bericht") == bericht:
        return []
    if earlier.get("antwoord") != "2":
        return [
            Issue(
                "9365",
                f"Antwoord op verzoek {a.referentie}: het verzoek is al afgewezen; een tweede "
                "antwoord kan alleen na 'aanvraag in onderzoek'.",
                "VerzoekAntwoord",
            )
        ]
    if a.antwoord == "2":
        return [
            Issue(
                "9360",
                f"Antwoord op verzoek {a.referentie}: het verzoek was al in onderzoek; daarna "
                "volgt een toewijzing of een afwijzing.",
                "VerzoekAntwoord",
            )
        ]
    return []


def on_antwoord(
    session: Session, a: msgs.Antwoord, std: Standard, bericht: str | None = None
) -> Verzoek | None:
    """A 319: antwoord 1 → ``afgewezen`` (with the reason), 2 → ``in_onderzoek``."""
    verzoek = by_referentie(session, a.referentie)
    if verzoek is None:
        return None
    verzoek.antwoord = {
        "bericht": bericht,
        "antwoord": a.antwoord,
        "betekenis": std.meaning("LDT_VerzoekAntwoord", a.antwoord),
        "reden": a.reden_afwijzing,
        "reden_betekenis": std.meaning("LDT_RedenAfwijzingVerzoek", a.reden_afwijzing)
        if a.reden_afwijzing
        else None,
        "woonplaats_gemeente": a.woonplaats_gemeente,
    }
    if verzoek.status != "toegekend":
        verzoek.status = "afgewezen" if a.antwoord == "1" else "in_onderzoek"
    return verzoek


def on_toewijzingen(session: Session, granted: dict[str, list[Legitimation]]) -> list[Verzoek]:
    """A 301 whose toewijzingen carry a request's ReferentieAanbieder (TR379): ``toegekend``."""
    done = []
    for referentie, legs in granted.items():
        verzoek = by_referentie(session, referentie)
        if verzoek is None:
            continue
        ids = list(verzoek.legitimation_ids or [])
        ids += [leg.id for leg in legs if leg.id not in ids]
        verzoek.legitimation_ids = ids
        if verzoek.status != "toegekend":
            verzoek.status = "toegekend"
            done.append(verzoek)
    return done


def display(verzoek: Verzoek) -> dict[str, Any]:
    """What the client page shows of a request, with codes and reasons in Dutch."""
    std = standard_of(verzoek)
    antwoord = verzoek.antwoord or {}
    reason = None
    if antwoord:
        reason = antwoord.get("betekenis") or ""
        if antwoord.get("reden_betekenis"):
            reason += f": {antwoord['reden_betekenis']}"
        if antwoord.get("woonplaats_gemeente"):
            reason += f" (verantwoordelijke gemeente {antwoord['woonplaats_gemeente']})"
    return {
        "verzoek": verzoek,
        "soort": SOORT_LABEL.get(verzoek.soort, verzoek.soort),
        "std": std,
        "codes": [(c, std.meaning("LDT_RetourCode", c)) for c in verzoek.codes or []],
        "reden": reason,
        "omschrijving": (verzoek.details or {}).get("omschrijving", []),
    }
