"""iWlz messages as Python values and back: AW33 (read; written by the stand-in's zorgkantoor),
AW35/AW39 (written), and the retours AW34/AW36/AW310 (written from their heenbericht, read).

Element names, namespaces and header values come from the release (``standard.Release``); the
structure follows the XSD's ``xs:sequence`` order. Every message written here is validated
against its XSD before it is returned (:func:`serialise`), and every message read is parsed with
:func:`portal.formats.xml.read_xml` (no entities, size limit) and validated first.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from plugins.wlz.standard import RETOUR_OF, Release, identify
from portal.formats.xml import XS, XmlError, read_xml

# An AW33 is at most this big (iWlz OP179: 25 MB per message; a zorgkantoor sends far less).
MAX_BYTES = 25 * 1024 * 1024


class MessageError(ValueError):
    """A message we refuse; ``str()`` is Dutch."""


def new_identificatie() -> str:
    """A BerichtIdentificatie: 12 characters, unique per sender and message type."""
    return secrets.token_hex(6).upper()


# --- values -------------------------------------------------------------------------------------


@dataclass
class Persoon:
    bsn: str
    geboortedatum: date
    geslacht: str = "0"
    achternaam: str = ""
    voorvoegsel: str | None = None
    voorletters: str | None = None
    voornamen: str | None = None
    straat: str | None = None
    huisnummer: str | None = None
    postcode: str | None = None
    plaats: str | None = None


@dataclass
class Toewijzing:
    """One toegewezen zorgzwaartepakket or functie of an AW33."""

    soort: str  # "zzp" | "functie"
    code: str  # ZzpCode or FunctieCode
    instelling: str  # iWlz-AGB the care is toegewezen to
    zorgkantoor: str
    ingangsdatum: date
    einddatum: date | None = None
    toewijzingsdatum: date | None = None
    toewijzingstijd: str = "09:00:00"
    soort_toewijzing: str = "1"  # LDT_SoortToewijzing: 1 regulier
    reden_intrekking: str | None = None
    klasse: str | None = None
    etmalen: str | None = None
    leveringsvorm: str | None = None  # ZZP only (LDT_Leveringsvorm)
    percentage: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a toewijzing within an indicatie: kind, code, ingangsdatum."""
        return (self.soort, self.code, self.ingangsdatum.isoformat())


@dataclass
class Indicatie:
    besluitnummer: str
    afgiftedatum: date
    ingangsdatum: date
    einddatum: date | None = None
    soort: str = "1"  # CIZ
    grondslagen: list[str] = field(default_factory=list)
    toewijzingen: list[Toewijzing] = field(default_factory=list)


@dataclass
class Header:
    afzender: str
    ontvanger: str
    identificatie: str
    dagtekening: date
    identificatie_retour: str | None = None
    dagtekening_retour: date | None = None
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class AW33Client:
    persoon: Persoon
    indicatie: Indicatie
    element: etree._Element | None = None  # the Client element as received (echoed in the AW34)


@dataclass
class AW33:
    release: Release
    header: Header
    clients: list[AW33Client]
    root: etree._Element | None = None


@dataclass
class Levering:
    """One GeleverdZorgzwaartepakket/GeleverdeFunctie (AW35) or Mutatie… (AW39) line."""

    soort: str  # "zzp" | "functie"
    besluitnummer: str
    code: str
    toewijzing_ingangsdatum: date
    instelling: str
    status: str = "1"  # StatusAanlevering
    begindatum: date | None = None
    # AW35 ZZP
    leveringsstatus: str | None = None
    leveringsvorm: str | None = None
    etmalen: str | None = None
    klasse: str | None = None
    # AW39
    mutatiecode: str | None = None
    mutatiedatum: date | None = None
    instelling_bestemming: str | None = None
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Aanvraag:
    """An AW39 Aanvraag: a request for an adjusted toewijzing (ZZP)."""

    besluitnummer: str
    afgiftedatum: date
    instelling: str
    zzp: str
    leveringsvorm: str
    ingangsdatum: date
    einddatum: date | None = None
    klasse: str | None = None
    etmalen: str | None = None
    retourcodes: list[str] = field(default_factory=list)


@dataclass
class Melding:
    """An AW35 or AW39 for one client (the portal sends one client per message)."""

    message: str  # "AW35" | "AW39"
    release: Release
    header: Header
    persoon: Persoon
    leveringen: list[Levering] = field(default_factory=list)
    aanvragen: list[Aanvraag] = field(default_factory=list)
    client_retourcodes: list[str] = field(default_factory=list)


# --- writing ------------------------------------------------------------------------------------


class _W:
    def __init__(self, rel: Release, message: str):
        self.rel, self.message = rel, message
        self.ns, self.b = rel.ns(message), rel.basis_ns

    def root(self) -> etree._Element:
        return etree.Element(
            f"{{{self.ns}}}Bericht", nsmap={self.message.lower(): self.ns, "iwlz": self.b}
        )

    def m(self, parent, name: str, text=None):
        el = etree.SubElement(parent, f"{{{self.ns}}}{name}")
        if text is not None:
            el.text = text.isoformat() if isinstance(text, date) else str(text)
        return el

    def c(self, parent, name: str, text=None):
        el = etree.SubElement(parent, f"{{{self.b}}}{name}")
        if text is not None:
            el.text = text.isoformat() if isinstance(text, date) else str(text)
        return el

    def opt(self, parent, name, text):
        if text not in (None, ""):
            self.m(parent, name, text)

    def header(self, parent, h: Header):
        v = self.rel.versions(self.message)
        head = self.m(parent, "Header")
        self.m(head, "BerichtCode", v["BerichtCode"])
        self.m(head, "BerichtVersie", v["BerichtVersie"])
        self.m(head, "BerichtSubversie", v["BerichtSubversie"])
        self.m(head, "Afzender", h.afzender)
        self.m(head, "Ontvanger", h.ontvanger)
        ident = self.m(head, "BerichtIdentificatie")
        self.c(ident, "Identificatie", h.identificatie)
        self.c(ident, "Dagtekening", h.dagtekening)
        xsd = self.m(head, "XsdVersie")
        self.c(xsd, "BasisschemaXsdVersie", v["BasisschemaXsdVersie"])
        self.c(xsd, "BerichtXsdVersie", v["BerichtXsdVersie"])
        return head

    def naam(self, parent, p: Persoon, volledig: bool):
        naam = self.m(parent, "Naam")
        gn = self.c(naam, "Geslachtsnaam")
        self.c(gn, "Achternaam", p.achternaam[:200])
        if p.voorvoegsel:
            self.c(gn, "Voorvoegsel", p.voorvoegsel[:10])
        if p.voornamen and volledig:
            self.c(naam, "Voornamen", p.voornamen[:200])
        letters = "".join(ch for ch in (p.voorletters or "") if ch.isalpha())[:6]
        if letters:
            self.c(naam, "Voorletters", letters)
        if volledig:
            self.c(naam, "NaamGebruik", "1")

    def persoon_kort(self, parent, p: Persoon):
        self.m(parent, "Bsn", p.bsn)
        gd = self.m(parent, "Geboortedatum")
        self.c(gd, "Datum", p.geboortedatum)
        self.m(parent, "Geslacht", p.geslacht or "0")
        self.naam(parent, p, volledig=False)


def serialise(rel: Release, message: str, root: etree._Element) -> bytes:
    """The message as bytes, after the XSD check (raises MessageError in Dutch)."""
    errors = rel.validate(message, root)
    if errors:
        raise MessageError(f"{message} voldoet niet aan de XSD van iWlz {rel.name}: " + errors[0])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_aw33(rel: Release, header: Header, clients: list[AW33Client]) -> bytes:
    """An AW33 (the zorgkantoor's side: used by the stand-in and by tests)."""
    w = _W(rel, "AW33")
    root = w.root()
    w.header(root, header)
    cl = w.m(root, "Clienten")
    for item in clients:
        p, ind = item.persoon, item.indicatie
        c = w.m(cl, "Client")
        w.m(c, "Bsn", p.bsn)
        w.m(c, "GeheimeClient", "2")
        gd = w.m(c, "Geboortedatum")
        w.c(gd, "Datum", p.geboortedatum)
        w.m(c, "Geslacht", p.geslacht or "0")
        w.naam(c, p, volledig=True)
        w.m(c, "Leefeenheid", "1")
        w.m(c, "Partneropname", "2")
        cg = w.m(c, "Contactgegevens")
        contact = w.m(cg, "Contact")
        w.m(contact, "Soort", "01")
        adres = w.m(contact, "Adres")
        if p.huisnummer:
            huis = w.c(adres, "Huis")
            w.c(huis, "Huisnummer", "".join(ch for ch in p.huisnummer if ch.isdigit()) or "1")
        if p.postcode:
            w.c(adres, "Postcode", p.postcode.replace(" ", ""))
        if p.straat:
            w.c(adres, "Straatnaam", p.straat)
        if p.plaats:
            w.c(adres, "Plaatsnaam", p.plaats)
        i = w.m(c, "Indicatie")
        w.m(i, "Besluitnummer", ind.besluitnummer)
        w.m(i, "Soort", ind.soort)
        if ind.grondslagen:
            g = w.m(i, "Grondslagen")
            for n, code in enumerate(ind.grondslagen[:2], 1):
                w.c(g, f"Grondslag0{n}", code)
        w.m(i, "Afgiftedatum", ind.afgiftedatum)
        w.m(i, "Ingangsdatum", ind.ingangsdatum)
        w.opt(i, "Einddatum", ind.einddatum)
        functies = [t for t in ind.toewijzingen if t.soort == "functie"]
        zzps = [t for t in ind.toewijzingen if t.soort == "zzp"]
        if functies:
            tf = w.m(i, "ToegewezenFuncties")
            for t in functies:
                e = w.m(tf, "ToegewezenFunctie")
                w.m(e, "FunctieCode", t.code)
                w.m(e, "Instelling", t.instelling)
                w.m(e, "Zorgkantoor", t.zorgkantoor)
                w.m(e, "Soort", t.soort_toewijzing)
                w.m(e, "Toewijzingsdatum", t.toewijzingsdatum or header.dagtekening)
                w.m(e, "Toewijzingstijd", t.toewijzingstijd)
                w.m(e, "Ingangsdatum", t.ingangsdatum)
                w.opt(e, "Einddatum", t.einddatum)
                w.opt(e, "RedenIntrekking", t.reden_intrekking)
                w.m(e, "Klasse", t.klasse or "99")
        if zzps:
            tz = w.m(i, "ToegewezenZorgzwaartepakketten")
            for t in zzps:
                e = w.m(tz, "ToegewezenZorgzwaartepakket")
                w.m(e, "ZzpCode", t.code)
                w.m(e, "Instelling", t.instelling)
                w.m(e, "Zorgkantoor", t.zorgkantoor)
                w.m(e, "Soort", t.soort_toewijzing)
                w.m(e, "Toewijzingsdatum", t.toewijzingsdatum or header.dagtekening)
                w.m(e, "Toewijzingstijd", t.toewijzingstijd)
                w.opt(e, "ToewijzingPercentage", t.percentage)
                w.m(e, "Ingangsdatum", t.ingangsdatum)
                w.opt(e, "Einddatum", t.einddatum)
                w.opt(e, "RedenIntrekking", t.reden_intrekking)
                w.opt(e, "Etmalen", t.etmalen)
                w.opt(e, "Klasse", t.klasse)
                w.m(e, "Leveringsvorm", t.leveringsvorm or "4")
    return serialise(rel, "AW33", root)


def build_melding(m: Melding) -> bytes:
    """An AW35 (melding aanvang zorglevering) or AW39 (mutatie/einde, aanvraag)."""
    w = _W(m.release, m.message)
    root = w.root()
    w.header(root, m.header)
    c = w.m(w.m(root, "Clienten"), "Client")
    w.persoon_kort(c, m.persoon)
    functies = [x for x in m.leveringen if x.soort == "functie"]
    zzps = [x for x in m.leveringen if x.soort == "zzp"]
    if m.message == "AW35":
        if functies:
            group = w.m(c, "GeleverdeFuncties")
            for x in functies:
                e = w.m(group, "GeleverdeFunctie")
                w.m(e, "Besluitnummer", x.besluitnummer)
                w.m(e, "FunctieCode", x.code)
                w.m(e, "ToewijzingIngangsdatum", x.toewijzing_ingangsdatum)
                w.m(e, "Begindatum", x.begindatum)
                w.m(e, "Instelling", x.instelling)
                w.m(e, "Klasse", x.klasse or "99")
                w.m(e, "StatusAanlevering", x.status)
        if zzps:
            group = w.m(c, "GeleverdeZorgzwaartepakketten")
            for x in zzps:
                e = w.m(group, "GeleverdZorgzwaartepakket")
                w.m(e, "Besluitnummer", x.besluitnummer)
                w.m(e, "ZzpCode", x.code)
                w.m(e, "ToewijzingIngangsdatum", x.toewijzing_ingangsdatum)
                w.m(e, "Begindatum", x.begindatum)
                w.m(e, "Instelling", x.instelling)
                w.opt(e, "Etmalen", x.etmalen)
                w.opt(e, "Klasse", x.klasse)
                w.m(e, "Leveringsstatus", x.leveringsstatus or "4")
                w.m(e, "Leveringsvorm", x.leveringsvorm)
                w.m(e, "StatusAanlevering", x.status)
    else:
        if functies:
            group = w.m(c, "MutatieFuncties")
            for x in functies:
                e = w.m(group, "MutatieFunctie")
                w.m(e, "Besluitnummer", x.besluitnummer)
                w.m(e, "FunctieCode", x.code)
                w.m(e, "ToewijzingIngangsdatum", x.toewijzing_ingangsdatum)
                w.opt(e, "Begindatum", x.begindatum)
                w.m(e, "Instelling", x.instelling)
                w.m(e, "Mutatiecode", x.mutatiecode)
                w.m(e, "Mutatiedatum", x.mutatiedatum)
                w.opt(e, "InstellingBestemming", x.instelling_bestemming)
                w.m(e, "StatusAanlevering", x.status)
        if zzps:
            group = w.m(c, "MutatieZorgzwaartepakketten")
            for x in zzps:
                e = w.m(group, "MutatieZorgzwaartepakket")
                w.m(e, "Besluitnummer", x.besluitnummer)
                w.m(e, "ZzpCode", x.code)
                w.m(e, "ToewijzingIngangsdatum", x.toewijzing_ingangsdatum)
                w.opt(e, "Begindatum", x.begindatum)
                w.m(e, "Instelling", x.instelling)
                w.m(e, "Mutatiecode", x.mutatiecode)
                w.m(e, "Mutatiedatum", x.mutatiedatum)
                w.m(e, "Leveringsstatus", x.leveringsstatus or "5")
                w.m(e, "Leveringsvorm", x.leveringsvorm)
                w.opt(e, "InstellingBestemming", x.instelling_bestemming)
                w.m(e, "StatusAanlevering", x.status)
        if m.aanvragen:
            group = w.m(c, "Aanvragen")
            for a in m.aanvragen:
                e = w.m(group, "Aanvraag")
                w.m(e, "Besluitnummer", a.besluitnummer)
                w.m(e, "Afgiftedatum", a.afgiftedatum)
                w.m(e, "Instelling", a.instelling)
                w.m(e, "ZzpCode", a.zzp)
                w.opt(e, "Etmalen", a.etmalen)
                w.opt(e, "Klasse", a.klasse)
                w.m(e, "Leveringsvorm", a.leveringsvorm)
                ai = w.m(w.m(e, "AanvraagInstellingen"), "AanvraagInstelling")
                w.m(ai, "Instelling", a.instelling)
                w.m(ai, "Soort", "1")
                w.m(ai, "ToewijzingIngangsdatum", a.ingangsdatum)
                w.opt(ai, "ToewijzingEinddatum", a.einddatum)
    return serialise(m.release, m.message, root)


def _retour_elements(rel: Release, retour: str) -> frozenset[str]:
    """Names of the elements that carry their own RetourCodes in a retour message (from its
    XSD: every complexType whose sequence ends in RetourCodes)."""
    cache = _RETOUR_CACHE
    key = (str(rel.folder), retour)
    if key not in cache:
        schema_root = etree.parse(str(rel.xsd.xsd_path(retour))).getroot()
        with_codes = {
            ct.get("name")
            for ct in schema_root.iter(f"{XS}complexType")
            if any(el.get("name") == "RetourCodes" for el in ct.iter(f"{XS}element"))
            and ct.get("name") not in ("Header", "Root")
        }
        prefix = retour.lower() + ":"
        names = {
            el.get("name")
            for el in schema_root.iter(f"{XS}element")
            if (el.get("type") or "").removeprefix(prefix) in with_codes
        }
        cache[key] = frozenset(names)
    return cache[key]


_RETOUR_CACHE: dict = {}


def build_retour(
    rel: Release,
    heen_message: str,
    heen_root: etree._Element,
    *,
    codes: dict[str, list[str]],
    header_codes: list[str],
    identificatie: str,
    dagtekening: date,
    keep_clients: bool = True,
) -> bytes:
    """The retour (AW34/AW36/AW310) of a heenbericht: the heenbericht unchanged (iWlz OP093),
    its header completed with the retour's identification and XSD versions, and RetourCodes on
    every element the retour's XSD gives them. ``codes`` maps the :func:`path_of` an element of
    ``heen_root`` to its codes (default 0200); ``keep_clients=False`` leaves the clients out (a
    message rejected as a whole, 0001)."""
    retour = RETOUR_OF[heen_message]
    heen_ns, ret_ns = rel.ns(heen_message), rel.ns(retour)
    with_codes = _retour_elements(rel, retour)
    twin = copy.deepcopy(heen_root)
    tree = heen_root.getroottree()
    pairs = list(zip(heen_root.iter(), twin.iter(), strict=True))
    for _original, el in pairs:
        if not isinstance(el.tag, str):
            continue
        q = etree.QName(el)
        if q.namespace == heen_ns:
            el.tag = f"{{{ret_ns}}}{q.localname}"
    for original, el in reversed(pairs):
        if not isinstance(el.tag, str) or etree.QName(el).namespace != ret_ns:
            continue
        if etree.QName(el).localname in with_codes and el.getparent() is not None:
            rc = etree.SubElement(el, f"{{{ret_ns}}}RetourCodes")
            for code in codes.get(tree.getpath(original), ["0200"]):
                etree.SubElement(rc, f"{{{ret_ns}}}RetourCode").text = code
    root = etree.Element(
        f"{{{ret_ns}}}Bericht", nsmap={retour.lower(): ret_ns, "iwlz": rel.basis_ns}
    )
    for child in twin:
        root.append(child)
    head = root.find(f"{{{ret_ns}}}Header")
    head.find(f"{{{ret_ns}}}BerichtCode").text = rel.versions(retour)["BerichtCode"]
    xsd = head.find(f"{{{ret_ns}}}XsdVersie")
    v = rel.versions(retour)
    after = xsd
    for name, value in (("IdentificatieRetour", identificatie), ("DagtekeningRetour", dagtekening)):
        el = etree.Element(f"{{{ret_ns}}}{name}")
        el.text = value.isoformat() if isinstance(value, date) else value
        after.addnext(el)
        after = el
    xr = etree.Element(f"{{{ret_ns}}}XsdVersieRetour")
    etree.SubElement(xr, f"{{{rel.basis_ns}}}BasisschemaXsdVersie").text = v["BasisschemaXsdVersie"]
    etree.SubElement(xr, f"{{{rel.basis_ns}}}BerichtXsdVersie").text = v["BerichtXsdVersie"]
    after.addnext(xr)
    after = xr
    if header_codes:
        rc = etree.Element(f"{{{ret_ns}}}RetourCodes")
        for code in header_codes:
            etree.SubElement(rc, f"{{{ret_ns}}}RetourCode").text = code
        after.addnext(rc)
    if not keep_clients:
        for cl in root.findall(f"{{{ret_ns}}}Clienten"):
            root.remove(cl)
    return serialise(rel, retour, root)


def path_of(element: etree._Element) -> str:
    """A stable key for an element of a parsed message (lxml proxies have no stable ``id``)."""
    return element.getroottree().getpath(element)


# --- reading ------------------------------------------------------------------------------------


def recognise(payload: bytes) -> tuple[Release, str] | None:
    """(release, message) from the namespaces in the first bytes; nothing parsed."""
    import re

    for match in re.finditer(rb'xmlns(?::[A-Za-z_][\w.-]*)?="([^"]+)"', bytes(payload[:2048])):
        found = identify(match.group(1).decode("ascii", "replace"))
        if found is not None:
            return found
    return None


def _t(el, path: str, ns: dict) -> str | None:
    found = el.find(path, ns)
    return found.text.strip() if found is not None and found.text else None


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def load(payload: bytes, *, validate: bool = True) -> tuple[Release, str, etree._Element]:
    """Parse and identify an iWlz message safely; raises MessageError (Dutch)."""
    try:
        root = read_xml(payload, max_bytes=MAX_BYTES)
    except XmlError as exc:
        raise MessageError(str(exc)) from None
    found = identify(etree.QName(root).namespace or "")
    if found is None:
        raise MessageError("Het bericht is geen iWlz-bericht van een bekende release.")
    rel, message = found
    if validate:
        errors = rel.validate(message, root)
        if errors:
            raise MessageError(
                f"Het {message}-bericht voldoet niet aan de XSD van iWlz {rel.name}: {errors[0]}"
            )
    return rel, message, root


def _ns(rel: Release, message: str) -> dict[str, str]:
    return {"m": rel.ns(message), "b": rel.basis_ns}


def read_header(rel: Release, message: str, root) -> Header:
    ns = _ns(rel, message)
    h = root.find("m:Header", ns)
    return Header(
        afzender=_t(h, "m:Afzender", ns) or "",
        ontvanger=_t(h, "m:Ontvanger", ns) or "",
        identificatie=_t(h, "m:BerichtIdentificatie/b:Identificatie", ns) or "",
        dagtekening=_d(_t(h, "m:BerichtIdentificatie/b:Dagtekening", ns)),
        identificatie_retour=_t(h, "m:IdentificatieRetour", ns),
        dagtekening_retour=_d(_t(h, "m:DagtekeningRetour", ns)),
        retourcodes=[rc.text for rc in h.findall("m:RetourCodes/m:RetourCode", ns)],
    )


def _persoon(c, ns) -> Persoon:
    return Persoon(
        bsn=_t(c, "m:Bsn", ns) or "",
        geboortedatum=_d(_t(c, "m:Geboortedatum/b:Datum", ns)),
        geslacht=_t(c, "m:Geslacht", ns) or "0",
        achternaam=_t(c, "m:Naam/b:Geslachtsnaam/b:Achternaam", ns) or "",
        voorvoegsel=_t(c, "m:Naam/b:Geslachtsnaam/b:Voorvoegsel", ns),
        voorletters=_t(c, "m:Naam/b:Voorletters", ns),
        voornamen=_t(c, "m:Naam/b:Voornamen", ns),
        straat=_t(c, "m:Contactgegevens/m:Contact/m:Adres/b:Straatnaam", ns),
        huisnummer=_t(c, "m:Contactgegevens/m:Contact/m:Adres/b:Huis/b:Huisnummer", ns),
        postcode=_t(c, "m:Contactgegevens/m:Contact/m:Adres/b:Postcode", ns),
        plaats=_t(c, "m:Contactgegevens/m:Contact/m:Adres/b:Plaatsnaam", ns),
    )


def read_aw33(rel: Release, root) -> AW33:
    ns = _ns(rel, "AW33")
    clients = []
    for c in root.findall("m:Clienten/m:Client", ns):
        i = c.find("m:Indicatie", ns)
        toew = []
        for e in i.findall("m:ToegewezenZorgzwaartepakketten/m:ToegewezenZorgzwaartepakket", ns):
            toew.append(_toewijzing(e, ns, "zzp", "m:ZzpCode"))
        for e in i.findall("m:ToegewezenFuncties/m:ToegewezenFunctie", ns):
            toew.append(_toewijzing(e, ns, "functie", "m:FunctieCode"))
        grond = i.find("m:Grondslagen", ns)
        clients.append(
            AW33Client(
                persoon=_persoon(c, ns),
                indicatie=Indicatie(
                    besluitnummer=_t(i, "m:Besluitnummer", ns),
                    soort=_t(i, "m:Soort", ns),
                    grondslagen=[g.text for g in grond] if grond is not None else [],
                    afgiftedatum=_d(_t(i, "m:Afgiftedatum", ns)),
                    ingangsdatum=_d(_t(i, "m:Ingangsdatum", ns)),
                    einddatum=_d(_t(i, "m:Einddatum", ns)),
                    toewijzingen=toew,
                ),
                element=c,
            )
        )
    return AW33(rel, read_header(rel, "AW33", root), clients, root)


def _toewijzing(e, ns, soort: str, code_path: str) -> Toewijzing:
    return Toewijzing(
        soort=soort,
        code=_t(e, code_path, ns),
        instelling=_t(e, "m:Instelling", ns) or "",
        zorgkantoor=_t(e, "m:Zorgkantoor", ns),
        soort_toewijzing=_t(e, "m:Soort", ns),
        toewijzingsdatum=_d(_t(e, "m:Toewijzingsdatum", ns)),
        toewijzingstijd=_t(e, "m:Toewijzingstijd", ns),
        percentage=_t(e, "m:ToewijzingPercentage", ns),
        ingangsdatum=_d(_t(e, "m:Ingangsdatum", ns)),
        einddatum=_d(_t(e, "m:Einddatum", ns)),
        reden_intrekking=_t(e, "m:RedenIntrekking", ns),
        etmalen=_t(e, "m:Etmalen", ns),
        klasse=_t(e, "m:Klasse", ns),
        leveringsvorm=_t(e, "m:Leveringsvorm", ns),
    )


_LINES = {
    "GeleverdZorgzwaartepakket": ("zzp", "m:ZzpCode"),
    "GeleverdeFunctie": ("functie", "m:FunctieCode"),
    "MutatieZorgzwaartepakket": ("zzp", "m:ZzpCode"),
    "MutatieFunctie": ("functie", "m:FunctieCode"),
}


def read_melding(rel: Release, message: str, root) -> list[Melding]:
    """An AW35/AW39 (the zorgkantoor's reading) or AW36/AW310 (ours): one Melding per client,
    with every line's and the client's RetourCodes (retours)."""
    ns = _ns(rel, message)
    header = read_header(rel, message, root)
    out = []
    for c in root.findall("m:Clienten/m:Client", ns):
        lines = []
        for e in c.iter():
            if not isinstance(e.tag, str):
                continue
            kind = _LINES.get(etree.QName(e).localname)
            if kind is None or etree.QName(e).namespace != ns["m"]:
                continue
            lines.append(
                Levering(
                    soort=kind[0],
                    besluitnummer=_t(e, "m:Besluitnummer", ns),
                    code=_t(e, kind[1], ns),
                    toewijzing_ingangsdatum=_d(_t(e, "m:ToewijzingIngangsdatum", ns)),
                    instelling=_t(e, "m:Instelling", ns),
                    status=_t(e, "m:StatusAanlevering", ns),
                    begindatum=_d(_t(e, "m:Begindatum", ns)),
                    leveringsstatus=_t(e, "m:Leveringsstatus", ns),
                    leveringsvorm=_t(e, "m:Leveringsvorm", ns),
                    etmalen=_t(e, "m:Etmalen", ns),
                    klasse=_t(e, "m:Klasse", ns),
                    mutatiecode=_t(e, "m:Mutatiecode", ns),
                    mutatiedatum=_d(_t(e, "m:Mutatiedatum", ns)),
                    instelling_bestemming=_t(e, "m:InstellingBestemming", ns),
                    retourcodes=[rc.text for rc in e.findall("m:RetourCodes/m:RetourCode", ns)],
                )
            )
        aanvragen = []
        for e in c.findall("m:Aanvragen/m:Aanvraag", ns):
            aanvragen.append(
                Aanvraag(
                    besluitnummer=_t(e, "m:Besluitnummer", ns),
                    afgiftedatum=_d(_t(e, "m:Afgiftedatum", ns)),
                    instelling=_t(e, "m:Instelling", ns),
                    zzp=_t(e, "m:ZzpCode", ns),
                    leveringsvorm=_t(e, "m:Leveringsvorm", ns),
                    ingangsdatum=_d(
                        _t(
                            e,
                            "m:AanvraagInstellingen/m:AanvraagInstelling/m:ToewijzingIngangsdatum",
                            ns,
                        )
                    ),
                    klasse=_t(e, "m:Klasse", ns),
                    etmalen=_t(e, "m:Etmalen", ns),
                    retourcodes=[rc.text for rc in e.findall("m:RetourCodes/m:RetourCode", ns)],
                )
            )
        out.append(
            Melding(
                message=message,
                release=rel,
                header=header,
                persoon=_persoon(c, ns),
                leveringen=lines,
                aanvragen=aanvragen,
                client_retourcodes=[rc.text for rc in c.findall("m:RetourCodes/m:RetourCode", ns)],
            )
        )
    return out
