"""How an implementer tests a plugin: call the hooks with domain objects, no web server needed."""

from __future__ import annotations

from datetime import date

from declaratieportaal_voorbeeld import hooks

from portal.domain import FinancierKind, Severity
from portal.models import Client, Financier, Legitimation


def leg(**kw) -> Legitimation:
    base = dict(
        financing="voorbeeld",
        begindatum=date(2026, 1, 1),
        referentienummer="OPD-1",
        volume=8,
        eenheid="uur",
        frequentie="week",
    )
    return Legitimation(**{**base, **kw})


def instelling(code="12345678") -> Financier:
    return Financier(
        financing="voorbeeld", soort=FinancierKind.INSTELLING.value, code=code, naam="Inst"
    )


def validate(legitimation, financier=None, settings=None):
    return hooks.validate_legitimation(
        legitimation=legitimation,
        financier=financier or instelling(),
        client=Client(),
        settings=settings or {},
    )


def test_describes_itself():
    info = hooks.financing_info(settings={})
    assert info.code == "voorbeeld" and info.label == "Voorbeeldfinanciering"


def test_valid_and_not_mine():
    assert validate(leg()) == []
    assert validate(leg(financing="wlz")) is None


def test_issues_in_dutch():
    codes = {i.code for i in validate(leg(referentienummer=None, volume=None), instelling("12"))}
    assert codes == {"financier-code", "referentienummer", "omvang"}


def test_setting_changes_the_warning():
    assert validate(leg(volume=30)) == []
    (issue,) = validate(leg(volume=30), settings={"voorbeeld": {"max_uren_per_week": 24}})
    assert issue.severity is Severity.WARNING and "24 uur" in issue.message


def test_own_file_format_round_trip():
    """The declaration file from the package's own layout table, the institution's retour for it,
    and that retour read back into per-line outcomes (what the portal then applies)."""
    from declaratieportaal_voorbeeld import declaration

    from portal.formats import ei

    sent = ei.build(
        declaration.DECLARATIE,
        [
            ("01", {"0102": "VB01", "0103": "12345678", "0104": "87654321", "0105": "202610001",
                    "0106": date(2026, 10, 1), "0107": date(2026, 10, 31)}),
            ("04", {"0403": "123456782", "0404": "OPD-1", "0405": date(2026, 10, 1),
                    "0406": date(2026, 10, 31), "0407": 180, "0408": 100, "0409": 18000,
                    "0411": "202610001-1"}),
            ("04", {"0403": "123456782", "0404": "OPD-2", "0405": date(2026, 10, 1),
                    "0406": date(2026, 10, 31), "0407": 60, "0408": 100, "0409": 6000,
                    "0411": "202610001-2"}),
        ],
    )  # fmt: skip
    retour = declaration.reply(sent, rejected={"202610001-2": "GO"})
    answer = declaration.read_answer(retour).declaration_answer
    assert answer.number == "202610001" and answer.awarded_total_cents == 18000
    assert [(la.reference, la.awarded) for la in answer.lines] == [
        ("202610001-1", True),
        ("202610001-2", False),
    ]
    assert answer.lines[1].codes[0].meaning == "Geen opdracht"
    assert declaration.read_answer(b"01XXXX") is None  # not ours
