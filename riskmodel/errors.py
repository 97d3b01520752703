"""The one domain exception users see, and helpers that format its location."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = ["ParameterError", "RiskmodelError", "ScenarioError", "did_you_mean"]


class RiskmodelError(Exception):
    """An error the user caused (bad input, bad option); the CLI exits with code 2."""


class ParameterError(RiskmodelError):
    """A bad argument of a library function, with the parameters it names kept apart from the text.

    ``template`` names the parameters as ``{name}`` fields and the values it quotes as
    ``{value_name}`` fields filled from ``values``; ``str()`` shows the parameter names, and
    :meth:`phrased` shows other names for them (a command line's flags).

    Examples
    --------
    >>> error = ParameterError("{grid} must be at least 2, got {value}", value=1)
    >>> str(error), error.phrased({"grid": "--grid"})
    ('grid must be at least 2, got 1', '--grid must be at least 2, got 1')
    """

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(self.phrased({}))

    def phrased(self, names: Mapping[str, str]) -> str:
        """The message with each parameter called by its name in ``names`` (itself otherwise)."""
        values = self.values

        class _Fields(dict[str, object]):
            def __missing__(self, key: str) -> object:
                return names.get(key, key)

        return self.template.format_map(_Fields(values))


class ScenarioError(RiskmodelError):
    """A scenario file (or a file it references) is invalid.

    Parameters
    ----------
    message
        What was expected, in plain words.
    file
        The file at fault.
    location
        Dotted path inside the file (``sides.us.chambers.house.blocs.dem.seats``).
    line
        1-based line number in the file, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        location: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.location = location
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        if self.location:
            where += f" at {self.location}"
        return f"{where}: {self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``' (did you mean 'x'?)'`` for the closest choice, or an empty string."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def format_location(parts: Sequence[str | int]) -> str:
    """Join a location path into dotted form, list indices as ``[i]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text
