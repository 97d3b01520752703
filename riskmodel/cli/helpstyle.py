"""How ``--help`` reads: argument names as users type them, flags without a ``<bool>`` type.

Typer's rich help prints every flag's type (``--report <bool>``, ``--help <bool>``) and writes
required arguments as ``{scenario}`` on the usage line; neither is what a user types. Typer
offers no setting for either, so :func:`tidy_help` adjusts the two display methods once, when
the CLI is built. Each adjustment is skipped if a later Typer no longer has the method, so the
help falls back to Typer's own style rather than breaking.
"""

from __future__ import annotations

from typing import Any

__all__ = ["tidy_help"]


def tidy_help() -> None:
    """Show arguments as ``SCENARIO`` / ``[SCENARIO]`` and flags without a type in ``--help``."""
    from typer import core

    option = getattr(core, "TyperOption", None)
    shown_type = getattr(option, "display_type_rich", None)
    if option is not None and shown_type is not None and not getattr(shown_type, "_tidied", False):

        def display_type_rich(self: Any, ctx: Any) -> str | None:
            if getattr(self, "is_flag", False) and getattr(self, "metavar", None) is None:
                return None  # an on/off switch takes no value
            return shown_type(self, ctx)

        display_type_rich._tidied = True  # type: ignore[attr-defined]
        option.display_type_rich = display_type_rich

    argument = getattr(core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "_usage_display_name"):

        def usage_name(self: Any) -> str:
            name = str(self.display_name_raw).upper()
            name = name if self.required else f"[{name}]"
            return name + ("..." if self.nargs != 1 else "")

        argument._usage_display_name = usage_name
