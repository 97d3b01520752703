"""What every command shares: the consoles and the one way a user error ends a command."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

__all__ = ["console", "errors", "fail"]

console = Console()
errors = Console(stderr=True)


def fail(exc: Exception) -> typer.Exit:
    """Print a user error (plain text, never rich markup) and return the exit with code 2.

    Messages may quote scenario text and file names, so they are never parsed as markup.
    """
    errors.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
    return typer.Exit(code=2)
