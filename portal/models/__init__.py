"""All ORM models. Each aggregate has its own module; later features add theirs here."""

from portal.db import Base
from portal.models.api import (
    ApiKoppeling,
    ApiRegistratie,
    ApiToken,
    StatusChange,
    StatusChangeBatch,
)
from portal.models.audit import AuditEvent
from portal.models.client import Client
from portal.models.contract import Contract, ContractLine
from portal.models.declaration import Declaration, DeclarationLine
from portal.models.export import ExportPart
from portal.models.financier import Financier
from portal.models.invoice import (
    BankPayment,
    BankStatement,
    Invoice,
    InvoiceLine,
    InvoiceNumberSeries,
    InvoiceRun,
    PurchaseInvoice,
)
from portal.models.job import BackgroundJob
from portal.models.legitimation import Legitimation, legitimation_product
from portal.models.message import Message, MessageStatusEvent, PollRun, VecozoCertificate
from portal.models.organisation import Organisation, OrganisationAgb
from portal.models.product import Product, Uursoort, UursoortFinancing
from portal.models.registration import (
    ApprovalRun,
    Registration,
    StackExport,
    StackExportWeek,
    StackRule,
)
from portal.models.security import ClientAssignment, LoginThrottle, RecoveryCode, UserSession
from portal.models.user import User
from portal.models.verzoek import Verzoek

__all__ = [
    "ApiKoppeling",
    "ApiRegistratie",
    "ApiToken",
    "ApprovalRun",
    "AuditEvent",
    "BackgroundJob",
    "BankPayment",
    "BankStatement",
    "Base",
    "Client",
    "ClientAssignment",
    "Contract",
    "ContractLine",
    "Declaration",
    "DeclarationLine",
    "ExportPart",
    "Financier",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumberSeries",
    "InvoiceRun",
    "Legitimation",
    "LoginThrottle",
    "Message",
    "MessageStatusEvent",
    "Organisation",
    "OrganisationAgb",
    "PollRun",
    "Product",
    "PurchaseInvoice",
    "RecoveryCode",
    "Registration",
    "StackExport",
    "StackExportWeek",
    "StackRule",
    "StatusChange",
    "StatusChangeBatch",
    "User",
    "UserSession",
    "Uursoort",
    "UursoortFinancing",
    "VecozoCertificate",
    "Verzoek",
    "legitimation_product",
]
