"""Stack rules: which product stacks onto which (DESIGN §6.2–6.4), checked when added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import Unit
from portal.models import (
    Legitimation,
    Product,
    StackRule,
    legitimation_product,
)
from portal.services.stacking.allocation import can_stack

if TYPE_CHECKING:
    from portal.plugins import Hooks


class StackingError(ValueError):
    """A stack configuration the rules of DESIGN §6 forbid (message in Dutch)."""


def stacking_active(session: Session) -> bool:
    """Stacking is active as soon as one stack rule exists."""
    return session.scalar(select(StackRule.id).limit(1)) is not None


# -- configuration rules ------------------------------------------------------------------------


def check_stack_rule(session: Session, hooks: Hooks, product_id: int, onto_product_id: int) -> None:
    """Raise StackingError (Dutch) when the rule P -> Q breaks DESIGN §6.2–6.4."""
    product = session.get(Product, product_id)
    onto = session.get(Product, onto_product_id)
    if product is None or onto is None:
        raise StackingError("Kies bestaande producten.")
    for p in (product, onto):
        if not Unit(p.eenheid).is_time:
            raise StackingError(
                f"Product {p.code} heeft eenheid '{p.eenheid}'. Alleen producten met een "
                "tijdseenheid (uren of minuten) kunnen gestapeld worden."
            )
    existing = session.scalar(select(StackRule).where(StackRule.product_id == product_id))
    if existing is not None:
        raise StackingError(
            f"Product {product.code} loopt al over naar {existing.onto_product.code}. Een product "
            "kan niet naar meerdere onderliggende producten gestapeld worden."
        )
    # Wmo/Jw never stack: refuse when a legitimation of a non-stacking financing holds a product.
    stackable = can_stack(hooks)
    rows = session.execute(
        select(Legitimation.financing)
        .join(legitimation_product, legitimation_product.c.legitimation_id == Legitimation.id)
        .where(legitimation_product.c.product_id.in_({product_id, onto_product_id}))
        .distinct()
    ).scalars()
    for financing in rows:
        if not stackable(financing):
            raise StackingError(
                f"Dit product wordt gebruikt voor {financing}. Stapelen is niet geschikt voor de "
                "financieringsstromen Wmo en Jeugdwet."
            )
    # No cycles: following the chain from the onto product must not come back.
    rules = dict(session.execute(select(StackRule.product_id, StackRule.onto_product_id)).all())
    seen, cur = {product_id}, onto_product_id
    while cur in rules and cur != rules[cur]:
        if cur in seen:
            break
        seen.add(cur)
        cur = rules[cur]
    if onto_product_id != product_id and cur == product_id:
        raise StackingError("Deze regel maakt een kring: een stapel moet ergens eindigen.")


def add_stack_rule(
    session: Session,
    hooks: Hooks,
    product_id: int,
    onto_product_id: int,
    user_id: int | None = None,
) -> StackRule:
    check_stack_rule(session, hooks, product_id, onto_product_id)
    rule = StackRule(product_id=product_id, onto_product_id=onto_product_id, created_by=user_id)
    session.add(rule)
    session.flush()
    from portal.services import audit

    audit.record(
        session,
        "stacking.rule_added",
        user_id=user_id,
        object_type="stack_rule",
        object_id=str(rule.id),
        detail={"product_id": product_id, "onto_product_id": onto_product_id},
    )
    return rule


def remove_stack_rule(session: Session, rule_id: int, user_id: int | None = None) -> None:
    rule = session.get(StackRule, rule_id)
    if rule is None:
        return
    from portal.services import audit

    audit.record(
        session,
        "stacking.rule_removed",
        user_id=user_id,
        object_type="stack_rule",
        object_id=str(rule.id),
        detail={"product_id": rule.product_id, "onto_product_id": rule.onto_product_id},
    )
    session.delete(rule)
    session.flush()
