"""iWmo 3.2 and iJw 3.2 as data: namespaces, message codes, XSD versions and code lists.

Everything here is read from the official XSDs in ``xsd/`` (parsed once per process), so a new
release is a new folder, not new code. iWmo and iJw share structure; they differ in namespace,
BerichtCode and a few code lists (productcategorie, reden beëindiging).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).parent / "xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"

# Every message kind of the chain, in the standard's numbering.
KINDS = ("301", "302", "305", "306", "307", "308", "315", "316", "317", "318", "319", "320")
KINDS += ("323", "325")
# The versions a message of a release carries in its header, per (standard, release): the
# production values of the release, not the appinfo of whichever XSD copy is on disk. The iJw 3.2
# XSDs in ``xsd/ijw/3.2`` are a pre-release copy whose appinfo says 0.1.0, while the official iJw 3.2
# examples (and every iWmo 3.2 file) say 1.0.0; a gemeente checks the range of its own production
# XSD, so 1.0.0 is what we write. ``tests/plugins/wmo_jw/test_messages.py`` compares these values
# with the headers of the official examples of both standards (docs/wmo_jw.md, "Versies").
RELEASE_VERSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("iwmo", "3.2"): {
        "BerichtVersie": "3",
        "BerichtSubversie": "2",
        "BasisschemaXsdVersie": "1.0.0",
        "BerichtXsdVersie": "1.0.0",
    },
    ("ijw", "3.2"): {
        "BerichtVersie": "3",
        "BerichtSubversie": "2",
        "BasisschemaXsdVersie": "1.0.0",
        "BerichtXsdVersie": "1.0.0",
    },
}
# Heenbericht -> its retour.
RETOUR_OF = {"301": "302", "305": "306", "307": "308", "315": "316", "317": "318", "319": "320"}


@dataclass(frozen=True)
class Standard:
    """One of the two standards this plugin speaks."""

    key: str  # "iwmo" / "ijw"
    label: str  # "iWmo" / "iJw"
    prefix: str  # message prefix in namespaces and file names: "wmo" / "jw"
    release: str = "3.2"

    @property
    def folder(self) -> Path:
        return XSD_DIR / self.key / self.release

    @property
    def ns_root(self) -> str:
        return f"http://www.istandaarden.nl/{self.key}/{self.release.replace('.', '_')}"

    @property
    def basis_ns(self) -> str:
        return f"{self.ns_root}/basisschema/schema"

    def ns(self, kind: str) -> str:
        return f"{self.ns_root}/{self.prefix}{kind}/schema"

    def message_name(self, kind: str) -> str:
        """The name used for files and drafts: WMO323, JW301."""
        return f"{self.prefix.upper()}{kind}"

    def xsd_path(self, kind: str) -> Path:
        return self.folder / f"{self.message_name(kind)}.xsd"

    def schema(self, kind: str) -> etree.XMLSchema:
        return _schema(self.key, kind)

    def berichtcode(self, kind: str) -> str:
        return _meta(self.key, kind)["berichtcode"]

    @property
    def versions(self) -> dict[str, str]:
        """BerichtVersie, BerichtSubversie and the XSD versions of this release (IV034): the
        per-release setting :data:`RELEASE_VERSIONS`."""
        return RELEASE_VERSIONS[(self.key, self.release)]

    def xsd_versions(self, kind: str) -> tuple[str, str]:
        """(BasisschemaXsdVersie, BerichtXsdVersie) written in a message of this release (IV034).
        One pair for every message of a release, as in the official examples."""
        v = self.versions
        return v["BasisschemaXsdVersie"], v["BerichtXsdVersie"]

    def appinfo_versions(self, kind: str) -> tuple[str, str]:
        """(BasisschemaXsdVersie, BerichtXsdVersie) as the XSD copy on disk states them."""
        meta = _meta(self.key, kind)
        return meta["basis"], meta["bericht"]

    def codes(self, type_name: str) -> dict[str, str]:
        """A code list of the basisschema: ``{"01": "Minuut", …}`` from xs:documentation."""
        return _codelists(self.key).get(type_name, {})

    def meaning(self, type_name: str, code: str | None) -> str:
        if code is None:
            return ""
        return self.codes(type_name).get(code, f"onbekende code {code}")


IWMO = Standard("iwmo", "iWmo", "wmo")
IJW = Standard("ijw", "iJw", "jw")
STANDARDS = {s.key: s for s in (IWMO, IJW)}


def by_key(key: str) -> Standard:
    return STANDARDS[key]


def by_label(label: str) -> Standard | None:
    for std in STANDARDS.values():
        if std.label.lower() == (label or "").lower() or std.key == (label or "").lower():
            return std
    return None


def identify(namespace: str) -> tuple[Standard, str] | None:
    """(standard, kind) for a message namespace, or None when it is not iWmo/iJw 3.2."""
    for std in STANDARDS.values():
        prefix = f"{std.ns_root}/{std.prefix}"
        if namespace.startswith(prefix) and namespace.endswith("/schema"):
            kind = namespace[len(prefix) : -len("/schema")]
            if kind in KINDS:
                return std, kind
    return None


# --- cached loaders ---------------------------------------------------------------------------


@cache
def _schema(key: str, kind: str) -> etree.XMLSchema:
    std = STANDARDS[key]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(std.xsd_path(kind)), parser))


@cache
def _meta(key: str, kind: str) -> dict[str, str]:
    std = STANDARDS[key]
    msg = etree.parse(str(std.xsd_path(kind))).getroot()
    basis = etree.parse(str(std.folder / "basisschema.xsd")).getroot()
    code = None
    for el in msg.iter(f"{XS}element"):
        if el.get("name") == "BerichtCode":
            pattern = el.find(f".//{XS}pattern")
            code = pattern.get("value") if pattern is not None else None
            break
    if code is None:  # pragma: no cover - guards a broken release folder
        raise RuntimeError(f"Geen BerichtCode gevonden in {std.xsd_path(kind)}")

    def appinfo(root, name):
        for el in root.iter(f"{{{std.basis_ns}}}{name}"):
            return (el.text or "").strip()
        raise RuntimeError(f"Geen {name} in de appinfo van {std.key} {kind}")

    return {
        "berichtcode": code,
        "bericht": appinfo(msg, "BerichtXsdVersie"),
        "basis": appinfo(basis, "BasisschemaXsdVersie"),
    }


@cache
def _codelists(key: str) -> dict[str, dict[str, str]]:
    std = STANDARDS[key]
    root = etree.parse(str(std.folder / "basisschema.xsd")).getroot()
    lists: dict[str, dict[str, str]] = {}
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


def all_kinds_loaded() -> int:
    """Load every schema of both standards (used at start-up and in tests); returns the count."""
    count = 0
    for std in STANDARDS.values():
        for kind in KINDS:
            std.schema(kind)
            count += 1
    return count
