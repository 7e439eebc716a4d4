"""Run the same request from many browsers at once (threads, each with its own test client and
so its own database session), released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.conftest import login


def parallel_posts(
    app, email: str, n: int, url: str, data: dict | Callable[[int], dict]
) -> list[tuple[int, str]]:
    """POST ``url`` from ``n`` logged-in clients at the same moment; (status, final page) each,
    following redirects (the page shows the flashed message)."""
    clients = []
    for _ in range(n):
        c = app.test_client()
        assert login(c, email).status_code == 302
        clients.append(c)
    barrier = threading.Barrier(n)
    results: list[tuple[int, str] | BaseException | None] = [None] * n

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            body = data(i) if callable(data) else data
            resp = clients[i].post(url, data=body, follow_redirects=True)
            results[i] = (resp.status_code, resp.get_data(as_text=True))
        except BaseException as exc:  # reported below, in the test's thread
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def parallel_calls(n: int, fn: Callable[[int], object]) -> list[object]:
    """Call ``fn(i)`` from ``n`` threads at once; the result or the exception of each."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = fn(i)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results
