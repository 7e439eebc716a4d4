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

    :param settings: all plugin settings, keyed by financing code.
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
    wherever a code is shown to people (start page, lists, the client dossier, the follow-ups of
    rejected lines) and by the status read-model the API serves (``portal.services.statuses``,
    through ``Hooks.retourcode_meaning``). The one hook for code meanings.

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

    :param legitimation: the legitimation as it would be stored (not yet flushed).
    :param financier: the chosen financier, or None when none is chosen yet.
    :param client: the legitimation's client.
    :param settings: all plugin settings, keyed by financing code.
    :return: issues (blocking or warning), each with a code, a Dutch message and the field.
    """


@hookspec
def validate_registration(registration: Registration, settings: Settings) -> list[Issue] | None:
    """Check one registration against the rules of the financing that will pay for it.

    Collects all results (flattened). Called from the registration service when a registration
    is saved and again during approval (fiatteren).

    :param registration: the registration (its client, product and date are set).
    :param settings: all plugin settings, keyed by financing code.
    """


@hookspec
def validate_declaration(declaration: Declaration, settings: Settings) -> list[Issue] | None:
    """Check a whole declaration (and its lines) before anything is built or sent.

    Collects all results (flattened). Called from the declaration service in the preview and
    right before building the message. A plugin answers only for its own financing
    (``declaration.financing``).

    :param declaration: a concept declaration with its lines stored (read them from its session).
    :param settings: all plugin settings, keyed by financing code.
    """


# ---------------------------------------------------------------------------------------------
# choices: the guided declaration flow
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def declaration_choices(
    financing: str, step: str, selected: Mapping[str, str], settings: Settings
) -> list[tuple[str, str]] | None:
    """The valid options for the next step of the declaration flow, as ``(value, label)`` pairs.

    Stops at first non-None result. ``step`` is e.g. ``"financier"`` or ``"periode"``;
    ``selected`` holds what the user chose in the earlier steps. Called from the declaration
    views; each choice narrows the next.

    :param financing: the financing being declared; answer only for your own.
    :param step: the step asked for (``"periode"``: values are ``"YYYY-MM"``).
    :param selected: the earlier choices (``financier_id``, ``laatste_periode``, ``vandaag``).
    :param settings: all plugin settings, keyed by financing code.
    """


# ---------------------------------------------------------------------------------------------
# declare: the core's declaration run asks the plugin for everything that belongs to a standard
# (portal.services.declarations: choose care → declaration_lines → declaration_numbering →
# validate_declaration → build_declaration → outbox → parse_message → apply the answer)
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def declaration_lines(
    financier: Financier,
    care: list[Care],
    period_begin: date,
    period_end: date,
    session: Session,
    settings: Settings,
) -> DeclarationLines | None:
    """Make the declaration lines of the chosen care, as the standard wants them.

    Stops at first non-None result: only the plugin of ``financier.financing`` answers. Called
    from the core's declaration run (``declarations.prepare``) once per financier and period.
    The core chose the care: for a financing that stacks, the parts the stacking service gives
    this financing (whole ISO weeks, each part on its legitimation, the stack's rounding applied,
    never a part already exported); otherwise every approved registration not yet exported of
    clients with a legitimation of this financier. The plugin does the rest of what is its
    standard's: which legitimation and contract line (when not given), the period split, unit
    conversion and tariff, and the group of each line (one declaration per group). Care it
    cannot declare goes into ``skipped`` with a Dutch reason. Each line lists the care it
    counts; the core records those registration parts as exported by that line, so they are
    never declared or invoiced twice.

    :param financier: the financier being declared to.
    :param care: the chosen care (see :class:`portal.domain.Care`).
    :param period_begin: first day of the declaration period (a calendar month).
    :param period_end: last day of the declaration period.
    :param session: read contract lines and legitimations here; change nothing.
    :param settings: all plugin settings, keyed by financing code.
    :return: the lines (amounts in cents, ``>= 0``) and the skipped care.
    """


@hookspec(firstresult=True)
def declaration_numbering(
    declaration: Declaration, n_lines: int, session: Session, settings: Settings
) -> DeclarationNumbering | None:
    """The declaration's number and its lines' references, by the standard's rules.

    Stops at first non-None result: only the plugin of ``declaration.financing`` answers; the
    core numbers ``YYYYMM-n`` / ``<nummer>-<n>`` when nobody does. Called from the core's
    declaration run for each new declaration, before its lines are stored.

    :param declaration: the new declaration (financing, financier, period and group set; flushed,
        so earlier declarations can be counted in ``session``).
    :param n_lines: how many lines it gets (references are given in line order).
    :param session: to look at earlier numbers; change nothing.
    :param settings: all plugin settings, keyed by financing code.
    """


@hookspec(firstresult=True)
def credit_reference(line: DeclarationLine, session: Session, settings: Settings) -> str | None:
    """The reference of a new credit line for ``line`` (an awarded debet line).

    Stops at first non-None result: only the plugin of ``line.financing`` answers; the core
    uses ``<reference>-C<n>`` when nobody does. Called from ``declarations.credit`` (the one
    helper that copies a line as its credit). The reference must be unused (check ``session``).

    :param line: the awarded line being credited.
    :param session: to check that the reference is unused; change nothing.
    :param settings: all plugin settings, keyed by financing code.
    """


# ---------------------------------------------------------------------------------------------
# build, parse, chain: messages and documents
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def build_declaration(
    declaration: Declaration, session: Session, settings: Settings
) -> list[MessageDraft] | None:
    """Turn a declaration into outgoing message drafts (XML or fixed-width).

    Stops at first non-None result: only the declaration's own financing answers. Called from
    the declaration service (``declarations.submit``); the plugin validates every draft (XSD or
    record layout, then business rules) before returning it. A financing without this hook shows
    "nog niet beschikbaar".

    :param declaration: the concept declaration, checked by ``validate_declaration``.
    :param session: read the lines here; change nothing (the core stores the drafts).
    :param settings: all plugin settings, keyed by financing code.
    :return: the drafts; ``reference`` of the first one is the message identifier an answer
        refers to (``DeclarationAnswer.message_reference``).
    """


@hookspec(firstresult=True)
def parse_message(message: Message, session: Session, settings: Settings) -> ParseOutcome | None:
    """Read an incoming message (toewijzing, retour, antwoord) and apply it to the domain.

    Stops at first non-None result: the plugin that recognises the payload (namespace, record
    type) answers; others return None. ``message`` is the stored inbound message row (its
    ``payload`` bytes are verified already); the plugin makes its changes in ``session`` (the
    caller commits) and says what it did. Called from the receive job. A message nobody parses
    lands in the inbox as "onbekend".

    A declaration answer (325, AW320) is only read, not applied: the plugin returns it as
    ``ParseOutcome.declaration_answer`` (per line: awarded or rejected, amounts, codes with their
    Dutch meaning — the plugin decides which codes mean "awarded") and the core applies it to the
    lines (``declarations.apply_answer``), which also refuses an answer for lines that were never
    sent and an answer that was already applied.

    :param message: the stored inbound message.
    :param session: apply chain changes here (the caller commits).
    :param settings: all plugin settings, keyed by financing code.
    """


@hookspec
def chain_actions(legitimation: Legitimation, settings: Settings) -> list[Mapping[str, Any]] | None:
    """The chain messages a user may start now for this legitimation (start/stop zorg, requests).

    Collects all results (flattened). Called from the client screens, so that only valid
    actions are offered.

    :param legitimation: a legitimation; answer only for your own financing.
    :param settings: all plugin settings, keyed by financing code.
    :return: one mapping per action (``kind``, Dutch ``label``, the plugin's own keys).
    """


@hookspec(firstresult=True)
def build_invoice(invoice: Invoice, settings: Settings) -> InvoiceDraft | None:
    """Turn an invoice run's invoice into a document draft (HTML for the PDF renderer).

    Stops at first non-None result. Called from the invoicing service: in the preview and when
    numbers are assigned (a concept may return empty HTML; only debtor and issues are needed),
    and from the PDF job for the final document.

    :param invoice: the invoice with its lines (``status == "concept"`` in the preview).
    :param settings: all plugin settings, keyed by financing code.
    """


@hookspec(firstresult=True)
def financier_reply(payload: bytes, settings: Settings) -> list[MessageDraft] | None:
    """The financier's side of a standard: how a gemeente/zorgkantoor answers this message.

    Stops at first non-None result: the plugin that recognises the payload answers with the
    retour message(s) a real financier would send (with realistic retourcodes); an empty list
    means "accepted, no answer". Used only by the VECOZO stand-in, so that the knowledge of one
    standard lives in one plugin.

    :param payload: the message as the provider sent it.
    :param settings: all plugin settings, keyed by financing code.
    """


# ---------------------------------------------------------------------------------------------
# demo: a financing's part of the demo organisation
# ---------------------------------------------------------------------------------------------


@hookspec
def seed_demo(session: Session, today: date, settings: Settings) -> int | None:
    """Add your financing's part of the demo organisation (financiers, contracts, clients,
    legitimations, registrations, history the VECOZO stand-in agrees with).

    Collects all results. Called once from ``portal.demo.seed`` after the core's demo data is
    in the session (the demo organisation, users, products and uursoorten exist), inside the
    same transaction; never called on a database that already holds data. Be deterministic
    (seed your own ``random.Random``) and quick: starting the demo stays under a minute.

    :param session: the demo's session; flush, do not commit.
    :param today: the demo's "today"; history lies before it.
    :param settings: all plugin settings, keyed by financing code.
    :return: how many clients you added (for the start-up text), or None.
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
