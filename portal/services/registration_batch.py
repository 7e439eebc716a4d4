"""Registrations from connected systems: one or thousands per call, idempotent by the sender's id.

Every registration is checked by the rules of the registration screen and the import
(``registrations.parse_form`` and ``registrations.check``, ``registration_import`` for the
employee, client and product it names, the plugins' ``validate_registration``); this module only
reads what those rules compare with for the whole batch at once (:class:`BatchLookup`) and stores
the accepted ones in bulk.

Idempotency: the sender's own id (``extern_id``) is unique per koppeling in ``api_registratie``.
The ids are claimed with ``INSERT … ON CONFLICT DO NOTHING`` before any registration is stored;
when the same batch arrives twice at the same moment, the second waits on the first one's claim
and, once that commits, finds its ids taken and stores nothing: the database decides, not a check
before the insert. A repeated id with the same content is "al ontvangen"; with other content it is
refused.

Modes: ``alles_of_niets`` (one refusal and nothing of the batch is stored) or ``per_registratie``
(what passes is stored, what does not is refused). Every refusal names its field and reason.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, text
from sqlalchemy.orm import Session, selectinload

from portal.db import bulk_insert
from portal.domain import Issue
from portal.models import (
    ApiRegistratie,
    Client,
    Legitimation,
    Product,
    Registration,
)
from portal.models._base import utcnow
from portal.models.registration import REG_CONCEPT, REG_CREDITED
from portal.services import audit
from portal.services import registrations as regs
from portal.services.registration_import import load_references
from portal.services.statuses import among as _among

MODE_ATOMIC = "alles_of_niets"
MODE_PER_ITEM = "per_registratie"

STORED = "opgeslagen"
ALREADY = "al_ontvangen"
REFUSED = "geweigerd"
NOT_STORED = "niet_opgeslagen"  # fine itself, but the batch was all-or-nothing and refused

# The form fields of registrations.parse_form -> the field names of the API
_API_FIELD = {
    "client_id": "client",
    "product_id": "product",
    "datum": "datum",
    "starttijd": "starttijd",
    "duur": "duur_minuten",
    "aantal": "aantal",
    "_form": "registratie",
}


@dataclass
class Item:
    """One registration as a connected system sends it (already typed by the API schema)."""

    extern_id: str
    medewerker: str
    client: str
    product: str
    datum: date
    starttijd: str
    duur_minuten: int | None = None
    aantal: int | None = None
    opmerking: str | None = None

    def digest(self) -> str:
        data = {
            "medewerker": self.medewerker.strip().lower(),
            "client": self.client.strip(),
            "product": self.product.strip(),
            "datum": self.datum.isoformat(),
            "starttijd": self.starttijd.strip(),
            "duur_minuten": self.duur_minuten,
            "aantal": self.aantal,
            "opmerking": (self.opmerking or "").strip() or None,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass
class Refusal:
    veld: str
    reden: str


@dataclass
class ItemResult:
    index: int
    extern_id: str
    status: str
    registratie_id: int | None = None
    fouten: list[Refusal] = field(default_factory=list)
    waarschuwingen: list[Refusal] = field(default_factory=list)


@dataclass
class BatchResult:
    mode: str
    results: list[ItemResult]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def refused(self) -> bool:
        return any(r.status == REFUSED for r in self.results)


class ConcurrentWrite(RuntimeError):
    """Another call stored a registration this batch also holds, after this batch was
    checked; the caller runs the batch again (its checks then see it)."""


class BatchLookup(regs.RegistrationLookup):
    """What the rules compare with, read once for a whole batch: the registrations of its
    employees on its days (and the day before, for care past midnight) and its clients'
    legitimations. Accepted registrations of the batch are added as it goes, so a batch is
    checked as if its registrations were saved one by one."""

    def __init__(self, session: Session, employee_ids: set[int], client_ids: set[int], days):
        self.keys: set[tuple] = set()
        self.timed: dict[tuple[int, date], list[tuple[int, int, Any]]] = defaultdict(list)
        self.legitimations: dict[int, list[Legitimation]] = defaultdict(list)
        if not days:
            return
        first, last = min(days) - timedelta(days=1), max(days)
        rows = session.execute(
            select(
                Registration.employee_id,
                Registration.client_id,
                Registration.datum,
                Registration.starttijd,
                Registration.duur_minuten,
                Client.achternaam,
                Client.voorletters,
                Client.tussenvoegsel,
            )
            .join(Client, Client.id == Registration.client_id)
            .where(
                _among(session, Registration.employee_id, sorted(employee_ids)),
                Registration.datum >= first,
                Registration.datum <= last,
                Registration.status != REG_CREDITED,
                Registration.credit_of_id.is_(None),
            )
        )
        for emp, cid, day, start, minutes, achternaam, voorletters, tussenvoegsel in rows:
            naam = Client(
                achternaam=achternaam, voorletters=voorletters, tussenvoegsel=tussenvoegsel
            )
            self.add(emp, cid, naam.naam, day, start, minutes)
        for lg in session.scalars(
            select(Legitimation)
            .options(selectinload(Legitimation.products))
            .where(
                _among(session, Legitimation.client_id, sorted(client_ids)),
                Legitimation.status == "actief",
                Legitimation.begindatum <= last,
                or_(Legitimation.einddatum.is_(None), Legitimation.einddatum >= first),
            )
        ):
            self.legitimations[lg.client_id].append(lg)

    def add(self, emp, client_id, naam, day, start, minutes) -> None:
        if start is None:
            return
        self.keys.add((emp, client_id, day, start))
        if minutes and minutes > 0:
            begin = start.hour * 60 + start.minute
            other = SimpleNamespace(
                client=SimpleNamespace(naam=naam), datum=day, starttijd=start, duur_minuten=minutes
            )
            self.timed[(emp, day)].append((begin, begin + minutes, other))

    def is_duplicate(self, session, employee_id, client_id, day, start, exclude_id=None) -> bool:
        return (employee_id, client_id, day, start) in self.keys

    def find_overlap(self, session, employee_id, day, start, minutes, exclude_id=None):
        begin = start.hour * 60 + start.minute
        end = begin + minutes
        for d, shift in ((day - timedelta(days=1), -1440), (day, 0)):
            for o_begin, o_end, other in self.timed.get((employee_id, d), ()):
                if o_begin + shift < end and begin < o_end + shift:
                    return other
        return None

    def legitimation_warning(self, session, client_id, product_id, day) -> Issue | None:
        product = session.get(Product, product_id)
        allowed = product.uursoort.financing_codes if product and product.uursoort else []
        for lg in self.legitimations.get(client_id, ()):
            if lg.covers(day) and regs.legitimation_covers(lg, product_id, allowed):
                return None
        return regs.no_legitimation_issue(product, day)


def _form(item: Item, client: Client, product: Product) -> dict[str, str]:
    """The item as the strings of the registration form (so ``parse_form`` reads it)."""
    return {
        "client_id": str(client.id),
        "product_id": str(product.id),
        "datum": item.datum.isoformat(),
        "starttijd": item.starttijd,
        "duur": "" if item.duur_minuten is None else str(item.duur_minuten),
        "aantal": "" if item.aantal is None else str(item.aantal),
        "opmerking": item.opmerking or "",
    }


def _refusals(errors: dict[str, str]) -> list[Refusal]:
    return [Refusal(_API_FIELD.get(k, k), v) for k, v in errors.items()]


def intake(
    session: Session,
    koppeling_id: int,
    items: Sequence[Item],
    *,
    mode: str = MODE_ATOMIC,
    today: date,
    validate: Callable[[Registration], list[Issue]] | None = None,
) -> BatchResult:
    """Check and store a batch in the session's transaction (the caller commits; on
    :class:`ConcurrentWrite` it rolls back and calls again)."""
    results = [ItemResult(i, it.extern_id, REFUSED) for i, it in enumerate(items)]
    digests = [it.digest() for it in items]

    # 1. the sender's ids: twice in this batch, or sent before
    first_index: dict[str, int] = {}
    for i, it in enumerate(items):
        if it.extern_id in first_index:
            results[i].fouten.append(
                Refusal(
                    "extern_id",
                    f"Dit extern_id staat al eerder in deze aanlevering (registratie "
                    f"{first_index[it.extern_id] + 1}).",
                )
            )
        else:
            first_index[it.extern_id] = i
    known = _known(session, koppeling_id, list(first_index))
    todo: list[int] = []
    for ext, i in first_index.items():
        if ext in known:
            _repeat(results[i], digests[i], *known[ext])
        else:
            todo.append(i)

    # 2. the rules of the registration screen, for the new ones
    refs = load_references(
        session,
        {items[i].medewerker.strip() for i in todo},
        {items[i].client.strip() for i in todo},
    )
    resolved = {}
    for i in todo:
        it = items[i]
        user, client, product, problems = refs.resolve(
            it.medewerker.strip(), it.client.strip(), it.product.strip()
        )
        if problems:
            results[i].fouten.extend(Refusal(k, v) for k, v in problems.items())
        else:
            resolved[i] = (user, client, product)
    lookup = BatchLookup(
        session,
        {u.id for u, _c, _p in resolved.values()},
        {c.id for _u, c, _p in resolved.values()},
        {items[i].datum for i in resolved},
    )
    accepted: dict[int, dict[str, Any]] = {}
    for i, (user, client, product) in resolved.items():
        data = regs.parse_form(session, _form(items[i], client, product))
        errors, warnings = regs.check(session, data, user.id, today=today, lookup=lookup)
        row = None
        if not errors:
            row = _row(data, product, user.id)
            if validate is not None:
                for issue in validate(Registration(**row)):
                    if issue.blocking:
                        errors[issue.field or "_form"] = issue.message
                    else:
                        warnings.append(issue)
        results[i].waarschuwingen = [
            Refusal(_API_FIELD.get(w.field, w.field or "registratie"), w.message) for w in warnings
        ]
        if errors:
            results[i].fouten.extend(_refusals(errors))
            continue
        row["waarschuwingen"] = [regs.issue_dict(w) for w in warnings]
        lookup.add(user.id, client.id, client.naam, data.datum, data.starttijd, data.duur_minuten)
        accepted[i] = row

    if mode == MODE_ATOMIC and any(r.status == REFUSED and r.fouten for r in results):
        for i in accepted:
            results[i].status = NOT_STORED
        return BatchResult(mode, results)

    # 3. claim the ids (the unique constraint decides), then store
    claimed = _claim(session, koppeling_id, {items[i].extern_id: (i, digests[i]) for i in accepted})
    lost = [i for i in accepted if items[i].extern_id not in claimed]
    if lost:  # another call stored them after step 1: a repeat, or a clash
        again = _known(session, koppeling_id, [items[i].extern_id for i in lost])
        for i in lost:
            _repeat(results[i], digests[i], *again[items[i].extern_id])
            del accepted[i]
        if mode == MODE_ATOMIC and any(r.status == REFUSED for r in results):
            session.rollback()
            for i in accepted:
                results[i].status = NOT_STORED
            return BatchResult(mode, results)
    order = sorted(accepted)
    if order:
        ids = _insert_registrations(session, [accepted[i] for i in order])
        _link(
            session, [(claimed[items[i].extern_id], rid) for i, rid in zip(order, ids, strict=True)]
        )
        for i, rid in zip(order, ids, strict=True):
            results[i].status, results[i].registratie_id = STORED, rid
    audit.record(
        session,
        "api.registraties_aangeleverd",
        user_id=None,
        object_type="api_koppeling",
        object_id=koppeling_id,
        detail={
            "modus": mode,
            "aantal": len(items),
            STORED: sum(1 for r in results if r.status == STORED),
            ALREADY: sum(1 for r in results if r.status == ALREADY),
            REFUSED: sum(1 for r in results if r.status == REFUSED),
        },
    )
    return BatchResult(mode, results)


def _known(session: Session, koppeling_id: int, extern_ids: list[str]) -> dict[str, tuple]:
    out = {}
    for chunk in range(0, len(extern_ids), 5000):
        for ext, rid, digest in session.execute(
            select(
                ApiRegistratie.extern_id,
                ApiRegistratie.registration_id,
                ApiRegistratie.payload_hash,
            ).where(
                ApiRegistratie.koppeling_id == koppeling_id,
                _among(session, ApiRegistratie.extern_id, extern_ids[chunk : chunk + 5000]),
            )
        ):
            out[ext] = (rid, digest)
    return out


def _repeat(result: ItemResult, digest: str, registration_id: int | None, stored: str) -> None:
    if stored == digest:
        result.status, result.registratie_id = ALREADY, registration_id
        return
    result.status = REFUSED
    result.fouten.append(
        Refusal(
            "extern_id",
            "Dit extern_id is al gebruikt voor een registratie met andere gegevens"
            + (f" (registratie {registration_id})" if registration_id else "")
            + ". Een aangeleverde registratie wordt niet overschreven; stuur een nieuw extern_id.",
        )
    )


def _row(data: regs.RegistrationInput, product: Product, employee_id: int) -> dict[str, Any]:
    now = utcnow()
    return {
        "client_id": data.client_id,
        "product_id": data.product_id,
        "uursoort_id": product.uursoort_id,
        "employee_id": employee_id,
        "datum": data.datum,
        "starttijd": data.starttijd,
        "duur_minuten": data.duur_minuten if product.is_time else None,
        "aantal": None if product.is_time else data.aantal,
        "opmerking": data.opmerking,
        "status": REG_CONCEPT,
        "approval_run_id": None,
        "bron": "api",
        "import_bestand": None,
        "waarschuwingen": [],
        "credit_of_id": None,
        "credit_reden": None,
        "created_at": now,
        "updated_at": now,
    }


def _insert_statement(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(ApiRegistratie)


def _claim(
    session: Session, koppeling_id: int, wanted: dict[str, tuple[int, str]]
) -> dict[str, int]:
    """Insert the ids in a fixed order (two batches never wait on each other crosswise);
    returns extern_id -> api_registratie.id of those this call got."""
    if not wanted:
        return {}
    now = utcnow()
    rows = [
        {
            "koppeling_id": koppeling_id,
            "extern_id": ext,
            "registration_id": None,
            "payload_hash": digest,
            "created_at": now,
        }
        for ext, (_i, digest) in sorted(wanted.items())
    ]
    if session.get_bind().dialect.name == "postgresql":
        # three array parameters instead of five per row: the statement stays small and cached
        found = session.execute(
            text(
                "INSERT INTO api_registratie "
                "(koppeling_id, extern_id, registration_id, payload_hash, created_at) "
                "SELECT :k, e, NULL, h, :now FROM unnest(CAST(:ext AS text[]), "
                "CAST(:hash AS text[])) AS v(e, h) "
                "ON CONFLICT (koppeling_id, extern_id) DO NOTHING RETURNING id, extern_id"
            ),
            {
                "k": koppeling_id,
                "now": now,
                "ext": [r["extern_id"] for r in rows],
                "hash": [r["payload_hash"] for r in rows],
            },
        )
        return {ext: kid for kid, ext in found}
    stmt = (
        _insert_statement(session)
        .on_conflict_do_nothing(index_elements=["koppeling_id", "extern_id"])
        .returning(ApiRegistratie.id, ApiRegistratie.extern_id)
    )
    got: dict[str, int] = {}
    for chunk in range(0, len(rows), 1000):
        for kid, ext in session.execute(stmt.values(rows[chunk : chunk + 1000])):
            got[ext] = kid
    return got


def _insert_registrations(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert and return the new ids in order. PostgreSQL: ids taken from the sequence first,
    then one COPY (a thousand rows in a few milliseconds)."""
    from sqlalchemy.exc import IntegrityError

    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('registration', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            )
        )
        for rid, row in zip(ids, rows, strict=True):
            row["id"] = rid
        try:
            with session.begin_nested():
                bulk_insert(session, Registration, rows)
        except IntegrityError as exc:
            raise ConcurrentWrite(str(exc.orig)) from exc
        return ids
    try:
        with session.begin_nested():
            return list(
                session.scalars(
                    insert(Registration).returning(Registration.id, sort_by_parameter_order=True),
                    rows,
                )
            )
    except IntegrityError as exc:  # the unique index (employee, client, start) decided
        raise ConcurrentWrite(str(exc.orig)) from exc


def _link(session: Session, pairs: list[tuple[int, int]]) -> None:
    """api_registratie.registration_id for each claimed id: on PostgreSQL in one
    UPDATE … FROM unnest(…), elsewhere as an executemany."""
    if session.get_bind().dialect.name != "postgresql":
        table = ApiRegistratie.__table__
        session.execute(
            table.update()
            .where(table.c.id == bindparam("kid"))
            .values(registration_id=bindparam("rid")),
            [{"kid": k, "rid": r} for k, r in pairs],
        )
        return
    session.execute(
        text(
            "UPDATE api_registratie a SET registration_id = v.rid "
            "FROM unnest(CAST(:kids AS integer[]), CAST(:rids AS integer[])) AS v(kid, rid) "
            "WHERE a.id = v.kid"
        ),
        {"kids": [k for k, _r in pairs], "rids": [r for _k, r in pairs]},
    )
