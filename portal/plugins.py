"""The plugin manager factory and the facade through which every hook call goes."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pluggy

from portal import hookspecs
from portal.domain import (
    ActionCount,
    Capability,
    Care,
    DeclarationLines,
    DeclarationNumbering,
    FinancingInfo,
    InvoiceDraft,
    Issue,
    MenuItem,
    MessageDraft,
    ParseOutcome,
    Recognition,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import (
        Client,
        Declaration,
        DeclarationLine,
        Financier,
        Invoice,
        Legitimation,
        Message,
        Registration,
    )

# The core's own answers, asked last (e.g. a plain declaration numbering when a plugin has none).
DEFAULT_PLUGIN = "portal.default_hooks"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.wlz.hooks",
    "plugins.wmo_jw.hooks",
    "plugins.zvw_msvt.hooks",
    "plugins.fz.hooks",
    "plugins.pgb.hooks",
    "plugins.particulier.hooks",
    "plugins.onderaanneming.hooks",
)

# Hooks whose absence makes a capability "nog niet beschikbaar": (Dutch label, the channels of
# financings for which it matters). A PDF financing is never asked for VECOZO messages, and a
# VECOZO financing never for PDF invoices.
CAPABILITIES: dict[str, tuple[str, frozenset[str]]] = {
    "build_declaration": ("Declareren", frozenset({"vecozo"})),
    "parse_message": ("Berichten verwerken", frozenset({"vecozo"})),
    "chain_actions": ("Start- en stopberichten", frozenset({"vecozo"})),
    "build_invoice": ("Factureren", frozenset({"pdf"})),
}


class PluginError(RuntimeError):
    pass


def get_plugin_manager(
    blocked: Iterable[str] = (), load_entrypoints: bool = True
) -> pluggy.PluginManager:
    """Build a plugin manager: built-ins from the explicit list, others from entry points.

    ``blocked`` names plugins (financing codes, module names or entry-point names) that are never
    registered. A hook implementation with a misspelt name fails here, at start-up.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(importlib.import_module(DEFAULT_PLUGIN), name=DEFAULT_PLUGIN)
    blocked = set(blocked)
    for module_name in BUILTIN_PLUGINS:
        code = module_name.split(".")[1]
        if code in blocked or module_name in blocked:
            pm.set_blocked(module_name)
            continue
        pm.register(importlib.import_module(module_name), name=module_name)
    for name in blocked:
        pm.set_blocked(name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"Plugin met onbekende hook: {exc}") from exc
    return pm


class Hooks:
    """One method per hook; nothing else in the portal touches ``pm.hook``."""

    def __init__(self, pm: pluggy.PluginManager, settings: Mapping[str, Mapping[str, Any]]):
        self.pm = pm
        self.settings = settings

    # -- describe ---------------------------------------------------------------------------

    @cached_property
    def _by_code(self) -> dict[str, tuple[FinancingInfo, object]]:
        """Each financing with the plugin object that provides it (computed once)."""
        found: dict[str, tuple[FinancingInfo, object]] = {}
        # Call each implementation on its own, so we know which plugin said what.
        for impl in self.pm.hook.financing_info.get_hookimpls():
            info = impl.function(settings=self.settings)
            if info is None:
                continue
            if info.code in found:
                raise PluginError(f"Financiering {info.code!r} wordt door twee plugins geleverd")
            found[info.code] = (info, impl.plugin)
        return found

    @property
    def financings(self) -> dict[str, FinancingInfo]:
        return {code: info for code, (info, _plugin) in self._by_code.items()}

    def financing(self, code: str) -> FinancingInfo | None:
        return self.financings.get(code)

    def financing_label(self, code: str) -> str:
        info = self.financings.get(code)
        return info.label if info else f"{code} (niet geladen)"

    def choices(self) -> list[tuple[str, str]]:
        return [(code, info.label) for code, info in self.financings.items()]

    def blueprints(self) -> list[Any]:
        return [
            bp for bps in self.pm.hook.register_blueprints(settings=self.settings) for bp in bps
        ]

    def menu_items(self) -> list[MenuItem]:
        return _flatten(self.pm.hook.menu_items(settings=self.settings))

    def action_counts(self, session, today) -> list[ActionCount]:
        return _flatten(
            self.pm.hook.action_counts(session=session, today=today, settings=self.settings)
        )

    def code_label(self, financing: str, codelist: str, code: str) -> str:
        """The meaning of a code, or "" when the financing's plugin does not know it."""
        return (
            self.pm.hook.code_label(
                financing=financing, codelist=codelist, code=code, settings=self.settings
            )
            or ""
        )

    def _plugin_of(self, financing: str) -> object | None:
        entry = self._by_code.get(financing)
        return entry[1] if entry else None

    def capabilities(self, financing: str) -> list[Capability]:
        """Which of the big capabilities this financing's plugin implements yet."""
        plugin = self._plugin_of(financing)
        info = self.financing(financing)
        result = []
        for hook_name, (label, channels) in CAPABILITIES.items():
            if info is not None and info.channel not in channels:
                continue
            impls = getattr(self.pm.hook, hook_name).get_hookimpls()
            available = plugin is not None and any(i.plugin is plugin for i in impls)
            result.append(Capability(hook_name, label, available))
        return result

    def implemented(self, hook_name: str) -> bool:
        """Does any loaded plugin implement this hook? (Lets a bulk caller skip building
        objects for a hook nobody answers.)"""
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    def can(self, financing: str, hook_name: str) -> bool:
        return any(c.available for c in self.capabilities(financing) if c.name == hook_name)

    # -- validate ---------------------------------------------------------------------------

    def validate_legitimation(
        self, legitimation: Legitimation, financier: Financier | None, client: Client
    ) -> list[Issue]:
        return _flatten(
            self.pm.hook.validate_legitimation(
                legitimation=legitimation,
                financier=financier,
                client=client,
                settings=self.settings,
            )
        )

    def validate_registration(self, registration: Registration) -> list[Issue]:
        return _flatten(
            self.pm.hook.validate_registration(registration=registration, settings=self.settings)
        )

    def validate_declaration(self, declaration: Declaration) -> list[Issue]:
        return _flatten(
            self.pm.hook.validate_declaration(declaration=declaration, settings=self.settings)
        )

    # -- choices ----------------------------------------------------------------------------

    def declaration_choices(
        self, financing: str, step: str, selected: Mapping[str, str]
    ) -> list[tuple[str, str]] | None:
        return self.pm.hook.declaration_choices(
            financing=financing, step=step, selected=selected, settings=self.settings
        )

    # -- declare ----------------------------------------------------------------------------

    def declaration_lines(
        self,
        financier: Financier,
        care: list[Care],
        period_begin: date,
        period_end: date,
        session: Session,
    ) -> DeclarationLines | None:
        return self.pm.hook.declaration_lines(
            financier=financier,
            care=care,
            period_begin=period_begin,
            period_end=period_end,
            session=session,
            settings=self.settings,
        )

    def declaration_numbering(
        self, declaration: Declaration, n_lines: int, session: Session
    ) -> DeclarationNumbering:
        return self.pm.hook.declaration_numbering(
            declaration=declaration, n_lines=n_lines, session=session, settings=self.settings
        )

    def credit_reference(self, line: DeclarationLine, session: Session) -> str:
        return self.pm.hook.credit_reference(line=line, session=session, settings=self.settings)

    # -- build, parse, chain ----------------------------------------------------------------

    def build_declaration(
        self, declaration: Declaration, session: Session
    ) -> list[MessageDraft] | None:
        return self.pm.hook.build_declaration(
            declaration=declaration, session=session, settings=self.settings
        )

    def parse_message(self, message: Message, session: Session) -> ParseOutcome | None:
        return self.pm.hook.parse_message(message=message, session=session, settings=self.settings)

    def chain_actions(self, legitimation: Legitimation) -> list[Any]:
        return _flatten(
            self.pm.hook.chain_actions(legitimation=legitimation, settings=self.settings)
        )

    def build_invoice(self, invoice: Invoice) -> InvoiceDraft | None:
        return self.pm.hook.build_invoice(invoice=invoice, settings=self.settings)

    def financier_reply(self, payload: bytes) -> list[MessageDraft] | None:
        return self.pm.hook.financier_reply(payload=payload, settings=self.settings)

    # -- demo -------------------------------------------------------------------------------

    def seed_demo(self, session: Session, today: date) -> int:
        """Every financing's part of the demo; the number of clients they added."""
        results = self.pm.hook.seed_demo(session=session, today=today, settings=self.settings)
        return sum(n for n in results if n)

    # -- inbound routing --------------------------------------------------------------------

    def recognise_message(self, message, session) -> list[Recognition]:
        """Every financing's claim on an incoming message (see the hookspec)."""
        return [
            r
            for r in self.pm.hook.recognise_message(
                message=message, session=session, settings=self.settings
            )
            if r is not None
        ]

    def parse_message_for(self, financing: str | None, message, session):
        """``parse_message`` asked only of ``financing``'s plugin and of plugins that provide
        no financing; with no financing, of every plugin."""
        if not financing:
            return self.parse_message(message, session)
        mine = self._plugin_of(financing)
        others = [plugin for _info, plugin in self._by_code.values() if plugin is not mine]
        caller = self.pm.subset_hook_caller("parse_message", remove_plugins=others)
        return caller(message=message, session=session, settings=self.settings)

    # -- codes ------------------------------------------------------------------------------

    def retourcode_meaning(self, financing: str, code: str) -> str | None:
        """The meaning of a retourcode (hook ``code_label`` with codelist ``"retourcode"``), or
        None when the financing's plugin does not know it."""
        return self.code_label(financing, "retourcode", code) or None


def _flatten(results: Iterable[list[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]
