"""The database triggers behind the change feed (``portal.services.statuses``), as SQL.

Every insert, status change or delete of a registration, a declaration line or an invoice writes
a ``status_change`` row, whichever service (or a bulk UPDATE, or COPY) made it: the feed can not
miss a change because some code path forgot to report it.

PostgreSQL: statement-level triggers with transition tables write one row per statement and up to
1,000 object ids (cheap for the approval of 300,000 registrations), tagged with the transaction
id. The first change of a transaction also inserts its ``status_change_batch`` row; a deferred
constraint trigger on that row runs at commit, takes a transaction-level advisory lock and gives
the batch the next ``seq``. The lock is held only from that moment until the commit is done, so
``seq`` follows commit order and a poller that has read up to ``seq`` N never sees a later commit
appear below N.

SQLite: row-level triggers; SQLite lets one writer in at a time, so ``status_change.id`` already
follows commit order.
"""

from __future__ import annotations

# (table, soort, id expression, columns whose change counts, with insert/delete)
_WATCHED = (
    (
        "registration",
        "registratie",
        "id",
        (
            "status",
            "approval_run_id",
            "client_id",
            "product_id",
            "employee_id",
            "datum",
            "starttijd",
            "duur_minuten",
            "aantal",
        ),
    ),
    (
        "declaration_line",
        "declaratieregel",
        "id",
        ("status", "declaration_id", "bedrag_cents", "volume", "retourcodes"),
    ),
    ("invoice", "factuur", "id", ("status", "nummer", "paid_at", "sent_at", "totaal_cents")),
)
# JSON columns have no equality operator in PostgreSQL: compare their text.
_JSON_COLUMNS = {"retourcodes"}
ADVISORY_LOCK_KEY = 7_413_001  # any constant the portal uses for nothing else

_PG_BATCH = """
CREATE SEQUENCE IF NOT EXISTS status_change_seq;
CREATE OR REPLACE FUNCTION portal_status_change_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({key});
    UPDATE status_change_batch SET seq = nextval('status_change_seq')
     WHERE txid = NEW.txid AND seq IS NULL;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER status_change_batch_commit AFTER INSERT ON status_change_batch
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_status_change_commit();
"""

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_changes_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_change (soort, ids, txid, at)
    SELECT '{soort}', to_json(array_agg(oid ORDER BY oid)), pg_current_xact_id()::text::bigint,
           now()
      FROM (SELECT oid, (row_number() OVER (ORDER BY oid) - 1) / 1000 AS chunk
              FROM ({rows}) changed) numbered
     GROUP BY chunk;
    IF FOUND THEN
        INSERT INTO status_change_batch (txid) VALUES (pg_current_xact_id()::text::bigint)
        ON CONFLICT (txid) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER status_change_{name} AFTER {event} ON {table}
    REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION portal_changes_{name}();
"""


def _distinct(columns: tuple[str, ...], new: str = "n", old: str = "o") -> str:
    parts = []
    for c in columns:
        if c in _JSON_COLUMNS:
            parts.append(f"{new}.{c}::text IS DISTINCT FROM {old}.{c}::text")
        else:
            parts.append(f"{new}.{c} IS DISTINCT FROM {old}.{c}")
    return " OR ".join(parts)


def postgresql_statements() -> list[str]:
    out = [_PG_BATCH.format(key=ADVISORY_LOCK_KEY)]
    for table, soort, ident, columns in _WATCHED:
        kinds = {
            "ins": (
                "INSERT",
                "NEW TABLE AS new_rows",
                f"SELECT DISTINCT {ident} AS oid FROM new_rows",
            ),
            "del": (
                "DELETE",
                "OLD TABLE AS old_rows",
                f"SELECT DISTINCT {ident} AS oid FROM old_rows",
            ),
            "upd": (
                "UPDATE",
                "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                f"SELECT DISTINCT n.{ident} AS oid FROM new_rows n JOIN old_rows o ON o.id = n.id"
                f" WHERE {_distinct(columns)}",
            ),
        }
        for suffix, (event, referencing, rows) in kinds.items():
            out.append(
                _PG_FUNCTION.format(
                    name=f"{table}_{suffix}",
                    soort=soort,
                    rows=rows,
                    event=event,
                    table=table,
                    referencing=referencing,
                )
            )
    return out


def sqlite_statements() -> list[str]:
    out = []
    for table, soort, ident, columns in _WATCHED:
        insert = (
            "INSERT INTO status_change (soort, ids, txid, at) "
            f"VALUES ('{soort}', json_array({{row}}.{ident}), NULL, "
            "strftime('%Y-%m-%d %H:%M:%f', 'now'));"
        )
        out.append(
            f"CREATE TRIGGER status_change_{table}_ins AFTER INSERT ON {table} "
            f"BEGIN {insert.format(row='NEW')} END"
        )
        out.append(
            f"CREATE TRIGGER status_change_{table}_del AFTER DELETE ON {table} "
            f"BEGIN {insert.format(row='OLD')} END"
        )
        when = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
        out.append(
            f"CREATE TRIGGER status_change_{table}_upd AFTER UPDATE ON {table} WHEN {when} "
            f"BEGIN {insert.format(row='NEW')} END"
        )
    return out


def drop_statements(dialect: str) -> list[str]:
    out = []
    for table, _soort, _ident, _columns in _WATCHED:
        for suffix in ("ins", "del", "upd"):
            out.append(
                f"DROP TRIGGER IF EXISTS status_change_{table}_{suffix}"
                + (f" ON {table}" if dialect == "postgresql" else "")
            )
            if dialect == "postgresql":
                out.append(f"DROP FUNCTION IF EXISTS portal_changes_{table}_{suffix}()")
    if dialect == "postgresql":
        out.append("DROP TRIGGER IF EXISTS status_change_batch_commit ON status_change_batch")
        out.append("DROP FUNCTION IF EXISTS portal_status_change_commit()")
        out.append("DROP SEQUENCE IF EXISTS status_change_seq")
    return out


def install(bind) -> None:
    """Create the triggers on a connection (the migration calls this)."""
    from sqlalchemy import text

    statements = (
        postgresql_statements() if bind.dialect.name == "postgresql" else sqlite_statements()
    )
    for statement in statements:
        bind.execute(text(statement))
