"""The domain package has no import cycles: every module imports on its own, in any order."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """The bot modules a file imports, wherever the import statement stands (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names}
    return {name for name in found if name in MODULES}


def test_the_import_graph_of_bot_has_no_cycle():
    graph = {name: imports_of(path) for name, path in MODULES.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            pytest.fail("import cycle: " + " -> ".join(trail[trail.index(name):] + [name]))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, trail + [name])
        done.add(name)

    for name in graph:
        visit(name, [])


ORDERS = {
    "journey first": ["bot.journey", "bot.engine"],
    "engine first": ["bot.engine", "bot.journey"],
    "all, sorted": sorted(MODULES),
    "all, reversed": sorted(MODULES, reverse=True),
}


@pytest.mark.parametrize("order", ORDERS)
def test_bot_modules_import_in_a_fresh_interpreter_in_any_order(order: str):
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-c", code, *ORDERS[order]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
