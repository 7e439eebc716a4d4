"""The indicatie of the wijkverpleegkundige, ELV and ZG: what is stored, and every refusal in
Dutch at the field the user typed it in (the form and the CSV import go through one service)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugins.zvw_msvt.validation import parse_hours
from portal.models import Legitimation
from portal.services import imports
from portal.services import legitimations as legsvc
from tests.plugins.zvw_msvt.conftest import BSN


def _form(world, **kw):
    data = {
        "financing": "zvw_msvt",
        "financier_id": str(world.zv.id),
        "begindatum": "01-01-2025",
        "volume": "6",
        "eenheid": "uur",
        "frequentie": "week",
        "sleutel_soort": "wijkverpleging",
        "sleutel_indicatiesteller": "W. de Vries",
        "sleutel_big_nummer": "19012345601",
        "sleutel_verzekerdennummer": "123456789",
        "sleutel_uren_pv_vp": "4,5",
        "sleutel_uren_cmd": "1:30",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def _check(db, hooks, world, **kw):
    return legsvc.clean_legitimation(
        db, hooks, world.client, _form(world, **kw), product_ids=[world.vp.id]
    )


def test_a_complete_indicatie_is_accepted_with_who_set_it_and_hours_per_zorgsoort(db, hooks, world):
    checked = _check(db, hooks, world)
    assert checked.errors == {}
    keys = checked.values["sleutels"]
    assert keys["indicatiesteller"] == "W. de Vries" and keys["big_nummer"] == "19012345601"
    assert (parse_hours(keys["uren_pv_vp"]), parse_hours(keys["uren_cmd"])) == (270, 90)


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"sleutel_uren_pv_vp": "vier"}, "sleutel_uren_pv_vp", "'vier' is geen aantal uren"),
        ({"sleutel_uren_ikz": "2,5u"}, "sleutel_uren_ikz", "intensieve kindzorg"),
        (
            {"sleutel_verzekerdennummer": "12AB567"},
            "sleutel_verzekerdennummer",
            "alleen uit cijfers",
        ),
        ({"sleutel_big_nummer": "1234"}, "sleutel_big_nummer", "11 cijfers"),
        ({"sleutel_indicatiesteller": ""}, "sleutel_indicatiesteller", "wijkverpleegkundige"),
        ({"sleutel_soort": "revalidatie"}, "sleutel_soort", "Onbekende soort indicatie"),
        ({"begindatum": "31-12-2014"}, "begindatum", "vanaf 01-01-2015"),
        ({"begindatum": "31-02-2025"}, "begindatum", "Ongeldige begindatum"),
        ({"volume": "", "eenheid": "", "frequentie": ""}, "volume", "uren of minuten per week"),
        ({"sleutel_uren_pv_vp": "5", "sleutel_uren_cmd": "2"}, "volume", "niet gelijk"),
        (
            {
                "sleutel_soort": "elv_hoog",
                "sleutel_uren_pv_vp": "",
                "sleutel_uren_cmd": "",
                "eenheid": "uur",
            },
            "eenheid",
            "verblijfsdagen",
        ),
        ({"sleutel_soort": "zg", "sleutel_uren_pv_vp": "6"}, "sleutel_uren_pv_vp", "alleen bij"),
    ],
)
def test_refusals_name_the_field(db, hooks, world, change, field, text):
    checked = _check(db, hooks, world, **change)
    assert field in checked.errors, checked.errors
    assert text in checked.errors[field]


def test_an_ended_indicatie_is_stored_with_a_warning(db, hooks, world):
    checked = _check(db, hooks, world, einddatum="31-01-2025")
    assert checked.errors == {}
    (warning,) = [w for w in checked.warnings if w.code == "beeindigd"]
    assert "geëindigd" in warning.message and "31-01-2025" in warning.message


def test_a_uzovi_of_the_wrong_format_is_refused(db, hooks, world):
    world.zv.code = "331"
    db.flush()
    checked = _check(db, hooks, world)
    assert "UZOVI-code" in checked.errors["financier_id"]


def test_import_refuses_a_uzovi_that_is_not_in_the_financier_table(db, hooks, world):
    db.commit()
    csv = (
        "bsn;financiering;financiercode;productcodes;begindatum;volume;eenheid;frequentie;"
        "sleutel_indicatiesteller;sleutel_verzekerdennummer\n"
        f"{BSN};zvw_msvt;9999;VP-UUR;01-01-2025;6;uur;week;W. de Vries;123\n"
        f"{BSN};zvw_msvt;3311;VP-UUR;01-01-2025;6;uur;week;W. de Vries;12A\n"
    ).encode()
    report = imports.import_legitimations(db, hooks, csv, user_id=None)
    found = {(e.row, e.field): e.message for e in report.errors}
    assert "Geen (actieve) financier met deze code" in found[(2, "financiercode")]
    assert "alleen uit cijfers" in found[(3, "sleutel_verzekerdennummer")]
    assert report.imported == 0
    assert db.scalars(select(Legitimation)).all() == []
