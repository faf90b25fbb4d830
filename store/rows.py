"""How many rows a statement changed: DML results are cursor results, which SQLAlchemy's Session
types as plain results."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult, Result


def affected(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)
