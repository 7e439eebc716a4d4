"""The plugin system: built-ins describe themselves, start-up fails loudly, blocking works,
each plugin validates only its own legitimations, and the docs cannot drift from the specs."""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from datetime import date
from pathlib import Path

import pytest

from portal import hookspecs
from portal.app import create_app
from portal.domain import FinancierKind, FinancingInfo, Issue, Unit
from portal.models import Client, Financier, Legitimation
from portal.plugins import BUILTIN_PLUGINS, Hooks, PluginError, get_plugin_manager

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    # code: (financier kinds, a unit it must accept, a unit it must refuse, can_stack)
    "wlz": ({FinancierKind.ZORGKANTOOR}, Unit.UUR, Unit.EURO, True),
    "wmo_jw": ({FinancierKind.GEMEENTE}, Unit.UUR, Unit.EURO, False),
    "zvw_msvt": ({FinancierKind.ZORGVERZEKERAAR}, Unit.MINUUT, Unit.DAGDEEL, True),
    "fz": ({FinancierKind.DJI}, Unit.ETMAAL, Unit.EURO, False),
    "pgb": ({FinancierKind.BUDGETHOUDER}, Unit.UUR, Unit.EURO, True),
    "particulier": ({FinancierKind.CLIENT}, Unit.UUR, Unit.EURO, True),
    "onderaanneming": ({FinancierKind.INSTELLING}, Unit.UUR, Unit.EURO, True),
}


def builtin_hooks(**settings) -> Hooks:
    return Hooks(get_plugin_manager(load_entrypoints=False), settings)


# -- describe ---------------------------------------------------------------------------------


def test_all_seven_builtins_describe_their_financing():
    financings = builtin_hooks().financings
    assert set(financings) == set(EXPECTED)
    for code, (kinds, accepted, refused, can_stack) in EXPECTED.items():
        info = financings[code]
        assert isinstance(info, FinancingInfo)
        assert info.code == code
        assert info.label and info.label[0].isupper(), code
        assert set(info.financier_kinds) == kinds, code
        assert accepted in info.units, code
        assert refused not in info.units, code
        assert info.can_stack is can_stack, code
        assert info.standards, f"{code} names no message standard"
        assert info.channel in {"vecozo", "pdf"}


def test_dutch_labels_and_standards():
    f = builtin_hooks().financings
    assert f["wmo_jw"].label == "Wmo en Jeugdwet"
    assert "iWmo 3.2" in f["wmo_jw"].standards and "iJw 3.2" in f["wmo_jw"].standards
    assert any("iWlz" in s for s in f["wlz"].standards)
    assert any("AW319" in s for s in f["zvw_msvt"].standards)
    assert f["pgb"].channel == "pdf" and any("SVB" in s for s in f["pgb"].standards)
    assert f["fz"].provisional  # the FZ layouts are not public: marked provisional
    assert "DJI" in f["fz"].label


def test_stacking_never_for_wmo_and_jeugdwet():
    assert builtin_hooks().financing("wmo_jw").can_stack is False


def test_capabilities_not_yet_built_say_so():
    """Hooks no plugin implements yet show as 'nog niet beschikbaar', never as a fake result."""
    hooks = builtin_hooks()
    for code in EXPECTED:
        caps = {c.name: c for c in hooks.capabilities(code)}
        if hooks.financing(code).channel == "pdf":  # invoiced on paper, never via VECOZO
            assert set(caps) == {"build_invoice"}
        else:
            assert set(caps) == {"build_declaration", "parse_message", "chain_actions"}
        for name, cap in caps.items():
            implemented = any(
                impl.plugin is hooks._plugin_of(code)
                for impl in getattr(hooks.pm.hook, name).get_hookimpls()
            )
            assert cap.available is implemented
    assert hooks.capabilities("bestaat_niet") and not any(
        c.available for c in hooks.capabilities("bestaat_niet")
    )


# -- start-up: misspelt hooks, blocking, duplicate codes ----------------------------------------


def fake_distribution(site: Path, dist: str, entry_name: str, module: str, source: str) -> None:
    """An installed distribution on ``site``: dist-info with an entry point, and its module."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{hookspecs.PROJECT}]\n{entry_name} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(source))


MISSPELT = """
from portal import hookimpl

@hookimpl
def financing_infos(settings):
    return None
"""

DUPLICATE_WLZ = """
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit

@hookimpl
def financing_info(settings):
    return FinancingInfo(code="wlz", label="Nog een Wlz", financier_kinds=(FinancierKind.ZORGKANTOOR,),
                         units=(Unit.UUR,), can_stack=False)
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def test_misspelt_hook_fails_at_start_up(site, app_config):
    fake_distribution(site, "dp-typo", "typo", "dp_typo_plugin", MISSPELT)
    with pytest.raises(PluginError) as err:
        get_plugin_manager()
    assert "financing_infos" in str(err.value)
    with pytest.raises(PluginError):
        create_app(app_config)
    # Blocking the broken plugin by its entry-point name lets the portal start.
    pm = get_plugin_manager(blocked=["typo"])
    assert pm.get_plugin("typo") is None


def test_two_plugins_claiming_one_code_fail(site, app_config):
    fake_distribution(site, "dp-dup", "nog_een_wlz", "dp_dup_plugin", DUPLICATE_WLZ)
    with pytest.raises(PluginError, match="wlz"):
        _ = Hooks(get_plugin_manager(), {}).financings
    with pytest.raises(PluginError, match="wlz"):
        create_app(app_config)
    # Blocking the built-in leaves the outside one as the only Wlz.
    hooks = Hooks(get_plugin_manager(blocked=["wlz"]), {})
    assert hooks.financing("wlz").label == "Nog een Wlz"


def test_blocked_financing_is_gone(app_config):
    app = create_app({**app_config, "PLUGINS_BLOCKED": ["pgb", "plugins.fz.hooks"]})
    hooks = app.extensions["hooks"]
    assert "pgb" not in hooks.financings
    assert "fz" not in hooks.financings
    assert set(hooks.financings) == set(EXPECTED) - {"pgb", "fz"}
    assert hooks.financing_label("pgb") == "pgb (niet geladen)"
    # Its validation is gone too: nobody answers for a PGB legitimation.
    leg = Legitimation(financing="pgb", begindatum=date(2026, 1, 1))
    assert hooks.validate_legitimation(leg, None, Client(achternaam="X")) == []


def test_blocked_from_environment(monkeypatch, app_config):
    monkeypatch.setenv("PORTAL_PLUGINS_BLOCKED", "particulier,onderaanneming")
    config = {k: v for k, v in app_config.items() if k != "PLUGINS_BLOCKED"}
    app = create_app(config)
    assert not {"particulier", "onderaanneming"} & set(app.extensions["hooks"].financings)


def test_plugins_get_their_settings_through_the_facade():
    seen = {}

    class Spy:
        @hookspecs.hookimpl
        def financing_info(self, settings):
            seen.update(settings)
            return None

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Spy())
    _ = Hooks(pm, {"wlz": {"afronding": 5}}).financings
    assert seen == {"wlz": {"afronding": 5}}


# -- validate_legitimation: each plugin only its own, with Dutch issues ------------------------


def financier(financing: str, soort: FinancierKind, code: str | None) -> Financier:
    return Financier(financing=financing, soort=soort.value, code=code, naam="Financier")


def client(**kw) -> Client:
    base = dict(
        bsn="111222333",
        achternaam="Jansen",
        voorletters="J.",
        geboortedatum=date(1950, 1, 1),
        postcode="1234AB",
        huisnummer="1",
        budgethouder_is_client=True,
    )
    return Client(**{**base, **kw})


def legitimation(financing: str, **kw) -> Legitimation:
    kw.setdefault("sleutels", {})
    return Legitimation(financing=financing, begindatum=date(2026, 1, 1), **kw)


GOOD = {
    "wmo_jw": (
        dict(
            productcategorie="07",
            productcode="07A05",
            toewijzingnummer="12345678",
            volume=4,
            eenheid="uur",
            frequentie="week",
        ),
        (FinancierKind.GEMEENTE, "0363"),
    ),
    "wlz": (
        dict(productcode="H126", volume=6, eenheid="uur", frequentie="week"),
        (FinancierKind.ZORGKANTOOR, "5501"),
    ),
    "zvw_msvt": (
        dict(
            volume=4,
            eenheid="uur",
            frequentie="week",
            sleutels={"indicatiesteller": "W. de Vries (wijkverpleegkundige)"},
        ),
        (FinancierKind.ZORGVERZEKERAAR, "3311"),
    ),
    "fz": (
        dict(productcode="FZZ3B", referentienummer="DJI-778", sleutels={"titel": "TBSV"}),
        (FinancierKind.DJI, "9992"),
    ),
    "pgb": (dict(tarief_cents=5500, sleutels={"wet": "wlz"}), (FinancierKind.BUDGETHOUDER, None)),
    "particulier": (dict(tarief_cents=6000), (FinancierKind.CLIENT, None)),
    "onderaanneming": (dict(referentienummer="PO-2026-1"), (FinancierKind.INSTELLING, "12345678")),
}


def issues_of(code: str, leg: Legitimation, fin: Financier | None, cl: Client) -> list[Issue]:
    module = importlib.import_module(f"plugins.{code}.hooks")
    return module.validate_legitimation(legitimation=leg, financier=fin, client=cl, settings={})


@pytest.mark.parametrize("code", sorted(GOOD))
def test_valid_legitimation_has_no_issues(code):
    fields, (kind, fcode) = GOOD[code]
    leg = legitimation(code, **fields)
    assert issues_of(code, leg, financier(code, kind, fcode), client()) == []


@pytest.mark.parametrize("code", sorted(GOOD))
def test_each_plugin_answers_only_for_its_own_financing(code):
    for other, (_fields, (kind, fcode)) in GOOD.items():
        if other == code:
            continue
        leg = legitimation(other)  # incomplete on purpose: its own plugin would object
        assert issues_of(code, leg, financier(other, kind, fcode), client()) is None


def test_facade_collects_only_the_owners_issues():
    hooks = builtin_hooks()
    leg = legitimation("wmo_jw")
    issues = hooks.validate_legitimation(
        leg, financier("wmo_jw", FinancierKind.GEMEENTE, "0363"), client()
    )
    codes = {i.code for i in issues}
    assert codes == {"productcategorie", "toewijzingnummer"}
    assert all(isinstance(i, Issue) and i.blocking for i in issues)


def codes_and_messages(issues):
    return {i.code: i.message for i in issues}


def test_wmo_needs_gemeente_productcategorie_and_toewijzingnummer():
    leg = legitimation("wmo_jw", productcode="07A5", volume=3)
    found = codes_and_messages(
        issues_of("wmo_jw", leg, financier("wmo_jw", FinancierKind.ZORGKANTOOR, "363"), client())
    )
    assert found["financier-soort"] == "De financier moet een gemeente zijn."
    assert "Gemeentecode bestaat uit precies 4 cijfers" in found["financier-code"]
    assert found["productcategorie"] == "Een toewijzing heeft een productcategorie."
    assert found["toewijzingnummer"] == "Het toewijzingnummer van de gemeente is verplicht."
    assert "5 tekens" in found["productcode"]
    assert found["frequentie"] == "Bij een omvang hoort een frequentie."
    none = issues_of("wmo_jw", leg, None, client())
    assert codes_and_messages(none)["financier"] == "Kies een financier."


def test_wmo_gemeentecode_keeps_leading_zero():
    fields, _ = GOOD["wmo_jw"]
    leg = legitimation("wmo_jw", **fields)
    assert (
        issues_of("wmo_jw", leg, financier("wmo_jw", FinancierKind.GEMEENTE, "0014"), client())
        == []
    )


def test_wlz_needs_zorgkantoor_and_productcode():
    found = codes_and_messages(
        issues_of(
            "wlz", legitimation("wlz"), financier("wlz", FinancierKind.GEMEENTE, "0363"), client()
        )
    )
    assert found["financier-soort"] == "De financier moet een zorgkantoor zijn."
    assert "prestatie- of productcode" in found["productcode"]


def test_zvw_needs_a_volume_and_uzovi():
    found = codes_and_messages(
        issues_of(
            "zvw_msvt",
            legitimation("zvw_msvt"),
            financier("zvw_msvt", FinancierKind.ZORGVERZEKERAAR, "33"),
            client(),
        )
    )
    assert "omvang" in found["omvang"]
    assert "UZOVI-code bestaat uit precies 4 cijfers" in found["financier-code"]


def test_fz_needs_dji_9992_and_a_plaatsing():
    found = codes_and_messages(
        issues_of("fz", legitimation("fz"), financier("fz", FinancierKind.DJI, "3311"), client())
    )
    assert found["financier-code"] == "Forensische zorg wordt gefinancierd door DJI (UZOVI 9992)."
    assert "product- of ZZP-code" in found["productcode"]
    assert "plaatsingsnummer" in found["referentienummer"]


def test_pgb_needs_budgethouder_tarief_and_law():
    holder_missing = client(budgethouder_is_client=False)
    found = codes_and_messages(
        issues_of(
            "pgb",
            legitimation("pgb", sleutels={"wet": "wlx"}),
            financier("pgb", FinancierKind.BUDGETHOUDER, None),
            holder_missing,
        )
    )
    assert "budgethouder" in found["budgethouder"]
    assert found["tarief"] == "Vul het tarief uit de zorgovereenkomst in."
    assert "welke wet" in found["wet"]
    # A representative as budget holder with name, BSN and address is enough.
    holder = client(
        budgethouder_is_client=False,
        budgethouder_achternaam="Jansen-de Vries",
        budgethouder_bsn="111222333",
        budgethouder_postcode="1234AB",
    )
    fields, (kind, fcode) = GOOD["pgb"]
    assert (
        issues_of("pgb", legitimation("pgb", **fields), financier("pgb", kind, fcode), holder) == []
    )


def test_particulier_needs_price_and_address():
    found = codes_and_messages(
        issues_of(
            "particulier",
            legitimation("particulier", tarief_cents=0),
            financier("particulier", FinancierKind.CLIENT, None),
            client(postcode=None),
        )
    )
    assert found["tarief"] == "Vul de afgesproken prijs per eenheid in."
    assert "adres" in found["adres"]


def test_onderaanneming_needs_agb_and_contract_number():
    found = codes_and_messages(
        issues_of(
            "onderaanneming",
            legitimation("onderaanneming"),
            financier("onderaanneming", FinancierKind.INSTELLING, "1234"),
            client(),
        )
    )
    assert "AGB-code bestaat uit precies 8 cijfers" in found["financier-code"]
    assert "ordernummer" in found["referentienummer"]


def test_financier_of_another_financing_is_refused():
    fields, _ = GOOD["wlz"]
    found = codes_and_messages(
        issues_of(
            "wlz",
            legitimation("wlz", **fields),
            financier("wmo_jw", FinancierKind.ZORGKANTOOR, "5501"),
            client(),
        )
    )
    assert found == {"financier-financiering": "Deze financier hoort bij een andere financiering."}


# -- the contract is documented, and the docs cannot drift ---------------------------------------


def hookspec_functions():
    return [
        (name, fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, f"{hookspecs.PROJECT}_spec")
    ]


def test_every_hookspec_states_its_result_contract():
    specs = hookspec_functions()
    assert len(specs) >= 10
    pm = get_plugin_manager(load_entrypoints=False)
    for name, fn in specs:
        doc = inspect.getdoc(fn) or ""
        firstresult = getattr(pm.hook, name).spec.opts["firstresult"]
        if firstresult:
            assert "Stops at first non-None result" in doc, name
            assert "Collects all results" not in doc, name
        else:
            assert "Collects all results" in doc, name
            assert "Stops at first" not in doc, name
        assert "Called" in doc or "Used only" in doc, f"{name}: say who calls it"


def test_every_hook_is_documented_in_docs_plugins_md():
    text = (ROOT / "docs" / "plugins.md").read_text()
    documented = set(re.findall(r"^#{3,4} `([a-z_]+)", text, re.M))
    names = {name for name, _fn in hookspec_functions()}
    assert names - documented == set(), "hooks missing in docs/plugins.md"
    assert documented - names == set(), "docs/plugins.md documents hooks that do not exist"
    pm = get_plugin_manager(load_entrypoints=False)
    for name in names:
        section = text.split(f"`{name}")[1].split("\n### ")[0]
        word = "first" if getattr(pm.hook, name).spec.opts["firstresult"] else "all"
        assert f"({word} result" in section.splitlines()[0], (
            f"{name}: heading must say ({word} result…)"
        )


def test_facade_has_one_method_per_hook():
    """Nothing outside the facade touches pm.hook; every hook has its method."""
    names = {name for name, _fn in hookspec_functions()}
    facade = {"financing_info": "financings", "register_blueprints": "blueprints"}
    for name in names:
        assert hasattr(Hooks, facade.get(name, name)), name


def test_builtins_come_from_the_explicit_list():
    pm = get_plugin_manager(load_entrypoints=False)
    assert [name for name, _p in pm.list_name_plugin() if name in BUILTIN_PLUGINS] == list(
        BUILTIN_PLUGINS
    )
