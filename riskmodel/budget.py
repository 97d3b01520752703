"""The resource budget: how much memory a run will need, estimated before anything is allocated.

A run's memory is dominated by arrays whose sizes follow from the scenario and the options:
worlds × members (each member's shock in each world), epistemic draws × members × features
(net-gain coefficients), posterior draws × chains × model variables when the scenario has
evidence, and deals × worlds in the engine's chunks (a win-set grid is grid² deals). The
estimate adds these to a fixed base (the interpreter with PyMC, PyTensor and numba loaded)
and is meant as an upper bound; a run whose estimate exceeds the limit is refused with one
line naming the estimate, the limit and ``--memory-limit``, the option that raises it.

The limit is :func:`memory_limit`: the ``--memory-limit`` option (or ``RISKMODEL_MEMORY_LIMIT``),
by default :data:`DEFAULT_SHARE` of the machine's memory.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from riskmodel.errors import RiskmodelError

if TYPE_CHECKING:
    from riskmodel.spec.scenario import LoadedScenario
    from riskmodel.spec.schema import Scenario

__all__ = [
    "BASE_BYTES",
    "DEFAULT_SHARE",
    "LIMIT_ENV",
    "Estimate",
    "check_budget",
    "default_memory_limit",
    "estimate_run",
    "estimate_scenario",
    "format_bytes",
    "memory_limit",
    "memory_limit_set",
    "parse_size",
]

BASE_BYTES = 600 * 2**20
"""The process before any run-sized array: Python, NumPy, PyMC, PyTensor and numba loaded
(about 400 MiB measured for a small run), with room for compiled graphs."""

DEFAULT_SHARE = 0.5
"""Share of the machine's memory a run may use by default (other programs need the rest)."""

LIMIT_ENV = "RISKMODEL_MEMORY_LIMIT"

CHUNK_BYTES = 256 * 2**20
"""What the engine's deal chunks may use (``riskmodel.engine.evaluate_chunks``'s default)."""

_FLOAT = 8
_limit: ContextVar[int | None] = ContextVar("memory_limit", default=None)

_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "KIB": 2**10,
    "M": 1000**2,
    "MB": 1000**2,
    "MIB": 2**20,
    "G": 1000**3,
    "GB": 1000**3,
    "GIB": 2**30,
    "T": 1000**4,
    "TB": 1000**4,
    "TIB": 2**40,
}


def parse_size(text: str) -> int:
    """Bytes from a size such as ``8GB``, ``512MiB``, ``2.5G`` or ``1000000``.

    Examples
    --------
    >>> parse_size("2GiB"), parse_size("1.5 GB"), parse_size("100")
    (2147483648, 1500000000, 100)
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _UNITS:
        raise RiskmodelError(f"--memory-limit: expected a size such as 8GB or 512MiB, got '{text}'")
    value = float(match.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value < 1:
        raise RiskmodelError(f"--memory-limit: expected a positive size, got '{text}'")
    return int(value)


def format_bytes(size: float) -> str:
    """A size in the largest binary unit that keeps it at least 1 (``1.5 GiB``)."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,.0f} B"


def _machine_memory() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        text = ""
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, flags=re.MULTILINE)
    if match:
        return int(match.group(1)) * 1024
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_limit() -> int:
    """:data:`DEFAULT_SHARE` of the machine's memory (4 GiB when it cannot be read)."""
    total = _machine_memory()
    return int(total * DEFAULT_SHARE) if total else 4 * 2**30


def memory_limit() -> int:
    """The limit in force: ``--memory-limit``, else ``RISKMODEL_MEMORY_LIMIT``, else the default."""
    chosen = _limit.get()
    if chosen is not None:
        return chosen
    env = os.environ.get(LIMIT_ENV, "").strip()
    return parse_size(env) if env else default_memory_limit()


@contextmanager
def memory_limit_set(limit: int | None) -> Iterator[None]:
    """Within this block, runs are held to ``limit`` bytes (``None``: the default)."""
    token = _limit.set(limit)
    try:
        yield
    finally:
        _limit.reset(token)


@dataclass(frozen=True)
class Estimate:
    """Bytes a run will need, in total and by part (for the message)."""

    parts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All parts and the base."""
        return BASE_BYTES + sum(self.parts.values())

    def largest(self) -> str:
        """The part that needs most memory."""
        return max(self.parts, key=lambda name: self.parts[name]) if self.parts else "base"


def _members(spec: Scenario, table_rows: Mapping[str, int]) -> tuple[int, int, int]:
    """(members, largest chamber, referendums) of a scenario."""
    members = largest = referendums = 0
    for side in spec.sides:
        for chamber in side.chambers:
            if chamber.kind == "referendum":
                referendums += 1
                continue
            count = sum(bloc.seats or 0 for bloc in chamber.blocs)
            count += table_rows.get(f"{side.name}/{chamber.name}", 0)
            count = max(count, chamber.seats or 0)
            members += count
            largest = max(largest, count)
    return members, largest, referendums


def estimate_run(
    spec: Scenario,
    *,
    worlds: int,
    replicates: int,
    table_rows: Mapping[str, int] | None = None,
    deals: int | None = None,
    extra_members: int = 0,
) -> Estimate:
    """Estimate the memory of sampling ``worlds`` worlds of ``spec`` and evaluating ``deals`` deals.

    Parameters
    ----------
    spec
        The validated scenario.
    worlds, replicates
        As given to :func:`riskmodel.pipeline.sample_worlds`.
    table_rows
        Rows of each member table, keyed ``side/chamber``.
    deals
        Deals evaluated on the worlds (default: the scenario's named deals; a win-set grid
        is grid²).
    extra_members
        Seats that shocks may add (``set_seats`` above a bloc's size).
    """
    members, largest, referendums = _members(spec, table_rows or {})
    members += extra_members
    largest += extra_members
    issues = len(spec.issues)
    features = 2 * issues + len(spec.links) + 1
    chambers = sum(len(side.chambers) for side in spec.sides)
    votes = sum(len(side.votes) for side in spec.sides)
    sides = len(spec.sides)
    draws = math.ceil(worlds / replicates)
    n_worlds = draws * replicates  # the worlds actually made
    n_deals = len(spec.deals) if deals is None else deals
    blocs = sum(len(chamber.blocs) for side in spec.sides for chamber in side.chambers)
    # model variables per draw: members' ideal points and shocks, blocs' priors, the rest small
    per_draw = members * (issues + 4) + blocs * (4 * issues + 8) + 64 * (sides + referendums + 1)
    parts = {
        # the forward draws, and the worlds' coefficient copy of them
        "epistemic draws": 3 * draws * per_draw * _FLOAT + draws * members * features * _FLOAT,
        # member shocks (float32) and attendance per world
        "worlds": n_worlds * members * 4 + n_worlds * (chambers + referendums) * 3 * _FLOAT,
        # the engine's chunk of deals, and what is kept of every deal
        "deal evaluation": min(
            CHUNK_BYTES + n_worlds * members * _FLOAT,
            n_deals * n_worlds * (4 * chambers + 17 * votes + 2 * sides + 1),
        )
        + n_deals
        * (draws * (sides + 1) * 2 * _FLOAT + votes * (largest + 1) * _FLOAT + (issues + features) * _FLOAT),
    }
    evidence = spec.evidence
    if evidence is not None:
        # every chain's draws of every model variable, and the sampler's and the gate's copies
        parts["posterior draws"] = 3 * evidence.chains * evidence.draws * per_draw * _FLOAT
    return Estimate(parts=parts)


def estimate_scenario(
    scenario: LoadedScenario,
    *,
    worlds: int,
    replicates: int,
    deals: int | None = None,
    extra_members: int = 0,
) -> Estimate:
    """:func:`estimate_run` for a loaded scenario (its member tables counted)."""
    rows = {f"{side}/{chamber}": len(table) for (side, chamber), table in scenario.member_tables.items()}
    return estimate_run(
        scenario.spec,
        worlds=worlds,
        replicates=replicates,
        table_rows=rows,
        deals=deals,
        extra_members=extra_members,
    )


def check_budget(estimate: Estimate, limit: int | None = None, *, what: str = "this run") -> None:
    """Refuse, in one line, a run whose estimate exceeds the memory limit.

    Raises
    ------
    RiskmodelError
        Naming the estimate, the limit, the largest part and the options that change them.
    """
    limit = memory_limit() if limit is None else limit
    if estimate.total > limit:
        raise RiskmodelError(
            f"{what} would need about {format_bytes(estimate.total)} of memory (mostly "
            f"{estimate.largest()}), more than the limit of {format_bytes(limit)}; lower --worlds, "
            "--replicates, --grid or the scenario's sizes, or raise the limit with --memory-limit "
            "(riskmodel --memory-limit SIZE COMMAND ...)"
        )
