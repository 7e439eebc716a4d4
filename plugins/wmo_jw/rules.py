"""The business rules of iWmo/iJw 3.2 that can be checked before a message leaves (or arrives).

Two families, both working on a parsed or to-be-built :class:`~plugins.wmo_jw.messages.Bericht`:

* in-message rules (the standard's XSLT level: CS/CD/TR codes) — :func:`check_message`; a failure
  blocks sending, and a gemeente answers it with retourcode 0001;
* cross-message rules against known state (toewijzingen, earlier declarations, starts) —
  :func:`check_323_state`, :func:`check_startstop_state`, :func:`check_317_state`; each finding
  carries the retourcode the gemeente would give.

The provider and the simulated gemeente run the same functions, each with its own state.
Every finding is an :class:`~portal.domain.Issue` whose ``code`` is the rule (``CS340``) or the
retourcode (``9307``), with a Dutch message and the field it is about.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from plugins.wmo_jw.messages import Bericht, Persoon, Prestatie, StartStop
from portal.domain import Issue
from portal.validators import check_bsn, format_cents, month_label

MIN_DATE = date(2021, 1, 1)  # CS100


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` years earlier; 29 February becomes 28 February."""
    year = day.year - years
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def _issue(code: str, message: str, field: str) -> Issue:
    return Issue(code=code, message=message, field=field)


# --- in-message rules ----------------------------------------------------------------------------
#
# The conditions below follow the official iWmo 3.2 / iJw 3.2 rule texts (CD, CS and TR rules with
# retourcode 0001, checked on the message alone, "bericht inhoud (xslt)"); docs/wmo_jw.md says
# where those texts come from. Each check names the message class it applies to in the standard.

# Verwijzer types that are a care professional (CD066, CD067, CD068): huisarts, jeugdarts,
# gecertificeerde instelling, medisch specialist.
VERWIJZER_ZORGVERLENER = ("02", "03", "04", "05")
# CD076: an omvang per week needs the toewijzing's end date.
FREQUENTIE_MET_EINDDATUM = ("2",)
# CS338/CS343: these units (etmaal, dagdeel, euro's, week) only per week, per maand or totaal.
EENHEID_NIET_PER_DAG = ("14", "16", "83", "84")
FREQUENTIE_VOOR_EENHEID = ("2", "4", "6")
# CS338/CS343, CD080/CD095/CD096: the conditions hold for periods after 2020 (or open-ended).
OUDE_TOEWIJZING = date(2020, 12, 31)
# TR302/TR386/TR410: hulpmiddelen (categories 11-14) may overlap.
HULPMIDDELEN = ("11", "12", "13", "14")
ONBEKENDE_GEBOORTEDATUM = date(1900, 1, 1)  # TR002: DatumGebruik 3, Datum 1900-01-01
POSTCODE_NL = re.compile(r"[1-9][0-9]{3}[A-Z]{2}")  # CS089


def check_message(b: Bericht, today: date | None = None) -> list[Issue]:
    """All in-message rules for the kind of ``b``; empty when it may be sent."""
    today = today or date.today()
    issues: list[Issue] = []
    dagtekening = b.header.dagtekening
    if dagtekening and dagtekening > today:
        issues.append(
            _issue("TR135", "De dagtekening van het bericht ligt in de toekomst.", "Dagtekening")
        )
    if b.client is not None:
        problem = check_bsn(b.client.bsn)
        if problem:
            issues.append(_issue("CS002", f"Cliënt: {problem}", "Bsn"))
        born = b.client.geboortedatum
        if b.kind in ("301", "305", "307", "315") and born and dagtekening:
            if born > dagtekening:
                issues.append(
                    _issue(
                        "TR134",
                        "Cliënt: de geboortedatum ligt na de dagtekening van het bericht.",
                        "Geboortedatum",
                    )
                )
            if born != ONBEKENDE_GEBOORTEDATUM and born < years_before(dagtekening, 120):
                issues.append(
                    _issue(
                        "TR002",
                        "Cliënt: de geboortedatum ligt meer dan 120 jaar voor de dagtekening.",
                        "Geboortedatum",
                    )
                )
    checker = {
        "301": _check_301,
        "305": _check_startstop,
        "307": _check_startstop,
        "315": _check_315,
        "317": _check_317,
        "319": _check_319,
        "323": _check_323,
        "325": _check_325,
    }.get(b.kind)
    # a retour that is a header alone (all well, IV028) repeats no content to check
    content = {"317": b.verzoek, "319": b.antwoord, "323": b.declaratie, "325": b.declaratie}
    if checker and content.get(b.kind, True) is not None:
        issues.extend(checker(b))
    return issues


def _period_checks(where: str, begin, end, dagtekening, field: str) -> list[Issue]:
    """TR134 (begin not after the message date) and TR137 (end not before begin, not after the
    message date) for a DeclaratiePeriode or ProductPeriode of a 323 or 325."""
    issues = []
    if begin and dagtekening and begin > dagtekening:
        issues.append(
            _issue(
                "TR134",
                f"{where} begint na de dagtekening van het bericht ({dagtekening:%d-%m-%Y}).",
                field,
            )
        )
    if begin and end and end < begin:
        issues.append(_issue("TR137", f"{where} eindigt vóór de begindatum.", field))
    if end and dagtekening and end > dagtekening:
        issues.append(
            _issue(
                "TR137",
                f"{where} eindigt op {end:%d-%m-%Y}, na de dagtekening van het bericht "
                f"({dagtekening:%d-%m-%Y}): een maand wordt pas gedeclareerd als hij om is.",
                field,
            )
        )
    return issues


def _cs325(where: str, bedrag: int | None, debet_credit: str | None, field: str) -> list[Issue]:
    if bedrag == 0 and (debet_credit or "").upper() == "C":
        return [_issue("CS325", f"{where}: een bedrag van nul is altijd debet.", field)]
    return []


def _duplicates(keys: list, code: str, text: str, field: str) -> list[Issue]:
    """TR101: a logical key that occurs more than once among siblings, reported once."""
    counts = Counter(keys)
    return [_issue(code, text.format(key=k), field) for k, n in counts.items() if n > 1]


def _check_323(b: Bericht) -> list[Issue]:
    d = b.declaratie
    issues: list[Issue] = []
    dagtekening = b.header.dagtekening
    begin, end = d.periode_begin, d.periode_eind
    if begin and end and (begin.day != 1 or end != month_end(begin)):
        issues.append(
            _issue(
                "CS340",
                "De declaratieperiode moet precies één kalendermaand zijn "
                f"(nu {begin:%d-%m-%Y} t/m {end:%d-%m-%Y}).",
                "DeclaratiePeriode",
            )
        )
    if begin and begin < MIN_DATE:
        issues.append(
            _issue("CS100", "De declaratieperiode ligt vóór 1-1-2021.", "DeclaratiePeriode")
        )
    issues.extend(
        _period_checks("De declaratieperiode", begin, end, dagtekening, "DeclaratiePeriode")
    )
    if not d.nummer or not d.nummer.isalnum() or len(d.nummer) > 12:
        issues.append(
            _issue(
                "CS319",
                "Het declaratienummer bestaat uit 1 tot 12 letters en cijfers.",
                "DeclaratieNummer",
            )
        )
    # TR101 looks within one client (Prestatie key: ReferentieNummer + VorigReferentieNummer);
    # a reference used for two clients breaks its uniqueness per provider (TR314)
    issues.extend(
        _duplicates(
            [(p.bsn, p.referentie, p.vorig_referentie) for p in d.prestaties],
            "TR101",
            "Referentienummer {key[1]} komt meer dan eens voor bij dezelfde cliënt.",
            "ReferentieNummer",
        )
    )
    clients_of: dict[str, set[str]] = {}
    for p in d.prestaties:
        clients_of.setdefault(p.referentie, set()).add(p.bsn)
    vorige = Counter(p.vorig_referentie for p in d.prestaties if p.vorig_referentie)
    refs = set(clients_of)
    debet_keys: Counter = Counter()
    for p in d.prestaties:
        issues.extend(_check_prestatie(p, d.dagtekening, end, dagtekening))
        if len(clients_of[p.referentie]) > 1:
            issues.append(
                _issue(
                    "TR314",
                    f"Referentienummer {p.referentie} wordt voor meer dan één cliënt gebruikt; "
                    "een referentienummer is uniek.",
                    "ReferentieNummer",
                )
            )
        if p.vorig_referentie and vorige[p.vorig_referentie] > 1:
            issues.append(
                _issue(
                    "TR315",
                    f"Prestatie {p.vorig_referentie} wordt meer dan eens gecrediteerd.",
                    "VorigReferentieNummer",
                )
            )
        if p.vorig_referentie and p.vorig_referentie in refs:
            issues.append(
                _issue(
                    "TR316",
                    f"Prestatie {p.vorig_referentie} wordt gecrediteerd in dezelfde declaratie "
                    "waarin hij wordt ingediend.",
                    "VorigReferentieNummer",
                )
            )
        if p.debet_credit == "D":
            # TR416 compares the prestaties of one client (siblings)
            key = (p.toewijzingnummer, p.begindatum, p.einddatum, p.categorie, p.code, p.bsn)
            debet_keys[key] += 1
    for key, count in debet_keys.items():
        if count > 1:
            issues.append(
                _issue(
                    "TR416",
                    f"Toewijzing {key[0]} heeft meer dan één debetprestatie voor product {key[4]} "
                    f"in de periode {key[1]:%d-%m-%Y} t/m {key[2]:%d-%m-%Y}; voeg ze samen.",
                    "Prestatie",
                )
            )
    total = sum(p.signed_cents for p in d.prestaties)
    if d.signed_total != total:
        issues.append(
            _issue(
                "TR358",
                "Het totaal ingediende bedrag is niet de som van de debet- min de "
                "creditprestaties.",
                "TotaalIngediendBedrag",
            )
        )
    issues.extend(_cs325("Totaal ingediend", d.totaal, d.debet_credit, "TotaalIngediendBedrag"))
    return issues


def _check_prestatie(
    p: Prestatie,
    dagtekening: date | None,
    periode_eind: date | None,
    bericht_dagtekening: date | None = None,
):
    where = f"Prestatie {p.referentie}"
    issues = []
    if (p.begindatum.year, p.begindatum.month) != (p.einddatum.year, p.einddatum.month):
        issues.append(
            _issue(
                "CS337",
                f"{where}: de productperiode moet binnen één kalendermaand liggen.",
                "ProductPeriode",
            )
        )
    if p.begindatum < MIN_DATE:
        issues.append(
            _issue("CS100", f"{where}: de productperiode ligt vóór 1-1-2021.", "ProductPeriode")
        )
    if periode_eind and (p.einddatum > periode_eind or p.begindatum > periode_eind):
        issues.append(
            _issue(
                "TR319",
                f"{where}: de productperiode ligt na de declaratieperiode.",
                "ProductPeriode",
            )
        )
    issues.extend(
        _period_checks(
            f"{where}: de productperiode",
            p.begindatum,
            p.einddatum,
            bericht_dagtekening,
            "ProductPeriode",
        )
    )
    if dagtekening and p.einddatum < years_before(dagtekening, 5):
        issues.append(
            _issue(
                "TR335",
                f"{where}: de productperiode ligt meer dan 5 jaar voor de dagtekening.",
                "ProductPeriode",
            )
        )
    issues.extend(_cs325(where, p.bedrag, p.debet_credit, "DebetCredit"))
    if p.eenheid == "83":
        if p.volume != p.bedrag:
            issues.append(
                _issue(
                    "CS339",
                    f"{where}: bij eenheid euro's moet het volume gelijk zijn aan het bedrag.",
                    "GeleverdVolume",
                )
            )
        if p.tarief is not None:
            issues.append(
                _issue(
                    "CD087", f"{where}: bij eenheid euro's blijft het tarief leeg.", "ProductTarief"
                )
            )
    else:
        if p.tarief is None:
            issues.append(
                _issue("CD087", f"{where}: het producttarief is verplicht.", "ProductTarief")
            )
        elif p.volume * p.tarief != p.bedrag:
            issues.append(
                _issue(
                    "9346",
                    f"{where}: het bedrag ({p.bedrag} cent) is niet volume × tarief "
                    f"({p.volume} × {p.tarief}).",
                    "IngediendBedrag",
                )
            )
    issues.extend(_cd060(where, p))
    return issues


def _cd060(where: str, p: Prestatie) -> list[Issue]:
    if p.debet_credit == "C" and not p.vorig_referentie:
        return [
            _issue(
                "CD060",
                f"{where}: een creditprestatie verwijst naar de prestatie die zij crediteert.",
                "VorigReferentieNummer",
            )
        ]
    if p.debet_credit != "C" and p.vorig_referentie:
        return [
            _issue(
                "CD060",
                f"{where}: alleen een creditprestatie heeft een vorig referentienummer.",
                "VorigReferentieNummer",
            )
        ]
    return []


def _check_325(b: Bericht) -> list[Issue]:
    """A declaratie-antwoord: its ProductPeriodes (TR134, TR137), credits (CD060), duplicates
    (TR101), zero amounts (CS325) and the rejected prestaties explaining the difference between
    submitted and awarded (TR342)."""
    d = b.declaratie
    issues: list[Issue] = []
    dagtekening = b.header.dagtekening
    issues.extend(
        _duplicates(
            [(p.bsn, p.referentie, p.vorig_referentie) for p in d.prestaties],
            "TR101",
            "Referentienummer {key[1]} staat meer dan eens in het antwoord bij dezelfde cliënt.",
            "ReferentieNummer",
        )
    )
    for p in d.prestaties:
        where = f"Prestatie {p.referentie}"
        issues.extend(
            _period_checks(
                f"{where}: de productperiode",
                p.begindatum,
                p.einddatum,
                dagtekening,
                "ProductPeriode",
            )
        )
        issues.extend(_cd060(where, p))
        issues.extend(_cs325(where, p.bedrag, p.debet_credit, "DebetCredit"))
    issues.extend(_cs325("Totaal ingediend", d.totaal, d.debet_credit, "TotaalIngediendBedrag"))
    toegekend = d.toegekend_totaal or 0
    issues.extend(
        _cs325("Totaal toegekend", toegekend, d.toegekend_debet_credit, "TotaalToegekendBedrag")
    )
    signed_awarded = -toegekend if d.toegekend_debet_credit == "C" else toegekend
    rejected_whole = [c for c in d.retourcodes if c not in ("0200", "8001")]
    if rejected_whole:
        if signed_awarded != 0:
            issues.append(
                _issue(
                    "TR342",
                    "De declaratie is in zijn geheel afgewezen, maar het toegekende totaal is "
                    "niet 0.",
                    "TotaalToegekendBedrag",
                )
            )
    elif sum(p.signed_cents for p in d.prestaties) != d.signed_total - signed_awarded:
        issues.append(
            _issue(
                "TR342",
                "De afgewezen prestaties in het antwoord verklaren het verschil tussen het "
                "ingediende en het toegekende totaal niet.",
                "TotaalToegekendBedrag",
            )
        )
    return issues


def _check_startstop(b: Bericht) -> list[Issue]:
    issues = []
    stop = b.kind == "307"
    dagtekening = b.header.dagtekening
    # TR101: the logical key of a StartProduct (Begindatum, Product, ToewijzingNummer) or a
    # StopProduct (also Einddatum and RedenBeeindiging) occurs once per client
    issues.extend(
        _duplicates(
            [
                (p.toewijzingnummer, p.begindatum, p.categorie, p.code)
                + ((p.einddatum, p.reden) if stop else ())
                for p in b.producten
            ],
            "TR101",
            "Toewijzing {key[0]}: dezelfde regel staat twee keer in het bericht.",
            "ToewijzingNummer",
        )
    )
    for p in b.producten:
        where = f"Toewijzing {p.toewijzingnummer or '?'}"
        if p.status not in ("1", "3"):
            issues.append(
                _issue(
                    "CS058",
                    f"{where}: StatusAanlevering is in een start- of stopbericht 1 (nieuw) of 3 "
                    "(verwijderen).",
                    "StatusAanlevering",
                )
            )
        if not p.toewijzingnummer:
            issues.append(
                _issue(
                    "9019",
                    f"{where}: een start of stop hoort bij een toewijzing; het "
                    "toewijzingnummer is verplicht.",
                    "ToewijzingNummer",
                )
            )
        if not stop and dagtekening and p.begindatum > dagtekening:
            issues.append(
                _issue(
                    "TR134",
                    f"{where}: de begindatum ({p.begindatum:%d-%m-%Y}) ligt na de dagtekening "
                    f"van het bericht ({dagtekening:%d-%m-%Y}); meld de start op of na die dag.",
                    "Begindatum",
                )
            )
        if stop and p.einddatum and dagtekening and p.einddatum > dagtekening:
            issues.append(
                _issue(
                    "TR134",
                    f"{where}: de einddatum ({p.einddatum:%d-%m-%Y}) ligt na de dagtekening van "
                    f"het bericht ({dagtekening:%d-%m-%Y}); meld de stop op of na die dag.",
                    "Einddatum",
                )
            )
        if stop and p.einddatum and p.einddatum < p.begindatum:
            issues.append(
                _issue("TR018", f"{where}: de einddatum ligt vóór de begindatum.", "Einddatum")
            )
    return issues


@dataclass
class _Contact:
    soort: str | None
    postcode: str | None = None
    landcode: str | None = None
    huisnummer: str | None = None
    telefoon: str | None = None


def _contacts(p: Persoon) -> list[_Contact]:
    """The client's Contact classes: as read from a 301, or the one a 301 we build writes."""
    if p.contacten:
        return [_Contact(**c) for c in p.contacten]
    has_address = bool(p.postcode or p.straat or p.huisnummer)
    soort = p.contact_soort or ("01" if has_address else "02")
    return [_Contact(soort, p.postcode, p.landcode, p.huisnummer, p.telefoon)]


def _check_301(b: Bericht) -> list[Issue]:
    issues = []
    p = b.client
    if p is not None:
        contacts = _contacts(p)
        issues.extend(
            _duplicates(
                [c.soort for c in contacts],
                "TR101",
                "Cliënt: het contact van soort {key} staat meer dan eens in het bericht.",
                "Contact",
            )
        )
        if not any(c.soort in ("01", "02", "03") for c in contacts):
            issues.append(
                _issue(
                    "TR061",
                    "Cliënt: er is geen BRP-, correspondentie- of verblijfadres.",
                    "Contact",
                )
            )
        for c in contacts:
            where = f"Cliënt, contact soort {c.soort}"
            if bool(c.postcode) != bool(c.landcode):
                issues.append(
                    _issue(
                        "CD005",
                        f"{where}: een landcode hoort bij een postcode en alleen daarbij "
                        "(NL voor een Nederlands adres).",
                        "LandCode",
                    )
                )
            if c.landcode == "NL" and not c.huisnummer:
                issues.append(
                    _issue("CD025", f"{where}: een Nederlands adres heeft een huisnummer.", "Huis")
                )
            if c.landcode == "NL" and c.postcode and not POSTCODE_NL.fullmatch(c.postcode):
                issues.append(
                    _issue(
                        "CS089",
                        f"{where}: postcode {c.postcode} is geen Nederlandse postcode (1234AB).",
                        "Postcode",
                    )
                )
            if c.soort in ("01", "03") and not c.postcode:
                issues.append(
                    _issue(
                        "CD034",
                        f"{where}: een BRP- of verblijfadres heeft een postcode.",
                        "Postcode",
                    )
                )
            if not c.telefoon and not (c.huisnummer and c.postcode):
                issues.append(
                    _issue(
                        "TR006",
                        f"{where}: een contact heeft een telefoonnummer of een huisnummer met "
                        "postcode.",
                        "Contact",
                    )
                )
        if bool(p.communicatie_taal) != (p.communicatie_vorm == "1"):
            issues.append(
                _issue(
                    "CD007",
                    "Cliënt: de taal is gevuld als (en alleen als) de communicatievorm tolk "
                    "(1) is.",
                    "Taal",
                )
            )
        if not p.partnernaam and p.naamgebruik not in (None, "1"):
            issues.append(
                _issue(
                    "CS050",
                    "Cliënt: zonder partnernaam is het naamgebruik 1 (eigen naam).",
                    "NaamGebruik",
                )
            )
    issues.extend(
        _duplicates(
            [t.nummer for t in b.toewijzingen],
            "TR101",
            "Toewijzing {key}: het toewijzingnummer staat meer dan eens in het bericht.",
            "ToewijzingNummer",
        )
    )
    dagtekening = b.header.dagtekening
    for t in b.toewijzingen:
        where = f"Toewijzing {t.nummer}"
        if t.einddatum and t.einddatum < t.ingangsdatum:
            issues.append(_issue("CS003", f"{where}: einddatum vóór ingangsdatum.", "Einddatum"))
        if dagtekening and t.toewijzingsdatum and t.toewijzingsdatum > dagtekening:
            issues.append(
                _issue(
                    "TR134",
                    f"{where}: de toewijzingsdatum ligt na de dagtekening van het bericht.",
                    "Toewijzingsdatum",
                )
            )
        if t.reden_wijziging == "13" and t.einddatum != t.ingangsdatum:
            issues.append(
                _issue(
                    "CS335",
                    f"{where}: reden wijziging 13 (verwijderd) alleen met einddatum gelijk aan "
                    "de ingangsdatum.",
                    "RedenWijziging",
                )
            )
        if t.reden_wijziging == "01":
            issues.append(
                _issue(
                    "CS336",
                    f"{where}: reden wijziging 01 (administratieve correctie) is vervallen.",
                    "RedenWijziging",
                )
            )
        issues.extend(
            _check_omvang(
                where,
                t.categorie,
                t.code,
                t.einddatum,
                t.volume,
                t.eenheid,
                t.frequentie,
                t.budget,
                soort="301",
            )
        )
    issues.extend(
        _overlap(
            [
                (t.categorie, t.code, t.ingangsdatum, t.einddatum)
                for t in b.toewijzingen
                if not (t.reden_wijziging in ("01", "13") and t.einddatum == t.ingangsdatum)
            ],
            "TR302",
            "Toewijzingen van hetzelfde product overlappen elkaar in tijd.",
        )
    )
    return issues


def _overlap(items, code: str, text: str) -> list[Issue]:
    """TR302/TR386/TR410: the same product (code, or only the category when a code is missing;
    no category at all overlaps with anything) twice in overlapping periods; hulpmiddelen may."""
    for n, (cat, code_, begin, end) in enumerate(items):
        for cat2, code2, begin2, end2 in items[:n]:
            if cat in HULPMIDDELEN or cat2 in HULPMIDDELEN:
                continue
            same = (
                (code_ and code2 and code_ == code2 and cat == cat2)
                or ((not code_ or not code2) and cat and cat == cat2)
                or not cat
                or not cat2
            )
            overlaps = (end is None or end >= begin2) and (end2 is None or end2 >= begin)
            if same and overlaps:
                return [_issue(code, text, "Product")]
    return []


def _check_omvang(
    where: str,
    categorie: str | None,
    code: str | None,
    einddatum: date | None,
    volume: int | None,
    eenheid: str | None,
    frequentie: str | None,
    budget: int | None,
    *,
    soort: str,
) -> list[Issue]:
    """The conditions on Product, Omvang, Budget and the end date of a ToegewezenProduct (301),
    AangevraagdProduct (315), TeWijzigenProduct (317 ``wijzig``) or NieuwProduct (317 ``nieuw``).
    A TeWijzigenProduct has no Product of its own (the toewijzing's holds, TR411/TR412)."""
    issues = []
    has_product = soort != "wijzig"
    recent = einddatum is None or einddatum > OUDE_TOEWIJZING
    if has_product and code and volume is None:
        issues.append(
            _issue(
                "CD041",
                f"{where}: bij een productcode hoort een omvang (volume, eenheid, frequentie).",
                "Omvang",
            )
        )
    if budget is not None and einddatum is None:
        issues.append(
            _issue(
                "CD075",
                f"{where}: bij een budget hoort een einddatum (het budget geldt voor die periode).",
                "Einddatum",
            )
        )
    if volume is not None and frequentie in FREQUENTIE_MET_EINDDATUM and einddatum is None:
        issues.append(
            _issue(
                "CD076",
                f"{where}: bij een omvang per week hoort een einddatum.",
                "Einddatum",
            )
        )
    if volume is not None and budget is not None:
        issues.append(_issue("CD077", f"{where}: bij een budget blijft de omvang leeg.", "Omvang"))
        issues.append(_issue("CD078", f"{where}: bij een omvang blijft het budget leeg.", "Budget"))
    if has_product and soort != "wijzig" and budget is None and not categorie:
        issues.append(
            _issue("CD079", f"{where}: zonder budget is het product verplicht.", "Product")
        )
    if has_product and volume is not None and not code and recent:
        rule = {"301": "CD080", "315": "CD095", "nieuw": "CD096"}[soort]
        issues.append(
            _issue(
                rule,
                f"{where}: een omvang kan alleen bij een productcode; vraag zonder productcode "
                "een budget aan.",
                "Omvang",
            )
        )
    if (
        volume is not None
        and eenheid in EENHEID_NIET_PER_DAG
        and recent
        and frequentie not in FREQUENTIE_VOOR_EENHEID
    ):
        issues.append(
            _issue(
                "CS343" if soort == "315" else "CS338",
                f"{where}: een omvang in etmalen, dagdelen, euro's of weken is per week, per "
                "maand of totaal (frequentie 2, 4 of 6).",
                "Frequentie",
            )
        )
    return issues


def _check_315(b: Bericht) -> list[Issue]:
    issues = []
    refs = Counter(a.referentie for a in b.aanvragen)
    for ref, count in refs.items():
        if count > 1:
            issues.append(
                _issue(
                    "TR383",
                    f"Aanvraag {ref}: de referentie komt meer dan eens voor in het bericht.",
                    "ReferentieAanbieder",
                )
            )
            issues.append(
                _issue(
                    "TR101",
                    f"Aanvraag {ref}: hetzelfde aangevraagde product staat twee keer in het "
                    "bericht.",
                    "ReferentieAanbieder",
                )
            )
    for a in b.aanvragen:
        where = f"Aanvraag {a.referentie}"
        if a.einddatum and a.einddatum < a.ingangsdatum:
            issues.append(
                _issue(
                    "CS003",
                    f"{where}: de einddatum ligt vóór de ingangsdatum.",
                    "ToewijzingEinddatum",
                )
            )
        if bool(a.beschikking_nummer) != bool(a.beschikking_ingangsdatum):
            issues.append(
                _issue(
                    "CD043",
                    f"{where}: beschikkingnummer en ingangsdatum van de beschikking horen bij "
                    "elkaar.",
                    "BeschikkingIngangsdatum",
                )
            )
        zorgverlener = a.verwijzer_type in VERWIJZER_ZORGVERLENER
        if zorgverlener and a.verwijzer_zorgverlenercode and a.verwijzer_naam:
            issues.append(
                _issue(
                    "CD066",
                    f"{where}: met de AGB-code van de verwijzer blijft de naam leeg.",
                    "Naam",
                )
            )
        if zorgverlener and not a.verwijzer_zorgverlenercode and not a.verwijzer_naam:
            issues.append(
                _issue(
                    "CD067",
                    f"{where}: vul de naam (of de AGB-code) van de verwijzende arts of "
                    "instelling in.",
                    "Naam",
                )
            )
        if not zorgverlener and a.verwijzer_zorgverlenercode:
            issues.append(
                _issue(
                    "CD068",
                    f"{where}: alleen een arts of instelling als verwijzer heeft een AGB-code.",
                    "ZorgverlenerCode",
                )
            )
        issues.extend(
            _check_omvang(
                where,
                a.categorie,
                a.code,
                a.einddatum,
                a.volume,
                a.eenheid,
                a.frequentie,
                a.budget,
                soort="315",
            )
        )
    issues.extend(
        _overlap(
            [(a.categorie, a.code, a.ingangsdatum, a.einddatum) for a in b.aanvragen],
            "TR386",
            "Hetzelfde product wordt twee keer aangevraagd voor overlappende periodes.",
        )
    )
    return issues


def _check_317(b: Bericht) -> list[Issue]:
    v = b.verzoek
    issues = []
    dagtekening = b.header.dagtekening
    if not v.ongewijzigd and not v.te_wijzigen:
        issues.append(
            _issue(
                "TR352",
                "Een verzoek om wijziging noemt de actuele toewijzingen (ongewijzigd of te "
                "wijzigen); zonder actuele toewijzing is het een verzoek om toewijzing (315).",
                "OngewijzigdeProducten",
            )
        )
    if not v.te_wijzigen and not v.nieuw:
        issues.append(
            _issue(
                "TR353",
                "Een verzoek om wijziging bevat minstens één te wijzigen of nieuw product.",
                "TeWijzigenProducten",
            )
        )
    issues.extend(
        _duplicates(
            list(v.ongewijzigd),
            "TR101",
            "Toewijzing {key} staat meer dan eens als ongewijzigd in het verzoek.",
            "ToewijzingNummer",
        )
        + _duplicates(
            [w.toewijzingnummer for w in v.te_wijzigen],
            "TR101",
            "Toewijzing {key} staat meer dan eens als te wijzigen in het verzoek.",
            "ToewijzingNummer",
        )
        + _duplicates(
            [(w.ingangsdatum, w.categorie, w.code) for w in v.nieuw],
            "TR101",
            "Nieuw product: hetzelfde product staat twee keer met dezelfde ingangsdatum in het "
            "verzoek.",
            "NieuwProduct",
        )
    )
    for w in v.te_wijzigen + v.nieuw:
        new = w.toewijzingnummer is None
        where = "Nieuw product" if new else f"Toewijzing {w.toewijzingnummer}"
        if w.einddatum and w.einddatum < w.ingangsdatum:
            issues.append(
                _issue(
                    "CS003",
                    f"{where}: de einddatum ligt vóór de gewenste ingangsdatum.",
                    "Einddatum",
                )
            )
        if new and dagtekening and w.ingangsdatum <= dagtekening:
            issues.append(
                _issue(
                    "TR380",
                    f"{where}: de gewenste ingangsdatum moet na de dagtekening van het bericht "
                    f"({dagtekening:%d-%m-%Y}) liggen.",
                    "GewensteIngangsdatum",
                )
            )
        issues.extend(
            _check_omvang(
                where,
                w.categorie,
                w.code,
                w.einddatum,
                w.volume,
                w.eenheid,
                w.frequentie,
                w.budget,
                soort="nieuw" if new else "wijzig",
            )
        )
    issues.extend(
        _overlap(
            [(w.categorie, w.code, w.ingangsdatum, w.einddatum) for w in v.nieuw],
            "TR410",
            "Nieuw product: hetzelfde product wordt twee keer gevraagd voor overlappende periodes.",
        )
    )
    return issues


def _check_319(b: Bericht) -> list[Issue]:
    a = b.antwoord
    issues = []
    if a.antwoord == "1" and not a.reden_afwijzing:
        issues.append(
            _issue("CD085", "Bij een afwijzing hoort de reden van afwijzing.", "RedenAfwijzing")
        )
    if a.antwoord == "2" and a.reden_afwijzing:
        issues.append(
            _issue(
                "CD086",
                "Een aanvraag in onderzoek heeft geen reden van afwijzing.",
                "RedenAfwijzing",
            )
        )
    woonplaats = a.reden_afwijzing == "8"
    if b.std.key == "ijw" and woonplaats and not a.woonplaats_gemeente:
        issues.append(
            _issue(
                "TR377",
                "Bij afwijzing wegens woonplaatsbeginsel hoort de gemeente die wel "
                "verantwoordelijk is.",
                "Woonplaatsbeginsel",
            )
        )
    if b.std.key == "ijw" and not woonplaats and a.woonplaats_gemeente:
        issues.append(
            _issue(
                "TR409",
                "Een verantwoordelijke gemeente (woonplaatsbeginsel) alleen bij reden van "
                "afwijzing 8.",
                "Woonplaatsbeginsel",
            )
        )
    return issues


# --- rules against known state ----------------------------------------------------------------


@dataclass
class ToewijzingState:
    """What either side knows about one toewijzing."""

    nummer: str
    bsn: str
    ingangsdatum: date
    einddatum: date | None = None
    categorie: str | None = None
    code: str | None = None
    eenheid: str | None = None
    volume: int | None = None
    frequentie: str | None = None
    budget: int | None = None
    reden_wijziging: str | None = None


@dataclass
class DeclarationState:
    """The other side's memory for a 323: toewijzingen, tariffs and earlier prestaties."""

    toewijzingen: dict[str, ToewijzingState] = field(default_factory=dict)
    tarieven: dict[tuple[str, str], int] = field(default_factory=dict)  # (categorie, code) -> cents
    known_references: set[str] = field(default_factory=set)  # every ReferentieNummer seen (TR314)
    awarded: set[str] = field(default_factory=set)  # debet references awarded (TR323)
    credited: set[str] = field(default_factory=set)  # debet references already credited (TR390)
    declaration_numbers: set[str] = field(default_factory=set)  # TR333
    last_period: date | None = None  # begin of the latest DeclaratiePeriode (TR318, TR319)
    # per ToewijzingNummer, what earlier debet prestaties (not rejected, not credited) hold:
    declared_volume: dict[str, float] = field(default_factory=dict)  # in the toewijzing's unit
    declared_cents: dict[str, int] = field(default_factory=dict)  # TR369
    products: set[tuple[str, str]] = field(default_factory=set)  # (categorie, code), TR381


def volume_in_toewijzing_unit(volume: int, eenheid: str, assigned: str | None) -> float | None:
    """A declared volume in the toewijzing's unit (minutes on an hours toewijzing count as
    hours, IV081); None when the units do not fit (that is TR341's finding)."""
    if assigned is None or eenheid == assigned:
        return float(volume)
    if (eenheid, assigned) == ("01", "04"):
        return volume / 60
    return None


def allowed_volume(t: ToewijzingState, begin: date, end: date) -> float | None:
    """The most one prestatie over ``begin``…``end`` may hold under the toewijzing's Omvang
    (TR321), in the toewijzing's unit; None when the toewijzing sets no bound. Per week counts
    every ISO week the productperiode touches (a generous bound: a part week may hold a full
    week's care)."""
    if t.volume is None or t.frequentie is None:
        return None
    if t.frequentie == "1":  # per dag
        return float(t.volume * ((end - begin).days + 1))
    if t.frequentie == "2":  # per week
        first = begin.toordinal() - begin.weekday()
        last = end.toordinal() - end.weekday()
        return float(t.volume * ((last - first) // 7 + 1))
    if t.frequentie in ("4", "6"):  # per maand (a productperiode lies in one month), totaal
        return float(t.volume)
    return None


def _months_between(after: date, before: date) -> list[date]:
    """First days of the months strictly between the months of two dates."""
    out = []
    month = next_month(after)
    while month < before.replace(day=1):
        out.append(month)
        month = next_month(month)
    return out


def next_month(day: date, step: int = 1) -> date:
    """The first day of the month ``step`` months after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def eenheid_fits(declared: str, assigned: str | None) -> bool:
    """TR341: same unit, or minutes declared on an hours toewijzing (IV081)."""
    return assigned is None or declared == assigned or (declared == "01" and assigned == "04")


def check_prestatie_state(p: Prestatie, state: DeclarationState) -> list[Issue]:
    """Cross-message rules for one prestatie; codes are the gemeente's retourcodes."""
    where = f"Prestatie {p.referentie}"
    issues = []
    if p.referentie in state.known_references:
        issues.append(
            _issue(
                "8021", f"{where}: dit referentienummer is al eerder gebruikt.", "ReferentieNummer"
            )
        )
    if p.debet_credit == "C":
        if p.vorig_referentie not in state.awarded:
            issues.append(
                _issue(
                    "8017",
                    f"{where}: de gecrediteerde prestatie {p.vorig_referentie} is niet bekend als "
                    "toegekend.",
                    "VorigReferentieNummer",
                )
            )
        elif p.vorig_referentie in state.credited:
            issues.append(
                _issue(
                    "9390",
                    f"{where}: prestatie {p.vorig_referentie} is al gecrediteerd.",
                    "VorigReferentieNummer",
                )
            )
    t = state.toewijzingen.get(p.toewijzingnummer)
    if t is None:
        issues.append(
            _issue(
                "9338",
                f"{where}: toewijzing {p.toewijzingnummer} is niet bekend.",
                "ToewijzingNummer",
            )
        )
        return issues
    if t.bsn != p.bsn:
        issues.append(_issue("8187", f"{where}: de toewijzing hoort bij een andere cliënt.", "Bsn"))
    if t.reden_wijziging == "13":
        issues.append(
            _issue(
                "9384",
                f"{where}: de toewijzing is verwijderd door de gemeente.",
                "ToewijzingNummer",
            )
        )
    if p.begindatum < t.ingangsdatum or (t.einddatum and p.begindatum > t.einddatum):
        issues.append(
            _issue("9307", f"{where}: de begindatum valt buiten de toewijzing.", "ProductPeriode")
        )
    if p.einddatum < t.ingangsdatum or (t.einddatum and p.einddatum > t.einddatum):
        issues.append(
            _issue("9308", f"{where}: de einddatum valt buiten de toewijzing.", "ProductPeriode")
        )
    if p.begindatum.day != 1 and p.begindatum != t.ingangsdatum:
        issues.append(
            _issue(
                "9387",
                f"{where}: de productperiode begint niet op de 1e van de maand of op de "
                "ingangsdatum van de toewijzing.",
                "ProductPeriode",
            )
        )
    if p.einddatum != month_end(p.einddatum) and p.einddatum != t.einddatum:
        issues.append(
            _issue(
                "9388",
                f"{where}: de productperiode eindigt niet op de laatste dag van de maand of op de "
                "einddatum van de toewijzing.",
                "ProductPeriode",
            )
        )
    if t.categorie and p.categorie != t.categorie:
        issues.append(
            _issue(
                "9339",
                f"{where}: de productcategorie wijkt af van de toewijzing.",
                "ProductCategorie",
            )
        )
    if t.code and p.code != t.code:
        issues.append(
            _issue("9340", f"{where}: de productcode wijkt af van de toewijzing.", "ProductCode")
        )
    if not eenheid_fits(p.eenheid, t.eenheid):
        issues.append(
            _issue("9341", f"{where}: de eenheid past niet bij de toewijzing.", "Eenheid")
        )
    if p.debet_credit == "D":
        volume = volume_in_toewijzing_unit(p.volume, p.eenheid, t.eenheid)
        bound = allowed_volume(t, p.begindatum, p.einddatum)
        if volume is not None and bound is not None and volume > bound + 1e-9:
            issues.append(
                _issue(
                    "9321",
                    f"{where}: het volume ({_fmt(volume)}) is groter dan toegewezen voor deze "
                    f"productperiode ({_fmt(bound)}).",
                    "GeleverdVolume",
                )
            )
    if state.products and (p.categorie, p.code) not in state.products:
        issues.append(
            _issue(
                "S329",
                f"{where}: productcode {p.code} hoort niet bij productcategorie {p.categorie} "
                "volgens de productenlijst van de gemeente.",
                "ProductCode",
            )
        )
    tarief = state.tarieven.get((p.categorie, p.code))
    if tarief is not None and p.tarief is not None:
        # minutes on an hours toewijzing: the minute tariff from the hour tariff (TR346 note)
        expected = round(tarief / 60) if (p.eenheid, t.eenheid) == ("01", "04") else tarief
        if p.tarief != expected:
            issues.append(
                _issue(
                    "0611",
                    f"{where}: het tarief ({p.tarief} cent) wijkt af van het contracttarief "
                    f"({tarief} cent).",
                    "ProductTarief",
                )
            )
    return issues


def check_323_state(
    b: Bericht, state: DeclarationState
) -> tuple[list[Issue], dict[str, list[Issue]]]:
    """(declaration-level issues, issues per ReferentieNummer) for a 323 against ``state``."""
    d = b.declaratie
    top = []
    if d.nummer in state.declaration_numbers:
        top.append(
            _issue(
                "9333", f"Declaratienummer {d.nummer} is al eerder gebruikt.", "DeclaratieNummer"
            )
        )
    if state.last_period and d.periode_begin and d.periode_begin < state.last_period:
        # TR318: a declaratieperiode follows the previous one; care of earlier months travels
        # in a later declaration (IV090), never in an earlier period
        top.append(
            _issue(
                "8214",
                f"De declaratieperiode ligt vóór de vorige ({month_label(state.last_period)}); "
                "declareer zorg uit een eerdere maand in de declaratie van de volgende maand.",
                "DeclaratiePeriode",
            )
        )
    if state.last_period and d.periode_begin:
        care_months = {p.begindatum.replace(day=1) for p in d.prestaties if p.debet_credit == "D"}
        gap = _months_between(state.last_period, d.periode_begin)
        with_care = [month for month in gap if month in care_months]
        if with_care:
            top.append(
                _issue(
                    "8214",
                    f"De declaratieperiode sluit niet aan op de vorige ({month_label(state.last_period)}), "
                    f"terwijl er zorg is geleverd in {month_label(with_care[0])}: declareer eerst "
                    f"{month_label(with_care[0])}.",
                    "DeclaratiePeriode",
                )
            )
    per_line = {}
    for p in d.prestaties:
        found = check_prestatie_state(p, state)
        if found:
            per_line[p.referentie] = found
    _check_cumulative(d.prestaties, state, per_line)
    return top, per_line


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _check_cumulative(prestaties, state: DeclarationState, per_line: dict[str, list[Issue]]):
    """TR322 (the sum of declared volumes within a 'totaal' toewijzing) and TR369 (the sum of
    amounts within a budget), over earlier prestaties and this message. Credits count first (a
    credit and its correction may travel together); lines rejected for another reason do not
    count; the line that crosses the bound is the one rejected."""
    volume = dict(state.declared_volume)
    cents = dict(state.declared_cents)
    for p in sorted(prestaties, key=lambda p: (p.debet_credit != "C", p.begindatum, p.referentie)):
        t = state.toewijzingen.get(p.toewijzingnummer)
        if t is None or p.referentie in per_line:
            continue
        sign = 1 if p.debet_credit == "D" else -1
        nr = t.nummer
        found = []
        v = volume_in_toewijzing_unit(p.volume, p.eenheid, t.eenheid)
        totaal = t.frequentie == "6" and t.volume is not None and v is not None
        if totaal and sign > 0 and volume.get(nr, 0) + v > t.volume + 1e-9:
            found.append(
                _issue(
                    "9322",
                    f"Prestatie {p.referentie}: samen met eerder gedeclareerde prestaties "
                    f"({_fmt(volume.get(nr, 0))}) overschrijdt het volume het toegewezen "
                    f"totaal ({t.volume}) van toewijzing {nr}.",
                    "GeleverdVolume",
                )
            )
        if t.budget is not None and sign > 0 and cents.get(nr, 0) + p.bedrag > t.budget:
            found.append(
                _issue(
                    "9369",
                    f"Prestatie {p.referentie}: samen met eerder gedeclareerde prestaties "
                    f"(€ {format_cents(cents.get(nr, 0))}) past het bedrag niet in het toegewezen "
                    f"budget (€ {format_cents(t.budget)}) van toewijzing {nr}.",
                    "IngediendBedrag",
                )
            )
        if found:
            per_line.setdefault(p.referentie, []).extend(found)
            continue
        if v is not None:
            volume[nr] = volume.get(nr, 0) + sign * v
        cents[nr] = cents.get(nr, 0) + sign * p.bedrag


@dataclass
class StartState:
    """Starts and stops known per toewijzing: ``starts[nummer] = [begindatum, …]`` still active."""

    toewijzingen: dict[str, ToewijzingState] = field(default_factory=dict)
    starts: dict[str, list[date]] = field(default_factory=dict)
    stops: dict[tuple[str, date], date] = field(default_factory=dict)  # (nummer, begin) -> eind


def check_startstop_state(kind: str, p: StartStop, state: StartState) -> list[Issue]:
    """Cross-message rules for one StartProduct/StopProduct."""
    where = f"Toewijzing {p.toewijzingnummer}"
    if p.toewijzingnummer not in state.toewijzingen:
        return [
            _issue("9019", f"{where}: niet te koppelen aan een toewijzing.", "ToewijzingNummer")
        ]
    starts = state.starts.get(p.toewijzingnummer, [])
    key = (p.toewijzingnummer, p.begindatum)
    if kind == "305":
        if p.status == "1":
            if p.begindatum in starts:
                return [_issue("9074", f"{where}: deze start is al eerder gemeld.", "Begindatum")]
            open_starts = [s for s in starts if (p.toewijzingnummer, s) not in state.stops]
            if open_starts:
                return [
                    _issue("9326", f"{where}: de vorige start is nog niet gestopt.", "Begindatum")
                ]
        else:  # 3: delete the earlier start
            if p.begindatum not in starts:
                return [
                    _issue("9063", f"{where}: er is geen start om te verwijderen.", "Begindatum")
                ]
            if key in state.stops:
                return [
                    _issue(
                        "9071",
                        f"{where}: de zorg is al gestopt; verwijder eerst de stop.",
                        "StatusAanlevering",
                    )
                ]
        return []
    # 307
    if p.begindatum not in starts:
        return [_issue("9069", f"{where}: er is geen start met deze begindatum.", "Begindatum")]
    if p.status == "1" and key in state.stops:
        return [_issue("9074", f"{where}: deze stop is al eerder gemeld.", "Einddatum")]
    if p.status == "3" and key not in state.stops:
        return [_issue("9063", f"{where}: er is geen stop om te verwijderen.", "Einddatum")]
    return []


def apply_startstop(kind: str, p: StartStop, state: StartState) -> None:
    """Record an accepted start/stop in ``state``."""
    starts = state.starts.setdefault(p.toewijzingnummer, [])
    key = (p.toewijzingnummer, p.begindatum)
    if kind == "305":
        if p.status == "1":
            starts.append(p.begindatum)
        elif p.begindatum in starts:
            starts.remove(p.begindatum)
    else:
        if p.status == "1":
            state.stops[key] = p.einddatum
        else:
            state.stops.pop(key, None)


def check_317_state(b: Bericht, current: set[str]) -> list[Issue]:
    """TR349/TR350/TR351: the VOW lists exactly the client's current toewijzingen."""
    v = b.verzoek
    issues = []
    listed = set(v.ongewijzigd) | {w.toewijzingnummer for w in v.te_wijzigen}
    for nr in set(v.ongewijzigd) - current:
        issues.append(
            _issue("9350", f"Toewijzing {nr} is geen actuele toewijzing.", "OngewijzigdProduct")
        )
    for nr in {w.toewijzingnummer for w in v.te_wijzigen} - current:
        issues.append(
            _issue("9351", f"Toewijzing {nr} is geen actuele toewijzing.", "TeWijzigenProduct")
        )
    missing = current - listed
    if missing:
        issues.append(
            _issue(
                "9349",
                "Het verzoek noemt niet alle actuele toewijzingen: "
                + ", ".join(sorted(missing))
                + ".",
                "OngewijzigdeProducten",
            )
        )
    return issues


def check_317_dates(b: Bericht, ingangsdata: dict[str, date]) -> list[Issue]:
    """TR357 (→ 9357): a change holds from after the message date, unless it holds from the
    toewijzing's own ingangsdatum; TR373 (→ 9373): a new budget or total holds for the whole
    toewijzing, so it is asked from that ingangsdatum. ``ingangsdata`` maps ToewijzingNummer → Ingangsdatum
    of the current toewijzingen."""
    issues = []
    dagtekening = b.header.dagtekening
    for w in b.verzoek.te_wijzigen:
        original = ingangsdata.get(w.toewijzingnummer)
        where = f"Toewijzing {w.toewijzingnummer}"
        if dagtekening and w.ingangsdatum <= dagtekening and w.ingangsdatum != original:
            issues.append(
                _issue(
                    "9357",
                    f"{where}: de gewenste ingangsdatum moet na de dagtekening van het bericht "
                    f"({dagtekening:%d-%m-%Y}) liggen, of gelijk zijn aan de ingangsdatum van de "
                    "toewijzing" + (f" ({original:%d-%m-%Y})." if original else "."),
                    "GewensteIngangsdatum",
                )
            )
        totaal = w.volume is not None and w.frequentie == "6"
        if (w.budget is not None or totaal) and original and w.ingangsdatum != original:
            what = "budget" if w.budget is not None else "totaal over de toewijzingsperiode"
            issues.append(
                _issue(
                    "9373",
                    f"{where}: een nieuw {what} geldt voor de hele toewijzing; vraag het aan per "
                    f"de ingangsdatum van de toewijzing ({original:%d-%m-%Y}).",
                    "GewensteIngangsdatum",
                )
            )
    return issues


def check_317_products(b: Bericht, toewijzingen: dict[str, ToewijzingState]) -> list[Issue]:
    """TR361 (→ 9361): a new product overlaps no listed toewijzing of the same product;
    TR411 (→ 9411): a TeWijzigenProduct of a toewijzing with a product code carries an
    Omvang; TR412 (→ 9412): one of a toewijzing without a product code (running after 2020)
    carries none. ``toewijzingen`` maps ToewijzingNummer → the current toewijzing."""
    issues = []
    v = b.verzoek
    # TR361 (→ 9361): a new product does not overlap a listed current toewijzing of the same
    # product (the toewijzing's period, with a changed end date where one is asked)
    listed = []
    ends = {w.toewijzingnummer: w.einddatum for w in v.te_wijzigen}
    for nr in list(v.ongewijzigd) + list(ends):
        t = toewijzingen.get(nr)
        if t is not None:
            listed.append((t.categorie, t.code, t.ingangsdatum, ends.get(nr) or t.einddatum))
    for w in v.nieuw:
        asked = (w.categorie, w.code, w.ingangsdatum, w.einddatum)
        if any(_overlap([item, asked], "9361", "") for item in listed):
            issues.append(
                _issue(
                    "9361",
                    "Nieuw product: de cliënt heeft dit product al in een toewijzing die in "
                    "dezelfde periode loopt; wijzig die toewijzing of laat het nieuwe product "
                    "daarna ingaan.",
                    "GewensteIngangsdatum",
                )
            )
    for w in v.te_wijzigen:
        t = toewijzingen.get(w.toewijzingnummer)
        if t is None:
            continue  # TR351's finding
        where = f"Toewijzing {w.toewijzingnummer}"
        if t.code and w.volume is None:
            issues.append(
                _issue(
                    "9411",
                    f"{where}: de toewijzing heeft productcode {t.code}; vul de omvang in.",
                    "Omvang",
                )
            )
        recent = w.einddatum is None or w.einddatum > OUDE_TOEWIJZING
        if not t.code and w.volume is not None and recent:
            issues.append(
                _issue(
                    "9412",
                    f"{where}: de toewijzing heeft geen productcode; een omvang kan niet, "
                    "vraag een budget aan.",
                    "Omvang",
                )
            )
    return issues
