"""Registration checks (Dutch messages) and saving, as the service sees them."""

from __future__ import annotations

from datetime import date, time

import pytest

from portal.models import AuditEvent, Registration
from portal.services import registrations as regs
from tests.portal.production.factory import new_client, organisation, seed_client

TODAY = date(2019, 2, 10)


@pytest.fixture
def employee(make_user):
    return make_user("zorgprofessional")


def form(client, product, **kw):
    values = {
        "client_id": str(client.id),
        "product_id": str(product.id),
        "datum": "29-01-2019",
        "starttijd": "09:00",
        "duur": "1:30",
    }
    values.update(kw)
    return values


def save(db, employee, values, **kw):
    data = regs.parse_form(db, values)
    return regs.save(db, data, employee.id, today=TODAY, **kw)


def test_parse_duration():
    assert regs.parse_duration("1:30") == 90
    assert regs.parse_duration("0.45") == 45
    assert regs.parse_duration("90") == 90
    assert regs.parse_duration("2u") == 120
    assert regs.parse_duration("1:75") is None
    assert regs.parse_duration("anderhalf") is None


def test_saved_with_audit(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    result = save(db, employee, form(client, org.pv))
    assert result.ok and not result.warnings
    reg = db.get(Registration, result.registration.id)
    assert (reg.duur_minuten, reg.status, reg.starttijd) == (90, "concept", time(9, 0))
    assert db.query(AuditEvent).filter_by(action="registration.created").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duur", "0", "De duur moet meer dan 0 minuten zijn."),
        ("duur", "24:30", "De duur mag niet langer zijn dan 24 uur."),
        ("datum", "11-02-2019", "Je kunt geen zorg registreren op een datum na vandaag."),
        ("datum", "31-02-2019", "31-02-2019 is geen datum: februari 2019 heeft 28 dagen."),
        (
            "datum",
            "31/02",
            "31/02 is geen datum: gebruik dd-mm-jjjj (of alleen cijfers: ddmmjjjj).",
        ),
        (
            "starttijd",
            "25:00",
            "Vul een begintijd in als uu:mm of alleen cijfers, bijvoorbeeld 09:30 of 0930.",
        ),
    ],
)
def test_refused_with_dutch_message(db, employee, field, value, message):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    result = save(db, employee, form(client, org.pv, **{field: value}))
    assert not result.ok
    assert result.errors[field] == message
    assert db.query(Registration).count() == 0


def test_overlap_for_the_same_employee_is_refused(db, employee, make_user):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    other_client = new_client(db, achternaam="Bakker")
    assert save(db, employee, form(client, org.pv, starttijd="09:00", duur="1:00")).ok
    result = save(db, employee, form(other_client, org.pv, starttijd="09:30", duur="0:30"))
    assert (
        "overlapt met je registratie bij Jansen, J. van 09:00 tot 10:00"
        in result.errors["starttijd"]
    )
    # right after is fine, and another employee may be there at the same time
    assert save(db, employee, form(other_client, org.pv, starttijd="10:00", duur="0:30")).ok
    colleague = make_user("zorgprofessional")
    assert save(db, colleague, form(other_client, org.pv, starttijd="09:30", duur="0:30")).ok


def test_overlap_across_midnight(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    assert save(
        db, employee, form(client, org.pv, datum="28-01-2019", starttijd="23:00", duur="2:00")
    ).ok
    result = save(
        db, employee, form(client, org.pv, datum="29-01-2019", starttijd="00:30", duur="0:15")
    )
    assert "overlapt" in result.errors["starttijd"]


def test_no_legitimation_is_a_saved_warning_not_a_refusal(db, employee):
    org = organisation(db)
    client = new_client(db)  # no legitimations at all
    result = save(db, employee, form(client, org.pv))
    assert result.ok
    assert [w.code for w in result.warnings] == ["geen_legitimatie"]
    reg = db.get(Registration, result.registration.id)
    assert reg.waarschuwingen[0]["code"] == "geen_legitimatie"
    assert (
        "geen geldige legitimatie voor Persoonlijke verzorging" in reg.waarschuwingen[0]["message"]
    )


def test_quantity_for_non_time_products(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    result = save(db, employee, form(client, org.dag, duur="", aantal="2"))
    assert (
        result.ok and result.registration.aantal == 2 and result.registration.duur_minuten is None
    )
    bad = save(db, employee, form(client, org.dag, starttijd="13:00", aantal="nul"))
    assert bad.errors["aantal"] == "Vul het aantal in (eenheid: dagdeel)."


def test_double_submit_is_refused_as_duplicate(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    assert save(db, employee, form(client, org.dag, duur="", aantal="1")).ok
    again = save(db, employee, form(client, org.dag, duur="", aantal="1"))
    assert again.errors == {"starttijd": regs.DUPLICATE}
    assert db.query(Registration).count() == 1


def test_edit_until_approved(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    reg = save(db, employee, form(client, org.pv)).registration
    changed = save(db, employee, form(client, org.pv, duur="2:00"), registration=reg)
    assert changed.ok and db.get(Registration, reg.id).duur_minuten == 120
    reg.status = "gefiatteerd"
    db.commit()
    frozen = save(db, employee, form(client, org.pv, duur="3:00"), registration=reg)
    assert "al gefiatteerd" in frozen.errors["_form"]
    db.expire_all()
    assert db.get(Registration, reg.id).duur_minuten == 120


def test_copy_last_week(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    for day in ("28-01-2019", "30-01-2019"):
        assert save(db, employee, form(client, org.pv, datum=day)).ok
    created, skipped = regs.copy_last_week(
        db, employee.id, date(2019, 2, 4), today=date(2019, 2, 5)
    )
    assert [r.datum for r in created] == [date(2019, 2, 4)]
    assert len(skipped) == 1 and "na vandaag" in skipped[0]
    # copying again makes no duplicates
    created, skipped = regs.copy_last_week(
        db, employee.id, date(2019, 2, 4), today=date(2019, 2, 5)
    )
    assert created == [] and len(skipped) == 2


def test_plugin_validation_is_called(db, employee):
    from portal.domain import Issue

    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    seen = []

    def validate(reg):
        seen.append(reg.client_id)
        return [Issue("x", "Niet toegestaan door de financier.", "duur")]

    result = save(db, employee, form(client, org.pv), validate=validate)
    assert seen == [client.id]
    assert result.errors == {"duur": "Niet toegestaan door de financier."}
    assert db.query(Registration).count() == 0


def test_copy_last_week_of_care_without_times(db, employee):
    """Dagbesteding per dagdeel has no start time: copying the week skips what is in the future
    with a reason (it used to fail with a server error formatting the missing time)."""
    from portal.models.registration import REG_CONCEPT
    from tests.portal.production.factory import legitimation, registration

    org = organisation(db)
    c = new_client(db)
    legitimation(db, c, org.gemeente, [org.dag], uren=None)
    for day in (date(2019, 1, 28), date(2019, 1, 31)):
        registration(db, c, org.dag, employee.id, day, start=None, aantal=1, status=REG_CONCEPT)
    db.commit()
    created, skipped = regs.copy_last_week(
        db, employee.id, date(2019, 2, 4), today=date(2019, 2, 5)
    )
    assert [r.datum for r in created] == [date(2019, 2, 4)]
    assert skipped and skipped[0].startswith("07-02-2019 Jansen")


def test_digits_only_as_typed_on_a_phone(db, employee):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    result = save(db, employee, form(client, org.pv, datum="29012019", starttijd="0930"))
    assert result.ok, result.errors
    assert (result.registration.datum, result.registration.starttijd) == (
        date(2019, 1, 29),
        time(9, 30),
    )
    assert regs.parse_time("930") == time(9, 30)
    assert regs.parse_time("2460") is None
