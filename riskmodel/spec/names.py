"""Guards on member tables: where a table may live, what a member's name may hold, offset bounds.

- A member table must lie inside the scenario's folder (after following symbolic links), so a
  scenario received from someone else cannot read any file on the disk; the user may allow
  other places with ``--allow-outside-tables`` (:func:`outside_tables_allowed`).
- Member names are normalised to Unicode NFC, so ``"Nuñez"`` typed precomposed and decomposed
  is one member (and a duplicate is refused), and may not hold control or format characters
  (NUL, ESC, newlines, bidi overrides), which would corrupt tables and terminals.
- Offsets must be finite and at most :data:`MAX_OFFSET` in absolute value: larger values are
  typing errors, and squared in the utilities they overflow.
"""

from __future__ import annotations

import math
import os
import typing
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from riskmodel.errors import ScenarioError, escape_text
from riskmodel.io import input_problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALLOW_OUTSIDE_ENV",
    "MAX_OFFSET",
    "check_member_names",
    "outside_tables_allowed",
    "resolve_table",
]

MAX_OFFSET = 1e6
"""Largest member offset, in the issue's units (a judgement call: far beyond any issue's range)."""

ALLOW_OUTSIDE_ENV = "RISKMODEL_ALLOW_OUTSIDE_TABLES"

_allow_outside: ContextVar[bool] = ContextVar("allow_outside_tables", default=False)


@contextmanager
def outside_tables_allowed(allowed: bool = True) -> Iterator[None]:
    """Within this block, member tables may lie outside the scenario's folder."""
    token = _allow_outside.set(allowed)
    try:
        yield
    finally:
        _allow_outside.reset(token)


def _outside_allowed() -> bool:
    return _allow_outside.get() or os.environ.get(ALLOW_OUTSIDE_ENV, "") not in ("", "0")


def resolve_table(members: str, base_dir: Path, fail: Callable[[str], typing.NoReturn]) -> Path:
    """The member table ``members`` names, resolved; refused outside the scenario's folder.

    ``fail(message)`` raises the problem at the scenario's ``members:`` key: a NUL in the
    path, a symlink loop, a table outside ``base_dir`` (unless allowed), or a path that is a
    folder, device or FIFO. A missing file is left to the caller's own message.
    """
    if "\x00" in members:
        fail(f"the member table path '{escape_text(members)}' contains a NUL character")
    try:
        file = (base_dir / members).resolve()
    except (RuntimeError, OSError) as exc:
        fail(f"member table '{escape_text(members)}' cannot be resolved ({escape_text(exc)})")
    folder = base_dir.resolve()
    if not _outside_allowed() and not file.is_relative_to(folder):
        fail(
            f"member table '{escape_text(members)}' lies outside the scenario's folder "
            f"({escape_text(folder)}); "
            "move it there, or pass --allow-outside-tables (riskmodel --allow-outside-tables COMMAND ...) "
            "if you trust this scenario"
        )
    problem = input_problem(file)
    if problem is not None and problem != "not found":
        fail(f"member table '{escape_text(members)}': {problem}")
    return file


def _bad_character(name: str) -> str | None:
    for char in name:
        if not char.isprintable() and char != " ":
            return char
    return None


def check_member_names(table: pd.DataFrame, file: Path) -> None:
    """Normalise the ``name`` column to NFC in place; refuse control characters and huge offsets.

    Line numbers count the header as line 1 (as the table's other errors do).
    """
    if "name" in table.columns:
        normalised = []
        for row, name in enumerate(table["name"]):
            text = unicodedata.normalize("NFC", str(name))
            bad = _bad_character(text)
            if bad is not None:
                raise ScenarioError(
                    f"member name '{text}' contains the control character {escape_text(bad)!s}; "
                    "names must be printable text",
                    file=file,
                    line=row + 2,
                    location="name",
                )
            normalised.append(text)
        import pandas as pd  # lazily: `riskmodel --help` imports this module

        table["name"] = pd.Series(normalised, index=table.index, dtype=object)
    for column in table.columns:
        if not str(column).startswith("offset."):
            continue
        for row, cell in enumerate(table[column]):
            try:
                value = float(cell)
            except (TypeError, ValueError):
                continue  # the table's own check names non-numbers
            if math.isfinite(value) and abs(value) > MAX_OFFSET:
                raise ScenarioError(
                    f"offset {value:g} is beyond ±{MAX_OFFSET:g} (in the issue's units); "
                    "an offset is a member's distance from the bloc's ideal point",
                    file=file,
                    line=row + 2,
                    location=str(column),
                )
