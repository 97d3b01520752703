"""What every command shares: the consoles and the one way a user error ends a command.

Every failure a user can cause ends the same way: one line on stderr, ``error: <file>:<line>
at <place>: <what was expected>``, with control characters shown escaped, and exit code 2.
:class:`SafeGroup` applies that to every command, including failures of the file system
(a full disk, a read-only folder) and of memory; a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from riskmodel.budget import LIMIT_ENV
from riskmodel.errors import RiskmodelError, ScenarioError, escape_text
from riskmodel.io import os_error_message, remove_temp_files_on_signals
from riskmodel.spec.names import ALLOW_OUTSIDE_ENV

__all__ = [
    "JsonOption",
    "SafeGroup",
    "console",
    "debug_enabled",
    "emit_json",
    "errors",
    "fail",
    "fold",
    "records",
    "say",
    "set_debug",
]

console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the table as JSON on stdout (messages go to stderr), for scripts and notebooks.",
    ),
]

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130

_state = {"debug": False}

# Typer bundles its own copy of click; its exception classes are reached through Typer's own
ClickException: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"
)


def set_debug(value: bool) -> None:
    """Show tracebacks (``--debug``) instead of one-line messages."""
    _state["debug"] = value


def debug_enabled() -> bool:
    """Whether ``--debug`` (or ``RISKMODEL_DEBUG=1``) asks for tracebacks."""
    return _state["debug"] or os.environ.get("RISKMODEL_DEBUG", "") not in ("", "0")


def _print_error(message: str) -> None:
    errors.print(
        Text.assemble(("error: ", "bold red"), escape_text(message)), highlight=False, soft_wrap=True
    )


def fail(exc: Exception | str) -> typer.Exit:
    """Print a user error (plain text, never rich markup) and return the exit with code 2.

    Messages may quote scenario text and file names, so they are never parsed as markup, and
    control characters in them are shown escaped so they can neither drive the terminal nor
    split the line.
    """
    if isinstance(exc, ScenarioError):
        # the scenario schema (pydantic models) loads only when an error needs locating
        from riskmodel.spec.yamlsource import located

        exc = located(exc)
    _print_error(str(exc))
    return typer.Exit(code=EXIT_USER_ERROR)


def _memory_message(exc: MemoryError) -> str:
    detail = " ".join(str(exc).split())
    return (
        "not enough memory for this run"
        + (f" ({detail})" if detail else "")
        + "; lower --worlds, --replicates or --grid"
    )


class SafeGroup(TyperGroup):
    """The command group: turns every failure a user can cause into one line and exit code 2."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Parse the command line; a usage error becomes one line and exit code 2."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except ClickException as exc:
            raise _usage_exit(exc) from None

    def invoke(self, ctx: Any) -> Any:
        """Run the command; any failure becomes one line (a traceback only with ``--debug``)."""
        remove_temp_files_on_signals()
        # global options (--debug, --allow-outside-tables) last for this invocation only
        saved = {name: os.environ.get(name) for name in (ALLOW_OUTSIDE_ENV, LIMIT_ENV)}
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except ClickException as exc:
            raise _usage_exit(exc) from None
        except Exception as exc:
            if debug_enabled():
                raise
            raise _exit_for(exc) from None
        except KeyboardInterrupt:
            if debug_enabled():
                raise
            _print_error("interrupted")
            raise typer.Exit(code=EXIT_INTERRUPTED) from None
        finally:
            set_debug(False)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _usage_exit(exc: Any) -> typer.Exit:
    """A bad command line (unknown option, value out of range) as one line, exit 2."""
    prefix = ""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command_path:
        prefix = f"{ctx.command_path}: "
    message = " ".join(exc.format_message().split())
    _print_error(f"{prefix}{message} (see --help)")
    return typer.Exit(code=exc.exit_code if exc.exit_code else EXIT_USER_ERROR)


def _exit_for(exc: Exception) -> typer.Exit:
    if isinstance(exc, ScenarioError):
        return fail(exc)
    if isinstance(exc, RiskmodelError):
        return fail(exc)
    if isinstance(exc, OSError):
        return fail(os_error_message(exc))
    if isinstance(exc, MemoryError):
        return fail(_memory_message(exc))
    if isinstance(exc, RecursionError):
        return fail("the input is nested too deeply to process")
    detail = " ".join(str(exc).split())[:300]
    _print_error(
        f"internal error ({type(exc).__name__}: {detail}); this is a bug in riskmodel — "
        "run again with --debug for the traceback and report it"
    )
    return typer.Exit(code=EXIT_INTERNAL_ERROR)


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
