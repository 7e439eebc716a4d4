"""Building and reading iWmo/iJw 3.2 messages.

One implementation for both standards: a :class:`~plugins.wmo_jw.standard.Standard` gives the
namespaces, BerichtCodes and XSD versions. Messages are plain dataclasses (:class:`Bericht` and its
parts); ``build(bericht)`` turns one into XML bytes that are validated against the official XSD,
``parse(payload)`` reads outside XML safely (no DTD, no entities, no network, a size limit) and
validates it before anything is read from it.

Retour messages (302/306/308/316/318/320) are by definition the heenbericht with RetourCodes added
per message class; :func:`build_retour` derives them from the heenbericht's XML and the class
list of the retour XSD.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from lxml import etree

from plugins.wmo_jw.standard import RETOUR_OF, Standard, identify
from portal.formats.xml import MAX_BYTES, XS, read_xml
from portal.formats.xml import XmlError as MessageError

# --- the data -----------------------------------------------------------------------------------


@dataclass
class Header:
    afzender: str
    ontvanger: str
    identificatie: str
    dagtekening: date
    berichtcode: str = ""
    xsd_versie: tuple[str, str] | None = None
    # retour messages
    identificatie_retour: str | None = None
    dagtekening_retour: date | None = None
    xsd_versie_retour: tuple[str, str] | None = None
    # 325
    declaratie_identificatie: str | None = None
    declaratie_dagtekening: date | None = None
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Persoon:
    bsn: str
    geboortedatum: date
    geslacht: str = "0"
    achternaam: str = ""
    voorvoegsel: str | None = None
    voorletters: str | None = None
    voornamen: str | None = None
    # 301 only
    straat: str | None = None
    huisnummer: str | None = None  # Huisnummer + Huisletter
    postcode: str | None = None
    plaats: str | None = None
    huisnummer_toevoeging: str | None = None
    landcode: str | None = None  # written as NL with a postcode when not set (CD005)
    contact_soort: str | None = None  # LDT_AdresSoort of the contact the address came from
    partnernaam: str | None = None  # "Voorvoegsel Achternaam" of the Partnernaam
    naamgebruik: str | None = None
    telefoon: str | None = None
    email: str | None = None
    communicatie_vorm: str | None = None
    communicatie_taal: str | None = None
    juridische_status: str | None = None
    wettelijke_vertegenwoordiging: str | None = None
    commentaar: str | None = None
    # every Relatie of the client: plain dicts (nummer, soort, naam, geboortedatum, adres, …)
    relaties: list[dict] = field(default_factory=list)
    # every Contact of a received 301 as it came (soort, postcode, landcode, huisnummer,
    # telefoon), for the rules on each contact (CD005, CD034, TR006, TR061, …)
    contacten: list[dict] = field(default_factory=list)
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Toewijzing:
    """A ToegewezenProduct of a 301."""

    nummer: str
    toewijzingsdatum: date
    toewijzingstijd: str
    ingangsdatum: date
    categorie: str | None = None
    code: str | None = None
    einddatum: date | None = None
    reden_wijziging: str | None = None
    volume: int | None = None
    eenheid: str | None = None
    frequentie: str | None = None
    budget: int | None = None
    referentie_aanbieder: str | None = None
    commentaar: str | None = None
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class StartStop:
    """A StartProduct (305) or StopProduct (307)."""

    begindatum: date
    status: str = "1"
    toewijzingnummer: str | None = None
    categorie: str | None = None
    code: str | None = None
    toewijzing_ingangsdatum: date | None = None
    einddatum: date | None = None  # 307
    reden: str | None = None  # 307 RedenBeeindiging
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Aanvraag:
    """An AangevraagdProduct (315)."""

    referentie: str
    ingangsdatum: date
    verwijzer_type: str
    categorie: str | None = None
    code: str | None = None
    einddatum: date | None = None
    volume: int | None = None
    eenheid: str | None = None
    frequentie: str | None = None
    budget: int | None = None
    verwijzer_naam: str | None = None
    verwijzer_zorgverlenercode: str | None = None  # AGB code of a referring professional
    commentaar: str | None = None
    beschikking_nummer: str | None = None
    beschikking_ingangsdatum: date | None = None
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Wijziging:
    """A TeWijzigenProduct or NieuwProduct (317); ``toewijzingnummer`` None means new."""

    ingangsdatum: date
    toewijzingnummer: str | None = None
    categorie: str | None = None
    code: str | None = None
    einddatum: date | None = None
    volume: int | None = None
    eenheid: str | None = None
    frequentie: str | None = None
    budget: int | None = None
    retourcodes: list[str] = field(default_factory=list)  # in a 318


@dataclass
class Verzoek:
    """The Verzoek of a 317 (in a 318 with the gemeente's RetourCodes)."""

    referentie: str
    reden: str
    ongewijzigd: list[str] = field(default_factory=list)
    te_wijzigen: list[Wijziging] = field(default_factory=list)
    nieuw: list[Wijziging] = field(default_factory=list)
    retourcodes: list[str] = field(default_factory=list)
    ongewijzigd_retourcodes: dict[str, list[str]] = field(default_factory=dict)

    def all_retourcodes(self) -> list[str]:
        """Every code of a 318, on the Verzoek and on each product, in document order."""
        found = list(self.retourcodes)
        for codes in self.ongewijzigd_retourcodes.values():
            found += codes
        for w in self.te_wijzigen + self.nieuw:
            found += w.retourcodes
        return found


@dataclass
class Antwoord:
    """The Antwoord of a 319."""

    referentie: str
    antwoord: str
    reden_afwijzing: str | None = None
    woonplaats_gemeente: str | None = None  # iJw only
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Prestatie:
    referentie: str
    toewijzingnummer: str
    categorie: str
    code: str
    begindatum: date
    einddatum: date
    volume: int
    eenheid: str
    bedrag: int
    debet_credit: str = "D"
    tarief: int | None = None
    vorig_referentie: str | None = None
    bsn: str = ""
    retourcodes: list[str] = field(default_factory=list)

    @property
    def signed_cents(self) -> int:
        return -self.bedrag if self.debet_credit == "C" else self.bedrag


@dataclass
class Declaratie:
    nummer: str
    prestaties: list[Prestatie]
    periode_begin: date | None = None  # 323
    periode_eind: date | None = None
    dagtekening: date | None = None
    totaal: int = 0
    debet_credit: str = "D"
    toegekend_totaal: int | None = None  # 325
    toegekend_debet_credit: str | None = None
    retourcodes: list[str] = field(default_factory=list)
    client_retourcodes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def signed_total(self) -> int:
        return -self.totaal if self.debet_credit == "C" else self.totaal


@dataclass
class Bericht:
    std: Standard
    kind: str
    header: Header
    client: Persoon | None = None
    gezagsdrager_bekend: str | None = None  # iJw 315
    commentaar: str | None = None  # 315 client comment
    toewijzingen: list[Toewijzing] = field(default_factory=list)  # 301/302
    producten: list[StartStop] = field(default_factory=list)  # 305-308
    aanvragen: list[Aanvraag] = field(default_factory=list)  # 315/316
    verzoek: Verzoek | None = None  # 317/318
    antwoord: Antwoord | None = None  # 319/320
    declaratie: Declaratie | None = None  # 323/325

    @property
    def name(self) -> str:
        return self.std.message_name(self.kind)


def new_identificatie() -> str:
    """A BerichtIdentificatie: 12 characters, random enough to be unique per sender (TR056)."""
    return secrets.token_hex(6)


# --- safe reading: portal.formats.xml.read_xml ------------------------------------------------------


def recognise(payload: bytes) -> tuple[Standard, str] | None:
    """(standard, kind) when the payload looks like an iWmo/iJw 3.2 message, else None.

    Cheap and tolerant: only the root namespace is looked at, nothing is validated.
    """
    match = re.search(
        rb"http://www\.istandaarden\.nl/(iwmo|ijw)/3_2/(wmo|jw)(\d{3})/schema", payload[:2048]
    )
    if not match:
        return None
    return identify(match.group(0).decode())


def validate_xsd(std: Standard, kind: str, root: etree._Element) -> list[str]:
    """XSD errors in Dutch-prefixed form (empty when valid)."""
    schema = std.schema(kind)
    if schema.validate(root):
        return []
    return [f"regel {e.line}: {e.message}" for e in schema.error_log][:20]


def parse(payload: bytes, max_bytes: int = MAX_BYTES) -> Bericht:
    """Read, recognise and XSD-validate an incoming message; then turn it into a :class:`Bericht`."""
    root = read_xml(payload, max_bytes)
    found = identify(etree.QName(root).namespace or "")
    if found is None or etree.QName(root).localname != "Bericht":
        raise MessageError(
            "Het bericht is geen iWmo 3.2- of iJw 3.2-bericht (onbekende namespace)."
        )
    std, kind = found
    errors = validate_xsd(std, kind, root)
    if errors:
        raise MessageError(
            f"Het {std.label} {kind}-bericht voldoet niet aan het XSD-schema en is niet verwerkt: "
            + "; ".join(errors[:3])
        )
    return from_tree(std, kind, root)


# --- reading a validated tree -------------------------------------------------------------------


def _local(root: etree._Element) -> etree._Element:
    """A copy of the tree with namespace-free tags, so paths read like the standard."""
    tree = copy.deepcopy(root)
    for el in tree.iter(etree.Element):
        el.tag = etree.QName(el).localname
    return tree


def _t(el, path: str) -> str | None:
    found = el.find(path) if el is not None else None
    return found.text.strip() if found is not None and found.text is not None else None


def _d(el, path: str) -> date | None:
    value = _t(el, path)
    return date.fromisoformat(value) if value else None


def _i(el, path: str) -> int | None:
    value = _t(el, path)
    return int(value) if value not in (None, "") else None


def _codes(el) -> list[str]:
    return [c.text.strip() for c in el.findall("RetourCodes/RetourCode")] if el is not None else []


def _naam_text(naam, path: str) -> str | None:
    parts = [_t(naam, f"{path}/Voorvoegsel"), _t(naam, f"{path}/Achternaam")]
    return " ".join(p for p in parts if p) or None


def _telefoon(contact) -> str | None:
    numbers = [
        _t(contact, f"Telefoon/{tag}/Telefoonnummer") for tag in ("Telefoon01", "Telefoon02")
    ]
    return ", ".join(n for n in numbers if n) or None


def _adres(contact) -> dict:
    adres = contact.find("Adres") if contact is not None else None
    if adres is None:
        return {}
    huis = [_t(adres, "Huis/Huisnummer"), _t(adres, "Huis/Huisletter")]
    return {
        "straat": _t(adres, "Straatnaam"),
        "huisnummer": "".join(h for h in huis if h) or None,
        "huisnummer_toevoeging": _t(adres, "Huis/HuisnummerToevoeging"),
        "postcode": _t(adres, "Postcode"),
        "plaats": _t(adres, "Plaatsnaam"),
        "landcode": _t(adres, "LandCode"),
    }


def _relatie(r) -> dict:
    naam = r.find("Naam")
    contact = r.find("Contact")
    voornaam = _t(naam, "Voornamen") or _t(naam, "Voorletters")
    return {
        "nummer": _t(r, "Nummer"),
        "volgorde": _t(r, "Volgorde"),
        "soort": _t(r, "Soort"),
        "naam": " ".join(x for x in (voornaam, _naam_text(naam, "Geslachtsnaam")) if x),
        "partnernaam": _naam_text(naam, "Partnernaam"),
        "geboortedatum": _t(r, "Geboortedatum/Datum"),
        "geslacht": _t(r, "Geslacht"),
        "contact_soort": _t(contact, "Soort"),
        "adres": _adres(contact),
        "organisatie": _t(contact, "Organisatie"),
        "telefoon": _telefoon(contact),
        "email": _t(contact, "Emailadres"),
    }


def _persoon(c) -> Persoon | None:
    if c is None or c.find("Bsn") is None:
        return None
    naam = c.find("Naam")
    p = Persoon(
        bsn=_t(c, "Bsn"),
        geboortedatum=_d(c, "Geboortedatum/Datum"),
        geslacht=_t(c, "Geslacht") or "0",
        achternaam=_t(naam, "Geslachtsnaam/Achternaam") or "",
        voorvoegsel=_t(naam, "Geslachtsnaam/Voorvoegsel"),
        voorletters=_t(naam, "Voorletters"),
        voornamen=_t(naam, "Voornamen"),
        partnernaam=_naam_text(naam, "Partnernaam"),
        naamgebruik=_t(naam, "NaamGebruik"),
        communicatie_vorm=_t(c, "Communicatie/Vorm"),
        communicatie_taal=_t(c, "Communicatie/Taal"),
        juridische_status=_t(c, "JuridischeStatus"),
        wettelijke_vertegenwoordiging=_t(c, "WettelijkeVertegenwoordiging"),
        commentaar=_t(c, "Commentaar"),
        relaties=[_relatie(r) for r in c.findall("Relaties/Relatie")],
        retourcodes=_codes(c),
    )
    contacts = c.findall("Contactgegevens/Contact")
    # the BRP address first, else a correspondence address, else the first one given
    ordered = sorted(contacts, key=lambda x: {"01": 0, "02": 1}.get(_t(x, "Soort"), 2))
    for contact in ordered:
        if contact.find("Adres") is not None:
            for key, value in _adres(contact).items():
                setattr(p, key, value)
            p.contact_soort = _t(contact, "Soort")
            break
    for contact in contacts:
        adres = _adres(contact)
        p.contacten.append(
            {
                "soort": _t(contact, "Soort"),
                "postcode": adres.get("postcode"),
                "landcode": adres.get("landcode"),
                "huisnummer": _t(contact, "Adres/Huis/Huisnummer"),
                "telefoon": _telefoon(contact),
            }
        )
    for contact in ordered:
        p.telefoon = p.telefoon or _telefoon(contact)
        p.email = p.email or _t(contact, "Emailadres")
    return p


def from_tree(std: Standard, kind: str, root: etree._Element) -> Bericht:
    r = _local(root)
    h = r.find("Header")
    header = Header(
        afzender=_t(h, "Afzender"),
        ontvanger=_t(h, "Ontvanger"),
        identificatie=_t(h, "BerichtIdentificatie/Identificatie"),
        dagtekening=_d(h, "BerichtIdentificatie/Dagtekening"),
        berichtcode=_t(h, "BerichtCode"),
        xsd_versie=(_t(h, "XsdVersie/BasisschemaXsdVersie"), _t(h, "XsdVersie/BerichtXsdVersie")),
        identificatie_retour=_t(h, "IdentificatieRetour"),
        dagtekening_retour=_d(h, "DagtekeningRetour"),
        declaratie_identificatie=_t(h, "DeclaratieIdentificatie/Identificatie"),
        declaratie_dagtekening=_d(h, "DeclaratieIdentificatie/Dagtekening"),
        retourcodes=_codes(h),
    )
    if h.find("XsdVersieRetour") is not None:
        header.xsd_versie_retour = (
            _t(h, "XsdVersieRetour/BasisschemaXsdVersie"),
            _t(h, "XsdVersieRetour/BerichtXsdVersie"),
        )
    b = Bericht(std=std, kind=kind, header=header)
    c = r.find("Client")
    b.client = _persoon(c)
    if c is not None:
        b.gezagsdrager_bekend = _t(c, "GezagsdragerBekend")
        b.commentaar = _t(c, "Commentaar")
        for tp in c.findall("ToegewezenProducten/ToegewezenProduct"):
            b.toewijzingen.append(
                Toewijzing(
                    nummer=_t(tp, "ToewijzingNummer"),
                    referentie_aanbieder=_t(tp, "ReferentieAanbieder"),
                    categorie=_t(tp, "Product/Categorie"),
                    code=_t(tp, "Product/Code"),
                    toewijzingsdatum=_d(tp, "Toewijzingsdatum"),
                    toewijzingstijd=_t(tp, "Toewijzingstijd"),
                    ingangsdatum=_d(tp, "Ingangsdatum"),
                    einddatum=_d(tp, "Einddatum"),
                    reden_wijziging=_t(tp, "RedenWijziging"),
                    volume=_i(tp, "Omvang/Volume"),
                    eenheid=_t(tp, "Omvang/Eenheid"),
                    frequentie=_t(tp, "Omvang/Frequentie"),
                    budget=_i(tp, "Budget"),
                    commentaar=_t(tp, "Commentaar"),
                    retourcodes=_codes(tp),
                )
            )
        for sp in c.findall("StartProducten/StartProduct") + c.findall("StopProducten/StopProduct"):
            b.producten.append(
                StartStop(
                    toewijzingnummer=_t(sp, "ToewijzingNummer"),
                    categorie=_t(sp, "Product/Categorie"),
                    code=_t(sp, "Product/Code"),
                    toewijzing_ingangsdatum=_d(sp, "ToewijzingIngangsdatum"),
                    begindatum=_d(sp, "Begindatum"),
                    einddatum=_d(sp, "Einddatum"),
                    reden=_t(sp, "RedenBeeindiging"),
                    status=_t(sp, "StatusAanlevering"),
                    retourcodes=_codes(sp),
                )
            )
        for ap in c.findall("AangevraagdeProducten/AangevraagdProduct"):
            b.aanvragen.append(
                Aanvraag(
                    referentie=_t(ap, "ReferentieAanbieder"),
                    categorie=_t(ap, "Product/Categorie"),
                    code=_t(ap, "Product/Code"),
                    ingangsdatum=_d(ap, "ToewijzingIngangsdatum"),
                    einddatum=_d(ap, "ToewijzingEinddatum"),
                    volume=_i(ap, "Omvang/Volume"),
                    eenheid=_t(ap, "Omvang/Eenheid"),
                    frequentie=_t(ap, "Omvang/Frequentie"),
                    budget=_i(ap, "Budget"),
                    verwijzer_type=_t(ap, "Verwijzer/Type"),
                    verwijzer_naam=_t(ap, "Verwijzer/Naam"),
                    verwijzer_zorgverlenercode=_t(ap, "Verwijzer/ZorgverlenerCode"),
                    commentaar=_t(ap, "Commentaar"),
                    beschikking_nummer=_t(ap, "BeschikkingNummer"),
                    beschikking_ingangsdatum=_d(ap, "BeschikkingIngangsdatum"),
                    retourcodes=_codes(ap),
                )
            )
        v = c.find("Verzoek")
        if v is not None:
            ongewijzigd = v.findall("OngewijzigdeProducten/OngewijzigdProduct")
            b.verzoek = Verzoek(
                referentie=_t(v, "ReferentieAanbieder"),
                reden=_t(v, "RedenVerzoek"),
                ongewijzigd=[_t(o, "ToewijzingNummer") for o in ongewijzigd],
                te_wijzigen=[
                    _wijziging(w) for w in v.findall("TeWijzigenProducten/TeWijzigenProduct")
                ],
                nieuw=[_wijziging(w) for w in v.findall("NieuweProducten/NieuwProduct")],
                retourcodes=_codes(v),
                ongewijzigd_retourcodes={
                    _t(o, "ToewijzingNummer"): _codes(o) for o in ongewijzigd if _codes(o)
                },
            )
    a = r.find("Antwoord")
    if a is not None:
        b.antwoord = Antwoord(
            referentie=_t(a, "ReferentieAanbieder"),
            antwoord=_t(a, "VerzoekAntwoord"),
            reden_afwijzing=_t(a, "RedenAfwijzingVerzoek"),
            woonplaats_gemeente=_t(a, "Woonplaatsbeginsel/Gemeente"),
            retourcodes=_codes(a),
        )
    d = r.find("Declaratie")
    if d is None:
        d = r.find("DeclaratieAntwoord")
    if d is not None:
        b.declaratie = _declaratie(d)
    return b


def _wijziging(w) -> Wijziging:
    return Wijziging(
        toewijzingnummer=_t(w, "ToewijzingNummer"),
        categorie=_t(w, "Product/Categorie"),
        code=_t(w, "Product/Code"),
        ingangsdatum=_d(w, "GewensteIngangsdatum"),
        einddatum=_d(w, "Einddatum"),
        volume=_i(w, "Omvang/Volume"),
        eenheid=_t(w, "Omvang/Eenheid"),
        frequentie=_t(w, "Omvang/Frequentie"),
        budget=_i(w, "Budget"),
        retourcodes=_codes(w),
    )


def _declaratie(d) -> Declaratie:
    prestaties = []
    client_codes = {}
    for client in d.findall("Clienten/Client"):
        bsn = _t(client, "Bsn")
        client_codes[bsn] = _codes(client)
        for p in client.findall("Prestaties/Prestatie"):
            prestaties.append(
                Prestatie(
                    bsn=bsn,
                    referentie=_t(p, "ProductReferentie/ReferentieNummer"),
                    vorig_referentie=_t(p, "ProductReferentie/VorigReferentieNummer"),
                    toewijzingnummer=_t(p, "ToewijzingNummer"),
                    categorie=_t(p, "ProductCategorie"),
                    code=_t(p, "ProductCode"),
                    begindatum=_d(p, "ProductPeriode/Begindatum"),
                    einddatum=_d(p, "ProductPeriode/Einddatum"),
                    volume=_i(p, "GeleverdVolume"),
                    eenheid=_t(p, "Eenheid"),
                    tarief=_i(p, "ProductTarief"),
                    bedrag=_i(p, "IngediendBedrag/Bedrag"),
                    debet_credit=_t(p, "IngediendBedrag/DebetCredit"),
                    retourcodes=_codes(p),
                )
            )
    return Declaratie(
        nummer=_t(d, "DeclaratieNummer"),
        periode_begin=_d(d, "DeclaratiePeriode/Begindatum"),
        periode_eind=_d(d, "DeclaratiePeriode/Einddatum"),
        dagtekening=_d(d, "DeclaratieDagtekening"),
        totaal=_i(d, "TotaalIngediendBedrag/TotaalBedrag") or 0,
        debet_credit=_t(d, "TotaalIngediendBedrag/DebetCredit") or "D",
        toegekend_totaal=_i(d, "TotaalToegekendBedrag/TotaalBedrag"),
        toegekend_debet_credit=_t(d, "TotaalToegekendBedrag/DebetCredit"),
        retourcodes=_codes(d),
        client_retourcodes=client_codes,
        prestaties=prestaties,
    )


# --- building -------------------------------------------------------------------------------------


class _Writer:
    """Element factory for one message: ``m`` = message namespace, ``b`` = basisschema."""

    def __init__(self, std: Standard, kind: str):
        self.std, self.kind = std, kind
        self.mns = std.ns(kind)
        self.bns = std.basis_ns
        nsmap = {f"{std.prefix}{kind}": self.mns, std.key: self.bns}
        self.root = etree.Element(f"{{{self.mns}}}Bericht", nsmap=nsmap)

    def m(self, parent, tag, text=None):
        return self._sub(parent, f"{{{self.mns}}}{tag}", text)

    def b(self, parent, tag, text=None):
        return self._sub(parent, f"{{{self.bns}}}{tag}", text)

    @staticmethod
    def _sub(parent, qname, text):
        el = etree.SubElement(parent, qname)
        if text is not None:
            el.text = text.isoformat() if isinstance(text, date) else str(text)
        return el

    def opt(self, parent, tag, value):
        if value not in (None, ""):
            self.m(parent, tag, value)

    def versie(self, parent, tag, versions):
        x = self.m(parent, tag)
        self.b(x, "BasisschemaXsdVersie", versions[0])
        self.b(x, "BerichtXsdVersie", versions[1])

    def header(self, h: Header):
        el = self.m(self.root, "Header")
        self.m(el, "BerichtCode", self.std.berichtcode(self.kind))
        versions = self.std.versions_for(self.kind)
        self.m(el, "BerichtVersie", versions["BerichtVersie"])
        self.m(el, "BerichtSubversie", versions["BerichtSubversie"])
        self.m(el, "Afzender", h.afzender)
        self.m(el, "Ontvanger", h.ontvanger)
        bi = self.m(el, "BerichtIdentificatie")
        self.b(bi, "Identificatie", h.identificatie)
        self.b(bi, "Dagtekening", h.dagtekening)
        self.versie(el, "XsdVersie", self.std.xsd_versions(self.kind))
        return el

    def product(self, parent, categorie, code, tag="Product"):
        if categorie:
            p = self.m(parent, tag)
            self.b(p, "Categorie", categorie)
            if code:
                self.b(p, "Code", code)

    def omvang(self, parent, volume, eenheid, frequentie):
        if volume is not None:
            o = self.m(parent, "Omvang")
            self.b(o, "Volume", volume)
            self.b(o, "Eenheid", eenheid)
            self.b(o, "Frequentie", frequentie)

    def naam(self, parent, p: Persoon, volledig: bool):
        n = self.m(parent, "Naam")
        g = self.b(n, "Geslachtsnaam")
        self.b(g, "Achternaam", p.achternaam)
        if p.voorvoegsel:
            self.b(g, "Voorvoegsel", p.voorvoegsel)
        if p.voornamen:
            self.b(n, "Voornamen", p.voornamen)
        if p.voorletters:
            self.b(n, "Voorletters", p.voorletters)
        if volledig:
            self.b(n, "NaamGebruik", "1")

    def persoon(self, parent, p: Persoon, volledig: bool = False):
        self.m(parent, "Bsn", p.bsn)
        gd = self.m(parent, "Geboortedatum")
        self.b(gd, "Datum", p.geboortedatum)
        self.m(parent, "Geslacht", p.geslacht or "0")
        self.naam(parent, p, volledig)

    def bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


class BuildError(ValueError):
    """A message we built does not pass the XSD: a bug or impossible data; Dutch text."""

    def __init__(self, name: str, errors: list[str]):
        self.errors = errors
        super().__init__(
            f"Het {name}-bericht voldoet niet aan het XSD-schema: " + "; ".join(errors)
        )


def build(b: Bericht, validate: bool = True) -> bytes:
    """XML bytes for a Bericht (heenberichten, 301, 319 and 325); XSD-validated."""
    w = _Writer(b.std, b.kind)
    builders = {
        "301": _body_301,
        "305": _body_startstop,
        "307": _body_startstop,
        "315": _body_315,
        "317": _body_317,
        "319": _body_319,
        "323": _body_323,
        "325": _body_325,
    }
    if b.kind not in builders:
        raise ValueError(f"{b.kind} wordt met build_retour gemaakt")
    h = w.header(b.header)
    builders[b.kind](w, b, h)
    if validate:
        errors = validate_xsd(b.std, b.kind, w.root)
        if errors:
            raise BuildError(b.name, errors)
    return w.bytes()


def _body_301(w: _Writer, b: Bericht, h):
    c = w.m(w.root, "Client")
    w.persoon(c, b.client, volledig=True)
    cg = w.m(c, "Contactgegevens")
    contact = w.m(cg, "Contact")
    w.m(contact, "Soort", p_soort(b.client))
    p = b.client
    if p.postcode or p.straat or p.huisnummer:
        adres = w.m(contact, "Adres")
        if p.huisnummer:
            huis = w.b(adres, "Huis")
            digits = re.match(r"\d+", p.huisnummer)
            w.b(huis, "Huisnummer", digits.group(0) if digits else p.huisnummer)
            letter = p.huisnummer[digits.end() :].strip() if digits else ""
            if letter[:1].isalpha():
                w.b(huis, "Huisletter", letter[:1])
            if p.huisnummer_toevoeging:
                w.b(huis, "HuisnummerToevoeging", p.huisnummer_toevoeging)
        if p.postcode:
            w.b(adres, "Postcode", p.postcode.replace(" ", ""))
        if p.straat:
            w.b(adres, "Straatnaam", p.straat)
        if p.plaats:
            w.b(adres, "Plaatsnaam", p.plaats)
        # CD005: with a postcode the country code is given (a Dutch postcode: NL)
        if p.landcode or p.postcode:
            w.b(adres, "LandCode", p.landcode or "NL")
    if p.telefoon:
        tel = w.b(w.m(contact, "Telefoon"), "Telefoon01")
        w.b(tel, "Telefoonnummer", p.telefoon.split(",")[0].strip())
        w.b(tel, "Landnummer", "0031")
    if p.email:
        w.m(contact, "Emailadres", p.email)
    tps = w.m(c, "ToegewezenProducten")
    for t in b.toewijzingen:
        tp = w.m(tps, "ToegewezenProduct")
        w.m(tp, "ToewijzingNummer", t.nummer)
        w.opt(tp, "ReferentieAanbieder", t.referentie_aanbieder)
        w.product(tp, t.categorie, t.code)
        w.m(tp, "Toewijzingsdatum", t.toewijzingsdatum)
        w.m(tp, "Toewijzingstijd", t.toewijzingstijd)
        w.m(tp, "Ingangsdatum", t.ingangsdatum)
        w.opt(tp, "Einddatum", t.einddatum)
        w.opt(tp, "RedenWijziging", t.reden_wijziging)
        w.omvang(tp, t.volume, t.eenheid, t.frequentie)
        w.opt(tp, "Budget", t.budget)
        w.opt(tp, "Commentaar", t.commentaar)


def p_soort(p: Persoon) -> str:
    """The LDT_AdresSoort of the one contact a 301 we build carries: the BRP address when there
    is one (CD034: a contact of soort 01 holds an address), else a correspondence contact."""
    if p.contact_soort:
        return p.contact_soort
    return "01" if (p.postcode or p.straat or p.huisnummer) else "02"


def _body_startstop(w: _Writer, b: Bericht, h):
    stop = b.kind == "307"
    c = w.m(w.root, "Client")
    w.persoon(c, b.client)
    lst = w.m(c, "StopProducten" if stop else "StartProducten")
    for sp in b.producten:
        el = w.m(lst, "StopProduct" if stop else "StartProduct")
        w.opt(el, "ToewijzingNummer", sp.toewijzingnummer)
        w.product(el, sp.categorie, sp.code)
        w.opt(el, "ToewijzingIngangsdatum", sp.toewijzing_ingangsdatum)
        w.m(el, "Begindatum", sp.begindatum)
        if stop:
            w.m(el, "RedenBeeindiging", sp.reden)
            w.m(el, "Einddatum", sp.einddatum)
        w.m(el, "StatusAanlevering", sp.status)


def _body_315(w: _Writer, b: Bericht, h):
    c = w.m(w.root, "Client")
    w.persoon(c, b.client)
    if b.std.key == "ijw":
        w.opt(c, "GezagsdragerBekend", b.gezagsdrager_bekend)
    w.opt(c, "Commentaar", b.commentaar)
    lst = w.m(c, "AangevraagdeProducten")
    for a in b.aanvragen:
        el = w.m(lst, "AangevraagdProduct")
        w.m(el, "ReferentieAanbieder", a.referentie)
        w.opt(el, "BeschikkingNummer", a.beschikking_nummer)
        w.product(el, a.categorie, a.code)
        w.opt(el, "BeschikkingIngangsdatum", a.beschikking_ingangsdatum)
        w.m(el, "ToewijzingIngangsdatum", a.ingangsdatum)
        w.opt(el, "ToewijzingEinddatum", a.einddatum)
        w.omvang(el, a.volume, a.eenheid, a.frequentie)
        w.opt(el, "Budget", a.budget)
        v = w.m(el, "Verwijzer")
        w.b(v, "Type", a.verwijzer_type)
        if a.verwijzer_naam:
            w.b(v, "Naam", a.verwijzer_naam)
        if a.verwijzer_zorgverlenercode:
            w.b(v, "ZorgverlenerCode", a.verwijzer_zorgverlenercode)
        w.opt(el, "Commentaar", a.commentaar)


def _body_317(w: _Writer, b: Bericht, h):
    c = w.m(w.root, "Client")
    w.m(c, "Bsn", b.client.bsn)
    v = b.verzoek
    el = w.m(c, "Verzoek")
    w.m(el, "ReferentieAanbieder", v.referentie)
    w.m(el, "RedenVerzoek", v.reden)
    if v.ongewijzigd:
        og = w.m(el, "OngewijzigdeProducten")
        for nr in v.ongewijzigd:
            w.m(w.m(og, "OngewijzigdProduct"), "ToewijzingNummer", nr)
    if v.te_wijzigen:
        tw = w.m(el, "TeWijzigenProducten")
        for x in v.te_wijzigen:
            p = w.m(tw, "TeWijzigenProduct")
            w.m(p, "ToewijzingNummer", x.toewijzingnummer)
            _wijziging_body(w, p, x)
    if v.nieuw:
        nw = w.m(el, "NieuweProducten")
        for x in v.nieuw:
            p = w.m(nw, "NieuwProduct")
            w.product(p, x.categorie, x.code)
            _wijziging_body(w, p, x)


def _wijziging_body(w, p, x: Wijziging):
    w.m(p, "GewensteIngangsdatum", x.ingangsdatum)
    w.opt(p, "Einddatum", x.einddatum)
    w.omvang(p, x.volume, x.eenheid, x.frequentie)
    w.opt(p, "Budget", x.budget)


def _body_319(w: _Writer, b: Bericht, h):
    a = b.antwoord
    el = w.m(w.root, "Antwoord")
    w.m(el, "ReferentieAanbieder", a.referentie)
    w.m(el, "VerzoekAntwoord", a.antwoord)
    w.opt(el, "RedenAfwijzingVerzoek", a.reden_afwijzing)
    if b.std.key == "ijw" and a.woonplaats_gemeente:
        w.m(w.m(el, "Woonplaatsbeginsel"), "Gemeente", a.woonplaats_gemeente)


def _prestatie(w: _Writer, parent, p: Prestatie):
    el = w.m(parent, "Prestatie")
    ref = w.m(el, "ProductReferentie")
    w.b(ref, "ReferentieNummer", p.referentie)
    if p.vorig_referentie:
        w.b(ref, "VorigReferentieNummer", p.vorig_referentie)
    w.m(el, "ToewijzingNummer", p.toewijzingnummer)
    w.m(el, "ProductCategorie", p.categorie)
    w.m(el, "ProductCode", p.code)
    per = w.m(el, "ProductPeriode")
    w.b(per, "Begindatum", p.begindatum)
    w.b(per, "Einddatum", p.einddatum)
    w.m(el, "GeleverdVolume", p.volume)
    w.m(el, "Eenheid", p.eenheid)
    w.opt(el, "ProductTarief", p.tarief)
    bedrag = w.m(el, "IngediendBedrag")
    w.b(bedrag, "Bedrag", p.bedrag)
    w.b(bedrag, "DebetCredit", p.debet_credit)
    return el


def _clients(prestaties: list[Prestatie]) -> dict[str, list[Prestatie]]:
    grouped: dict[str, list[Prestatie]] = {}
    for p in prestaties:
        grouped.setdefault(p.bsn, []).append(p)
    return grouped


def _body_323(w: _Writer, b: Bericht, h):
    d = b.declaratie
    el = w.m(w.root, "Declaratie")
    w.m(el, "DeclaratieNummer", d.nummer)
    per = w.m(el, "DeclaratiePeriode")
    w.b(per, "Begindatum", d.periode_begin)
    w.b(per, "Einddatum", d.periode_eind)
    w.m(el, "DeclaratieDagtekening", d.dagtekening)
    tot = w.m(el, "TotaalIngediendBedrag")
    w.b(tot, "TotaalBedrag", d.totaal)
    w.b(tot, "DebetCredit", d.debet_credit)
    clients = w.m(el, "Clienten")
    for bsn, prestaties in _clients(d.prestaties).items():
        c = w.m(clients, "Client")
        w.m(c, "Bsn", bsn)
        ps = w.m(c, "Prestaties")
        for p in prestaties:
            _prestatie(w, ps, p)


def _body_325(w: _Writer, b: Bericht, h):
    hd = b.header
    di = w.m(h, "DeclaratieIdentificatie")
    w.b(di, "Identificatie", hd.declaratie_identificatie)
    w.b(di, "Dagtekening", hd.declaratie_dagtekening)
    w.versie(h, "XsdVersieDeclaratie", hd.xsd_versie_retour or b.std.xsd_versions("323"))
    _retourcodes(w, h, hd.retourcodes or ["0200"])
    d = b.declaratie
    if d is None:
        return
    el = w.m(w.root, "DeclaratieAntwoord")
    w.m(el, "DeclaratieNummer", d.nummer)
    for tag, amount, dc in (
        ("TotaalIngediendBedrag", d.totaal, d.debet_credit),
        ("TotaalToegekendBedrag", d.toegekend_totaal, d.toegekend_debet_credit),
    ):
        tot = w.m(el, tag)
        w.b(tot, "TotaalBedrag", amount)
        w.b(tot, "DebetCredit", dc)
    if d.prestaties:
        clients = w.m(el, "Clienten")
        for bsn, prestaties in _clients(d.prestaties).items():
            c = w.m(clients, "Client")
            w.m(c, "Bsn", bsn)
            ps = w.m(c, "Prestaties")
            for p in prestaties:
                _retourcodes(w, _prestatie(w, ps, p), p.retourcodes)
            _retourcodes(w, c, d.client_retourcodes.get(bsn) or ["0200"])
    _retourcodes(w, el, d.retourcodes or ["0200"])


def _retourcodes(w: _Writer, parent, codes: list[str]):
    rc = w.m(parent, "RetourCodes")
    for code in codes:
        w.m(rc, "RetourCode", code)


# --- retour messages -----------------------------------------------------------------------------


@cache
def _retour_classes(key: str, retour_kind: str) -> frozenset[str]:
    """Names of the elements that carry RetourCodes in a retour XSD (the message classes)."""
    from plugins.wmo_jw.standard import by_key

    std = by_key(key)
    root = etree.parse(str(std.xsd_path(retour_kind))).getroot()
    types_with_codes = set()
    for ctype in root.iter(f"{XS}complexType"):
        seq = ctype.find(f"{XS}sequence")
        has_codes = seq is not None and any(e.get("name") == "RetourCodes" for e in seq)
        if has_codes and ctype.get("name"):
            types_with_codes.add(ctype.get("name"))
    names = set()
    for el in root.iter(f"{XS}element"):
        t = (el.get("type") or "").split(":")[-1]
        if t in types_with_codes:
            names.add(el.get("name"))
    names.discard("Header")
    return frozenset(names)


def build_retour(
    std: Standard,
    heen_payload: bytes,
    *,
    identificatie: str,
    dagtekening: date,
    header_codes: list[str] | None = None,
    codes: dict[tuple[str, int], list[str]] | None = None,
    xslt_versie: str | None = None,
) -> bytes:
    """The retour (302/306/308/316/318/320) on a heenbericht.

    ``codes`` maps (class element name, its position among elements of that name) to codes, e.g.
    ``{("ToegewezenProduct", 0): ["9332"]}``; every other class gets 0200. When nothing but 0200
    remains the retour is the header alone (IV028); ``header_codes=["0001"]`` rejects the whole
    message at XSLT level (header only, with XsltVersie).
    """
    heen = read_xml(heen_payload)
    found = identify(etree.QName(heen).namespace or "")
    if not found or found[0] is not std or found[1] not in RETOUR_OF:
        raise ValueError("Geen heenbericht waarop een retour hoort")
    kind = RETOUR_OF[found[1]]
    old_ns, new_ns = std.ns(found[1]), std.ns(kind)
    codes = codes or {}
    header_codes = list(header_codes or [])
    only_ok = all(set(c) <= {"0200"} for c in codes.values())
    header_only = "0001" in header_codes or only_ok

    nsmap = {f"{std.prefix}{kind}": new_ns, std.key: std.basis_ns}
    root = etree.Element(f"{{{new_ns}}}Bericht", nsmap=nsmap)
    classes = _retour_classes(std.key, kind)
    counters: dict[str, int] = {}

    def clone(src, dst_parent):
        q = etree.QName(src)
        tag = f"{{{new_ns}}}{q.localname}" if q.namespace == old_ns else src.tag
        el = etree.SubElement(dst_parent, tag)
        el.text = src.text if len(src) == 0 else None
        for child in src:
            if isinstance(child.tag, str):
                clone(child, el)
        if q.namespace == old_ns and q.localname in classes:
            n = counters.get(q.localname, 0)
            counters[q.localname] = n + 1
            rc = etree.SubElement(el, f"{{{new_ns}}}RetourCodes")
            for code in codes.get((q.localname, n)) or ["0200"]:
                etree.SubElement(rc, f"{{{new_ns}}}RetourCode").text = code
        return el

    w = _Writer(std, kind)
    w.root = root
    h_src = heen.find(f"{{{old_ns}}}Header")
    h = w.m(root, "Header")
    for child in h_src:
        if isinstance(child.tag, str):
            clone(child, h)
    h.find(f"{{{new_ns}}}BerichtCode").text = std.berichtcode(kind)
    w.m(h, "IdentificatieRetour", identificatie)
    w.m(h, "DagtekeningRetour", dagtekening)
    if xslt_versie or "0001" in header_codes:
        w.m(h, "XsltVersie", xslt_versie or "1.0.0")
    w.versie(h, "XsdVersieRetour", std.xsd_versions(kind))
    if header_codes:
        _retourcodes(w, h, header_codes)
    if not header_only:
        for child in heen:
            if isinstance(child.tag, str) and etree.QName(child).localname != "Header":
                clone(child, root)
    errors = validate_xsd(std, kind, root)
    if errors:
        raise BuildError(std.message_name(kind), errors)
    return w.bytes()
