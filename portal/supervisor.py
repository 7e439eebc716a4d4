"""``portal demo``: the whole portal on one machine, with embedded defaults.

Starts (in this order) the database migrations and demo data, an embedded Redis server when no
REDIS_URL is set, the RQ workers, the scheduler, the VECOZO stand-in (when installed) and the web
server; prints the URL and the demo log-ins; stops everything on Ctrl-C or SIGTERM.

It reports honestly and keeps the parts running:

* A part counts as running only when it answers: the web server and the stand-in answer HTTP,
  a worker is registered in Redis under its own process id, the scheduler is registered in
  RQ's scheduler registry. The start-up text says per part whether it runs; a part that does not
  is shown as ``MISLUKT`` with the last lines of its log (``<instance>/logs/<part>.log``).
* A part that stops (crash, ``kill -9``) is started again, with a growing pause when it keeps
  stopping, and the supervisor says so on the console.

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
import threading
import time
from collections.abc import Callable
from pathlib import Path

from portal.demo import DEMO_PASSWORD, DEMO_USERS

STOP_TIMEOUT_SECONDS = 10
READY_TIMEOUT_SECONDS = 120  # a busy machine: a worker's start-up (imports, app) can be slow
CHECK_INTERVAL_SECONDS = 0.5


class _Stop(Exception):
    """Raised in the main thread by the SIGTERM handler to leave the supervising loop."""


def say(text: str = "") -> None:
    print(text, flush=True)


class Part:
    """One child process of the demo: how to start it, how to tell that it answers."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        log_path: Path,
        ready: Callable[[subprocess.Popen], bool],
        before_restart: Callable[[], None] | None = None,
    ):
        self.name, self.cmd, self.log_path, self.ready = name, cmd, log_path, ready
        self.before_restart = before_restart
        self.proc: subprocess.Popen | None = None
        self.state = "nieuw"  # nieuw → start → draait / mislukt; gestopt → (pause) → start
        self.started_at = 0.0
        self.restart_at = 0.0
        self.stops: list[float] = []

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- gestart {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT)
        self.state, self.started_at = "start", time.monotonic()

    def answers(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            return bool(self.ready(self.proc))
        except Exception:
            return False

    def tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").rstrip().splitlines()
        except OSError:
            return ""
        return "\n".join(f"      | {line}" for line in text[-lines:])

    def pause(self) -> float:
        """Seconds before the next start: 1 s, growing to 30 s while it keeps stopping."""
        now = time.monotonic()
        self.stops = [t for t in self.stops if now - t < 120]
        return min(30.0, 2.0 ** max(0, len(self.stops) - 1))


def run_demo(host: str = "127.0.0.1", port: int = 5000, n_workers: int = 2) -> None:
    os.environ.setdefault("SESSION_COOKIE_SECURE", "false")  # plain http on this machine
    # The local VECOZO stand-in listens on the web port + 1; web and workers send there.
    if os.environ.get("VECOZO_ENVIRONMENT", "standin") == "standin":
        # The stand-in shows BSNs without log-in: it always listens on this machine only.
        os.environ.setdefault("VECOZO_BASE_URL", f"http://127.0.0.1:{port + 1}")
    from werkzeug.serving import make_server

    from portal.app import create_app
    from portal.db import session_scope
    from portal.demo import seed
    from portal.migrate import upgrade
    from portal.runtime import QuietRequestHandler, stop_embedded_redis

    app = create_app()
    embedded = None
    if not app.config["REDIS_URL"]:
        from portal.runtime import embedded_redis_url

        embedded = embedded_redis_url(app.instance_path)
        app.config["REDIS_URL"] = embedded
        os.environ["REDIS_URL"] = embedded
    os.environ.setdefault("PORTAL_INSTANCE", app.instance_path)
    os.environ["DATABASE_URL"] = app.config["DATABASE_URL"]
    logs = Path(app.instance_path) / "logs"

    parts: list[Part] = []
    server = None
    web_thread = None

    def stop_children() -> None:
        for part in parts:
            if part.proc is not None and part.proc.poll() is None:
                part.proc.terminate()
        deadline = time.time() + STOP_TIMEOUT_SECONDS
        for part in parts:
            if part.proc is None:
                continue
            try:
                part.proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                part.proc.kill()
                part.proc.wait()

    def on_sigterm(*_args):
        raise _Stop

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        upgrade(app.config["DATABASE_URL"])
        with app.app_context(), session_scope() as session:
            seeded = seed(session, hooks=app.extensions["hooks"])
        if seeded:
            _queue_demo_pdfs(app)
        try:
            server = make_server(
                host, port, app, threaded=True, request_handler=QuietRequestHandler
            )
        except OSError as exc:
            print(
                f"\n  Poort {port} op {host} is niet beschikbaar ({exc.strerror}).", file=sys.stderr
            )
            print("  Kies een andere poort met: portal demo --port 5050\n", file=sys.stderr)
            sys.exit(2)
        web_thread = threading.Thread(target=server.serve_forever, daemon=True)
        web_thread.start()

        parts = _make_parts(app, host, port, n_workers, logs)
        for part in parts:
            part.start()
        web_ok = _wait_http(f"http://{host}:{port}/login", READY_TIMEOUT_SECONDS)
        _wait_ready(parts, READY_TIMEOUT_SECONDS)

        redis_text = f"ingebouwd ({embedded})" if embedded else _redact(app.config["REDIS_URL"])
        failing = [p for p in parts if p.state != "draait"] + ([] if web_ok else ["web"])
        say()
        if web_ok:
            say(f"  Declaratieportaal draait op  http://{host}:{port}")
        else:
            say(f"  MISLUKT: de webserver op http://{host}:{port} antwoordt niet.")
        say(f"  Database: {_redact(app.config['DATABASE_URL'])}")
        say(f"  Redis:    {redis_text}")
        workers = [p for p in parts if p.name.startswith("Worker")]
        n_ok = sum(p.state == "draait" for p in workers)
        say(f"  Workers:  {n_ok} van {len(workers)} draaien")
        for part in parts:
            if part in workers and part.state == "draait":
                continue
            say(f"  {part.name + ':':<17} {_state_text(part, host)}")
        say(f"  Logboeken: {logs}")
        say(f"  Demodata: {'zojuist geladen' if seeded else 'was er al'}")
        say(f"  Inloggen (wachtwoord voor allen: {DEMO_PASSWORD}):")
        for email, _naam, role in DEMO_USERS:
            say(f"    {email:<22} {role.label}")
        if failing:
            what = (
                "1 onderdeel draait" if len(failing) == 1 else f"{len(failing)} onderdelen draaien"
            )
            say(f"  LET OP: {what} niet (zie hierboven); de supervisor blijft het proberen.")
        say("  Stoppen: Ctrl-C\n")
        _supervise(parts, host)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if server is not None:
            if web_thread is not None:
                server.shutdown()
            server.server_close()
        stop_children()
        stop_embedded_redis()
    say("  Declaratieportaal is gestopt.")


def _queue_demo_pdfs(app) -> None:
    """The PDFs of the demo's invoice history: made by the workers once they run."""
    from portal.db import session_scope
    from portal.demo import queue_demo_pdfs

    try:
        with app.app_context(), session_scope() as session:
            queue_demo_pdfs(session)
    except Exception as exc:  # the demo runs without them; the invoice page says so
        say(f"  De PDF's van de demofacturen konden niet in de wachtrij: {exc}")


def _state_text(part: Part, host: str) -> str:
    if part.state == "draait":
        extra = f" op {part.cmd[part.cmd.index('--port') + 1]}" if "--port" in part.cmd else ""
        return f"draait{extra}"
    code = part.proc.poll() if part.proc else None
    why = f"gestopt met code {code}" if code is not None else "antwoordt niet"
    return f"MISLUKT ({why}); laatste regels van {part.log_path}:\n{part.tail()}"


def _make_parts(app, host: str, port: int, n_workers: int, logs: Path) -> list[Part]:
    from portal.jobs import redis_connection
    from portal.jobs.schedule import scheduler_name

    conn = redis_connection(app)
    portal_cmd = [sys.executable, "-m", "portal.cli"]

    def worker_ready(proc: subprocess.Popen) -> bool:
        from rq import Worker

        return any(w.pid == proc.pid for w in Worker.all(connection=conn))

    def scheduler_ready(_proc: subprocess.Popen) -> bool:
        from rq import cron_scheduler_registry

        beat = conn.zscore(cron_scheduler_registry.get_registry_key(), scheduler_name(app))
        return beat is not None and time.time() - beat < 90

    def forget_scheduler() -> None:
        """The old scheduler is dead for sure (it was our child): its registration may go."""
        from rq import cron_scheduler_registry

        conn.zrem(cron_scheduler_registry.get_registry_key(), scheduler_name(app))

    parts = [
        Part(f"Worker {i}", [*portal_cmd, "worker"], logs / f"worker-{i}.log", worker_ready)
        for i in range(1, n_workers + 1)
    ]
    parts.append(
        Part(
            "Planner",
            [*portal_cmd, "scheduler"],
            logs / "planner.log",
            scheduler_ready,
            before_restart=forget_scheduler,
        )
    )
    if importlib.util.find_spec("portal.vecozo.standin") is not None:
        standin_port = port + 1
        # The stand-in shows BSNs without log-in: it listens on this machine only, whatever
        # address the portal itself serves on.
        url = f"http://127.0.0.1:{standin_port}/_standin/tellers"
        parts.append(
            Part(
                "VECOZO-stand-in",
                [*portal_cmd, "standin", "--host", "127.0.0.1", "--port", str(standin_port)],
                logs / "vecozo-stand-in.log",
                lambda _proc: _http_answers(url),
            )
        )
    return parts


def _http_answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _http_answers(url):
            return True
        time.sleep(0.2)
    return False


def _wait_ready(parts: list[Part], timeout: float) -> None:
    """Until every part answers or stopped, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = False
        for part in parts:
            if part.state != "start":
                continue
            if part.answers():
                part.state = "draait"
            elif part.proc is not None and part.proc.poll() is not None:
                part.state = "mislukt"
            else:
                pending = True
        if not pending:
            return
        time.sleep(0.2)
    for part in parts:
        if part.state == "start":
            part.state = "mislukt"


def _supervise(parts: list[Part], host: str) -> None:
    """Watch the parts until stopped: restart what stopped, say what changed."""
    while True:
        now = time.monotonic()
        for part in parts:
            code = part.proc.poll() if part.proc is not None else None
            if part.state in ("draait", "start", "mislukt") and code is not None:
                part.stops.append(now)
                part.restart_at = now + part.pause()
                part.state = "gestopt"
                say(
                    f"  {part.name} is gestopt (code {code}); wordt over "
                    f"{part.restart_at - now:.0f} s opnieuw gestart. Laatste regels van "
                    f"{part.log_path}:\n{part.tail(5)}"
                )
            elif part.state == "gestopt" and now >= part.restart_at:
                if part.before_restart is not None:
                    try:
                        part.before_restart()
                    except Exception as exc:
                        say(f"  {part.name}: opruimen vóór herstart mislukt ({exc}).")
                part.start()
            elif part.state == "start":
                if part.answers():
                    part.state = "draait"
                    say(f"  {part.name} draait weer.")
                elif now - part.started_at > READY_TIMEOUT_SECONDS:
                    part.state = "mislukt"
                    say(f"  {part.name} antwoordt niet: {_state_text(part, host)}")
            elif part.state == "mislukt" and part.answers():
                part.state = "draait"
                say(f"  {part.name} draait weer.")
        time.sleep(CHECK_INTERVAL_SECONDS)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
