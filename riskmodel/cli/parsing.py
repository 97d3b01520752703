"""Parsing of the command-line values that are not plain numbers or paths."""

from __future__ import annotations

from riskmodel.errors import RiskmodelError

__all__ = ["parse_assignments", "parse_threshold"]


def parse_threshold(text: str) -> str | int | float:
    """A vote threshold as typed: a count (``218``), a share (``0.6``) or a name (``majority``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_assignments(items: list[str], *, option: str, expects: str) -> dict[str, float]:
    """``NAME=NUMBER`` items of a repeated option as a mapping.

    Parameters
    ----------
    items
        The option's values as typed, e.g. ``["us=0.7"]``.
    option
        The option's name, for the error message (``--power``).
    expects
        What the user should type, for the error message (``SIDE=ALPHA with ALPHA in (0, 1)``).
    """
    parsed = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            parsed[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise RiskmodelError(f"{option} expects {expects}, got '{item}'")
    return parsed
