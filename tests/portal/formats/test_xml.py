"""The shared XML reader and XSD releases, on the official iWmo/iJw 3.2 XSDs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from portal.formats import xml as fx

ROOT = Path(__file__).resolve().parents[3]
IJW = ROOT / "plugins" / "wmo_jw" / "xsd" / "ijw" / "3.2"
IWMO = ROOT / "plugins" / "wmo_jw" / "xsd" / "iwmo" / "3.2"


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"", "leeg"),
        (b"<a><b></a>", "geen geldige XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "DOCTYPE",
        ),
        (b'<x xmlns="y">&lol;</x><!ENTITY lol "a">', "entiteit"),
        ("<x/>", "geen bestand"),
    ],
)
def test_read_xml_refuses_untrusted_input(payload, words):
    with pytest.raises(fx.XmlError) as exc:
        fx.read_xml(payload)
    assert words in str(exc.value)


def test_read_xml_size_limit():
    with pytest.raises(fx.XmlError, match="te groot"):
        fx.read_xml(b"<x>" + b"a" * 2048 + b"</x>", max_bytes=1024)
    assert fx.read_xml(b"<x><!-- weg --><y/></x>").find("y") is not None


def test_release_reads_header_values_and_code_lists_from_the_xsds():
    release = fx.register_release(IJW)
    assert release.label == "iJw" and release.release == "3.2"
    header = release.header("JW323")
    assert header["BerichtCode"] == "490"
    assert header["BerichtVersie"] == "3"
    # the pre-release iJw appinfo says 0.1.0; the release's overrides give the production value
    # of the official iJw 3.2 examples (issue 14)
    assert header["BerichtXsdVersie"] == "1.0.0"
    assert (
        release.header("JW323", overrides={"BerichtXsdVersie": "0.1.0"})["BerichtXsdVersie"]
        == "0.1.0"
    )
    assert release.codes("LDT_Eenheid")["01"] == "Minuut"
    assert release.meaning("LDT_Eenheid", "99") == "onbekende code 99"
    ns = release.namespace("JW323")
    assert fx.release_for_namespace(ns) == (release, "JW323")


def test_release_mapping_overrides_written_versions(tmp_path):
    folder = tmp_path / "ijw-3.2"
    shutil.copytree(IJW, folder)
    meta = json.loads((folder / "release.json").read_text())
    meta["overrides"] = {"BerichtXsdVersie": "1.0.0", "BasisschemaXsdVersie": "1.0.0"}
    meta["berichten"] = {"JW325": {"BerichtXsdVersie": "1.0.1"}}
    (folder / "release.json").write_text(json.dumps(meta))
    release = fx.XsdRelease.from_folder(folder)
    assert release.header("JW323")["BerichtXsdVersie"] == "1.0.0"
    assert release.header("JW325")["BerichtXsdVersie"] == "1.0.1"
    assert release.header("JW323", {"BerichtXsdVersie": "2.0.0"})["BerichtXsdVersie"] == "2.0.0"


def test_schema_validation_and_recognise():
    release = fx.register_release(IWMO)
    root = fx.read_xml(b'<Bericht xmlns="' + release.namespace("WMO323").encode() + b'"/>')
    errors = release.validate("WMO323", root)
    assert errors and errors[0].startswith("regel 1:")
    payload = etree.tostring(root)
    assert fx.recognise(payload) == (release, "WMO323")
    assert fx.recognise(b"<x xmlns='urn:onbekend'/>") is None
