"""The CD/CS/TR conditions as the official iWmo 3.2 / iJw 3.2 rule texts state them (see
docs/wmo_jw.md for the source): each one broken on purpose in a message that is otherwise clean,
for both standards, and the standard's code seen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.wmo_jw import messages as m
from plugins.wmo_jw import rules
from plugins.wmo_jw.standard import IJW, IWMO
from tests.plugins.wmo_jw.factories import BSN2, TODAY, bericht, prestatie, toewijzing

BOTH = pytest.mark.parametrize("std", [IWMO, IJW], ids=lambda s: s.key)


def codes(issues):
    return {i.code for i in issues}


def _contact(**kw):
    data = dict(soort="01", postcode="1234AB", landcode="NL", huisnummer="12", telefoon=None)
    data.update(kw)
    return data


def _client(**kw):
    def mutate(b):
        for k, v in kw.items():
            setattr(b.client, k, v)

    return mutate


def _contacts(*contacts):
    def mutate(b):
        b.client.contacten = list(contacts)

    return mutate


def _t(**kw):
    def mutate(b):
        for k, v in kw.items():
            setattr(b.toewijzingen[0], k, v)

    return mutate


def _second(**kw):
    def mutate(b):
        first = b.toewijzingen[0]
        b.toewijzingen.append(
            toewijzing("5002", first.code, first.categorie, end=date(2027, 4, 7), **kw)
        )

    return mutate


# each case: a change to a clean 301 and exactly the codes it must give
CASES_301 = {
    "CD005 postcode zonder landcode": (_contacts(_contact(landcode=None)), {"CD005"}),
    "CD005 landcode zonder postcode": (
        _contacts(_contact(soort="02", postcode=None, telefoon="0201234567")),
        {"CD005"},
    ),
    "CD025 NL zonder huisnummer": (
        _contacts(_contact(huisnummer=None, telefoon="0201234567")),
        {"CD025"},
    ),
    "CS089 geen Nederlandse postcode": (_contacts(_contact(postcode="12345")), {"CS089"}),
    "CD034 BRP-adres zonder postcode": (
        _contacts(_contact(postcode=None, landcode=None, telefoon="0201234567")),
        {"CD034"},
    ),
    "CD034 verblijfadres zonder postcode": (
        _contacts(_contact(soort="03", postcode=None, landcode=None, telefoon="0201234567")),
        {"CD034"},
    ),
    "TR006 geen telefoon en geen huisnummer": (
        _contacts(_contact(soort="04", landcode="BE", huisnummer=None), _contact()),
        {"TR006"},
    ),
    "TR061 geen BRP-, correspondentie- of verblijfadres": (
        _contacts(_contact(soort="04")),
        {"TR061"},
    ),
    "TR101 twee contacten van dezelfde soort": (_contacts(_contact(), _contact()), {"TR101"}),
    "CD007 taal zonder tolk": (_client(communicatie_vorm="2", communicatie_taal="en"), {"CD007"}),
    "CD007 tolk zonder taal": (_client(communicatie_vorm="1"), {"CD007"}),
    "CS050 naamgebruik zonder partnernaam": (_client(naamgebruik="2"), {"CS050"}),
    "CS335 verwijderd met een looptijd": (_t(reden_wijziging="13"), {"CS335"}),
    "CS336 reden 01": (_t(reden_wijziging="01"), {"CS336"}),
    "CD041 productcode zonder omvang": (
        _t(volume=None, eenheid=None, frequentie=None, budget=100000),
        {"CD041"},
    ),
    "CD075 budget zonder einddatum": (
        _t(code=None, volume=None, eenheid=None, frequentie=None, budget=100000, einddatum=None),
        {"CD075"},
    ),
    "CD076 per week zonder einddatum": (_t(einddatum=None), {"CD076"}),
    "CD077/CD078 omvang en budget": (_t(budget=100000), {"CD077", "CD078"}),
    "CD079 geen budget en geen product": (
        _t(categorie=None, code=None, volume=None, eenheid=None, frequentie=None),
        {"CD079"},
    ),
    "CD080 omvang zonder productcode": (_t(code=None), {"CD080"}),
    "CS338 etmalen per dag": (_t(eenheid="14", frequentie="1"), {"CS338"}),
    "TR134 toewijzingsdatum na de dagtekening": (
        _t(toewijzingsdatum=TODAY + timedelta(days=1)),
        {"TR134"},
    ),
    "TR302 hetzelfde product overlapt": (_second(begin=date(2026, 9, 1)), {"TR302"}),
}


@BOTH
@pytest.mark.parametrize("case", sorted(CASES_301))
def test_301_rules_from_the_official_text(std, case):
    mutate, expected = CASES_301[case]
    b = bericht(std, "301")
    assert rules.check_message(b, TODAY) == []
    mutate(b)
    assert codes(rules.check_message(b, TODAY)) == expected, case


def test_301_rules_allow_what_the_standard_allows():
    b = bericht(IWMO, "301")
    # a foreign address: no Dutch postcode or house number needed, a phone number will do
    b.client.contacten = [_contact(soort="02", postcode="B-1000", landcode="BE", huisnummer=None)]
    b.client.contacten[0]["telefoon"] = "0032123456"
    b.client.contacten.append(_contact())
    assert rules.check_message(b, TODAY) == []
    # a deleted toewijzing (13, einddatum = ingangsdatum) does not overlap anything (TR302)
    b = bericht(IWMO, "301")
    b.toewijzingen[0].reden_wijziging = "13"
    b.toewijzingen[0].einddatum = b.toewijzingen[0].ingangsdatum
    b.toewijzingen.append(toewijzing("5002", end=date(2027, 4, 7)))
    assert rules.check_message(b, TODAY) == []
    # hulpmiddelen may overlap; following periods may too
    b = bericht(IWMO, "301")
    b.toewijzingen = [
        toewijzing("5001", cat="12", code="12A01", end=date(2027, 1, 1)),
        toewijzing("5002", cat="12", code="12A01", end=date(2027, 1, 1)),
        toewijzing("5003", end=date(2026, 8, 31)),
        toewijzing("5004", begin=date(2026, 9, 1), end=date(2026, 12, 31)),
    ]
    assert rules.check_message(b, TODAY) == []
    # a toewijzing that ended before 2021 may carry an omvang without a code (CD080, CS338)
    b.toewijzingen = [
        toewijzing(
            code=None, begin=date(2020, 1, 1), end=date(2020, 12, 31), frequentie="1", eenheid="14"
        )
    ]
    assert rules.check_message(b, TODAY) == []


def test_a_received_301_is_checked_per_contact():
    """The parser keeps each Contact of a 301, so a broken second contact is seen."""
    b = bericht(IWMO, "301")
    payload = m.build(b)
    again = m.parse(payload)
    assert again.client.contacten == [
        {
            "soort": "01",
            "postcode": "1234AB",
            "landcode": "NL",
            "huisnummer": "12",
            "telefoon": None,
        }
    ]
    assert rules.check_message(again, TODAY) == []


def _a(**kw):
    def mutate(b):
        for k, v in kw.items():
            setattr(b.aanvragen[0], k, v)

    return mutate


def _two_aanvragen(**kw):
    def mutate(b):
        second = m.Aanvraag(**{**b.aanvragen[0].__dict__, "referentie": "VOT-2", "retourcodes": []})
        for k, v in kw.items():
            setattr(second, k, v)
        b.aanvragen.append(second)

    return mutate


CASES_315 = {
    "TR383/TR101 dezelfde referentie": (
        _two_aanvragen(referentie="VOT-1"),
        {"TR383", "TR101", "TR386"},
    ),
    "CD041 productcode met budget": (
        _a(volume=None, eenheid=None, frequentie=None, budget=100000),
        {"CD041"},
    ),
    "CD075 budget zonder einddatum": (
        _a(code=None, volume=None, eenheid=None, frequentie=None, budget=100000, einddatum=None),
        {"CD075"},
    ),
    "CD076 per week zonder einddatum": (_a(einddatum=None), {"CD076"}),
    "CD077/CD078 omvang en budget": (_a(budget=1000), {"CD077", "CD078"}),
    "CD079 geen budget en geen product": (
        _a(categorie=None, code=None, volume=None, eenheid=None, frequentie=None),
        {"CD079"},
    ),
    "CD095 omvang met alleen een categorie": (_a(code=None), {"CD095"}),
    "CD043 beschikkingnummer zonder datum": (_a(beschikking_nummer="123"), {"CD043"}),
    "CD043 datum zonder beschikkingnummer": (
        _a(beschikking_ingangsdatum=date(2026, 11, 1)),
        {"CD043"},
    ),
    "CD067 huisarts zonder naam": (_a(verwijzer_type="02"), {"CD067"}),
    "CD067 gecertificeerde instelling zonder naam": (_a(verwijzer_type="04"), {"CD067"}),
    "CD066 AGB-code en naam": (
        _a(verwijzer_type="05", verwijzer_naam="Dr. X", verwijzer_zorgverlenercode="01123456"),
        {"CD066"},
    ),
    "CD068 AGB-code bij de gemeente als verwijzer": (
        _a(verwijzer_zorgverlenercode="01123456"),
        {"CD068"},
    ),
    "CS343 etmalen per dag": (_a(eenheid="14", frequentie="1"), {"CS343"}),
    "TR386 hetzelfde product overlapt": (_two_aanvragen(), {"TR386"}),
    "TR134 geboortedatum na de dagtekening": (
        _client(geboortedatum=TODAY + timedelta(days=1)),
        {"TR134"},
    ),
    "TR002 geboortedatum 121 jaar terug": (_client(geboortedatum=date(1905, 1, 1)), {"TR002"}),
}


@BOTH
@pytest.mark.parametrize("case", sorted(CASES_315))
def test_315_rules_from_the_official_text(std, case):
    mutate, expected = CASES_315[case]
    b = bericht(std, "315")
    assert rules.check_message(b, TODAY) == []
    mutate(b)
    assert codes(rules.check_message(b, TODAY)) == expected, case


def test_315_allows_what_the_standard_allows():
    ok = [
        # a doctor with only an AGB code, or only a name
        dict(verwijzer_type="02", verwijzer_zorgverlenercode="01123456"),
        dict(verwijzer_type="02", verwijzer_naam="Dr. Pietersen"),
        # per month may be open-ended; a budget on a category; nothing but a category
        dict(einddatum=None, frequentie="4"),
        dict(code=None, volume=None, eenheid=None, frequentie=None, budget=100000),
        dict(code=None, volume=None, eenheid=None, frequentie=None),
        # etmalen per week; hours per day
        dict(eenheid="14", frequentie="2"),
        dict(frequentie="1"),
        dict(beschikking_nummer="123", beschikking_ingangsdatum=date(2026, 11, 1)),
    ]
    for change in ok:
        b = bericht(IJW, "315")
        _a(**change)(b)
        assert rules.check_message(b, TODAY) == [], change
    b = bericht(IWMO, "315")  # the same product after the first one ended
    _two_aanvragen(ingangsdatum=date(2027, 6, 1), einddatum=date(2027, 12, 31))(b)
    assert rules.check_message(b, TODAY) == []


def _w(**kw):
    def mutate(b):
        for k, v in kw.items():
            setattr(b.verzoek.te_wijzigen[0], k, v)

    return mutate


def _nieuw(*items):
    def mutate(b):
        b.verzoek.nieuw = [
            m.Wijziging(
                **{
                    **dict(
                        categorie="07",
                        code="07A05",
                        ingangsdatum=date(2026, 12, 1),
                        einddatum=date(2027, 5, 31),
                        volume=2,
                        eenheid="04",
                        frequentie="2",
                    ),
                    **kw,
                }
            )
            for kw in items
        ]
        if b.std is IJW:
            for w in b.verzoek.nieuw:
                if w.categorie == "07":
                    w.categorie, w.code = "45", "45A48" if w.code else None

    return mutate


def _verzoek(**kw):
    def mutate(b):
        for k, v in kw.items():
            setattr(b.verzoek, k, v)

    return mutate


CASES_317 = {
    "TR352 alleen een nieuw product": (
        lambda b: (_nieuw({})(b), _verzoek(te_wijzigen=[])(b)),
        {"TR352"},
    ),
    "TR353 niets gewijzigd of gevraagd": (
        _verzoek(te_wijzigen=[], ongewijzigd=["5002"]),
        {"TR353"},
    ),
    "TR380 nieuw product per de dagtekening": (_nieuw({"ingangsdatum": TODAY}), {"TR380"}),
    "TR410 twee keer hetzelfde nieuwe product": (
        _nieuw({}, {"ingangsdatum": date(2027, 1, 1)}),
        {"TR410"},
    ),
    "TR101 twee keer hetzelfde nieuwe product per dezelfde datum": (
        _nieuw({}, {}),
        {"TR101", "TR410"},
    ),
    "TR101 dezelfde ongewijzigde toewijzing twee keer": (
        _verzoek(ongewijzigd=["5002", "5002"]),
        {"TR101"},
    ),
    "CD041 nieuw product met code zonder omvang": (
        _nieuw({"volume": None, "eenheid": None, "frequentie": None, "budget": 1000}),
        {"CD041"},
    ),
    "CD096 nieuw product met omvang zonder code": (_nieuw({"code": None}), {"CD096"}),
    "CD079 nieuw product zonder budget en zonder product": (
        _nieuw(
            {"categorie": None, "code": None, "volume": None, "eenheid": None, "frequentie": None}
        ),
        {"CD079"},
    ),
    "CD075 te wijzigen budget zonder einddatum": (
        _w(volume=None, eenheid=None, frequentie=None, budget=1000, einddatum=None),
        {"CD075"},
    ),
    "CD076 te wijzigen per week zonder einddatum": (_w(einddatum=None), {"CD076"}),
    "CD077/CD078 te wijzigen omvang en budget": (_w(budget=1000), {"CD077", "CD078"}),
    "CS338 te wijzigen etmalen per dag": (_w(eenheid="14", frequentie="1"), {"CS338"}),
    "CS338 nieuw product euro's per dag": (
        _nieuw({"eenheid": "83", "frequentie": "1"}),
        {"CS338"},
    ),
    "CS003 einddatum vóór de gewenste ingangsdatum": (
        _w(einddatum=date(2026, 11, 30)),
        {"CS003"},
    ),
}


@BOTH
@pytest.mark.parametrize("case", sorted(CASES_317))
def test_317_rules_from_the_official_text(std, case):
    mutate, expected = CASES_317[case]
    b = bericht(std, "317")
    assert rules.check_message(b, TODAY) == []
    mutate(b)
    assert codes(rules.check_message(b, TODAY)) == expected, case


def test_317_products_against_the_toewijzing_tr411_tr412():
    with_code = {"5001": rules.ToewijzingState("5001", "x", date(2026, 4, 8), code="07A05")}
    without = {"5001": rules.ToewijzingState("5001", "x", date(2026, 4, 8), code=None)}
    b = bericht(IWMO, "317")
    assert rules.check_317_products(b, with_code) == []
    assert codes(rules.check_317_products(b, without)) == {"9412"}
    w = b.verzoek.te_wijzigen[0]
    w.volume = w.eenheid = w.frequentie = None
    w.budget = 1000
    assert codes(rules.check_317_products(b, with_code)) == {"9411"}
    assert rules.check_317_products(b, without) == []


def test_tr101_keys_of_the_standard():
    # 305: the key is Begindatum + Product + ToewijzingNummer, not StatusAanlevering: a start
    # and its withdrawal never travel in one message
    b = bericht(IWMO, "305")
    b.producten.append(m.StartStop(**{**b.producten[0].__dict__, "status": "3"}))
    assert "TR101" in codes(rules.check_message(b, TODAY))
    b.producten[1].begindatum = date(2026, 5, 1)
    assert "TR101" not in codes(rules.check_message(b, TODAY))
    # 307: a stop with another reason is another line
    b = bericht(IWMO, "307")
    b.producten.append(m.StartStop(**{**b.producten[0].__dict__, "reden": "01"}))
    assert "TR101" not in codes(rules.check_message(b, TODAY))
    b.producten[1].reden = b.producten[0].reden
    assert "TR101" in codes(rules.check_message(b, TODAY))
    # 317: a toewijzing both unchanged and to change is not a duplicate line (TR349's matter)
    b = bericht(IWMO, "317")
    b.verzoek.ongewijzigd = ["5001"]
    assert "TR101" not in codes(rules.check_message(b, TODAY))
    # 301: the same toewijzingnummer twice
    b = bericht(IWMO, "301")
    b.toewijzingen.append(b.toewijzingen[0])
    assert "TR101" in codes(rules.check_message(b, TODAY))


# --- received answers -------------------------------------------------------------------------


def _325(**kw):
    b = bericht(IWMO, "325")
    for k, v in kw.items():
        setattr(b.declaratie, k, v)
    return b


def test_325_rules_on_receipt():
    awarded = _325()
    assert rules.check_message(awarded, TODAY) == []
    # one prestatie of 500 euro rejected: submitted 1000, awarded 500
    rejected = prestatie("R1", retourcodes=["9307"])
    part = _325(prestaties=[rejected], toegekend_totaal=50000)
    assert rules.check_message(part, TODAY) == []
    part.declaratie.toegekend_totaal = 60000  # the rejected lines do not explain the difference
    assert codes(rules.check_message(part, TODAY)) == {"TR342"}
    whole = _325(retourcodes=["9333"], toegekend_totaal=100000)
    assert codes(rules.check_message(whole, TODAY)) == {"TR342"}
    whole.declaratie.toegekend_totaal = 0
    assert rules.check_message(whole, TODAY) == []
    # a product period after the message's date; a credit without its debet
    late = _325(
        prestaties=[prestatie("R1", begin=date(2026, 11, 6), end=date(2026, 11, 30))],
        toegekend_totaal=50000,
    )
    assert {"TR134", "TR137"} <= codes(rules.check_message(late, TODAY))
    credit = _325(
        prestaties=[prestatie("R1", debet_credit="C")],
        toegekend_totaal=150000,
    )
    assert "CD060" in codes(rules.check_message(credit, TODAY))
    zero = _325(toegekend_totaal=0, toegekend_debet_credit="C", retourcodes=["9333"])
    assert codes(rules.check_message(zero, TODAY)) == {"CS325"}
    twice = _325(prestaties=[rejected, rejected], toegekend_totaal=0)
    assert "TR101" in codes(rules.check_message(twice, TODAY))


def test_319_rules_on_receipt():
    b = bericht(IWMO, "319")
    b.antwoord.reden_afwijzing = None
    assert codes(rules.check_message(b, TODAY)) == {"CD085"}
    b.antwoord.antwoord, b.antwoord.reden_afwijzing = "2", "1"
    assert codes(rules.check_message(b, TODAY)) == {"CD086"}
    b.antwoord.reden_afwijzing = None
    assert rules.check_message(b, TODAY) == []
    b = bericht(IJW, "319")
    b.antwoord.reden_afwijzing = "8"
    assert codes(rules.check_message(b, TODAY)) == {"TR377"}
    b.antwoord.woonplaats_gemeente = "0599"
    assert rules.check_message(b, TODAY) == []
    b.antwoord.reden_afwijzing = "7"  # another reason names no gemeente (TR409)
    assert codes(rules.check_message(b, TODAY)) == {"TR409"}


def test_tr416_looks_within_one_client():
    b = bericht(IWMO, "323")
    b.declaratie.prestaties = [prestatie("R1"), prestatie("R2", BSN2)]
    b.declaratie.totaal = 100000
    assert rules.check_message(b, TODAY) == []


def test_a_new_product_may_not_overlap_a_listed_toewijzing_of_the_same_product_tr361():
    current = {
        "5001": rules.ToewijzingState(
            "5001", "x", date(2026, 4, 8), date(2027, 4, 7), "07", "07A05"
        )
    }
    b = bericht(IWMO, "317")
    b.verzoek.te_wijzigen = []
    b.verzoek.ongewijzigd = ["5001"]
    _nieuw({})(b)  # 07A05 from 1 December 2026: 5001 still runs
    assert codes(rules.check_317_products(b, current)) == {"9361"}
    _nieuw({"ingangsdatum": date(2027, 4, 8), "einddatum": date(2027, 12, 31)})(b)
    assert rules.check_317_products(b, current) == []
    _nieuw({"code": "07A06"})(b)  # another product may run alongside
    assert rules.check_317_products(b, current) == []
