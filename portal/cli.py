"""The ``portal`` command: database, users, workers, scheduler, imports and the demo."""

from __future__ import annotations

import getpass
import os
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app(*_args):
    from portal.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Declaratieportaal."""


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_upgrade)
    app.cli.add_command(create_admin)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo)
    app.cli.add_command(standin)
    app.cli.add_command(import_clients_cmd)
    app.cli.add_command(import_legitimations_cmd)
    app.cli.add_command(import_registrations_cmd)
    app.cli.add_command(invoice_run_cmd)


@click.command("db-upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Bring the database to the newest migration."""
    from portal.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database bijgewerkt.")


@click.command("create-admin")
@click.option("--email", prompt="E-mailadres")
@click.option("--naam", prompt="Naam")
@click.option("--password", default=None, help="Wachtwoord (anders gevraagd)")
@with_appcontext
def create_admin(email: str, naam: str, password: str | None) -> None:
    """Create the first beheerder (or reset that user's password)."""
    from portal.db import session_scope
    from portal.services.users import UserError, create_or_reset_admin

    if password is None:
        password = getpass.getpass("Wachtwoord: ")
    try:
        with session_scope() as session:
            user = create_or_reset_admin(session, email=email, naam=naam, password=password)
            click.echo(f"Beheerder {user.email} is klaar om in te loggen.")
    except UserError as exc:
        click.echo(f"Fout: {exc}", err=True)
        sys.exit(1)


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker for the given queues (default: all)."""
    from rq import Worker

    from portal.jobs import QUEUES, get_queue, redis_connection
    from portal.jobs.runner import set_worker_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    set_worker_app(app)
    qs = [get_queue(q, app) for q in (queues or QUEUES)]
    # a heartbeat every 10 s: a worker killed hard is seen by RQ 70 s later (the started
    # registry's entry expires at heartbeat + 60 s), and the job table follows within
    # JOB_RECONCILE_SECONDS (portal.jobs.reconcile).
    # Maintenance every 30 s instead of RQ's 10 minutes: that is where a worker takes over the
    # scheduler (which moves retried jobs back onto their queue) when the worker holding it was
    # killed, or restarts its own scheduler after Redis went away. With RQ's default, a retried
    # job (say a PDF that failed while PostgreSQL restarted) waited up to 10 minutes. An idle
    # worker only gets to its maintenance when its wait for a job ends (worker_ttl - 15 s, by
    # default 405 s), so the wait is as long as the maintenance interval.
    maintenance = app.config["RQ_MAINTENANCE_SECONDS"]
    Worker(
        qs,
        connection=redis_connection(app),
        job_monitoring_interval=app.config.get("RQ_JOB_MONITORING_SECONDS", 10),
        maintenance_interval=maintenance,
        worker_ttl=maintenance + 15,
    ).work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the periodic jobs (RQ's cron scheduler): VECOZO polling and housekeeping."""
    from portal.jobs.schedule import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Also when the database already has data.")
@with_appcontext
def seed_demo(force: bool) -> None:
    """Fill the database with the demo organisation."""
    from portal.db import session_scope
    from portal.demo import seed

    # the stand-in's financiers keep their memory in the instance folder (as under
    # ``portal demo``): what the demo's history sent, they know
    os.environ.setdefault("PORTAL_INSTANCE", current_app.instance_path)
    with session_scope() as session:
        created = seed(session, force=force, hooks=current_app.extensions["hooks"])
    if created:
        from portal.demo import queue_demo_pdfs

        try:
            with session_scope() as session:
                queue_demo_pdfs(session)
        except Exception as exc:
            click.echo(f"De PDF's van de demofacturen konden niet in de wachtrij: {exc}")
    click.echo(
        "Demodata geladen." if created else "Er staan al gegevens in de database; niets gedaan."
    )


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int)
def demo(host: str, port: int, workers: int) -> None:
    """Start everything: database, embedded Redis, workers, scheduler, stand-in and web."""
    from portal.supervisor import run_demo

    run_demo(host=host, port=port, n_workers=workers)


def _run_import(path: str, kind: str) -> None:
    from portal.app import hooks
    from portal.db import session_scope
    from portal.services import imports

    with open(path, "rb") as fh:
        data = fh.read(imports.MAX_BYTES + 1)
    try:
        with session_scope() as session:
            if kind == "clienten":
                report = imports.import_clients(session, data, user_id=None)
            else:
                report = imports.import_legitimations(session, hooks(), data, user_id=None)
    except imports.ImportFileError as exc:
        click.echo(f"Niet ingelezen: {exc}", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line, err=not report.ok)
    if not report.ok:
        click.echo("Niets ingelezen: verbeter de fouten en probeer het opnieuw.", err=True)
        sys.exit(1)
    click.echo(f"{report.imported} van {report.rows} regels ingelezen.")


@click.command("import-clients")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_clients_cmd(path: str) -> None:
    """Import clients from a CSV file (all rows or none; see docs/import/)."""
    _run_import(path, "clienten")


@click.command("import-legitimations")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_legitimations_cmd(path: str) -> None:
    """Import legitimations from a CSV file (all rows or none; see docs/import/)."""
    _run_import(path, "legitimaties")


@click.command("import-registrations")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_registrations_cmd(path: str) -> None:
    """Import registrations from a CSV file: all rows or none, with a report per row."""
    from portal.services.registration_import import run_cli_import

    raise SystemExit(run_cli_import(path, click.echo))


@click.command("standin")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5001, type=int)
@click.option("--db", "db_path", default=None, help="SQLite file of the stand-in's mailboxes.")
@click.option("--cert", default=None, help="Server certificate (PEM): serve over TLS.")
@click.option("--key", default=None, help="Key of the server certificate (PEM).")
@click.option("--client-ca", default=None, help="CA (PEM) whose client certificates are required.")
@click.option("--chain-delay", default=2.0, type=float, help="Seconds until the chain check ends.")
@click.option("--fetch-delay", default=1.0, type=float, help="Seconds until a financier fetches.")
def standin(host, port, db_path, cert, key, client_ca, chain_delay, fetch_delay) -> None:
    """Run the VECOZO stand-in (same paths and contracts as VECOZO; for demos and tests)."""
    from portal.vecozo.standin.server import serve

    serve(
        host=host,
        port=port,
        db_path=db_path,
        cert=cert,
        key=key,
        client_ca=client_ca,
        chain_delay=chain_delay,
        fetch_delay=fetch_delay,
    )


@click.command("invoice-run")
@click.argument("financing")
@click.option("--periode", default=None, help="Maand als JJJJ-MM (standaard: vorige maand).")
@click.option("--render-now", is_flag=True, help="PDF's meteen maken, zonder worker.")
@with_appcontext
def invoice_run_cmd(financing: str, periode: str | None, render_now: bool) -> None:
    """Make the invoices of one financing for an ended month (PGB, particulier, onderaanneming)."""
    from datetime import date

    from portal.app import hooks
    from portal.db import session_scope
    from portal.services import invoicing

    today = date.today()
    year, month = invoicing.last_month(today)
    if periode:
        try:
            year, month = (int(p) for p in periode.split("-"))
        except ValueError:
            click.echo("Fout: geef de maand als JJJJ-MM.", err=True)
            sys.exit(1)
    try:
        with session_scope() as session:
            start, end = invoicing.check_period(year, month, today)
            run = invoicing.create_run(
                session, hooks(), financing, start, end, enqueue_render=not render_now
            )
            if render_now:
                for inv in run.invoices:
                    invoicing.render_invoice(session, hooks(), inv)
                run.status = "klaar"
            click.echo(
                f"Run {run.id}: {run.n_invoices} facturen, totaal "
                f"{run.total_cents / 100:.2f} euro ({financing}, {invoicing.period_label(start, end)})."
            )
    except invoicing.InvoiceError as exc:
        click.echo(f"Fout: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # ``python -m portal.cli`` (used by the demo supervisor)
    main()
