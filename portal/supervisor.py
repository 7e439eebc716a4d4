"""``portal demo``: the whole portal on one machine, with embedded defaults.

Starts (in this order) the database migrations and demo data, an embedded Redis server when no
REDIS_URL is set, the RQ workers, the scheduler, the VECOZO stand-in (when installed) and the web
server; prints the URL and the demo log-ins; stops everything on Ctrl-C.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

from portal.demo import DEMO_PASSWORD, DEMO_USERS


def run_demo(host: str = "127.0.0.1", port: int = 5000, n_workers: int = 2) -> None:
    os.environ.setdefault("SESSION_COOKIE_SECURE", "false")  # plain http on this machine
    from portal.app import create_app
    from portal.db import session_scope
    from portal.demo import seed
    from portal.migrate import upgrade

    app = create_app()
    embedded = None
    if not app.config["REDIS_URL"]:
        from portal.runtime import embedded_redis_url

        embedded = embedded_redis_url(app.instance_path)
        app.config["REDIS_URL"] = embedded
        os.environ["REDIS_URL"] = embedded
    os.environ.setdefault("PORTAL_INSTANCE", app.instance_path)
    os.environ["DATABASE_URL"] = app.config["DATABASE_URL"]

    upgrade(app.config["DATABASE_URL"])
    with app.app_context(), session_scope() as session:
        seeded = seed(session)

    children: list[subprocess.Popen] = []
    portal_cmd = [sys.executable, "-m", "portal.cli"]
    for _ in range(n_workers):
        children.append(subprocess.Popen([*portal_cmd, "worker"]))
    children.append(subprocess.Popen([*portal_cmd, "scheduler"]))
    standin_port = port + 1
    if importlib.util.find_spec("portal.vecozo.standin") is not None:
        children.append(
            subprocess.Popen([*portal_cmd, "standin", "--host", host, "--port", str(standin_port)])
        )

    redis_text = f"ingebouwd ({embedded})" if embedded else _redact(app.config["REDIS_URL"])
    standin_text = (
        f" en de VECOZO-stand-in op poort {standin_port}" if len(children) > n_workers + 1 else ""
    )
    print(f"\n  Declaratieportaal draait op  http://{host}:{port}")
    print(f"  Database: {_redact(app.config['DATABASE_URL'])}")
    print(f"  Redis:    {redis_text}")
    print(f"  Workers:  {n_workers}, plus de planner{standin_text}")
    print(f"  Demodata: {'zojuist geladen' if seeded else 'was er al'}")
    print(f"  Inloggen (wachtwoord voor allen: {DEMO_PASSWORD}):")
    for email, _naam, role in DEMO_USERS:
        print(f"    {email:<22} {role.label}")
    print()

    def stop(*_args):
        for child in children:
            child.terminate()
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        stop()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
