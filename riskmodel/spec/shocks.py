"""Stress-test files: named shocks to a scenario, validated once against it.

A shocks file lists named shocks and, optionally, named combinations of them::

    shocks:
      - {name: dems_sour, kind: shift_bloc, side: us, bloc: house_dem, issue: labour, by: -0.2}
      - {name: unions_flip, kind: flip_lobby, side: us, lobby: afl_cio}
      - {name: gop_gains, kind: move_seats, side: us, from_bloc: house_dem, to_bloc: house_rep, seats: 10}
      - {name: treaty_rule, kind: set_threshold, side: us, vote: senate_passage, threshold: two_thirds}
      - name: court
        kind: add_veto
        side: us
        player: court
        ideal: {labour: {dist: normal, mu: 0.5, sigma: 0.2}}
    combinations:
      - {name: storm, shocks: [dems_sour, unions_flip]}

Shifts are in the issue's own units (``by``) or in prior SDs of the ideal point (``sd``).
Every mistake is reported once, naming the file, line and location
(``shocks.gop_gains.from_bloc``) with a "did you mean" where one fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskmodel.errors import ScenarioError, did_you_mean
from riskmodel.spec.priors import Number, Prior
from riskmodel.spec.schema import MAX_SEATS, Label, Name, Salience, Threshold
from riskmodel.spec.yamlsource import LinePath, line_for, named_location, read_yaml

__all__ = [
    "MAX_SHOCKS_BYTES",
    "STRUCTURAL_KINDS",
    "Shock",
    "ShockFile",
    "ShockSet",
    "ShocksError",
    "read_shock_file",
]

MAX_SHOCKS_BYTES = 2_000_000
STRUCTURAL_KINDS = frozenset({"set_seats", "move_seats", "set_threshold", "add_veto", "remove_veto"})
"""Shocks that change the scenario's structure (applied before preference shocks)."""

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class ShocksError(ScenarioError):
    """A shocks file is invalid, or its shocks do not fit the scenario."""


class _Shock(BaseModel):
    model_config = _CONFIG
    name: Name
    label: Label | None = None
    side: Name


class _Shift(_Shock):
    issue: Name
    by: Number | None = Field(default=None, description="Shift in the issue's own units.")
    sd: Number | None = Field(default=None, description="Shift in prior SDs of the ideal point.")

    @model_validator(mode="after")
    def _one_amount(self) -> _Shift:
        if (self.by is None) == (self.sd is None):
            raise ValueError("give exactly one of 'by' (issue units) or 'sd' (prior SDs)")
        return self


class ShiftBloc(_Shift):
    """Move a bloc's ideal point (and its members') on one issue."""

    kind: Literal["shift_bloc"]
    bloc: Name


class ShiftLobby(_Shift):
    """Move a lobby's ideal point on one issue."""

    kind: Literal["shift_lobby"]
    lobby: Name


class ShiftPublic(_Shift):
    """Move the public's mean ideal point on one issue."""

    kind: Literal["shift_public"]


class ShiftChief(_Shift):
    """Move the chief's ideal point on one issue."""

    kind: Literal["shift_chief"]


class ShiftApproval(_Shock):
    """Swing the public's approval of the agreement beyond its terms (utility units)."""

    kind: Literal["shift_approval"]
    by: Number


class ScaleLobby(_Shock):
    """Multiply a lobby's influence (a negative factor turns it against its own gain)."""

    kind: Literal["scale_lobby"]
    lobby: Name
    factor: Number


class FlipLobby(_Shock):
    """Turn a lobby around: members it reaches now weigh its net gain negatively."""

    kind: Literal["flip_lobby"]
    lobby: Name


class SetSeats(_Shock):
    """Give a bloc (declared with ``seats``) a new seat count; the chamber's size follows."""

    kind: Literal["set_seats"]
    bloc: Name
    seats: Annotated[int, Field(ge=0, le=MAX_SEATS, strict=True)]


class MoveSeats(_Shock):
    """Move seats from one bloc to another of the same chamber (the chamber's size is kept)."""

    kind: Literal["move_seats"]
    from_bloc: Name
    to_bloc: Name
    seats: Annotated[int, Field(ge=1, le=MAX_SEATS, strict=True)]


class SetThreshold(_Shock):
    """Change a vote's threshold (and optionally what it is relative to)."""

    kind: Literal["set_threshold"]
    vote: Name
    threshold: Threshold
    relative_to: Literal["voting", "seats"] | None = None


class AddVeto(_Shock):
    """Add a veto player: a one-member chamber whose vote the side's procedure also needs."""

    kind: Literal["add_veto"]
    player: Name
    ideal: dict[Name, Prior]
    salience: Salience | None = None
    shock_scale: Prior = 0.1
    absence: Prior = 0.0
    party_pull: Prior = 0.0
    responsiveness: Prior = 0.0


class RemoveVeto(_Shock):
    """Remove a veto: the side's procedure no longer needs this vote (it counts as passed)."""

    kind: Literal["remove_veto"]
    vote: Name


Shock = Annotated[
    ShiftBloc
    | ShiftLobby
    | ShiftPublic
    | ShiftChief
    | ShiftApproval
    | ScaleLobby
    | FlipLobby
    | SetSeats
    | MoveSeats
    | SetThreshold
    | AddVeto
    | RemoveVeto,
    Field(discriminator="kind"),
]
"""Any shock of a shocks file."""

_KINDS: dict[str, type[BaseModel]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        ShiftBloc,
        ShiftLobby,
        ShiftPublic,
        ShiftChief,
        ShiftApproval,
        ScaleLobby,
        FlipLobby,
        SetSeats,
        MoveSeats,
        SetThreshold,
        AddVeto,
        RemoveVeto,
    )
}


class Combination(BaseModel):
    """Shocks applied together (structural ones first, then each in the order listed)."""

    model_config = _CONFIG
    name: Name
    label: Label | None = None
    shocks: list[Name] = Field(min_length=1)


class ShockFile(BaseModel):
    """A complete shocks file."""

    model_config = _CONFIG
    shocks: list[Shock] = Field(min_length=1)
    combinations: list[Combination] = Field(default_factory=list)


@dataclass(frozen=True)
class ShockSet:
    """Validated shocks for one scenario: every unit of a stress sweep.

    Attributes
    ----------
    spec
        The validated file.
    path
        The file, when loaded from disk.
    """

    spec: ShockFile
    path: Path | None = None

    def units(self) -> list[tuple[str, str, tuple[Any, ...]]]:
        """``(name, kind, shocks)`` of every single shock, then every combination."""
        by_name = {shock.name: shock for shock in self.spec.shocks}
        units: list[tuple[str, str, tuple[Any, ...]]] = [
            (shock.name, shock.kind, (shock,)) for shock in self.spec.shocks
        ]
        for combo in self.spec.combinations:
            units.append((combo.name, "combination", tuple(by_name[name] for name in combo.shocks)))
        return units


# --------------------------------------------------------------------------- errors


def _resolve(raw: Any, loc: Sequence[str | int], *, missing: bool) -> LinePath:
    """Follow a pydantic location through the raw data, skipping union tags."""
    path: list[str | int] = []
    node = raw
    for i, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, Mapping) and part in node):
            node = node[part]
            path.append(part)
        elif missing and i == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _allowed_keys(raw: Any, path: LinePath) -> list[str]:
    if len(path) == 0:
        return sorted(ShockFile.model_fields)
    if path[0] == "combinations":
        return sorted(Combination.model_fields)
    item = raw["shocks"][path[1]] if len(path) > 1 else None
    model = _KINDS.get(str(item.get("kind"))) if isinstance(item, Mapping) else None
    return sorted(model.model_fields) if model is not None and len(path) == 2 else []


def _validation_error(exc: pydantic.ValidationError, raw: Any, file: str, lines: dict) -> ShocksError:
    errors = exc.errors(include_url=False)
    best = max(errors, key=lambda e: len(_resolve(raw, e["loc"], missing=e["type"] == "missing")))
    kind = best["type"]
    path = _resolve(raw, best["loc"], missing=kind == "missing")
    message = str(best["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else str(best["loc"][-1])
        allowed = _allowed_keys(raw, path[:-1])
        message = f"unknown key '{key}'{did_you_mean(key, allowed)}"
        if allowed:
            message += f"; expected one of: {', '.join(allowed)}"
    elif kind == "missing":
        message = f"missing required key '{path[-1] if path else best['loc'][-1]}'"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = str((best.get("ctx") or {}).get("tag", ""))
        message = f"unknown kind '{tag}'{did_you_mean(tag, _KINDS)}; expected one of: {', '.join(_KINDS)}"
        path = (*path, "kind") if tag else path
    return ShocksError(message, file=file, location=named_location(raw, path), line=line_for(lines, path))


# --------------------------------------------------------------------------- reading


def read_shock_file(text: str, file: str) -> tuple[ShockFile, Any, dict]:
    """Validate shocks YAML text against the schema: ``(spec, raw data, line table)``.

    The raw data and line table locate later problems (:func:`riskmodel.spec.yamlsource.line_for`);
    checking the shocks against a scenario is :func:`riskmodel.spec.shockcheck.parse_shocks`.
    """
    raw, lines = read_yaml(text, file)
    if not isinstance(raw, Mapping):
        raise ShocksError("expected a mapping with 'shocks' (and optional 'combinations')", file=file, line=1)
    try:
        spec = ShockFile.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise _validation_error(exc, raw, file, lines) from None
    return spec, raw, lines
