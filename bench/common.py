"""Shared helpers for the benchmarks: databases, owners, percentiles."""
from __future__ import annotations

import os
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

PG_ADMIN_URL = os.environ.get("JOURNEYBOT_BENCH_PG_URL") or os.environ.get("JOURNEYBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        engine = create_engine(driver(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # shown in the table
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL (SQLite file in a temp dir, or a new PostgreSQL database), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jb-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"jb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(driver(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield driver(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def write_results(path: Path, text: str) -> None:
    """Save a benchmark's table next to the others in bench/results/."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"written to {path.relative_to(ROOT)}")
