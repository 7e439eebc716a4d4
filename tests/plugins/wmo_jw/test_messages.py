"""The standard as data: XSDs, code lists, building and safe reading of every message kind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IJW, IWMO, KINDS, RETOUR_OF, STANDARDS
from tests.plugins.wmo_jw.factories import bericht

# The official examples, copied into the repository (examples/SOURCES.md says from where).
EXAMPLES = Path(__file__).resolve().parent / "examples"
ALL_EXAMPLES = sorted(EXAMPLES.glob("i*/3.2/examples/*.xml"))
INVALID = {"JW315.xml", "JW318.xml"}  # documented author errors (SOURCES.md)
STDS = [IWMO, IJW]


def test_examples_are_present():
    assert len(ALL_EXAMPLES) == 28


def test_every_schema_loads_once_and_codes_come_from_the_xsd():
    for std in STDS:
        for kind in KINDS:
            assert std.schema(kind) is std.schema(kind)
    assert IWMO.berichtcode("323") == "484" and IJW.berichtcode("323") == "490"
    assert IWMO.berichtcode("301") == "414" and IJW.berichtcode("325") == "491"
    assert IWMO.codes("LDT_Eenheid")["04"] == "Uur"
    assert len(IWMO.codes("LDT_RetourCode")) == 59
    assert IWMO.codes("LDT_RetourCode")["0611"].startswith("Het ingediende tarief")
    # the stop reasons differ between the standards
    assert "Verhuizing" in IWMO.codes("LDT_RedenBeeindiging")["31"]
    assert "volgens plan" in IJW.codes("LDT_RedenBeeindiging")["31"]
    assert "19" in IWMO.codes("LDT_RedenBeeindiging")
    assert "19" not in IJW.codes("LDT_RedenBeeindiging")
    assert "07" in IWMO.codes("LDT_ProductCategorie")
    assert "45" in IJW.codes("LDT_ProductCategorie")
    assert "45" not in IWMO.codes("LDT_ProductCategorie")


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_valid_examples_parse_and_invalid_ones_are_refused(path):
    payload = path.read_bytes()
    if path.name in INVALID:
        with pytest.raises(m.MessageError) as exc:
            m.parse(payload)
        assert "voldoet niet aan het XSD-schema" in str(exc.value)
        return
    b = m.parse(payload)
    assert b.header.identificatie
    assert b.std.key == ("ijw" if path.name.startswith("JW") else "iwmo")
    assert b.kind == path.stem[-3:]
    if b.kind in ("323", "325"):
        assert b.declaratie.prestaties
    if b.kind == "301":
        assert b.toewijzingen and b.client.bsn


@pytest.mark.parametrize("std", STDS, ids=lambda s: s.key)
@pytest.mark.parametrize("kind", ["301", "305", "307", "315", "317", "319", "323", "325"])
def test_every_built_message_validates_and_reads_back(std, kind):
    b = bericht(std, kind)
    payload = m.build(b)
    assert std.schema(kind).validate(etree.fromstring(payload))
    back = m.parse(payload)
    assert back.kind == kind and back.std is std
    assert back.header.identificatie == b.header.identificatie
    if kind == "323":
        assert [p.referentie for p in back.declaratie.prestaties] == ["R1", "R2"]
        assert back.declaratie.totaal == 100000


@pytest.mark.parametrize("std", STDS, ids=lambda s: s.key)
@pytest.mark.parametrize("heen", sorted(RETOUR_OF))
def test_every_retour_validates_with_codes_on_the_right_class(std, heen):
    payload = m.build(bericht(std, heen))
    ok = m.parse(m.build_retour(std, payload, identificatie="RET1", dagtekening=date(2026, 11, 6)))
    assert ok.kind == RETOUR_OF[heen]
    assert ok.header.identificatie == "ID0001" and ok.header.identificatie_retour == "RET1"
    assert ok.client is None and ok.antwoord is None  # fully OK: header only (IV028)
    rejected = m.parse(
        m.build_retour(
            std, payload, identificatie="RET2", dagtekening=date(2026, 11, 6), header_codes=["0001"]
        )
    )
    assert rejected.header.retourcodes == ["0001"]
    if heen in ("305", "307"):
        cls = "StopProduct" if heen == "307" else "StartProduct"
        coded = m.parse(
            m.build_retour(
                std,
                payload,
                identificatie="RET3",
                dagtekening=date(2026, 11, 6),
                codes={(cls, 0): ["9326"]},
            )
        )
        assert coded.producten[0].retourcodes == ["9326"]
        assert coded.client.retourcodes == ["0200"]


def test_a_message_that_breaks_the_xsd_is_not_built():
    b = bericht(IWMO, "323")
    b.declaratie.prestaties[0].categorie = "99"  # not in the iWmo list
    with pytest.raises(m.BuildError) as exc:
        m.build(b)
    assert "XSD" in str(exc.value)


def test_ijw_category_is_refused_in_iwmo_and_accepted_in_ijw():
    b = bericht(IJW, "323")
    for p in b.declaratie.prestaties:
        p.categorie = "45"
    m.build(b)
    b.std = IWMO
    with pytest.raises(m.BuildError):
        m.build(b)


# --- hostile input ------------------------------------------------------------------------------

GOOD = (EXAMPLES / "iwmo/3.2/examples/WMO301.xml").read_bytes() if ALL_EXAMPLES else b""


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"<wmo301:Bericht xmlns:wmo301='x'><unclosed>", "geen geldige XML"),
        (b"", "leeg"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            b"<Bericht>&lol2;</Bericht>",
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<Bericht>&xxe;</Bericht>",
            "DOCTYPE",
        ),
        (b"<Bericht xmlns='http://example.org/other'/>", "onbekende namespace"),
        (GOOD.replace(b"999900006", b"99990000X"), "XSD-schema"),
    ],
    ids=["broken", "empty", "billion-laughs", "xxe", "foreign", "xsd"],
)
def test_hostile_or_broken_input_is_refused_in_dutch(payload, words):
    with pytest.raises(m.MessageError) as exc:
        m.parse(payload)
    assert words in str(exc.value)


def test_huge_input_is_refused_before_parsing():
    huge = GOOD.replace(b"</wmo301:Bericht>", b"<!--" + b"x" * 2_000_000 + b"--></wmo301:Bericht>")
    with pytest.raises(m.MessageError) as exc:
        m.parse(huge, max_bytes=1_000_000)
    assert "te groot" in str(exc.value)
    assert m.parse(GOOD, max_bytes=1_000_000).kind == "301"


def test_both_standards_are_known():
    assert set(STANDARDS) == {"iwmo", "ijw"}


@pytest.mark.parametrize("std", [IWMO, IJW], ids=["iwmo", "ijw"])
def test_a_318_keeps_the_codes_on_every_class(std):
    """The gemeente may put its codes on the Verzoek or on one product: none is lost."""
    b = bericht(std, "317")
    b.verzoek.ongewijzigd = ["5002"]
    payload = m.build(b)
    retour = m.build_retour(
        std,
        payload,
        identificatie="RET1",
        dagtekening=date(2026, 11, 6),
        codes={("TeWijzigenProduct", 0): ["9351"], ("OngewijzigdProduct", 0): ["9350"]},
    )
    parsed = m.parse(retour)
    assert parsed.verzoek.te_wijzigen[0].retourcodes == ["9351"]
    assert parsed.verzoek.ongewijzigd_retourcodes == {"5002": ["9350"]}
    assert set(parsed.verzoek.all_retourcodes()) >= {"9350", "9351"}
