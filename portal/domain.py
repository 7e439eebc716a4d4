"""Small value types shared by the core and the plugins (passed to and from hooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Role(StrEnum):
    BEHEERDER = "beheerder"
    BACKOFFICE = "backoffice"
    ZORGPROFESSIONAL = "zorgprofessional"
    ALLEEN_LEZEN = "alleen-lezen"
    PRIVACY = "privacyfunctionaris"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.BEHEERDER: "Beheerder",
    Role.BACKOFFICE: "Backoffice",
    Role.ZORGPROFESSIONAL: "Zorgprofessional",
    Role.ALLEEN_LEZEN: "Alleen lezen",
    Role.PRIVACY: "Privacyfunctionaris",
}


class Unit(StrEnum):
    """The organisation's units. Standards map their own unit codes onto these."""

    MINUUT = "minuut"
    UUR = "uur"
    DAGDEEL = "dagdeel"
    DAG = "dag"
    ETMAAL = "etmaal"
    WEEK = "week"
    MAAND = "maand"
    JAAR = "jaar"
    STUK = "stuk"
    EURO = "euro"

    @property
    def label(self) -> str:
        return UNIT_LABELS[self]

    @property
    def is_time(self) -> bool:
        return self in (Unit.MINUUT, Unit.UUR)

    @property
    def minutes(self) -> int | None:
        return {Unit.MINUUT: 1, Unit.UUR: 60}.get(self)


UNIT_LABELS = {
    Unit.MINUUT: "minuut",
    Unit.UUR: "uur",
    Unit.DAGDEEL: "dagdeel",
    Unit.DAG: "dag",
    Unit.ETMAAL: "etmaal",
    Unit.WEEK: "week",
    Unit.MAAND: "maand",
    Unit.JAAR: "jaar",
    Unit.STUK: "stuk",
    Unit.EURO: "euro",
}


class Frequency(StrEnum):
    DAG = "dag"
    WEEK = "week"
    MAAND = "maand"
    JAAR = "jaar"
    TOTAAL = "totaal"

    @property
    def label(self) -> str:
        return {
            "dag": "per dag",
            "week": "per week",
            "maand": "per maand",
            "jaar": "per jaar",
            "totaal": "totaal in de periode",
        }[self.value]


class FinancierKind(StrEnum):
    GEMEENTE = "gemeente"
    ZORGKANTOOR = "zorgkantoor"
    ZORGVERZEKERAAR = "zorgverzekeraar"
    DJI = "dji"
    BUDGETHOUDER = "budgethouder"
    CLIENT = "client"
    INSTELLING = "instelling"

    @property
    def label(self) -> str:
        return {
            "gemeente": "Gemeente",
            "zorgkantoor": "Zorgkantoor",
            "zorgverzekeraar": "Zorgverzekeraar",
            "dji": "Dienst Justitiële Inrichtingen",
            "budgethouder": "Budgethouder (PGB)",
            "client": "Cliënt (particulier)",
            "instelling": "Andere instelling",
        }[self.value]

    @property
    def code_label(self) -> str | None:
        """What the financier's code is called, or None when it has none."""
        return {
            "gemeente": "Gemeentecode",
            "zorgkantoor": "Zorgkantoorcode",
            "zorgverzekeraar": "UZOVI-code",
            "dji": "UZOVI-code",
            "instelling": "AGB-code",
        }.get(self.value)


class Severity(StrEnum):
    BLOCKING = "blokkerend"
    WARNING = "waarschuwing"


@dataclass(frozen=True)
class Issue:
    """One finding of a validation hook: a Dutch message for people, a code for machines."""

    code: str
    message: str
    field: str | None = None
    severity: Severity = Severity.BLOCKING

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.BLOCKING


@dataclass(frozen=True)
class LegitimationField:
    """A field of a financing's own on the legitimation form, stored in ``sleutels[name]``."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label); empty: free text


@dataclass(frozen=True)
class FinancingInfo:
    """What a financing plugin says about itself (hook ``financing_info``).

    For financings paid on a PDF invoice: ``invoice_per`` says how the invoice run groups
    invoices (``"legitimation"``: one per client agreement; ``"financier"``: one per paying
    institution) and ``betaaltermijn_dagen`` the payment term it prints (a deployment may
    override both in ``PLUGIN_SETTINGS``). ``legitimation_fields``: the financing's own fields
    on the legitimation form."""

    code: str
    label: str
    financier_kinds: tuple[FinancierKind, ...]
    units: tuple[Unit, ...]
    can_stack: bool
    standards: tuple[str, ...] = ()
    channel: str = "vecozo"  # "vecozo" or "pdf"
    description: str = ""
    legitimation_label: str = "legitimatie"
    provisional: bool = False
    invoice_per: str = "legitimation"  # "legitimation" | "financier"
    betaaltermijn_dagen: int = 30
    legitimation_fields: tuple[LegitimationField, ...] = ()


@dataclass(frozen=True)
class ActionCount:
    """One "vraagt actie" item of the start page: a count and the list behind it.

    ``endpoint`` and ``params`` name the list (``url_for(endpoint, **params)``); ``permission``
    is who may see it; ``detail`` a short Dutch addition ("12,5 uur", "€ 1.234,00").
    """

    key: str
    label: str
    count: int
    endpoint: str
    params: dict = field(default_factory=dict)
    permission: str = "authenticated"
    detail: str = ""


@dataclass(frozen=True)
class MenuItem:
    """An entry of the main menu that a plugin adds (hook ``menu_items``)."""

    endpoint: str
    label: str
    permission: str


@dataclass(frozen=True)
class Capability:
    """A thing a financing can do; unavailable until a plugin implements its hook."""

    name: str
    label: str
    available: bool


@dataclass
class MessageDraft:
    """An outgoing (or, in the stand-in, a reply) message before it is stored and sent."""

    standard: str  # e.g. "iWmo", "iJw", "iWlz", "EI"
    code: str  # e.g. "WMO323", "JW302", "AW319"
    payload: bytes
    afzender: tuple[str, str] | None = None  # (rol, code) as VECOZO routes it
    geadresseerde: tuple[str, str] | None = None  # (rol, code)
    answers_to: str | None = None  # traceerId of the message this one answers
    conversation_id: str | None = None
    reference: str | None = None  # the standard's own identifier (berichtreferentie, …)
    filename: str | None = None


@dataclass
class ParseOutcome:
    """What a plugin did with an incoming message (hook ``parse_message``)."""

    standard: str
    code: str
    summary: str  # Dutch, one line, shown in the inbox
    needs_action: bool = False
    issues: list[Issue] = field(default_factory=list)
    replies: list[MessageDraft] = field(default_factory=list)  # e.g. the 302 for a 301
    reference: str | None = None  # the standard's own identifier, used to link retours
    answers_reference: str | None = None  # the identifier of the heenbericht it answers
    client_ids: list[int] = field(default_factory=list)
    # A declaration answer (325, AW320, …) as the plugin read it: the core applies it to the
    # declaration's lines (``portal.services.declarations.apply_answer``) and fills in the
    # summary, issues and clients above from what it did.
    declaration_answer: DeclarationAnswer | None = None
    # The financing the message belongs to, when the parsing plugin knows it better than the
    # routing did (e.g. from the declaration a retour names); None keeps the routed financing.
    financing: str | None = None


@dataclass(frozen=True)
class Recognition:
    """A plugin's claim on an incoming message (hook ``recognise_message``).

    ``financing`` is the financing the message belongs to (for a retour: the financing of the
    message it answers); ``code`` the message code (``"AW320"``, ``"JW301"``); ``standard`` as
    shown in the inbox (``"AW320 (Vektis EI)"``).
    """

    financing: str
    code: str
    standard: str = ""


# --- declaring: what the core's declaration run passes to a plugin and gets back ---------------


@dataclass(frozen=True)
class Care:
    """One piece of care chosen for a declaration (hook ``declaration_lines``).

    From stacking (financings that stack): one registration's part on one legitimation, with the
    stack's rounding already applied (``rounded``; a rounding difference of a week comes as its
    own piece without ``registration_id``). Otherwise: one whole approved registration, and the
    plugin chooses the legitimation (``legitimation_id`` None)."""

    client_id: int
    product_id: int
    datum: date
    minutes: int | None = None
    aantal: int | None = None
    registration_id: int | None = None
    legitimation_id: int | None = None
    rounded: bool = False


@dataclass
class LineDraft:
    """One declaration line as a plugin makes it (hook ``declaration_lines``): the plugin did
    the standard's period split, unit conversion and tariff. ``care`` is what the line counts;
    the core records each piece with a registration as exported by this line. ``groep`` puts
    the line in its own declaration (one message per group, e.g. Wmo apart from Jeugdwet)."""

    client_id: int
    legitimation_id: int
    begindatum: date
    einddatum: date
    volume: int
    eenheid: str  # a :class:`Unit` value
    bedrag_cents: int  # >= 0
    tarief_cents: int | None = None
    product_id: int | None = None
    contract_line_id: int | None = None
    productcategorie: str | None = None
    productcode: str | None = None
    groep: str | None = None
    care: list[Care] = field(default_factory=list)
    toelichting: dict[str, str] = field(default_factory=dict)


@dataclass
class DeclarationLines:
    """A plugin's answer to ``declaration_lines``: the lines, and the care it could not declare
    (each with a Dutch reason; shown to the user, never silently dropped)."""

    lines: list[LineDraft]
    skipped: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class DeclarationNumbering:
    """A declaration's number and its lines' references, as the standard wants them (hook
    ``declaration_numbering``); ``references`` has one entry per line, in line order."""

    nummer: str
    references: list[str]


@dataclass(frozen=True)
class AnswerCode:
    """A financier's code with its Dutch meaning (from the standard's code list)."""

    code: str
    meaning: str


@dataclass(frozen=True)
class LineAnswer:
    """What an answer says about one line, found by the line's reference."""

    reference: str
    awarded: bool
    codes: tuple[AnswerCode, ...] = ()
    awarded_cents: int | None = None


@dataclass
class DeclarationAnswer:
    """A financier's answer to a declaration, read by its plugin (hook ``parse_message``,
    ``ParseOutcome.declaration_answer``) and applied by the core. The plugin decides what its
    codes mean: ``rejected_whole`` for a rejection of the whole declaration (header or
    declaration level), ``LineAnswer.awarded`` per line. ``unlisted_awarded``: lines the answer
    does not name are awarded (a 325 names only rejected lines); otherwise they stay as sent."""

    message_reference: str | None  # the declaration message's own identifier
    number: str | None  # the declaration number, when the answer carries it
    rejected_whole: bool = False
    codes: list[AnswerCode] = field(default_factory=list)
    lines: list[LineAnswer] = field(default_factory=list)
    unlisted_awarded: bool = True
    awarded_total_cents: int | None = None
    reference: str | None = None  # the answer's own identifier


@dataclass
class InvoiceDraft:
    """What a financing plugin makes of one invoice (hook ``build_invoice``): the document as
    HTML for the PDF renderer, plus the debtor as printed (stored on the invoice as a snapshot).
    For a ``concept`` invoice (the preview) ``html`` may be empty: only debtor and issues count."""

    html: str
    debtor_name: str
    debtor_address: list[str] = field(default_factory=list)  # printed address lines
    debtor_reference: str | None = None  # e.g. "BSN 123456782" or "SVB-relatienummer 123"
    debtor_email: str | None = None
    filename: str = "factuur.pdf"
    subject: str = "Factuur"  # e-mail subject line
    issues: list[Issue] = field(default_factory=list)  # blocking ones stop the invoice
    # the debtor pays this invoice themselves: a payment QR code on it and on its reminders
    # (False for PGB: the SVB pays from the budget, the budget holder only approves)
    debtor_pays: bool = True
