"""What every command shares: the consoles, the one way a user error ends a command, and JSON output."""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["JsonOption", "console", "emit_json", "errors", "fail", "fold", "records", "say"]

console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the table as JSON on stdout (messages go to stderr), for scripts and notebooks.",
    ),
]


def fail(exc: Exception) -> typer.Exit:
    """Print a user error (plain text, never rich markup) and return the exit with code 2.

    Messages may quote scenario text and file names, so they are never parsed as markup.
    """
    errors.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def say(as_json: bool) -> Console:
    """Where a command's human-readable lines go: stdout, or stderr when stdout carries JSON."""
    return errors if as_json else console


def fold(table: Table) -> Table:
    """Let every column of ``table`` fold its text onto further lines instead of cutting it.

    Rich fits tables to the terminal's width; a cell wider than its share would otherwise end
    in an ellipsis (``+0.138±0.…``), hiding the number's uncertainty.
    """
    for column in table.columns:
        column.overflow = "fold"
        column.no_wrap = False
    return table


def _plain(value: Any) -> Any:
    """A JSON-ready value: NumPy scalars as Python ones, NaN and infinities as null."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def records(frame: Any) -> list[dict[str, Any]]:
    """The rows of a pandas DataFrame as JSON-ready dicts (NaN as null)."""
    return [_plain(row) for row in frame.to_dict("records")]


def emit_json(payload: Any) -> None:
    """Write ``payload`` as one JSON document on stdout (NaN as null)."""
    sys.stdout.write(json.dumps(_plain(payload), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
