"""The layering contract (issue 10), checked over the source tree with the AST.

    bot/       the domain: imports nothing from app, handlers or store, nor a channel's or the
               database's library (telegram, slack_bolt, slack_sdk, sqlalchemy, aiohttp)
    store/     persistence: imports nothing from app, handlers, bot or prompts
    handlers/  the channel adapters: import nothing from store; they call app/.
    app/       the application layer: imports nothing from handlers

Every import counts, wherever it stands: module level, inside functions, under TYPE_CHECKING.
A failure names the module, the line and the import.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Layer:
    package: str
    forbidden: tuple[str, ...]
    allowed: tuple[tuple[str, str], ...] = ()  # (importing module, imported module or package)


CONTRACT = (
    Layer("bot", ("app", "handlers", "store", "telegram", "slack_bolt", "slack_sdk", "sqlalchemy", "aiohttp")),
    Layer("store", ("app", "handlers", "bot", "prompts")),
    Layer("handlers", ("store",)),
    Layer("app", ("handlers",)),
)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file; `from a import b` also yields a.b."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(layer: Layer, root: Path = ROOT) -> list[str]:
    out: list[str] = []
    for path in sorted((root / layer.package).rglob("*.py")):
        module = module_name(path, root)
        seen: set[tuple[int, str]] = set()
        for line, target in imports_of(path, root):
            bad = next((f for f in layer.forbidden if _within(target, f)), None)
            if bad is None:
                continue
            if any(module == who and (_within(target, what) or _within(what, target)) for who, what in layer.allowed):
                continue
            # `from store.db import x` yields store.db and store.db.x: report the statement once
            if any(l == line and _within(target, t) for l, t in seen):
                continue
            seen.add((line, target))
            out.append(f"{module} ({path.relative_to(root)}:{line}) imports {target}  [{layer.package}/ must not import {bad}]")
    return out


@pytest.mark.parametrize("layer", CONTRACT, ids=lambda l: l.package)
def test_layer_imports_only_what_the_contract_allows(layer: Layer) -> None:
    found = violations(layer)
    assert not found, f"{len(found)} forbidden import(s) in {layer.package}/:\n  " + "\n  ".join(found)


def test_nothing_imports_the_removed_service() -> None:
    found = sorted({
        f"{module_name(p)} ({p.relative_to(ROOT)}:{line}) imports handlers.service"
        for top in ("app", "bot", "handlers", "store", "bench", "devkit")
        for p in sorted((ROOT / top).rglob("*.py"))
        for line, target in imports_of(p)
        if _within(target, "handlers.service") and module_name(p) != "handlers.service"
    })
    assert not found, "handlers.service is being removed, yet:\n  " + "\n  ".join(found)


def test_bench_does_not_import_tests() -> None:
    found = [
        f"{module_name(p)} ({p.relative_to(ROOT)}:{line}) imports {target}"
        for p in sorted((ROOT / "bench").rglob("*.py"))
        for line, target in imports_of(p)
        if _within(target, "tests")
    ]
    assert not found, "\n  ".join(found)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The contract is not vacuous: a planted import in each form is reported with its module and line."""
    pkg = tmp_path / "bot"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "leak.py").write_text("import os\n\ndef f():\n    from store.repository import Store\n    import sqlalchemy.orm\n")
    (pkg / "rel.py").write_text("from ..handlers import cli\n")
    found = violations(CONTRACT[0], tmp_path)
    assert any(v.startswith("bot.leak (bot/leak.py:4) imports store.repository") for v in found), found
    assert any(v.startswith("bot.leak (bot/leak.py:5) imports sqlalchemy.orm") for v in found), found
    assert any("bot.rel" in v and "imports handlers" in v for v in found), found
    assert not any("imports os" in v for v in found)
