"""Contracts per financier with their productafspraken (own product -> financier's code, tariff)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.app import hooks
from portal.auth import has_permission, requires
from portal.db import db_session
from portal.models import Contract, ContractLine, Financier, Product
from portal.services import contracts as svc
from portal.services.organisation_admin import FormErrors
from portal.validators import format_cents
from portal.web import render

bp = Blueprint("contracts", __name__, url_prefix="/contracten")

CONTRACT_FIELDS = ("financier_id", "naam", "begindatum", "einddatum", "opmerking")
LINE_FIELDS = (
    "product_id",
    "productcode",
    "productcategorie",
    "eenheid",
    "tarief",
    "begindatum",
    "einddatum",
    "afronding_minuten",
    "afronding_wijze",
    "btw_percentage",
)


def _financier_choices() -> list[tuple[int, str]]:
    rows = db_session().scalars(
        select(Financier).order_by(Financier.financing, func.lower(Financier.naam))
    )
    return [(f.id, f"{f.label} · {hooks().financing_label(f.financing)}") for f in rows]


@bp.route("/")
@requires("contracts.view")
def index():
    financing = request.args.get("financiering") or None
    raw = request.args.get("financier", "")
    financier_id = int(raw) if raw.isdigit() else None
    validity = request.args.get("geldigheid") or None
    rows = svc.list_contracts(
        db_session(), financing=financing, financier_id=financier_id, validity=validity
    )
    return render(
        "contracts/index.html",
        "contracts/_table.html",
        contracts=rows,
        financing=financing or "",
        financier_id=financier_id or "",
        validity=validity or "",
        validities=svc.VALIDITY,
        financiers=_financier_choices(),
    )


def _date_value(value) -> str:
    return value.isoformat() if value else ""


def _contract_values(contract: Contract) -> dict:
    return {
        "financier_id": contract.financier_id,
        "naam": contract.naam,
        "begindatum": _date_value(contract.begindatum),
        "einddatum": _date_value(contract.einddatum),
        "opmerking": contract.opmerking or "",
    }


def _line_values(line: ContractLine | None, contract: Contract | None) -> dict:
    if line is None:
        return {
            "product_id": "",
            "productcode": "",
            "productcategorie": "",
            "eenheid": "",
            "tarief": "",
            "begindatum": _date_value(contract.begindatum) if contract else "",
            "einddatum": _date_value(contract.einddatum) if contract else "",
            "afronding_minuten": "0",
            "afronding_wijze": "dichtstbij",
            "btw_percentage": "0",
        }
    return {
        "product_id": line.product_id,
        "productcode": line.productcode or "",
        "productcategorie": line.productcategorie or "",
        "eenheid": line.eenheid,
        "tarief": format_cents(line.tarief_cents),
        "begindatum": _date_value(line.begindatum),
        "einddatum": _date_value(line.einddatum),
        "afronding_minuten": str(line.afronding_minuten),
        "afronding_wijze": line.afronding_wijze,
        "btw_percentage": str(line.btw_percentage),
    }


def _page(
    contract: Contract | None,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    edit_line: ContractLine | None = None,
    line_values: dict | None = None,
    line_errors: dict | None = None,
    status: int = 200,
):
    s = db_session()
    if values is None:
        values = _contract_values(contract) if contract else dict.fromkeys(CONTRACT_FIELDS, "")
        if contract is None:
            values["financier_id"] = request.args.get("financier", "")
    if line_values is None:
        line_values = _line_values(edit_line, contract)
    products = s.scalars(select(Product).order_by(Product.actief.desc(), Product.code)).all()
    units = svc.allowed_units(contract, hooks().financings) if contract else []
    return (
        render(
            "contracts/form.html",
            contract=contract,
            values=values,
            errors=errors or {},
            edit_line=edit_line,
            line_values=line_values,
            line_errors=line_errors or {},
            financiers=_financier_choices(),
            products=[(p.id, f"{p.code} – {p.naam} ({p.unit.label})") for p in products],
            units=[(u.value, u.label) for u in units],
            afronding_minuten=[
                (str(m), f"{m} min" if m else "geen") for m in svc.AFRONDING_MINUTEN
            ],
            afronding_wijzen=list(svc.AFRONDING_WIJZEN.items()),
            btw=[
                (str(p), f"{p}%" + (" (vrijgesteld)" if p == 0 else ""))
                for p in svc.BTW_PERCENTAGES
            ],
        ),
        status,
    )


def _save_contract(contract: Contract | None):
    s = db_session()
    try:
        saved = svc.save_contract(s, contract, request.form, user_id=current_user.id)
    except FormErrors as exc:
        s.rollback()
        values = {k: request.form.get(k, "") for k in CONTRACT_FIELDS}
        return _page(contract, values=values, errors=exc.errors, status=422)
    s.commit()
    flash(f"Contract {saved.naam} is opgeslagen.", "success")
    return redirect(url_for("contracts.edit", contract_id=saved.id))


def _contract(contract_id: int) -> Contract:
    return db_session().get(Contract, contract_id) or abort(404)


@bp.route("/nieuw", methods=["GET", "POST"])
@requires("contracts.edit")
def new():
    if request.method == "POST":
        return _save_contract(None)
    return _page(None)


@bp.route("/<int:contract_id>", methods=["GET", "POST"])
@requires("contracts.view")
def edit(contract_id: int):
    contract = _contract(contract_id)
    if request.method == "POST":
        if not has_permission("contracts.edit"):
            abort(403)
        return _save_contract(contract)
    edit_line = None
    if (raw := request.args.get("regel", "")).isdigit():
        edit_line = db_session().get(ContractLine, int(raw))
        if edit_line is not None and edit_line.contract_id != contract.id:
            edit_line = None
    return _page(contract, edit_line=edit_line)


def _save_line(contract: Contract, line: ContractLine | None):
    s = db_session()
    try:
        saved = svc.save_line(
            s,
            contract,
            line,
            request.form,
            financings=hooks().financings,
            user_id=current_user.id,
        )
    except FormErrors as exc:
        s.rollback()
        line_values = {k: request.form.get(k, "") for k in LINE_FIELDS}
        return _page(
            _contract(contract.id),
            edit_line=line,
            line_values=line_values,
            line_errors=exc.errors,
            status=422,
        )
    s.commit()
    flash(f"De productafspraak voor {saved.product.code} is opgeslagen.", "success")
    return redirect(url_for("contracts.edit", contract_id=contract.id) + "#regels")


@bp.route("/<int:contract_id>/regels", methods=["POST"])
@requires("contracts.edit")
def line_new(contract_id: int):
    return _save_line(_contract(contract_id), None)


@bp.route("/<int:contract_id>/regels/<int:line_id>", methods=["POST"])
@requires("contracts.edit")
def line_edit(contract_id: int, line_id: int):
    contract = _contract(contract_id)
    line = db_session().get(ContractLine, line_id)
    if line is None or line.contract_id != contract.id:
        abort(404)
    return _save_line(contract, line)


@bp.route("/<int:contract_id>/regels/<int:line_id>/verwijderen", methods=["POST"])
@requires("contracts.edit")
def line_remove(contract_id: int, line_id: int):
    s = db_session()
    contract = _contract(contract_id)
    line = s.get(ContractLine, line_id)
    if line is not None and line.contract_id == contract.id:
        code = line.product.code
        svc.remove_line(s, line, user_id=current_user.id)
        s.commit()
        flash(f"De productafspraak voor {code} is verwijderd.", "success")
    return redirect(url_for("contracts.edit", contract_id=contract.id) + "#regels")
