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

The counts then meet each vote's threshold — taken from the engine's own
:func:`riskmodel.engine.votes.needed_counts`, once per world since it does not depend on the deal —
and the sides' procedures (:func:`riskmodel.engine.procedure.evaluate_procedure`). Chunks leave as
:class:`SweepChunk` objects: :class:`riskmodel.engine.ChunkOutcome` without the support and
margin arrays, which a map does not need.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.referendum import referendum_share
from riskmodel.engine.votes import needed_counts, vote_outcomes
from riskmodel.worlds.arrays import Expression, VoteRule, Worlds

__all__ = ["SweepChunk", "grid_polynomials", "outcome_bytes_per_deal", "sweep_chunks"]

# Monomials of (u, v) in the order of the last axis of grid_polynomials.
_UU, _U, _UV, _VV, _V, _ONE = range(6)


def _product(first: npt.NDArray[np.float64], second: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Monomial coefficients of the product of two linear forms over ``(u, v, 1)``."""
    out = np.zeros(6)
    out[_UU] = first[0] * second[0]
    out[_U] = first[0] * second[2] + first[2] * second[0]
    out[_UV] = first[0] * second[1] + first[1] * second[0]
    out[_VV] = first[1] * second[1]
    out[_V] = first[1] * second[2] + first[2] * second[1]
    out[_ONE] = first[2] * second[2]
    return out


def grid_polynomials(
    member_coef: npt.NDArray[np.float64],
    base_unit: npt.NDArray[np.float64],
    x_index: int,
    y_index: int,
    link_pairs: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Net-gain coefficients ``(..., 6)`` over the monomials ``[u², u, uv, v², v, 1]``.

    Parameters
    ----------
    member_coef
        ``(..., F)`` coefficients over the deal features (:func:`riskmodel.worlds.build.deal_features`).
    base_unit
        ``(K,)`` the deal (unit scale) that fixes every issue but the two of the grid.
    x_index, y_index
        The issues that vary: ``u`` is issue ``x_index``, ``v`` issue ``y_index``.
    link_pairs
        ``(P, 2)`` the linked issue pairs.
    """
    n_issues = base_unit.shape[0]
    linear = np.zeros((n_issues, 3))  # each issue as a linear form over (u, v, 1)
    linear[:, 2] = base_unit
    linear[x_index] = (1.0, 0.0, 0.0)
    linear[y_index] = (0.0, 1.0, 0.0)
    rows = [_product(linear[k], linear[k]) for k in range(n_issues)]
    rows += [_product(np.array([0.0, 0.0, 1.0]), linear[k]) for k in range(n_issues)]
    rows += [_product(linear[first], linear[second]) for first, second in link_pairs]
    rows.append(np.eye(6)[_ONE])
    transform = np.stack(rows)  # (F, 6): features = monomials @ transform.T
    return np.asarray(member_coef @ transform, dtype=np.float64)


@numba.njit(cache=True)
def _row_runs(
    poly_d: npt.NDArray[np.float64],
    t_d: npt.NDArray[np.float64],
    chamber_of: npt.NDArray[np.int64],
    v: float,
    first_u: float,
    inv_du: float,
    width: int,
    diff: npt.NDArray[np.int32],
    start: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
) -> None:  # pragma: no cover - compiled
    # One draw, one row v: add every member's yes run to diff (R, C, width + 1). poly_d (M, 6)
    # over [u², u, uv, v², v, 1]; t_d (M, R) = -shock (+inf absent). A member votes yes at column
    # i iff g(u_i) = a u_i² + b u_i + c0 > t. Per replicate the roots of g - t give the yes run
    # (a < 0: between the roots), the no run (a > 0) or a half-line (a = 0) in O(1). The root
    # loop writes run ends into small buffers without branches so that it vectorises.
    n_members = poly_d.shape[0]
    n_replicates = t_d.shape[1]
    top = float(width)
    diff[:] = 0
    for m in range(n_members):
        chamber = chamber_of[m]
        a = poly_d[m, 0]
        b = poly_d[m, 1] + poly_d[m, 2] * v
        c0 = (poly_d[m, 3] * v + poly_d[m, 4]) * v + poly_d[m, 5]
        t = t_d[m]
        if a < 0.0:
            # Yes strictly between the roots: column indices within h_r of the vertex,
            # h_r² = k0 + k1·t_r in index units (absent: t = inf gives h² = -inf).
            center = (-b / (2.0 * a) - first_u) * inv_du
            if abs(center) < 1e6:
                k0 = (b * b - 4.0 * a * c0) / (4.0 * a * a) * inv_du * inv_du
                k1 = inv_du * inv_du / a
                for r in range(n_replicates):
                    h2 = k0 + k1 * t[r]
                    h = math.sqrt(max(h2, 0.0))
                    lo_i = min(max(math.floor(center - h) + 1.0, 0.0), top)
                    hi_i = min(max(math.ceil(center + h), 0.0), top)
                    ok = h2 > 0.0 and lo_i < hi_i
                    start[r] = int(lo_i) if ok else 0
                    stop[r] = int(hi_i) if ok else 0
            else:  # vertex far off the grid: the numerically stable root formula
                inv_a = 1.0 / a
                for r in range(n_replicates):
                    c = c0 - t[r]
                    disc = b * b - 4.0 * a * c
                    root = -0.5 * (b + math.copysign(math.sqrt(max(disc, 0.0)), b))
                    first = root * inv_a
                    second = c / root
                    low_x = (min(first, second) - first_u) * inv_du
                    high_x = (max(first, second) - first_u) * inv_du
                    lo_i = min(max(math.floor(low_x) + 1.0, 0.0), top)
                    hi_i = min(max(math.ceil(high_x), 0.0), top)
                    ok = disc > 0.0 and lo_i < hi_i
                    start[r] = int(lo_i) if ok else 0
                    stop[r] = int(hi_i) if ok else 0
            for r in range(n_replicates):
                diff[r, chamber, start[r]] += 1
                diff[r, chamber, stop[r]] -= 1
            continue
        for r in range(n_replicates):
            if t[r] == math.inf:
                continue
            c = c0 - t[r]
            if a == 0.0:
                if b == 0.0:
                    lo_i, hi_i = (0.0, top) if c > 0.0 else (0.0, 0.0)
                elif b > 0.0:  # yes for u > root
                    lo_i = min(max(math.floor((-c / b - first_u) * inv_du) + 1.0, 0.0), top)
                    hi_i = top
                else:  # yes for u < root
                    lo_i = 0.0
                    hi_i = min(max(math.ceil((-c / b - first_u) * inv_du), 0.0), top)
                if lo_i < hi_i:
                    diff[r, chamber, int(lo_i)] += 1
                    diff[r, chamber, int(hi_i)] -= 1
                continue
            # convex: yes outside the closed run [low root, high root]
            diff[r, chamber, 0] += 1
            diff[r, chamber, width] -= 1
            disc = b * b - 4.0 * a * c
            if disc <= 0.0:
                continue
            root = -0.5 * (b + math.copysign(math.sqrt(disc), b))
            first = root / a
            second = c / root
            lo_i = min(max(math.ceil((min(first, second) - first_u) * inv_du), 0.0), top)
            hi_i = min(max(math.floor((max(first, second) - first_u) * inv_du) + 1.0, 0.0), top)
            if lo_i < hi_i:
                diff[r, chamber, int(lo_i)] -= 1
                diff[r, chamber, int(hi_i)] += 1


@numba.njit(parallel=True, cache=True)
def _sweep_counts(
    poly: npt.NDArray[np.float64],
    thresholds: npt.NDArray[np.float64],
    chamber_of: npt.NDArray[np.int64],
    n_chambers: int,
    u0: float,
    du: float,
    col_start: int,
    col_stop: int,
    rows_v: npt.NDArray[np.float64],
) -> npt.NDArray[np.int32]:  # pragma: no cover - compiled
    # Yes counts (D, R, rows × columns, C), rows major, like the engine's count_yes (D, R, N, C).
    n_draws = poly.shape[0]
    n_replicates = thresholds.shape[2]
    n_rows = rows_v.shape[0]
    width = col_stop - col_start
    first_u = u0 + du * col_start
    counts = np.zeros((n_draws, n_replicates, n_rows * width, n_chambers), dtype=np.int32)
    for d in numba.prange(n_draws):
        diff = np.zeros((n_replicates, n_chambers, width + 1), dtype=np.int32)
        start = np.empty(n_replicates, dtype=np.int64)
        stop = np.empty(n_replicates, dtype=np.int64)
        for j in range(n_rows):
            _row_runs(
                poly[d], thresholds[d], chamber_of, rows_v[j], first_u, 1.0 / du, width, diff, start, stop
            )
            for r in range(n_replicates):
                for chamber in range(n_chambers):
                    running = 0
                    for i in range(width):
                        running += diff[r, chamber, i]
                        counts[d, r, j * width + i, chamber] = running
    return counts


@numba.njit(parallel=True, cache=True)
def _sweep_passed(
    poly: npt.NDArray[np.float64],
    thresholds: npt.NDArray[np.float64],
    chamber_of: npt.NDArray[np.int64],
    n_chambers: int,
    u0: float,
    du: float,
    col_start: int,
    col_stop: int,
    rows_v: npt.NDArray[np.float64],
    vote_chamber: npt.NDArray[np.int64],
    vote_for: npt.NDArray[np.bool_],
    needed: npt.NDArray[np.int64],
    present: npt.NDArray[np.int64],
    passed: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled
    # Whether each counted vote passes, written into passed (V, D, R, rows × columns): the count
    # (or, for a vote against the deal, those present minus the count) reaches the vote's
    # needed (V, D, R). Votes whose chamber is -1 (referendums) are left alone.
    n_draws = poly.shape[0]
    n_replicates = thresholds.shape[2]
    n_rows = rows_v.shape[0]
    n_votes = vote_chamber.shape[0]
    width = col_stop - col_start
    first_u = u0 + du * col_start
    for d in numba.prange(n_draws):
        diff = np.zeros((n_replicates, n_chambers, width + 1), dtype=np.int32)
        tally = np.empty(width, dtype=np.int64)
        start = np.empty(n_replicates, dtype=np.int64)
        stop = np.empty(n_replicates, dtype=np.int64)
        for j in range(n_rows):
            _row_runs(
                poly[d], thresholds[d], chamber_of, rows_v[j], first_u, 1.0 / du, width, diff, start, stop
            )
            offset = j * width
            for r in range(n_replicates):
                for chamber in range(n_chambers):
                    running = 0
                    for i in range(width):
                        running += diff[r, chamber, i]
                        tally[i] = running
                    for v in range(n_votes):
                        if vote_chamber[v] != chamber:
                            continue
                        need = needed[v, d, r]
                        if vote_for[v]:
                            for i in range(width):
                                passed[v, d, r, offset + i] = tally[i] >= need
                        else:
                            against = present[d, r, chamber]
                            for i in range(width):
                                passed[v, d, r, offset + i] = against - tally[i] >= need


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

    Yields
    ------
    SweepChunk
    """
    xs = np.asarray(x_unit, dtype=np.float64)
    ys = np.asarray(y_unit, dtype=np.float64)
    base = np.asarray(base_unit, dtype=np.float64).copy()
    if x_index == y_index:
        raise ValueError("the grid needs two different issues")
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
    thresholds = np.ascontiguousarray(np.moveaxis(-worlds.member_shock.astype(np.float64), 1, 2))
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
        _sweep_passed(
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
            share = referendum_share(worlds, deals)
            # vote_outcomes reads only the shape of the counts for a referendum
            counts = np.broadcast_to(
                np.zeros((1, 1, 1, 1), dtype=np.int32), (*passed.shape[1:], worlds.n_chambers)
            )
            for v in np.flatnonzero(vote_chamber < 0).tolist():
                passed[v] = vote_outcomes(worlds, [rules[v]], counts, share)[0][0]
        sides = np.stack([evaluate_procedure(expr, passed) for expr in procedures])
        first = row0 * n_cols + col0
        yield SweepChunk(
            deal_slice=slice(first, first + n_deals),
            vote_passed=passed,
            side_ratified=sides,
            agreed=np.all(sides, axis=0),
        )
