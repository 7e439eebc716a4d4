"""Database engine and sessions (SQLAlchemy 2, no Flask extension).

Views use ``db_session()`` (one session per app context); services take a session argument so
they run the same in views, workers and tests; workers use ``session_scope()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - driver glue
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()

    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)


DB_UNAVAILABLE = (
    "De database is even niet bereikbaar. Er is niets opgeslagen of half opgeslagen; "
    "probeer het over een minuut opnieuw."
)


def _database_unavailable(exc: Exception):
    """The database went away in the middle of a request (restart, network): the transaction
    was rolled back, so say so plainly (503) instead of a bare 500. The pool checks every
    connection before use (``pool_pre_ping``), so the next request works once it is back."""
    import logging

    logging.getLogger(__name__).error("database unavailable: %s", exc)
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
    try:
        from portal.web import render_error

        return render_error(503, DB_UNAVAILABLE)
    except Exception:  # the page itself needs the database (the logged-in user): plain text
        html = (
            '<!doctype html><html lang="nl"><meta charset="utf-8"><title>Even niet bereikbaar'
            f"</title><h1>Even niet bereikbaar</h1><p>{DB_UNAVAILABLE}</p></html>"
        )
        return html, 503, {"Content-Type": "text/html; charset=utf-8", "Retry-After": "60"}


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def db_session() -> Session:
    """The session of this app context (request or job)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


@contextmanager
def session_scope() -> Iterator[Session]:
    """A new session that commits on success and rolls back on error."""
    session: Session = current_app.extensions["db_sessionmaker"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def bulk_insert(session: Session, model: type[Base], rows: list[dict]) -> None:
    """Insert many complete rows (every column that has no server default, as plain values)
    in the session's transaction. On PostgreSQL through ``COPY``, many times faster than an
    executemany for thousands of rows (a declaration of 6,000 lines); elsewhere one
    executemany. Python-side column defaults are not applied: pass every value."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        session.execute(model.__table__.insert(), rows)
        return
    import json

    from psycopg import sql
    from sqlalchemy import JSON

    table = model.__table__
    cols = list(rows[0])
    json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_cols else row[c] for c in cols])


def lock_row(session: Session, model: type[Base], ident: int) -> None:
    """Take the write lock on one row before reading state that decides an action, so a second
    request for the same thing (a double click on "versturen") waits for the first and then
    sees what it did. PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks and ignores
    FOR UPDATE; a no-op UPDATE takes its database write lock instead (without touching
    ``updated_at``)."""
    from sqlalchemy import select, text

    table = model.__table__
    if session.connection().dialect.name == "sqlite":
        session.execute(text(f'UPDATE "{table.name}" SET id = id WHERE id = :id'), {"id": ident})
    else:
        session.execute(select(table.c.id).where(table.c.id == ident).with_for_update())
