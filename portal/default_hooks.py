"""The core's own answers to hooks, asked after every plugin (``trylast``).

A financing whose standard has no rules for numbering declarations or credit references still
gets unique ones; a plugin whose standard has rules (TR333, TR314 …) answers first.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.domain import DeclarationNumbering
from portal.hookspecs import hookimpl
from portal.models.declaration import Declaration, DeclarationLine


@hookimpl(trylast=True)
def declaration_numbering(declaration, n_lines, session, settings):
    base = f"{declaration.periode_begin:%Y%m}-"
    taken = set(
        session.scalars(
            select(Declaration.nummer).where(
                Declaration.financing == declaration.financing,
                Declaration.nummer.like(f"{base}%"),
            )
        )
    )
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    nummer = f"{base}{n}"
    return DeclarationNumbering(nummer, [f"{nummer}-{i}" for i in range(1, n_lines + 1)])


@hookimpl(trylast=True)
def credit_reference(line, session, settings):
    n = 1
    while True:
        ref = f"{line.referentie}-C{n}"
        if (
            session.scalar(select(DeclarationLine.id).where(DeclarationLine.referentie == ref))
            is None
        ):
            return ref
        n += 1
