"""The complete rule set: the catalogue in step with code, docs and tests; each new rule broken on
purpose; dates that survive 29 February and a year end; the versions a release writes."""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from plugins.wmo_jw import catalogue, chain, rules
from plugins.wmo_jw import declaration as declaring
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IJW, IWMO, STANDARDS
from tests.plugins.wmo_jw.factories import TODAY, bericht, prestatie

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def codes(issues):
    return {i.code for i in issues}


# --- the catalogue --------------------------------------------------------------------------------


def test_every_code_the_portal_reports_is_in_the_catalogue_with_a_test_that_breaks_it():
    source = (ROOT / "plugins/wmo_jw/rules.py").read_text(encoding="utf-8")
    emitted = set(re.findall(r'_issue\(\s*"([A-Z0-9]{4,5})"', source))
    emitted |= set(re.findall(r'^\s+"([A-Z0-9]{4,5})",$', source, flags=re.M))
    assert emitted <= set(catalogue.BY_CODE), sorted(emitted - set(catalogue.BY_CODE))
    tests = {}
    for path in HERE.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                tests[node.name] = ast.get_source_segment(path.read_text(encoding="utf-8"), node)
    for rule in catalogue.RULES:
        if rule.niet:
            assert not rule.test and len(rule.niet) > 40, rule.code  # a reason, in Dutch
            continue
        assert rule.waar and rule.test in tests, (rule.code, rule.test)
        body = tests[rule.test]
        # the named test breaks it: it names the code (or a parametrised case holds it)
        assert f'"{rule.code}"' in body or "CASES" in body, (rule.code, rule.test)
        if "CASES" in body and f'"{rule.code}"' not in body:
            # the cases live in module-level tables next to the test
            all_source = "".join(p.read_text("utf-8") for p in HERE.glob("test_*.py"))
            assert f'"{rule.code}"' in all_source, rule.code


def test_the_coverage_table_in_the_docs_is_the_one_the_code_generates():
    doc = (ROOT / "docs/wmo_jw.md").read_text(encoding="utf-8")
    begin = "<!-- regels:begin -->\n"
    end = "<!-- regels:eind -->"
    assert begin in doc and end in doc
    table = doc[doc.index(begin) + len(begin) : doc.index(end)]
    assert table == catalogue.markdown(), "run: python -m plugins.wmo_jw.catalogue > table"


def test_codes_follow_the_official_rule_texts():
    """Where issue 14 and the official iWmo/iJw 3.2 rule texts differ, the official text wins:
    a stop ending before its begin is TR018 (CS003 is for 301/315/317), the VOW date rule is
    TR357 (9357), and CD044/CD045 do not exist in release 3.2 (CD041, CD077, CD078 do)."""
    source = "".join(
        (ROOT / f"plugins/wmo_jw/{name}.py").read_text(encoding="utf-8")
        for name in ("rules", "chain", "verzoeken", "financier")
    )
    for gone in ("CD044", "CD045", "CS079", "TR347", "9319"):
        assert f'"{gone}"' not in source, gone
    assert catalogue.BY_CODE["TR018"].berichten == "307"
    assert catalogue.BY_CODE["9357"].regel == "TR357"
    assert catalogue.BY_CODE["TR319"].retourcode == "9319"
    assert catalogue.BY_CODE["TR353"].regel == "TR353"
    assert catalogue.BY_CODE["9069"].regel == "TR382"


# --- rules broken on purpose ----------------------------------------------------------------------


def test_301_address_rules():
    b = bericht(IWMO, "301")
    assert rules.check_message(b, TODAY) == []
    b.client.landcode = None
    assert codes(rules.check_message(b, TODAY)) == {"CD005"}
    b = bericht(IWMO, "301")
    b.client.postcode = b.client.landcode = None  # a BRP address needs its postcode
    assert codes(rules.check_message(b, TODAY)) == {"CD034", "TR006"}
    b.client.telefoon = "0201234567"  # a phone number satisfies TR006, not CD034
    assert codes(rules.check_message(b, TODAY)) == {"CD034"}
    b = bericht(IWMO, "301")
    b.client.huisnummer = None
    assert codes(rules.check_message(b, TODAY)) == {"TR006", "CD025"}


def test_end_before_begin_is_cs003():
    for kind, mutate in (
        ("301", lambda b: setattr(b.toewijzingen[0], "einddatum", date(2026, 4, 1))),
        ("315", lambda b: setattr(b.aanvragen[0], "einddatum", date(2026, 11, 30))),
        ("317", lambda b: setattr(b.verzoek.te_wijzigen[0], "einddatum", date(2026, 11, 30))),
    ):
        b = bericht(IWMO, kind)
        mutate(b)
        found = rules.check_message(b, TODAY)
        assert "CS003" in codes(found) and "TR018" not in codes(found), kind
    b = bericht(IWMO, "307")
    b.producten[0].einddatum = date(2026, 4, 1)
    assert codes(rules.check_message(b, TODAY)) == {"TR018"}


def test_dates_after_the_message_date_tr134():
    b = bericht(IWMO, "305")
    b.producten[0].begindatum = TODAY + timedelta(days=1)
    assert "TR134" in codes(rules.check_message(b, TODAY))
    b = bericht(IWMO, "307")
    b.producten[0].einddatum = TODAY + timedelta(days=1)
    assert codes(rules.check_message(b, TODAY)) == {"TR134"}
    b.producten[0].einddatum = TODAY  # stopping today is fine
    assert rules.check_message(b, TODAY) == []
    # a birth date after the message's date, or more than 120 years before it (TR002)
    b.client.geboortedatum = TODAY + timedelta(days=1)
    assert codes(rules.check_message(b, TODAY)) == {"TR134"}
    b.client.geboortedatum = date(1906, 11, 4)
    assert codes(rules.check_message(b, TODAY)) == {"TR002"}
    b.client.geboortedatum = date(1900, 1, 1)  # unknown (DatumGebruik 3)
    assert rules.check_message(b, TODAY) == []


def _315(**kw):
    b = bericht(IJW, "315")
    for k, v in kw.items():
        setattr(b.aanvragen[0], k, v)
    return codes(rules.check_message(b, TODAY))


def test_conditional_request_rules():
    """The cases issue 14 found, with the official conditions (details in
    test_official_rules.py)."""
    assert _315() == set()
    assert "CD076" in _315(einddatum=None)  # per week without an end date
    assert _315(einddatum=None, frequentie="4") == set()  # per month may be open-ended
    assert _315(einddatum=None, frequentie="6") == set()  # CD076 names per week only
    assert "CD041" in _315(volume=None, eenheid=None, frequentie=None, budget=100000)
    assert "CD075" in _315(
        code=None, volume=None, eenheid=None, frequentie=None, budget=100000, einddatum=None
    )
    assert _315(code=None, volume=None, eenheid=None, frequentie=None, budget=100000) == set()
    assert "CD095" in _315(code=None)  # an omvang with only a category
    assert "CD067" in _315(verwijzer_type="02")  # a huisarts without a name
    assert _315(verwijzer_type="02", verwijzer_naam="Dr. Pietersen") == set()
    assert "CS343" in _315(eenheid="14", frequentie="1")
    assert _315(eenheid="82", frequentie="2") == set()  # stuks per week is allowed
    # TR380: a new product in a 317 starts after the message's date
    b = bericht(IWMO, "317")
    b.verzoek.nieuw = [
        m.Wijziging(
            categorie="07",
            code="07A05",
            ingangsdatum=TODAY,
            einddatum=date(2027, 5, 31),
            volume=2,
            eenheid="04",
            frequentie="2",
        )
    ]
    assert codes(rules.check_message(b, TODAY)) == {"TR380"}
    b.verzoek.nieuw[0].ingangsdatum = TODAY + timedelta(days=1)
    assert rules.check_message(b, TODAY) == []


def test_december_is_not_offered_nor_sent_on_5_december():
    fifth = date(2026, 12, 5)
    offered = [v for v, _ in declaring.period_choices({"vandaag": fifth.isoformat()})]
    assert "2026-12" not in offered and offered[0] == "2026-11"
    b = bericht(IWMO, "323")
    b.header.dagtekening = b.declaratie.dagtekening = fifth
    b.declaratie.periode_begin, b.declaratie.periode_eind = date(2026, 12, 1), date(2026, 12, 31)
    for p in b.declaratie.prestaties:
        p.begindatum, p.einddatum = date(2026, 12, 1), date(2026, 12, 4)
    assert "TR137" in codes(rules.check_message(b, fifth))
    # on 31 December it may go
    last = date(2026, 12, 31)
    b.header.dagtekening = b.declaratie.dagtekening = last
    assert rules.check_message(b, last) == []


# --- dates ----------------------------------------------------------------------------------------

any_day = st.dates(min_value=date(2021, 1, 1), max_value=date(2099, 12, 31))


@given(any_day, st.integers(0, 20))
def test_years_before_never_crashes_and_keeps_the_month(day, years):
    earlier = rules.years_before(day, years)
    assert (earlier.year, earlier.month) == (day.year - years, day.month)
    assert earlier.day == day.day or (day.month, day.day, earlier.day) == (2, 29, 28)


@given(any_day)
def test_the_323_check_runs_on_every_day(day):
    """TR335 used to crash on 29 February; every day of every year gives findings, no error."""
    b = bericht(IWMO, "323")
    b.header.dagtekening = b.declaratie.dagtekening = day
    begin = day.replace(day=1)
    b.declaratie.periode_begin, b.declaratie.periode_eind = begin, rules.month_end(begin)
    b.declaratie.prestaties = [prestatie("R1", begin=begin, end=day)]
    found = codes(rules.check_message(b, day))
    # the month ends after the message's date except on its last day (TR137)
    assert ("TR137" in found) == (day != rules.month_end(day))


@given(any_day, st.integers(-30, 30))
def test_next_month_walks_over_year_ends(day, step):
    month = rules.next_month(day, step)
    assert month.day == 1
    assert (month.year * 12 + month.month) - (day.year * 12 + day.month) == step


def test_tr335_on_29_february():
    leap = date(2028, 2, 29)
    b = bericht(IWMO, "323")
    b.header.dagtekening = b.declaratie.dagtekening = leap
    b.declaratie.periode_begin, b.declaratie.periode_eind = date(2028, 1, 1), date(2028, 1, 31)
    b.declaratie.prestaties = [
        prestatie("R1", begin=date(2023, 2, 1), end=date(2023, 2, 27)),
        prestatie("R2", begin=date(2023, 3, 1), end=date(2023, 3, 31)),
    ]
    b.declaratie.totaal = 100000
    found = rules.check_message(b, leap)
    assert [i.message for i in found if i.code == "TR335"] == [
        "Prestatie R1: de productperiode ligt meer dan 5 jaar voor de dagtekening."
    ]


# --- versions -------------------------------------------------------------------------------------


def _header_versions(root) -> dict[str, str]:
    ns = {"m": etree.QName(root).namespace}
    h = root.find("m:Header", ns)
    out = {}
    for tag in ("BerichtVersie", "BerichtSubversie"):
        out[tag] = h.find(f"m:{tag}", ns).text
    x = h.find("m:XsdVersie", ns)
    for child in x:
        out[etree.QName(child).localname] = child.text
    return out


@pytest.mark.parametrize("key", ["iwmo", "ijw"])
def test_versions_written_are_those_of_the_official_examples(key):
    std = STANDARDS[key]
    folder = HERE / "examples" / key / "3.2" / "examples"  # the official examples (SOURCES.md)
    examples = sorted(folder.glob("*.xml"))
    assert len(examples) >= 14
    for path in examples:
        kind = path.stem[-3:]
        assert _header_versions(etree.parse(str(path)).getroot()) == std.versions_for(kind), path
    # and what we build says the same
    built = m.build(bericht(std, "305"))
    assert _header_versions(etree.fromstring(built)) == std.versions
    if key == "ijw":  # the iJw XSD copy's appinfo says 0.1.0: the release overrides it
        appinfo = etree.parse(str(std.xsd_path("305"))).getroot()
        found = {el.text for el in appinfo.iter(f"{{{std.basis_ns}}}BerichtXsdVersie")}
        assert found == {"0.1.0"} and std.xsd_versions("305") == ("1.0.0", "1.0.0")


# --- what a received 301 and 315 keep -------------------------------------------------------------


@pytest.mark.parametrize("std", [IWMO, IJW], ids=lambda s: s.key)
def test_the_parser_keeps_every_field_a_person_needs(std):
    folder = HERE / "examples" / std.key / "3.2" / "examples"
    b = m.parse((folder / f"{std.message_name('301')}.xml").read_bytes())
    p = b.client
    assert p.commentaar and p.communicatie_vorm
    assert p.partnernaam or std is IJW  # the iJw example's client has no partner name
    assert p.relaties and p.relaties[0]["naam"]
    assert any(r["partnernaam"] for r in p.relaties)
    assert p.relaties[0]["telefoon"] and p.relaties[0]["email"]
    assert p.relaties[0]["adres"]["huisnummer_toevoeging"]
    assert p.relaties[0]["adres"]["landcode"]
    assert p.landcode and p.postcode and (p.telefoon or p.email)
    details = chain.client_details(p)
    assert details["relaties"][0]["soort_label"] and details["commentaar"]
    if std is IJW:
        return  # the official JW315 example holds 2027-06-31 and fails its own XSD
    vot = m.parse((folder / f"{std.message_name('315')}.xml").read_bytes())
    a = vot.aanvragen[0]
    assert a.beschikking_nummer and a.beschikking_ingangsdatum
    # and we write them back
    again = m.parse(m.build(vot))
    assert again.aanvragen[0].beschikking_nummer == a.beschikking_nummer
