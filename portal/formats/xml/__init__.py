"""Safe XML reading and XSD releases (iWmo, iJw, iWlz, GDS …) as data.

API
---
``read_xml(payload, max_bytes=MAX_BYTES) -> lxml.etree._Element``
    Parses XML from outside without trusting it: no DTD, no entities, no network, no huge trees,
    comments and processing instructions dropped, refused above ``max_bytes``. Raises
    :class:`XmlError` (a ``ValueError`` whose text is a Dutch sentence for the inbox).
``XsdRelease.from_folder(path) -> XsdRelease``
    One release of one standard = one folder of official XSDs plus a small ``release.json``::

        {"standaard": "iwmo", "label": "iWmo", "release": "3.2",
         "basisschema": "basisschema.xsd",
         "overrides": {"BerichtXsdVersie": "1.0.0"},
         "berichten": {"JW323": {"BerichtXsdVersie": "1.0.0"}}}

    Only ``standaard`` and ``release`` are required. ``overrides`` (for every message) and
    ``berichten`` (per message, by XSD file stem) replace header values read from the XSDs, for
    releases whose appinfo does not carry the production values. Adding a release is adding such a
    folder; no code changes.
``register_release(release)`` / ``release_for_namespace(namespace) -> (XsdRelease, message) | None``
    Which registered release (and which message of it) an XML namespace belongs to.
    ``recognise(payload)`` does the same from the first bytes of a payload, without parsing.
``XsdRelease`` methods (all cached per process):
    ``messages`` (file stem → targetNamespace), ``namespace(message)``, ``schema(message)``,
    ``validate(message, root) -> list[str]``, ``header(message, overrides=None) -> dict[str, str]``
    (``BerichtCode``, ``BerichtVersie``, ``BerichtSubversie`` from the header's ``xs:pattern`` values
    and ``BerichtXsdVersie``, ``BasisschemaXsdVersie`` … from ``xs:appinfo``, then the overrides),
    ``codes(type_name) -> dict[code, Dutch meaning]`` from ``xs:enumeration`` +
    ``xs:documentation`` of the basisschema (and the message XSDs), ``meaning(type_name, code)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

__all__ = [
    "MAX_BYTES",
    "XS",
    "XmlError",
    "XsdRelease",
    "read_xml",
    "recognise",
    "register_release",
    "release_for_namespace",
    "releases",
]

MAX_BYTES = 25 * 1024 * 1024  # iStandaarden OP179: a message is at most 25 MB
XS = "{http://www.w3.org/2001/XMLSchema}"
HEADER_PATTERNS = ("BerichtCode", "BerichtVersie", "BerichtSubversie")


class XmlError(ValueError):
    """Outside XML we refuse; ``str(exc)`` is a Dutch sentence."""


_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
    remove_pis=True,
)


def read_xml(payload: bytes, max_bytes: int = MAX_BYTES) -> etree._Element:
    """Parse outside XML without trusting it; raises :class:`XmlError` in Dutch."""
    if not isinstance(payload, bytes | bytearray):
        raise XmlError("Het bericht is geen bestand met XML-inhoud.")
    if len(payload) > max_bytes:
        raise XmlError(
            f"Het bericht is te groot ({len(payload) // 1024} kB; "
            f"de grens is {max_bytes // 1024} kB). Het is niet verwerkt."
        )
    if not payload.strip():
        raise XmlError("Het bericht is leeg.")
    if b"<!DOCTYPE" in bytes(payload[:4096]).upper() or b"<!ENTITY" in bytes(payload).upper():
        raise XmlError(
            "Het bericht bevat een DOCTYPE of entiteit; dat is in deze berichten niet toegestaan "
            "en wordt om veiligheidsredenen geweigerd."
        )
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(bytes(payload), parser)
    except etree.XMLSyntaxError as exc:
        raise XmlError(
            f"Het bericht is geen geldige XML: {exc.msg} (regel {exc.lineno})."
        ) from None
    if root.getroottree().docinfo.doctype:
        raise XmlError("Het bericht bevat een DOCTYPE; dat wordt geweigerd.")
    return root


def _parse_xsd(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


_TARGET_NS = re.compile(rb'targetNamespace="([^"]+)"')


@dataclass(eq=False)
class XsdRelease:
    """One release of one standard: a folder of XSDs and its ``release.json``."""

    folder: Path
    standard: str
    release: str
    label: str
    basisschema: str = "basisschema.xsd"
    overrides: dict[str, str] = field(default_factory=dict)
    per_message: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_folder(cls, folder: str | Path) -> XsdRelease:
        folder = Path(folder)
        meta_path = folder / "release.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            standard, release = meta["standaard"], meta["release"]
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{meta_path}: geen bruikbare release.json ({exc})") from None
        return cls(
            folder=folder,
            standard=standard,
            release=release,
            label=meta.get("label", standard),
            basisschema=meta.get("basisschema", "basisschema.xsd"),
            overrides=dict(meta.get("overrides", {})),
            per_message={k: dict(v) for k, v in meta.get("berichten", {}).items()},
        )

    def __repr__(self) -> str:
        return f"XsdRelease({self.label} {self.release})"

    # -- which messages --

    @cached_property
    def messages(self) -> dict[str, str]:
        """Message (XSD file stem, e.g. ``WMO323``) → its targetNamespace."""
        out = {}
        for path in sorted(self.folder.glob("*.xsd")):
            if path.name == self.basisschema:
                continue
            match = _TARGET_NS.search(path.read_bytes()[:4096])
            if match:
                out[path.stem] = match.group(1).decode()
        return out

    @cached_property
    def by_namespace(self) -> dict[str, str]:
        return {ns: msg for msg, ns in self.messages.items()}

    def namespace(self, message: str) -> str:
        return self.messages[message]

    @cached_property
    def basis_namespace(self) -> str:
        match = _TARGET_NS.search((self.folder / self.basisschema).read_bytes()[:4096])
        return match.group(1).decode() if match else ""

    def xsd_path(self, message: str) -> Path:
        return self.folder / f"{message}.xsd"

    # -- schemas, header values, code lists (cached per release object) --

    def schema(self, message: str) -> etree.XMLSchema:
        cache = self.__dict__.setdefault("_schemas", {})
        if message not in cache:
            cache[message] = etree.XMLSchema(etree.ElementTree(_parse_xsd(self.xsd_path(message))))
        return cache[message]

    def validate(self, message: str, root: etree._Element) -> list[str]:
        """XSD errors as ``regel N: …`` (at most 20; empty when valid)."""
        schema = self.schema(message)
        if schema.validate(root):
            return []
        return [f"regel {e.line}: {e.message}" for e in schema.error_log][:20]

    @cached_property
    def _basis_appinfo(self) -> dict[str, str]:
        return _appinfo(_parse_xsd(self.folder / self.basisschema))

    def header(self, message: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """Header values for ``message``: XSD patterns and appinfo, then the release's overrides."""
        cache = self.__dict__.setdefault("_headers", {})
        if message not in cache:
            root = _parse_xsd(self.xsd_path(message))
            values = dict(self._basis_appinfo)
            values.update(_appinfo(root))
            for el in root.iter(f"{XS}element"):
                name = el.get("name")
                if name in HEADER_PATTERNS and name not in values:
                    pattern = el.find(f".//{XS}pattern")
                    if pattern is not None:
                        values[name] = pattern.get("value")
            values.update(self.overrides)
            values.update(self.per_message.get(message, {}))
            cache[message] = values
        values = dict(cache[message])
        values.update(overrides or {})
        return values

    @cached_property
    def _codelists(self) -> dict[str, dict[str, str]]:
        lists: dict[str, dict[str, str]] = {}
        paths = [self.folder / self.basisschema]
        for path in paths:
            root = _parse_xsd(path)
            for simple in root.iter(f"{XS}simpleType"):
                name = simple.get("name")
                values = {}
                for enum in simple.iter(f"{XS}enumeration"):
                    doc = enum.find(f"{XS}annotation/{XS}documentation")
                    values[enum.get("value")] = (
                        " ".join((doc.text or "").split()) if doc is not None else ""
                    )
                if name and values:
                    lists[name] = values
        return lists

    def codes(self, type_name: str) -> dict[str, str]:
        """A code list: ``{"01": "Minuut", …}`` from the enumerations and their documentation."""
        return self._codelists.get(type_name, {})

    def meaning(self, type_name: str, code: str | None) -> str:
        if code is None:
            return ""
        return self.codes(type_name).get(code, f"onbekende code {code}")


def _appinfo(root: etree._Element) -> dict[str, str]:
    """The first ``xs:appinfo`` block of a schema, by local element name."""
    info = root.find(f"{XS}annotation/{XS}appinfo")
    if info is None:
        return {}
    return {
        etree.QName(el).localname: (el.text or "").strip() for el in info if isinstance(el.tag, str)
    }


_RELEASES: list[XsdRelease] = []
_BY_FOLDER: dict[str, XsdRelease] = {}


def register_release(release: XsdRelease | str | Path) -> XsdRelease:
    """Make a release known to :func:`release_for_namespace` (idempotent per folder).

    Cheap when called again with the same folder (plugins may call it on every use).
    """
    if not isinstance(release, XsdRelease):
        known = _BY_FOLDER.get(str(release))
        if known is not None:
            return known
        folder = Path(release)
        for existing in _RELEASES:
            if existing.folder.resolve() == folder.resolve():
                _BY_FOLDER[str(release)] = existing
                return existing
        release = XsdRelease.from_folder(folder)
    else:
        for existing in _RELEASES:
            if existing.folder.resolve() == release.folder.resolve():
                return existing
    _RELEASES.append(release)
    _BY_FOLDER[str(release.folder)] = release
    return release


def releases() -> list[XsdRelease]:
    return list(_RELEASES)


def release_for_namespace(namespace: str) -> tuple[XsdRelease, str] | None:
    """(release, message) for a message namespace, or None when no registered release has it."""
    for release in _RELEASES:
        message = release.by_namespace.get(namespace)
        if message is not None:
            return release, message
    return None


_XMLNS = re.compile(rb'xmlns(?::[A-Za-z_][\w.-]*)?="([^"]+)"')


def recognise(payload: bytes) -> tuple[XsdRelease, str] | None:
    """Like :func:`release_for_namespace`, from the namespaces declared in the first 2 KB.

    Cheap and tolerant (nothing is parsed or validated): for routing an incoming payload.
    """
    if not isinstance(payload, bytes | bytearray):
        return None
    for match in _XMLNS.finditer(bytes(payload[:2048])):
        found = release_for_namespace(match.group(1).decode("ascii", "replace"))
        if found is not None:
            return found
    return None
