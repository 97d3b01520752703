"""The row sweep's numba kernels: each member's yes run along one grid row, and its counts.

On a grid over issues i (``u``, columns) and j (``v``, rows), a member's net gain is a
bivariate quadratic whose coefficients over ``[u², u, uv, v², v, 1]`` come from
:func:`grid_polynomials`. :func:`row_runs` turns one row into a difference array of yes runs;
:func:`sweep_counts` and :func:`sweep_passed` accumulate it into yes counts or vote outcomes.
The driver, thresholds and procedures are :mod:`riskmodel.engine.sweep`.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["grid_polynomials", "member_run", "row_runs", "sweep_counts", "sweep_passed"]

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


@numba.njit(cache=True, inline="always")
def member_run(
    a: float,
    b: float,
    c0: float,
    t: npt.NDArray[np.float64],
    first_u: float,
    inv_du: float,
    width: int,
    diff: npt.NDArray[np.int32],
    start: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
) -> bool:  # pragma: no cover - compiled
    """Add one member's yes run along a row to ``diff`` ``(width + 1, R)``, every replicate.

    The gain along the row is ``a u² + b u + c0``; the member votes yes where it exceeds the
    threshold ``t[r]`` (``-shock``, ``+inf`` when absent). Per replicate the roots give the yes run
    (a < 0: between the roots), the no run (a > 0) or a half-line (a = 0) in O(1); the concave
    case writes run ends into ``start``/``stop`` without branches so that it vectorises.
    :func:`row_runs` and the map kernel both add their runs through this function.

    Returns False when every run it added covers the whole row (``diff`` changed only in rows
    0 and ``width``), True when a run may start or end inside the row.
    """
    n_replicates = t.shape[0]
    top = float(width)
    if a < 0.0:
        center = (-b / (2.0 * a) - first_u) * inv_du
        if abs(center) < 1e6:
            k0 = (b * b - 4.0 * a * c0) / (4.0 * a * a) * inv_du * inv_du
            k1 = inv_du * inv_du / a
            # A replicate's run covers the whole row when h exceeds both the centre and
            # top - 1 - centre (then floor(centre - h) < 0 and ceil(centre + h) >= top): h2
            # above `whole` is surely such a case, whatever the rounding of sqrt and of the
            # ends (the margin is ~1e-9 against errors of ~1e-16 relative, centre < 1e6); h2 <= 0
            # has no run. When every replicate is one or the other, the runs are added without
            # their roots; otherwise the loop below works them out.
            reach = max(center, top - 1.0 - center, 0.0) * (1.0 + 1e-9) + 1e-9
            whole = reach * reach
            unsure = 0
            for r in range(n_replicates):
                h2 = k0 + k1 * t[r]
                unsure += int(h2 > 0.0) - int(h2 > whole)
            if unsure == 0:
                for r in range(n_replicates):
                    covered = int(k0 + k1 * t[r] > whole)
                    diff[0, r] += covered
                    diff[width, r] -= covered
                return False
            for r in range(n_replicates):
                h2 = k0 + k1 * t[r]
                h = math.sqrt(max(h2, 0.0))
                lo_i = min(max(math.floor(center - h) + 1.0, 0.0), top)
                hi_i = min(max(math.ceil(center + h), 0.0), top)
                ok = h2 > 0.0 and lo_i < hi_i
                start[r] = int(lo_i) if ok else 0
                stop[r] = int(hi_i) if ok else 0
        else:
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
            diff[start[r], r] += 1
            diff[stop[r], r] -= 1
        return True
    for r in range(n_replicates):
        if t[r] == math.inf:
            continue
        c = c0 - t[r]
        if a == 0.0:
            if b == 0.0:
                lo_i, hi_i = (0.0, top) if c > 0.0 else (0.0, 0.0)
            elif b > 0.0:
                lo_i = min(max(math.floor((-c / b - first_u) * inv_du) + 1.0, 0.0), top)
                hi_i = top
            else:
                lo_i = 0.0
                hi_i = min(max(math.ceil((-c / b - first_u) * inv_du), 0.0), top)
            if lo_i < hi_i:
                diff[int(lo_i), r] += 1
                diff[int(hi_i), r] -= 1
            continue
        diff[0, r] += 1
        diff[width, r] -= 1
        disc = b * b - 4.0 * a * c
        if disc <= 0.0:
            continue
        root = -0.5 * (b + math.copysign(math.sqrt(disc), b))
        first = root / a
        second = c / root
        lo_i = min(max(math.ceil((min(first, second) - first_u) * inv_du), 0.0), top)
        hi_i = min(max(math.floor((max(first, second) - first_u) * inv_du) + 1.0, 0.0), top)
        if lo_i < hi_i:
            diff[int(lo_i), r] -= 1
            diff[int(hi_i), r] += 1
    return True


@numba.njit(cache=True)
def row_runs(
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
    """Add every member's yes run along one row ``v`` of one draw to ``diff`` (R, C, width + 1).

    poly_d (M, 6) over [u², u, uv, v², v, 1]; t_d (M, R) = -shock (+inf absent). A member votes yes at column
    i iff g(u_i) = a u_i² + b u_i + c0 > t. Per replicate the roots of g - t give the yes run
    (a < 0: between the roots), the no run (a > 0) or a half-line (a = 0) in O(1). The root
    loop writes run ends into small buffers without branches so that it vectorises.
    """
    n_members = poly_d.shape[0]
    diff[:] = 0
    for m in range(n_members):
        chamber = chamber_of[m]
        a = poly_d[m, 0]
        b = poly_d[m, 1] + poly_d[m, 2] * v
        c0 = (poly_d[m, 3] * v + poly_d[m, 4]) * v + poly_d[m, 5]
        member_run(a, b, c0, t_d[m], first_u, inv_du, width, diff[:, chamber, :].T, start, stop)


@numba.njit(parallel=True, cache=True)
def sweep_counts(
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
    """Yes counts (D, R, rows × columns, C), rows major, like the engine's count_yes (D, R, N, C)."""
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
            row_runs(
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
def sweep_passed(
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
    """Write whether each counted vote passes into ``passed`` (V, D, R, rows × columns).

    The count (or, for a vote against the deal, those present minus the count) reaches the vote's
    needed (V, D, R). Votes whose chamber is -1 (referendums) are left alone.
    """
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
            row_runs(
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
