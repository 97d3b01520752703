"""The row sweep reduced in the kernel: a map's per-draw counts without any world × deal array.

:func:`riskmodel.engine.sweep.sweep_chunks` yields every vote's, side's and the agreement's
outcome per (world, deal), which a win-set map only counts. Here one kernel, per draw and row,

1. sweeps each member's yes run along the row (the arithmetic of
   :func:`riskmodel.engine.sweep_kernels.row_runs`, one chamber at a time so the difference
   array ``(columns, replicates)`` stays in cache),
2. turns the chamber's running count into one 64-bit word per vote and deal whose bit ``r`` is
   the vote's outcome in replicate ``r`` (the comparison of ``sweep_passed``),
3. runs the sides' procedures, nested sides and the Level-I rule on those words
   (:mod:`riskmodel.engine.sweep_program`), and
4. counts: replicates per (outcome, draw, deal) that ratified, and deals per (outcome, world).

What leaves the kernel is ``(S + 1, D, n)`` counts per chunk, from which
:func:`riskmodel.engine.draw_stats.draw_statistics` gives probabilities, MCSE and quantiles.
Every count is an integer, so results do not depend on chunking or thread count, and they equal
the counts of ``sweep_chunks``' outcomes exactly (the tests compare them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.engine.kernel import cached_for
from riskmodel.engine.referendum import referendum_share
from riskmodel.engine.sweep_kernels import grid_polynomials
from riskmodel.engine.sweep_program import compile_program
from riskmodel.engine.sweep_run import map_kernel
from riskmodel.engine.votes import needed_counts, referendum_outcomes
from riskmodel.worlds.arrays import Expression, VoteRule, Worlds

__all__ = ["MAX_REPLICATES", "MapCounts", "map_supported", "sweep_map_counts"]

MAX_REPLICATES = 64
"""Replicates per draw the packed kernel handles (one bit each in a 64-bit word)."""


@dataclass(frozen=True)
class MapCounts:
    """Counts for one chunk of grid deals.

    Attributes
    ----------
    deal_slice
        Which deals of the grid (rows major) this chunk holds.
    per_draw
        ``(S + 1, D, n)`` int32: replicates of each draw in which each side ratified (rows
        ``0..S-1``) and the Level-I agreement held (row ``S``).
    size
        ``(S + 1, D, R)`` int64: deals of the chunk each side ratified / agreed in each world.
    """

    deal_slice: slice
    per_draw: npt.NDArray[np.int32]
    size: npt.NDArray[np.int64]


def map_supported(worlds: Worlds) -> bool:
    """Whether :func:`sweep_map_counts` can map these worlds (one vote per member, ≤ 64 replicates)."""
    return (
        worlds.member_weight is None
        and worlds.abstention_band is None
        and worlds.n_replicates <= MAX_REPLICATES
    )


def sweep_map_counts(
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
) -> Iterator[MapCounts]:
    """Count a grid's outcomes per draw (rows = ``y_unit``, columns = ``x_unit``), chunk by chunk.

    The parameters are those of :func:`riskmodel.engine.sweep.sweep_chunks`, with the same
    chunks (whole rows, or parts of one row when a row alone exceeds ``chunk_size`` deals).

    Yields
    ------
    MapCounts
    """
    xs = np.asarray(x_unit, dtype=np.float64)
    ys = np.asarray(y_unit, dtype=np.float64)
    base = np.asarray(base_unit, dtype=np.float64).copy()
    if x_index == y_index:
        raise ValueError("the grid needs two different issues")
    if not map_supported(worlds):
        raise ValueError(
            f"the packed sweep counts one vote per member without abstention and at most "
            f"{MAX_REPLICATES} replicates per draw: use sweep_chunks or evaluate_chunks"
        )
    if xs.size > 1 and not np.allclose(np.diff(xs), xs[1] - xs[0], rtol=1e-9, atol=1e-12):
        raise ValueError("x_unit must be evenly spaced")
    if xs.size > 1 and xs[1] <= xs[0]:
        raise ValueError("x_unit must be increasing")
    n_cols, n_sides = xs.size, len(procedures)
    n_draws, n_replicates = worlds.n_draws, worlds.n_replicates
    referendum = set(worlds.referendum_chambers.tolist())
    if chunk_size is None:
        per_deal = 4 * n_draws * (n_sides + 1) + worlds.n_worlds * len(rules) * bool(referendum) * 2
        chunk_size = max(1, memory_budget // max(per_deal, 1))
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    u0 = float(xs[0])
    du = float(xs[1] - xs[0]) if n_cols > 1 else 1.0
    needed = needed_counts(worlds, rules)
    present = worlds.present.astype(np.int64)
    vote_chamber = np.array([-1 if r.chamber in referendum else r.chamber for r in rules], dtype=np.int64)
    vote_for = np.array([r.polarity_for for r in rules], dtype=np.bool_)
    chamber_of = np.ascontiguousarray(worlds.member_chamber, dtype=np.int64)
    if np.any(np.diff(chamber_of) < 0):
        raise ValueError("members must be ordered by chamber")
    bounds = np.searchsorted(chamber_of, np.arange(worlds.n_chambers + 1), side="left").astype(np.int64)
    ops, weights, depth = compile_program(
        procedures, worlds.nested, agreement if agreement is not None else worlds.agreement
    )
    poly = grid_polynomials(worlds.member_coef, base, x_index, y_index, worlds.link_pairs)
    thresholds = cached_for(
        "sweep_thresholds",
        worlds.member_shock,
        lambda: np.ascontiguousarray(np.moveaxis(-worlds.member_shock.astype(np.float64), 1, 2)),
    )
    rows_per_chunk = max(1, chunk_size // n_cols)
    width = min(n_cols, chunk_size)
    if width == n_cols:
        blocks = [(r, min(r + rows_per_chunk, ys.size), 0, n_cols) for r in range(0, ys.size, rows_per_chunk)]
    else:
        blocks = [
            (r, r + 1, c, min(c + width, n_cols)) for r in range(ys.size) for c in range(0, n_cols, width)
        ]
    no_referendum = np.zeros((0, 0, 0, 0), dtype=np.bool_)
    for row0, row1, col0, col1 in blocks:
        n_deals = (row1 - row0) * (col1 - col0)
        ref_passed = no_referendum
        if referendum:
            deals = np.tile(base, (n_deals, 1))
            deals[:, x_index] = np.tile(xs[col0:col1], row1 - row0)
            deals[:, y_index] = np.repeat(ys[row0:row1], col1 - col0)
            ref_passed = np.zeros((len(rules), n_draws, n_replicates, n_deals), dtype=np.bool_)
            referendum_outcomes(worlds, rules, referendum_share(worlds, deals), ref_passed)
        per_draw = np.zeros((n_sides + 1, n_draws, n_deals), dtype=np.int32)
        size = np.zeros((n_sides + 1, n_draws, n_replicates), dtype=np.int64)
        map_kernel(
            poly,
            thresholds,
            bounds,
            u0,
            du,
            col0,
            col1,
            ys[row0:row1],
            vote_chamber,
            vote_for,
            needed,
            present,
            ref_passed,
            ops,
            weights,
            depth,
            n_sides,
            per_draw,
            size,
        )
        first = row0 * n_cols + col0
        yield MapCounts(deal_slice=slice(first, first + n_deals), per_draw=per_draw, size=size)
