"""Exact yes counts on a two-issue grid of deals by sweeping rows, not evaluating every point.

On a grid over issues i (``u``, columns) and j (``v``, rows) with every other issue held at a
base deal, a member's net gain is a bivariate quadratic ``a·u² + (b₀ + b₁·v)·u + c(v)``. Along
one row its yes set ``{u : gain(u) > -shock}`` is therefore one run of columns (concave or
linear gain) or the complement of one run (convex gain), whose ends are the roots of
``gain(u) + shock`` rounded onto the grid; a difference array turns every member's run into the
chamber's yes count per column. The cost is O(world × member × row) instead of the engine's
O(world × member × deal), with the same answer as the engine at every grid point except where
a member is indifferent to within rounding (the engine works in float32; the tests allow one
count in a thousand to differ by one and find none on the scenarios).

The counts meet each vote's threshold inside the sweep kernel — needed votes from the engine's
own :func:`riskmodel.engine.votes.needed_counts`, once per (vote, world) since they do not depend
on the deal — and the sides' procedures and the agreement rule are applied to the outcomes
(:func:`riskmodel.engine.procedure.evaluate_procedure`, vectorised over worlds and deals).
Chunks leave as :class:`SweepChunk` objects: :class:`riskmodel.engine.ChunkOutcome` without the
support and margin arrays, which a map does not need.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.engine.chunks import level_one, nest_sides
from riskmodel.engine.kernel import cached_for
from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.referendum import referendum_share
from riskmodel.engine.sweep_kernels import grid_polynomials, sweep_passed
from riskmodel.engine.votes import needed_counts, referendum_outcomes
from riskmodel.worlds.arrays import Expression, VoteRule, Worlds

__all__ = ["SweepChunk", "grid_polynomials", "outcome_bytes_per_deal", "sweep_chunks"]


@dataclass(frozen=True)
class SweepChunk:
    """Outcomes for one chunk of grid deals in every world (cf. :class:`~riskmodel.engine.ChunkOutcome`).

    Attributes
    ----------
    deal_slice
        Which deals of the grid (rows major) this chunk holds.
    vote_passed
        ``(V, D, R, n)`` whether each vote passed.
    side_ratified
        ``(S, D, R, n)`` whether each side ratified.
    agreed
        ``(D, R, n)`` whether every side ratified.
    """

    deal_slice: slice
    vote_passed: npt.NDArray[np.bool_]
    side_ratified: npt.NDArray[np.bool_]
    agreed: npt.NDArray[np.bool_]


def outcome_bytes_per_deal(worlds: Worlds, n_votes: int, n_sides: int) -> int:
    """Approximate bytes of outcome arrays (and their temporaries) per deal of a sweep chunk."""
    n_referendums = len(worlds.referendum_chambers)
    return worlds.n_worlds * (n_votes + 4 * n_sides + 9 + 8 * n_referendums)


def sweep_chunks(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    procedures: Sequence[Expression],
    *,
    base_unit: npt.ArrayLike,
    x_index: int,
    y_index: int,
    x_unit: npt.ArrayLike,
    y_unit: npt.ArrayLike,
    chunk_size: int | None = None,
    memory_budget: int = 256 * 2**20,
    agreement: Expression | None = None,
) -> Iterator[SweepChunk]:
    """Evaluate an evenly spaced grid of deals (rows = ``y_unit``, columns = ``x_unit``).

    Deal ``n`` of the grid is row ``n // len(x_unit)``, column ``n % len(x_unit)``. Chunks hold
    whole rows, or part of one row when a row alone exceeds ``chunk_size`` deals (by default as
    many deals as fit ``memory_budget`` bytes of outcome arrays).

    Parameters
    ----------
    worlds
        The sampled worlds.
    rules, procedures
        Vote rules and compiled side procedures, in the layout's order.
    base_unit
        ``(K,)`` the deal (unit scale) that fixes the other issues.
    x_index, y_index
        Issues of the columns and of the rows (distinct).
    x_unit, y_unit
        Grid values on the unit scale; ``x_unit`` evenly spaced and increasing.
    chunk_size, memory_budget
        As in :func:`riskmodel.engine.evaluate_chunks`.
    agreement
        The Level-I rule of every grid deal (default: the worlds' own). Chambers with vote
        weights or an abstention band are not swept: use :func:`riskmodel.engine.evaluate_chunks`.

    Yields
    ------
    SweepChunk
    """
    xs = np.asarray(x_unit, dtype=np.float64)
    ys = np.asarray(y_unit, dtype=np.float64)
    base = np.asarray(base_unit, dtype=np.float64).copy()
    if x_index == y_index:
        raise ValueError("the grid needs two different issues")
    if worlds.member_weight is not None or worlds.abstention_band is not None:
        raise ValueError("the sweep counts one vote per member without abstention: use evaluate_chunks")
    if xs.size > 1 and not np.allclose(np.diff(xs), xs[1] - xs[0], rtol=1e-9, atol=1e-12):
        raise ValueError("x_unit must be evenly spaced")
    if xs.size > 1 and xs[1] <= xs[0]:
        raise ValueError("x_unit must be increasing")
    n_cols = xs.size
    u0 = float(xs[0])
    du = float(xs[1] - xs[0]) if n_cols > 1 else 1.0
    if chunk_size is None:
        per_deal = outcome_bytes_per_deal(worlds, len(rules), len(procedures))
        chunk_size = max(1, memory_budget // max(per_deal, 1))
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    needed = needed_counts(worlds, rules)
    present = worlds.present.astype(np.int64)
    referendum = set(worlds.referendum_chambers.tolist())
    vote_chamber = np.array([-1 if r.chamber in referendum else r.chamber for r in rules], dtype=np.int64)
    vote_for = np.array([r.polarity_for for r in rules], dtype=np.bool_)
    poly = grid_polynomials(worlds.member_coef, base, x_index, y_index, worlds.link_pairs)
    thresholds = cached_for(
        "sweep_thresholds",
        worlds.member_shock,
        lambda: np.ascontiguousarray(np.moveaxis(-worlds.member_shock.astype(np.float64), 1, 2)),
    )
    chamber_of = np.ascontiguousarray(worlds.member_chamber, dtype=np.int64)
    rows_per_chunk = max(1, chunk_size // n_cols)
    width = min(n_cols, chunk_size)
    blocks: list[tuple[int, int, int, int]] = []  # (row0, row1, col0, col1)
    if width == n_cols:
        blocks = [(r, min(r + rows_per_chunk, ys.size), 0, n_cols) for r in range(0, ys.size, rows_per_chunk)]
    else:
        blocks = [
            (r, r + 1, c, min(c + width, n_cols)) for r in range(ys.size) for c in range(0, n_cols, width)
        ]
    for row0, row1, col0, col1 in blocks:
        n_deals = (row1 - row0) * (col1 - col0)
        passed = np.empty((len(rules), worlds.n_draws, worlds.n_replicates, n_deals), dtype=bool)
        sweep_passed(
            poly,
            thresholds,
            chamber_of,
            worlds.n_chambers,
            u0,
            du,
            col0,
            col1,
            ys[row0:row1],
            vote_chamber,
            vote_for,
            needed,
            present,
            passed,
        )
        if referendum:
            deals = np.tile(base, (n_deals, 1))
            deals[:, x_index] = np.tile(xs[col0:col1], row1 - row0)
            deals[:, y_index] = np.repeat(ys[row0:row1], col1 - col0)
            referendum_outcomes(worlds, rules, referendum_share(worlds, deals), passed)
        sides = np.stack([evaluate_procedure(expr, passed) for expr in procedures])
        nest_sides(worlds, sides)
        first = row0 * n_cols + col0
        yield SweepChunk(
            deal_slice=slice(first, first + n_deals),
            vote_passed=passed,
            side_ratified=sides,
            agreed=level_one(worlds, sides, agreement),
        )
