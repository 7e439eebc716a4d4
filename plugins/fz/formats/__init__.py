"""DJI's message formats as replaceable, versioned data.

The official XSDs and record layouts of FZ821–FZ826, GDS801/GDS802 and FZ303/FZ304 are not
public (``shared/standards/vektis-ei.md`` §2.5). Each message therefore has a *provisional* format
of our own, in a folder per message and version::

    plugins/fz/formats/<bericht>/<versie>/
        mapping.json     what the portal's fields are called in this format, and its status
        <BERICHT>.xsd    (XML messages) the schema; release.json for portal.formats.xml
        <BERICHT>.csv    (EI messages) the record layout table for portal.formats.ei

``mapping.json`` says ``"status": "voorlopig"`` or ``"vastgesteld"``. The code never names an
element or a rubriek: it gives values under the logical names of the mapping (``plaatsingsnummer``,
``prestaties`` …) and the mapping places them. Installing the official format is adding a folder
with the official files and a mapping for them (docs/fz.md); the newest version is used unless the
setting ``{"fz": {"formaten": {"GDS801": "<versie>"}}}`` pins one.

XML mappings are a tree in document order: ``[element, "veld"]`` a value, ``[element, "=waarde"]`` a
constant, ``[element, [...]]`` a group, ``[element, "*lijst", [...]]`` a group per item of a list.
EI mappings name, per role (``voorloop``, ``client``, ``prestatie``, ``sluit``), the record type,
its constants (``vast``) and the field number of each logical name (``velden``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from portal.formats import ei
from portal.formats import xml as fxml

FORMATS_DIR = Path(__file__).parent
PROVISIONAL = "voorlopig"
PROVISIONAL_LABEL = "voorlopig formaat"
MAX_BYTES = 10 * 1024 * 1024  # DJI's messages for one provider and month stay far below this


class FormatError(ValueError):
    """A message that does not fit its format; ``str()`` is Dutch."""


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.\-]", version))


@dataclass(eq=False)
class Format:
    """One version of one message format (a folder)."""

    message: str  # "GDS801"
    version: str
    folder: Path
    kind: str  # "xml" | "ei"
    status: str
    mapping: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def provisional(self) -> bool:
        return self.status == PROVISIONAL

    @property
    def label(self) -> str:
        extra = f" ({PROVISIONAL_LABEL})" if self.provisional else ""
        return f"{self.message} v{self.version}{extra}"

    @property
    def standard_label(self) -> str:
        """What the inbox and outbox show as the message's standard (at most 40 characters)."""
        extra = "" if not self.provisional or PROVISIONAL in self.version else f" {PROVISIONAL}"
        return f"DJI v{self.version}{extra}"[:40]

    @classmethod
    def from_folder(cls, folder: str | Path) -> Format:
        folder = Path(folder)
        try:
            mapping = json.loads((folder / "mapping.json").read_text(encoding="utf-8"))
            message, kind = mapping["bericht"].upper(), mapping["soort"]
        except (OSError, ValueError, KeyError) as exc:
            raise FormatError(f"{folder}: geen bruikbare mapping.json ({exc})") from None
        if kind not in ("xml", "ei"):
            raise FormatError(f"{folder}: onbekende soort {kind!r} (xml of ei)")
        return cls(
            message=message,
            version=mapping.get("versie") or folder.name,
            folder=folder,
            kind=kind,
            status=mapping.get("status", PROVISIONAL),
            mapping=mapping,
        )

    # -- XML --

    @property
    def release(self) -> fxml.XsdRelease:
        if "release" not in self._cache:
            self._cache["release"] = fxml.register_release(self.folder)
        return self._cache["release"]

    @property
    def xsd_message(self) -> str:
        return self.mapping.get("xsd", self.message)

    @property
    def namespace(self) -> str:
        return self.release.namespace(self.xsd_message)

    # -- EI --

    @property
    def layout(self) -> ei.Layout:
        if "layout" not in self._cache:
            layout = ei.Layout.from_file(self.folder / self.mapping["layout"])
            self._cache["layout"] = ei.register(layout)
        return self._cache["layout"]

    # -- building and reading --

    def build(self, values: Mapping[str, Any]) -> bytes:
        """The message for ``values`` (logical names), checked against the XSD or layout."""
        if self.kind == "xml":
            return _build_xml(self, values)
        return _build_ei(self, values)

    def read(self, payload: bytes) -> dict[str, Any]:
        """The values of a message under the logical names; :class:`FormatError` in Dutch."""
        if self.kind == "xml":
            return _read_xml(self, payload)
        return _read_ei(self, payload)

    def recognises(self, payload: bytes) -> bool:
        head = bytes(payload[:2048])
        if self.kind == "xml":
            return f'"{self.namespace}"'.encode() in head
        lay = self.layout
        code = self.mapping["records"]["voorloop"]["vast"].get("0102", "")
        return (
            head[:2] == b"01"
            and head[2:5] == code.encode()
            and (len(head.split(b"\r\n", 1)[0]) == lay.record_length)
        )


# --- checking an installed format -----------------------------------------------------------


def check(fmt: Format) -> list[str]:
    """What does not fit between a format's mapping and its schema or layout (Dutch; empty when
    it fits): an element the XSD does not declare, a rubriek the layout does not have, or a
    logical name the plugin needs that the mapping lacks. Run it after installing a version
    (``python -m plugins.fz.formats``)."""
    problems: list[str] = []
    if fmt.kind == "xml":
        try:
            xsd = etree.parse(str(fmt.release.xsd_path(fmt.xsd_message)))
        except (OSError, KeyError, etree.XMLSyntaxError) as exc:
            return [f"{fmt.label}: het schema kan niet worden gelezen ({exc})."]
        declared = {el.get("name") for el in xsd.iter(f"{fxml.XS}element")}
        if fmt.mapping.get("root") not in declared:
            problems.append(
                f"{fmt.label}: root-element {fmt.mapping.get('root')} staat niet in het schema."
            )
        found: set[str] = set()

        def walk(nodes: list) -> None:
            for node in nodes:
                if node[0] not in declared:
                    problems.append(f"{fmt.label}: element {node[0]} staat niet in het schema.")
                if len(node) == 3:
                    found.add(node[1][1:])
                    walk(node[2])
                elif isinstance(node[1], list):
                    walk(node[1])
                elif not node[1].startswith("="):
                    found.add(node[1])

        walk(fmt.mapping.get("velden") or [])
    else:
        found = set()
        for role, spec in (fmt.mapping.get("records") or {}).items():
            rt = fmt.layout.records.get(spec.get("type", ""))
            if rt is None:
                problems.append(f"{fmt.label}: recordsoort {spec.get('type')} ({role}) ontbreekt.")
                continue
            for number in [*spec.get("velden", {}).values(), *spec.get("vast", {})]:
                if number not in rt.by_number:
                    problems.append(
                        f"{fmt.label}: rubriek {number} staat niet in record {rt.code}."
                    )
            found.update(spec.get("velden", {}))
    needed = REQUIRED_NAMES.get(fmt.message, set())
    for name in sorted(needed - found):
        problems.append(f"{fmt.label}: de mapping noemt het veld '{name}' niet.")
    return problems


# the logical names the plugin gives or reads per message (the provisional mappings have them all)
REQUIRED_NAMES: dict[str, set[str]] = {
    "FZ821": {
        "ontvanger",
        "bsn",
        "geboortedatum",
        "achternaam",
        "plaatsingsnummer",
        "titel",
        "prestatiecode",
        "begindatum",
        "einddatum",
        "instelling",
    },
    "FZ823": {"afzender", "identificatie", "bsn", "plaatsingsnummer", "datum"},
    "FZ825": {"afzender", "identificatie", "bsn", "plaatsingsnummer", "datum", "reden"},
    "FZ824": {"identificatie_retour", "plaatsingsnummer", "retourcodes", "code"},
    "FZ826": {"identificatie_retour", "plaatsingsnummer", "retourcodes", "code"},
    "GDS801": {
        "afzender",
        "ontvanger",
        "identificatie",
        "nummer",
        "prestaties",
        "referentie",
        "bsn",
        "plaatsingsnummer",
        "prestatiecode",
        "begindatum",
        "einddatum",
        "aantal",
        "tarief",
        "bedrag",
        "debet_credit",
    },
    "GDS802": {"identificatie_retour", "nummer", "prestaties", "referentie", "retourcodes", "code"},
    "FZ303": {
        "nummer",
        "bsn",
        "plaatsingsnummer",
        "prestatiecode",
        "begindatum",
        "einddatum",
        "aantal",
        "tarief",
        "bedrag",
        "referentie",
    },
    "FZ304": {"nummer", "referentie"},
}


# --- the registry ----------------------------------------------------------------------------


@cache
def _formats_in(root: str) -> dict[str, list[Format]]:
    found: dict[str, list[Format]] = {}
    for mapping in sorted(Path(root).glob("*/*/mapping.json")):
        fmt = Format.from_folder(mapping.parent)
        found.setdefault(fmt.message, []).append(fmt)
    for versions in found.values():
        versions.sort(key=lambda f: _version_key(f.version))
    return found


def reload() -> None:
    """Forget the folders read so far (after a new version folder was added)."""
    _formats_in.cache_clear()


def versions(message: str, root: Path = FORMATS_DIR) -> list[Format]:
    return list(_formats_in(str(root)).get(message.upper(), []))


def active(message: str, settings: Mapping[str, Any] | None = None) -> Format:
    """The format in use for ``message``: the pinned version, else the newest folder."""
    own = (settings or {}).get("fz", {}) if settings else {}
    root = Path(own.get("formaten_map") or FORMATS_DIR)
    found = versions(message, root)
    if not found:
        raise FormatError(f"Geen formaat voor {message} gevonden in {root}.")
    pinned = (own.get("formaten") or {}).get(message.upper())
    if pinned:
        for fmt in found:
            if fmt.version == pinned:
                return fmt
        raise FormatError(f"Versie {pinned} van {message} staat niet in {root}.")
    return found[-1]


def all_formats(settings: Mapping[str, Any] | None = None) -> list[Format]:
    own = (settings or {}).get("fz", {}) if settings else {}
    root = Path(own.get("formaten_map") or FORMATS_DIR)
    return [active(m, settings) for m in sorted(_formats_in(str(root)))]


def identify(payload: bytes, settings: Mapping[str, Any] | None = None) -> Format | None:
    """Which FZ format (any installed version) an incoming payload is written in."""
    own = (settings or {}).get("fz", {}) if settings else {}
    root = Path(own.get("formaten_map") or FORMATS_DIR)
    for found in _formats_in(str(root)).values():
        for fmt in reversed(found):
            if fmt.recognises(payload):
                return fmt
    return None


# --- XML by mapping --------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _fill(parent, ns: str, nodes: list, values: Mapping[str, Any]) -> None:
    for node in nodes:
        name = node[0]
        if len(node) == 3:  # repeated group
            for item in values.get(node[1][1:]) or []:
                _fill(etree.SubElement(parent, f"{{{ns}}}{name}"), ns, node[2], item)
        elif isinstance(node[1], list):
            _fill(etree.SubElement(parent, f"{{{ns}}}{name}"), ns, node[1], values)
        else:
            spec = node[1]
            text = spec[1:] if spec.startswith("=") else _text(values.get(spec))
            if text is not None:
                etree.SubElement(parent, f"{{{ns}}}{name}").text = text


def _build_xml(fmt: Format, values: Mapping[str, Any]) -> bytes:
    ns = fmt.namespace
    root = etree.Element(f"{{{ns}}}{fmt.mapping['root']}", nsmap={None: ns})
    _fill(root, ns, fmt.mapping["velden"], values)
    errors = fmt.release.validate(fmt.xsd_message, root)
    if errors:
        raise FormatError(
            f"Het {fmt.message}-bericht voldoet niet aan het schema ({fmt.label}): "
            + "; ".join(errors[:3])
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _take(el, ns: str, nodes: list, out: dict[str, Any]) -> None:
    for node in nodes:
        name = f"{{{ns}}}{node[0]}"
        if len(node) == 3:
            items = []
            for child in el.findall(name):
                item: dict[str, Any] = {}
                _take(child, ns, node[2], item)
                items.append(item)
            out[node[1][1:]] = items
        elif isinstance(node[1], list):
            child = el.find(name)
            if child is not None:
                _take(child, ns, node[1], out)
        elif not node[1].startswith("="):
            child = el.find(name)
            out[node[1]] = (child.text or "").strip() if child is not None else None


def _read_xml(fmt: Format, payload: bytes) -> dict[str, Any]:
    try:
        root = fxml.read_xml(payload, max_bytes=MAX_BYTES)
    except fxml.XmlError as exc:
        raise FormatError(str(exc)) from None
    errors = fmt.release.validate(fmt.xsd_message, root)
    if errors:
        raise FormatError(
            f"Het {fmt.message}-bericht voldoet niet aan het schema ({fmt.label}): "
            + "; ".join(errors[:3])
        )
    out: dict[str, Any] = {}
    _take(root, fmt.namespace, fmt.mapping["velden"], out)
    return out


# --- EI by mapping ---------------------------------------------------------------------------


def _record(spec: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[str, dict]:
    out: dict[str, Any] = dict(spec.get("vast", {}))
    for logical, number in spec.get("velden", {}).items():
        value = values.get(logical)
        if value is not None and value != "":
            out[number] = value
    return spec["type"], out


def _build_ei(fmt: Format, values: Mapping[str, Any]) -> bytes:
    """``values``: the voorloop's fields, ``clients`` (each with its ``prestaties``)."""
    recs = fmt.mapping["records"]
    records = [_record(recs["voorloop"], values)]
    for client in values.get("clients") or []:
        records.append(_record(recs["client"], {**values, **client}))
        for line in client.get("prestaties") or []:
            records.append(_record(recs["prestatie"], {**values, **client, **line}))
    try:
        return ei.build(fmt.layout, records)
    except ei.EiError as exc:
        raise FormatError(f"Het {fmt.message}-bestand klopt niet ({fmt.label}): {exc}") from None


def _read_ei(fmt: Format, payload: bytes) -> dict[str, Any]:
    try:
        parsed = ei.parse(fmt.layout, bytes(payload), max_bytes=MAX_BYTES)
    except ei.EiError as exc:
        raise FormatError(f"Het {fmt.message}-bestand klopt niet ({fmt.label}): {exc}") from None
    recs = fmt.mapping["records"]

    def take(record, role) -> dict[str, Any]:
        spec = recs.get(role) or {}
        return {logical: record.get(number) for logical, number in spec.get("velden", {}).items()}

    out = take(parsed.header, "voorloop")
    if "sluit" in recs and parsed.trailer is not None:
        out.update(take(parsed.trailer, "sluit"))
    out["prestaties"] = [take(r, "prestatie") for r in parsed.of_type(recs["prestatie"]["type"])]
    out["_records"] = parsed
    return out
