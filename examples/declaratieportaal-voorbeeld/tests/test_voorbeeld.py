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
