"""The one domain exception users see, and helpers that format its location."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = ["ParameterError", "RiskmodelError", "ScenarioError", "did_you_mean", "escape_text"]


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(char: str) -> str:
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"\\x{code:02x}"
    # format characters (bidi overrides and isolates, zero-width joiners ...), line and paragraph
    # separators, surrogates and unassigned code points can reorder or hide what a terminal shows
    if unicodedata.category(char) in ("Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
        return f"[U+{code:04X}]"
    return char


def escape_text(text: object) -> str:
    r"""Text safe to print on one terminal line: control, format and bidi characters made visible.

    C0 and C1 controls (ESC, NUL, newlines ...) become ``\x1b``-style escapes and Unicode
    format characters (bidi overrides, zero-width characters) become ``[U+202E]``, so a
    message quoting a file name or scenario text can neither move the cursor, recolour the
    terminal, reorder the line nor split it in two.

    Examples
    --------
    >>> escape_text("evil\x1b[2J name\u202e")
    'evil\\x1b[2J name[U+202E]'
    """
    return "".join(
        _escape_char(char) if not char.isprintable() or char == "\t" else char for char in str(text)
    )


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
        where = escape_text(self.file or "<scenario>")
        if self.line is not None:
            where += f":{self.line}"
        if self.location:
            where += f" at {escape_text(self.location)}"
        return f"{where}: {escape_text(self.message)}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``' (did you mean 'x'?)'`` for the closest choice, or an empty string."""
    word = str(word)
    matches = difflib.get_close_matches(word, [str(c) for c in choices if str(c) != word], n=1, cutoff=0.6)
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
