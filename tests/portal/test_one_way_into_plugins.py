"""STYLE: one way into plugins. Stacking and the services that use it get the ``Hooks`` facade
passed in; they never build a second plugin manager or reach for the app factory."""

from __future__ import annotations

import ast
from pathlib import Path

import portal

SERVICES = Path(portal.__file__).parent / "services"
CHECKED = [
    *sorted((SERVICES / "stacking").glob("*.py")),
    SERVICES / "approval.py",
    *sorted((SERVICES / "invoicing").glob("*.py")),
]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{a.name}" for a in node.names)
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_services_get_the_hooks_facade_passed_in():
    offenders = {
        path.relative_to(SERVICES.parent).as_posix(): sorted(
            n for n in _imports(path) if n.startswith("portal.app") or "get_plugin_manager" in n
        )
        for path in CHECKED
    }
    assert {k: v for k, v in offenders.items() if v} == {}
