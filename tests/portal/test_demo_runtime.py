"""The README's first command: ``portal demo`` on a fresh machine, with embedded defaults.

Started in a subprocess with an empty instance folder and no DATABASE_URL/REDIS_URL, so it uses
SQLite and an embedded Redis server. A demo user logs in over real HTTP and sees the demo data; a
job put on the queue is run by the demo's own workers; SIGTERM stops every process it started,
the embedded Redis server included.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from portal.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port_pair() -> int:
    """A port p with p+1 free as well (the demo puts the VECOZO stand-in on p+1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"portal demo stopped early:\n{log.read_text()[-3000:]}"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {timeout}s:\n{log.read_text()[-3000:]}")


def csrf_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_portal_demo_runs_and_stops_cleanly(tmp_path):
    instance = tmp_path / "instance"  # does not exist yet: a fresh machine
    log = tmp_path / "demo.log"
    port = free_port_pair()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "RQ_QUEUE_PREFIX", "PORTAL_PLUGINS_BLOCKED"}
    }
    env["PORTAL_INSTANCE"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "demo", "--port", str(port)],
            cwd=str(tmp_path),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    children: list[psutil.Process] = []
    redis_servers: list[psutil.Process] = []
    try:
        wait_for(f"{base}/login", proc, log)
        text = wait_in_log(log, "Stoppen: Ctrl-C")  # every part checked before the banner
        assert f"Declaratieportaal draait op  {base}" in text
        assert "Workers:  2 van 2 draaien" in text and "LET OP" not in text
        assert "VECOZO-stand-in:  draait op" in text
        assert "backoffice@demo.nl" in text and DEMO_PASSWORD in text
        assert "Demodata: zojuist geladen" in text
        redis_url = re.search(r"Redis:\s+ingebouwd \((unix://[^)]+)\)", text).group(1)
        socket_file = redis_url[len("unix://") :]
        assert (instance / "portal.db").exists()

        # A demo user logs in through the real web server.
        http = requests.Session()
        login_page = http.get(f"{base}/login", timeout=10).text
        resp = http.post(
            f"{base}/login",
            data={
                "email": "backoffice@demo.nl",
                "password": DEMO_PASSWORD,
                "csrf_token": csrf_token(login_page),
            },
            timeout=10,
            allow_redirects=False,
        )
        assert resp.status_code == 302, resp.text[:500]
        start = http.get(f"{base}/", timeout=10)
        assert start.status_code == 200
        assert "Goedendag, Bram Backoffice" in start.text
        counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", start.text))
        assert int(counts["Actieve cliënten"]) >= 40
        assert int(counts["Actieve legitimaties"]) >= 40
        assert "Wmo en Jeugdwet" in start.text  # the financings are loaded

        # The workers are the demo's children, connected to its embedded Redis: they run a job.
        supervisor = psutil.Process(proc.pid)
        children = supervisor.children(recursive=True)
        assert sum("worker" in " ".join(c.cmdline()) for c in children) >= 2
        assert any("scheduler" in " ".join(c.cmdline()) for c in children)
        redis_servers = [
            p
            for p in psutil.process_iter(["cmdline"])
            if socket_file in " ".join(p.info["cmdline"] or [])
        ]
        assert redis_servers, "embedded Redis server not found"
        result = run_job_on_demo(instance, redis_url)
        assert result["clienten"] >= 40
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            for c in children:
                if alive(c):
                    c.kill()
            raise
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert "Declaratieportaal is gestopt." in log.read_text()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in children + redis_servers):
        time.sleep(0.2)
    assert [c.pid for c in children if alive(c)] == [], "children still running"
    assert [p.pid for p in redis_servers if alive(p)] == [], "embedded Redis still running"
    assert (instance / "redis.db").exists()  # saved in the instance folder on the way out


def run_job_on_demo(instance: Path, redis_url: str) -> dict:
    """Put a job on the demo's queue, as a screen would, and wait for its row to say 'klaar'."""
    from portal.app import create_app
    from portal.jobs import enqueue, redis_connection
    from portal.models import BackgroundJob

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{instance / 'portal.db'}",
            "REDIS_URL": redis_url,
            "RQ_QUEUE_PREFIX": "portal",
            "SECRET_KEY": (instance / "secret_key").read_text(),
        }
    )
    sm = app.extensions["db_sessionmaker"]
    try:
        with app.app_context(), sm() as session:
            job = enqueue(
                session,
                "portal.jobs.demo.count_clients",
                2,
                0.1,
                kind="demo",
                label="Cliënten tellen",
                job_id="demo-runtime-test",
            )
        deadline = time.time() + 60
        while time.time() < deadline:
            with sm() as session:
                row = session.get(BackgroundJob, job.id)
                if row.status in ("klaar", "mislukt"):
                    assert row.status == "klaar", row.error
                    return dict(row.result)
            time.sleep(0.2)
        raise AssertionError("the demo's workers did not run the job")
    finally:
        redis_connection(app).close()
        app.extensions["db_engine"].dispose()


def wait_in_log(log: Path, text: str, timeout: float = 240) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.3)
    raise AssertionError(f"{text!r} not in the log after {timeout}s:\n{log.read_text()[-3000:]}")


def kill_hard(proc: psutil.Process) -> None:
    for p in [*proc.children(recursive=True), proc]:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def test_portal_demo_says_what_fails_and_restarts_what_dies(tmp_path):
    """The stand-in cannot start (its port is taken): the start-up text says so plainly instead
    of claiming it runs, and the demo keeps trying; once the port is free it runs. A worker and
    the scheduler killed with SIGKILL are started again and the demo runs jobs afterwards."""
    instance = tmp_path / "instance"
    log = tmp_path / "demo.log"
    port = free_port_pair()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", port + 1))
    blocker.listen(1)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "RQ_QUEUE_PREFIX", "PORTAL_PLUGINS_BLOCKED"}
    }
    env["PORTAL_INSTANCE"] = str(instance)
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "demo", "--port", str(port)],
            cwd=str(tmp_path),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    supervisor = psutil.Process(proc.pid)
    try:
        wait_for(f"{base}/login", proc, log)
        text = wait_in_log(log, "Stoppen: Ctrl-C")
        assert f"Declaratieportaal draait op  {base}" in text
        assert "Workers:  2 van 2 draaien" in text
        standin_line = next(line for line in text.splitlines() if "VECOZO-stand-in:" in line)
        assert "MISLUKT" in standin_line, standin_line
        assert "Address already in use" in text  # the stand-in's own error, from its log
        assert "LET OP: 1 onderdeel" in text
        blocker.close()
        wait_in_log(log, "VECOZO-stand-in draait weer.", timeout=90)
        assert requests.get(f"http://127.0.0.1:{port + 1}/_standin/tellers", timeout=5).ok

        workers = [c for c in supervisor.children() if " worker" in " ".join(c.cmdline())]
        planner = next(c for c in supervisor.children() if "scheduler" in " ".join(c.cmdline()))
        kill_hard(workers[0])
        kill_hard(planner)
        text = wait_in_log(log, "Planner draait weer.", timeout=90)
        assert "is gestopt (code -9)" in text
        wait_in_log(log, "Worker 1 draait weer.", timeout=60)
        now_workers = [c for c in supervisor.children() if " worker" in " ".join(c.cmdline())]
        assert len(now_workers) == 2 and workers[0].pid not in {c.pid for c in now_workers}
        redis_url = re.search(r"Redis:\s+ingebouwd \((unix://[^)]+)\)", text).group(1)
        assert run_job_on_demo(instance, redis_url)["clienten"] >= 40
    finally:
        blocker.close()
        children = supervisor.children(recursive=True) if proc.poll() is None else []
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            for c in children:
                if alive(c):
                    c.kill()
            raise
    assert proc.returncode == 0, log.read_text()[-3000:]
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(c) for c in children):
        time.sleep(0.2)
    assert [c.pid for c in children if alive(c)] == []
