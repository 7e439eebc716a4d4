"""``portal demo``: the whole portal on one machine, with embedded defaults.

Starts (in this order) the database migrations and demo data, an embedded Redis server when no
REDIS_URL is set, the RQ workers, the scheduler, the VECOZO stand-in (when installed) and the web
server; prints the URL and the demo log-ins; stops everything on Ctrl-C or SIGTERM.

This process owns the embedded Redis server: the children get its URL through ``REDIS_URL`` (and
the database through ``DATABASE_URL``), and the server is stopped only after the children are.
The web server is werkzeug's threaded server (``app.run`` refuses to run inside the ``portal``
command); production uses gunicorn instead (see the README).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

from portal.demo import DEMO_PASSWORD, DEMO_USERS

STOP_TIMEOUT_SECONDS = 10


class _Stop(Exception):
    """Raised in the main thread by the SIGTERM handler to leave the serving loop."""


def run_demo(host: str = "127.0.0.1", port: int = 5000, n_workers: int = 2) -> None:
    os.environ.setdefault("SESSION_COOKIE_SECURE", "false")  # plain http on this machine
    # The local VECOZO stand-in listens on the web port + 1; web and workers send there.
    if os.environ.get("VECOZO_ENVIRONMENT", "standin") == "standin":
        os.environ.setdefault("VECOZO_BASE_URL", f"http://{host}:{port + 1}")
    from werkzeug.serving import make_server

    from portal.app import create_app
    from portal.db import session_scope
    from portal.demo import seed
    from portal.migrate import upgrade
    from portal.runtime import stop_embedded_redis

    app = create_app()
    embedded = None
    if not app.config["REDIS_URL"]:
        from portal.runtime import embedded_redis_url

        embedded = embedded_redis_url(app.instance_path)
        app.config["REDIS_URL"] = embedded
        os.environ["REDIS_URL"] = embedded
    os.environ.setdefault("PORTAL_INSTANCE", app.instance_path)
    os.environ["DATABASE_URL"] = app.config["DATABASE_URL"]

    children: list[subprocess.Popen] = []

    def stop_children() -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.time() + STOP_TIMEOUT_SECONDS
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    try:
        upgrade(app.config["DATABASE_URL"])
        with app.app_context(), session_scope() as session:
            seeded = seed(session, hooks=app.extensions["hooks"])
        try:
            server = make_server(host, port, app, threaded=True)
        except OSError as exc:
            print(
                f"\n  Poort {port} op {host} is niet beschikbaar ({exc.strerror}).", file=sys.stderr
            )
            print("  Kies een andere poort met: portal demo --port 5050\n", file=sys.stderr)
            sys.exit(2)

        portal_cmd = [sys.executable, "-m", "portal.cli"]
        for _ in range(n_workers):
            children.append(subprocess.Popen([*portal_cmd, "worker"]))
        children.append(subprocess.Popen([*portal_cmd, "scheduler"]))
        standin_port = port + 1
        with_standin = importlib.util.find_spec("portal.vecozo.standin") is not None
        if with_standin:
            children.append(
                subprocess.Popen(
                    [*portal_cmd, "standin", "--host", host, "--port", str(standin_port)]
                )
            )

        redis_text = f"ingebouwd ({embedded})" if embedded else _redact(app.config["REDIS_URL"])
        standin_text = f" en de VECOZO-stand-in op poort {standin_port}" if with_standin else ""
        print(f"\n  Declaratieportaal draait op  http://{host}:{port}")
        print(f"  Database: {_redact(app.config['DATABASE_URL'])}")
        print(f"  Redis:    {redis_text}")
        print(f"  Workers:  {n_workers}, plus de planner{standin_text}")
        print(f"  Demodata: {'zojuist geladen' if seeded else 'was er al'}")
        print(f"  Inloggen (wachtwoord voor allen: {DEMO_PASSWORD}):")
        for email, _naam, role in DEMO_USERS:
            print(f"    {email:<22} {role.label}")
        print("  Stoppen: Ctrl-C\n", flush=True)

        def on_sigterm(*_args):
            raise _Stop

        signal.signal(signal.SIGTERM, on_sigterm)
        try:
            server.serve_forever()
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            server.server_close()
    finally:
        stop_children()
        stop_embedded_redis()
    print("  Declaratieportaal is gestopt.", flush=True)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
