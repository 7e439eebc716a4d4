"""iWmo 3.2 and iJw 3.2 as data: namespaces, message codes, XSD versions and code lists.

Everything here is read from the official XSDs in ``xsd/`` (parsed once per process), so a new
release is a new folder, not new code. iWmo and iJw share structure; they differ in namespace,
BerichtCode and a few code lists (productcategorie, reden beëindiging).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from portal.formats.xml import XsdRelease, register_release

XSD_DIR = Path(__file__).parent / "xsd"

# Every message kind of the chain, in the standard's numbering.
KINDS = ("301", "302", "305", "306", "307", "308", "315", "316", "317", "318", "319", "320")
KINDS += ("323", "325")
# The header values that name the release (IV034). They come from the release folder
# (``xsd/<standaard>/<release>/release.json``, read by :mod:`portal.formats.xml`): the XSD patterns
# and appinfo, overridden per release where the XSD copy does not carry the production values.
# The iJw 3.2 XSDs here are a pre-release copy whose appinfo says 0.1.0, while the official iJw 3.2
# examples (and every iWmo 3.2 file) say 1.0.0; a gemeente checks the range of its own production
# XSD, so ``xsd/ijw/3.2/release.json`` overrides both XSD versions with 1.0.0.
# ``tests/plugins/wmo_jw/test_catalogue.py`` compares them with every official example.
VERSION_KEYS = ("BerichtVersie", "BerichtSubversie", "BasisschemaXsdVersie", "BerichtXsdVersie")
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

    @property
    def xsd_release(self) -> XsdRelease:
        """The release folder (XSDs + release.json), read by :mod:`portal.formats.xml`."""
        return register_release(self.folder)

    def xsd_path(self, kind: str) -> Path:
        return self.folder / f"{self.message_name(kind)}.xsd"

    def schema(self, kind: str) -> etree.XMLSchema:
        return self.xsd_release.schema(self.message_name(kind))

    def berichtcode(self, kind: str) -> str:
        return self.xsd_release.header(self.message_name(kind))["BerichtCode"]

    def versions_for(self, kind: str) -> dict[str, str]:
        """BerichtVersie, BerichtSubversie and the XSD versions a message of this release
        carries (IV034): the production values of the release folder."""
        header = self.xsd_release.header(self.message_name(kind))
        return {key: header[key] for key in VERSION_KEYS}

    @property
    def versions(self) -> dict[str, str]:
        """The release's versions (the same for every message of a release)."""
        return self.versions_for("301")

    def xsd_versions(self, kind: str) -> tuple[str, str]:
        """(BasisschemaXsdVersie, BerichtXsdVersie) of this release (IV034)."""
        v = self.versions_for(kind)
        return v["BasisschemaXsdVersie"], v["BerichtXsdVersie"]

    def codes(self, type_name: str) -> dict[str, str]:
        """A code list of the basisschema: ``{"01": "Minuut", …}`` from xs:documentation."""
        return self.xsd_release.codes(type_name)

    def meaning(self, type_name: str, code: str | None) -> str:
        return self.xsd_release.meaning(type_name, code)


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


def all_kinds_loaded() -> int:
    """Load every schema of both standards (used at start-up and in tests); returns the count."""
    count = 0
    for std in STANDARDS.values():
        for kind in KINDS:
            std.schema(kind)
            count += 1
    return count
