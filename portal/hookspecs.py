"""The plugin contract: every hook a financing plugin can implement.

Conventions (see docs/plugins.md):

* Hooks are called only through :class:`portal.plugins.Hooks`, always with keyword arguments.
* A plugin answers ``None`` (or an empty list) for what is not its own. Raising is a real failure.
* Hooks get domain objects and ``settings`` (``{financing code: {key: value}}``, the
  ``PLUGIN_SETTINGS`` of the configuration); never the request or the logged-in user.
* "Collects all results" hooks return a list of every plugin's answer; "first result" hooks stop at
  the first non-None result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from datetime import date

    from flask import Blueprint
    from sqlalchemy.orm import Session

    from portal.domain import (
        ActionCount,
        FinancingInfo,
        Issue,
        MenuItem,
        MessageDraft,
        ParseOutcome,
        Recognition,
    )
    from portal.models import Client, Financier, Legitimation, Message

PROJECT = "declaratieportaal"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Settings = Mapping[str, Mapping[str, Any]]

# ---------------------------------------------------------------------------------------------
# describe: what a financing is
# ---------------------------------------------------------------------------------------------


@hookspec
def financing_info(settings: Settings) -> FinancingInfo | None:
    """Describe the financing this plugin provides.

    Collects all results: one :class:`~portal.domain.FinancingInfo` per financing plugin.
    Called from the facade at start-up (cached) to list financings, label them and check
    which units and financier kinds they accept.

    :param settings: all plugin settings, keyed by financing code.
    :return: the plugin's financing, or None for a plugin that adds no financing.
    """


@hookspec
def register_blueprints(settings: Settings) -> list[Blueprint] | None:
    """Extra screens of a plugin.

    Collects all results: each plugin returns a list of Flask blueprints, registered by the
    app factory under ``/f/<financing code>/``. Called once in ``create_app``.
    """


@hookspec
def menu_items(settings: Settings) -> list[MenuItem] | None:
    """Entries of the main menu for the plugin's own screens (e.g. a worklist).

    Collects all results (flattened). Called per request by the menu; an entry is shown only when
    its endpoint exists and the user has its permission.

    :return: :class:`~portal.domain.MenuItem` entries, or None.
    """


@hookspec
def action_counts(session: Session, today: date, settings: Settings) -> list[ActionCount] | None:
    """What needs action in the plugin's own screens, for "Vraagt actie" on the start page.

    Collects all results (flattened). Called by the start page on every visit: count with one
    SQL aggregate (never load the rows), and leave out what is done (a count of 0 is dropped).

    :param session: a read-only database session.
    :param today: the date that counts as today.
    :return: :class:`~portal.domain.ActionCount` items linking to the plugin's lists, or None.
    """


@hookspec(firstresult=True)
def code_label(financing: str, codelist: str, code: str, settings: Settings) -> str | None:
    """The Dutch meaning of one of the financing's codes, e.g. retourcode ``"0611"``.

    Stops at first non-None result: only the financing's own plugin answers (from its
    standard's code lists). ``codelist`` is ``"retourcode"`` or ``"productcategorie"``. Called
    wherever a code is shown to people (start page, lists, the client dossier).

    :return: the meaning without the code, or None when unknown.
    """


# ---------------------------------------------------------------------------------------------
# validate: findings in Dutch, never exceptions
# ---------------------------------------------------------------------------------------------


@hookspec
def validate_legitimation(
    legitimation: Legitimation, financier: Financier | None, client: Client, settings: Settings
) -> list[Issue] | None:
    """Check a legitimation of the plugin's own financing before it is stored.

    Collects all results (flattened by the facade). A plugin checks only legitimations whose
    ``financing`` is its own and returns None for the others. Called from the legitimation
    service on create, edit and import.

    :return: issues (blocking or warning), each with a code, a Dutch message and the field.
    """


@hookspec
def validate_registration(registration: Any, settings: Settings) -> list[Issue] | None:
    """Check one registration against the rules of the financing that will pay for it.

    Collects all results (flattened). Called from the registration service when a registration
    is saved and again during approval (fiatteren).
    """


@hookspec
def validate_declaration(declaration: Any, settings: Settings) -> list[Issue] | None:
    """Check a whole declaration (and its lines) before anything is built or sent.

    Collects all results (flattened). Called from the declaration service in the preview and
    right before building the message.
    """


# ---------------------------------------------------------------------------------------------
# choices: the guided declaration flow
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def declaration_group(legitimation: Any, settings: Settings) -> str | None:
    """The group a legitimation's care is declared in: one declaration (one message) per
    financier, month and group, e.g. ``"iwmo"`` and ``"ijw"`` for the two laws a gemeente
    finances, whose messages differ.

    ``legitimation`` is a read-only row with every column of the legitimation (attribute
    access as on the model; thousands are asked at once). Stops at first non-None result;
    ``None`` (the default) means one declaration per financier and month. Called when a
    declaration is prepared.
    """


@hookspec(firstresult=True)
def declaration_choices(
    financing: str, step: str, selected: Mapping[str, str], settings: Settings
) -> list[tuple[str, str]] | None:
    """The valid options for the next step of the declaration flow, as ``(value, label)`` pairs.

    Stops at first non-None result. ``step`` is e.g. ``"financier"`` or ``"periode"``;
    ``selected`` holds what the user chose in the earlier steps. Called from the declaration
    views; each choice narrows the next.
    """


# ---------------------------------------------------------------------------------------------
# build, parse, chain: messages and documents
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def build_declaration(
    declaration: Any, session: Session, settings: Settings
) -> list[MessageDraft] | None:
    """Turn a declaration into outgoing message drafts (XML or fixed-width).

    Stops at first non-None result: only the declaration's own financing answers. Called from
    the declaration service; every draft is validated (XSD or record layout, then business
    rules) before it is stored. A financing without this hook shows "nog niet beschikbaar".
    """


@hookspec(firstresult=True)
def parse_message(message: Any, session: Session, settings: Settings) -> ParseOutcome | None:
    """Read an incoming message (toewijzing, retour, antwoord) and apply it to the domain.

    Stops at first non-None result: the plugin that recognises the payload (namespace, record
    type) answers; others return None. ``message`` is the stored inbound message row (its
    ``payload`` bytes are verified already); the plugin makes its changes in ``session`` (the
    caller commits) and says what it did. Called from the receive job. A message nobody parses
    lands in the inbox as "onbekend".
    """


@hookspec
def chain_actions(legitimation: Legitimation, settings: Settings) -> list[Any] | None:
    """The chain messages a user may start now for this legitimation (start/stop zorg, requests).

    Collects all results (flattened). Called from the client screens, so that only valid
    actions are offered.
    """


@hookspec(firstresult=True)
def build_invoice(invoice: Any, settings: Settings) -> Any | None:
    """Turn an invoice run's invoice into a document draft (HTML for the PDF renderer).

    Stops at first non-None result. Called from the invoicing service: in the preview and when
    numbers are assigned (a concept may return empty HTML; only debtor and issues are needed),
    and from the PDF job for the final document.
    """


@hookspec(firstresult=True)
def financier_reply(payload: bytes, settings: Settings) -> list[MessageDraft] | None:
    """The financier's side of a standard: how a gemeente/zorgkantoor answers this message.

    Stops at first non-None result: the plugin that recognises the payload answers with the
    retour message(s) a real financier would send (with realistic retourcodes); an empty list
    means "accepted, no answer". Used only by the VECOZO stand-in, so that the knowledge of one
    standard lives in one plugin.
    """


# ---------------------------------------------------------------------------------------------
# inbound routing: whose is an incoming message
# ---------------------------------------------------------------------------------------------


@hookspec
def recognise_message(message: Message, session: Session, settings: Settings) -> Recognition | None:
    """Claim an incoming message for your financing, before anything is parsed.

    Collects all results. Called from the inbox (``portal.services.messages``) for every
    fetched message whose financing is not already known from the message it answers
    (``alsAntwoordOp``). Return a :class:`~portal.domain.Recognition` when the payload is yours
    (namespace, EI code, record layout) *and* belongs to your financing, for example because
    the AW319 an AW320 names (by invoice number) was sent by your financing; return None
    otherwise. Exactly one financing claiming a message routes it: then only that financing's
    plugin (and plugins that provide no financing) is asked to ``parse_message`` it. Two or
    more claims leave it "onbekend" for a person to check, and nothing is applied.

    :param message: the stored inbound message (``payload`` bytes verified, ``berichtstroom``
        and ``als_antwoord_op`` as VECOZO delivered them); do not change it here.
    :param session: a session to look up what the message refers to (read only).
    :param settings: ``{financing code: {key: value}}``.
    """
