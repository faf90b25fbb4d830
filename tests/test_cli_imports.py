"""`journeybot --help` and `journeybot <command> --help` load only the prompts: no database stack,
no pydantic, no application layer, no engine (issue 10: --help must stay fast)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "alembic", "pydantic", "app", "store.repository", "store", "bot.engine")
COMMANDS = [[], ["chat"], ["export"], ["list"], ["db"], ["db", "upgrade"], ["telegram"], ["slack"], ["stats"]]

PROBE = r"""
import contextlib, io, json, sys
from handlers.cli import build_parser
parser = build_parser()
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        parser.parse_args(sys.argv[1:] + ["--help"])
    except SystemExit:
        pass
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in json.loads(HEAVY)))
print(json.dumps({"loaded": heavy, "help": out.getvalue()}))
"""


def _probe(args: list[str]) -> dict:
    code = PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY)))
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "journeybot")
def test_help_loads_no_database_stack_pydantic_app_or_engine(args: list[str]) -> None:
    result = _probe(args)
    assert result["help"].startswith("usage: journeybot"), result["help"][:200]
    assert result["loaded"] == [], f"`journeybot {' '.join(args)} --help` imported: {', '.join(result['loaded'])}"


def test_the_help_command_itself_imports_nothing_heavy() -> None:
    """The real entry point, as the shell runs it (`python -X importtime -m handlers.cli --help`)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "handlers.cli", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: journeybot")
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    heavy = sorted(m for m in imported if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], "`journeybot --help` imported: " + ", ".join(heavy)
