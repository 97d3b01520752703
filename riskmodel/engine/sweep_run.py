"""The numba kernel of :mod:`riskmodel.engine.sweep_map`: sweep, threshold, procedures and counts.

Words are ``uint64``; bit ``r`` of a word is replicate ``r``. NumPy's integer promotion would
turn a ``uint64`` mixed with a signed integer into a float, so every constant here is a
``np.uint64``.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.engine.sweep_kernels import member_run
from riskmodel.engine.sweep_program import (
    OP_ALL,
    OP_AND_SIDE,
    OP_AT_LEAST,
    OP_NONE,
    OP_NOT,
    OP_SIDE,
    OP_STORE_AGREED,
    OP_STORE_SIDE,
    OP_VOTE,
    OP_WEIGHTED,
)

__all__ = ["map_kernel", "popcount", "run_program"]

_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@numba.njit(cache=True, inline="always")
def popcount(x: np.uint64) -> int:  # pragma: no cover - compiled
    """Set bits of a 64-bit word (SWAR: branch-free, vectorisable)."""
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> np.uint64(56))


@numba.njit(cache=True)
def run_program(
    ops: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    bits: npt.NDArray[np.uint64],
    outcome: npt.NDArray[np.uint64],
    stack: npt.NDArray[np.uint64],
    width: int,
    n_replicates: int,
    full: np.uint64,
) -> None:  # pragma: no cover - compiled
    """Run a compiled program over a row of words: sides to ``outcome[:S]``, agreement to ``outcome[S]``."""
    n_sides = outcome.shape[0] - 1
    sp = 0
    for p in range(ops.shape[0]):
        op, a, b, c = ops[p, 0], ops[p, 1], ops[p, 2], ops[p, 3]
        if op == OP_VOTE:
            stack[sp, :width] = bits[a, :width]
            sp += 1
        elif op == OP_SIDE:
            stack[sp, :width] = outcome[a, :width]
            sp += 1
        elif op == OP_ALL:
            stack[sp, :width] = full
            sp += 1
        elif op == OP_NONE:
            stack[sp, :width] = _ZERO
            sp += 1
        elif op == OP_NOT:
            for i in range(width):
                stack[sp - 1, i] = ~stack[sp - 1, i] & full
        elif op == OP_AT_LEAST:
            base = sp - b
            if a == b:
                for q in range(1, b):
                    for i in range(width):
                        stack[base, i] &= stack[base + q, i]
            elif a == 1:
                for q in range(1, b):
                    for i in range(width):
                        stack[base, i] |= stack[base + q, i]
            else:
                for i in range(width):
                    word = _ZERO
                    for r in range(n_replicates):
                        held = 0
                        for q in range(b):
                            held += int((stack[base + q, i] >> np.uint64(r)) & _ONE)
                        if held >= a:
                            word |= _ONE << np.uint64(r)
                    stack[base, i] = word
            sp = base + 1
        elif op == OP_WEIGHTED:
            base = sp - a
            needed = weights[b + a]
            for i in range(width):
                word = _ZERO
                for r in range(n_replicates):
                    weight = 0.0
                    for q in range(a):
                        held = (stack[base + q, i] >> np.uint64(r)) & _ONE
                        counts = held == _ONE if c == 1 else held == _ZERO
                        weight += weights[b + q] * (1.0 if counts else 0.0)
                    if weight >= needed:
                        word |= _ONE << np.uint64(r)
                stack[base, i] = word
            sp = base + 1
        elif op == OP_STORE_SIDE:
            sp -= 1
            outcome[a, :width] = stack[sp, :width]
        elif op == OP_AND_SIDE:
            sp -= 1
            for i in range(width):
                outcome[a, i] &= stack[sp, i]
        elif op == OP_STORE_AGREED:
            sp -= 1
            outcome[n_sides, :width] = stack[sp, :width]


@numba.njit(parallel=True, cache=True)
def map_kernel(
    poly: npt.NDArray[np.float64],
    thresholds: npt.NDArray[np.float64],
    bounds: npt.NDArray[np.int64],
    u0: float,
    du: float,
    col_start: int,
    col_stop: int,
    rows_v: npt.NDArray[np.float64],
    vote_chamber: npt.NDArray[np.int64],
    vote_for: npt.NDArray[np.bool_],
    needed: npt.NDArray[np.int64],
    present: npt.NDArray[np.int64],
    ref_passed: npt.NDArray[np.bool_],
    ops: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    depth: int,
    n_sides: int,
    per_draw: npt.NDArray[np.int32],
    size: npt.NDArray[np.int64],
) -> None:  # pragma: no cover - compiled
    """Add every row's per-draw counts to ``per_draw`` (S + 1, D, rows × width) and ``size`` (S + 1, D, R)."""
    n_draws = poly.shape[0]
    n_replicates = thresholds.shape[2]
    n_rows = rows_v.shape[0]
    n_votes = vote_chamber.shape[0]
    n_chambers = bounds.shape[0] - 1
    width = col_stop - col_start
    first_u = u0 + du * col_start
    inv_du = 1.0 / du
    full = _ZERO
    for r in range(n_replicates):
        full |= _ONE << np.uint64(r)
    # replicate lanes padded to a multiple of 8 so the per-column loops vectorise without a
    # remainder; padded lanes count nothing, never pass and carry no bit
    lanes = -(-n_replicates // 8) * 8
    bit = np.zeros(lanes, dtype=np.uint64)
    for r in range(n_replicates):
        bit[r] = _ONE << np.uint64(r)
    for d in numba.prange(n_draws):
        diff = np.zeros((width + 1, lanes), dtype=np.int32)
        running = np.zeros(lanes, dtype=np.int32)
        # per vote of the chamber: sign * count >= bar (a vote against counts present - yes)
        sign = np.empty(n_votes, dtype=np.int32)
        bar = np.full((n_votes, lanes), np.iinfo(np.int32).max, dtype=np.int32)
        own = np.empty(n_votes, dtype=np.int64)
        start = np.empty(n_replicates, dtype=np.int64)
        stop = np.empty(n_replicates, dtype=np.int64)
        bits = np.zeros((n_votes, width), dtype=np.uint64)
        outcome = np.zeros((n_sides + 1, width), dtype=np.uint64)
        stack = np.zeros((depth, width), dtype=np.uint64)
        poly_d = poly[d]
        for j in range(n_rows):
            v = rows_v[j]
            offset = j * width
            for chamber in range(n_chambers):
                n_own = 0
                for vote in range(n_votes):
                    if vote_chamber[vote] == chamber:
                        own[n_own] = vote
                        if vote_for[vote]:
                            sign[n_own] = 1
                            for r in range(n_replicates):
                                bar[n_own, r] = needed[vote, d, r]
                        else:
                            sign[n_own] = -1
                            for r in range(n_replicates):
                                bar[n_own, r] = needed[vote, d, r] - present[d, r, chamber]
                        n_own += 1
                if n_own == 0:
                    continue
                diff[:] = 0
                for m in range(bounds[chamber], bounds[chamber + 1]):
                    a = poly_d[m, 0]
                    b = poly_d[m, 1] + poly_d[m, 2] * v
                    c0 = (poly_d[m, 3] * v + poly_d[m, 4]) * v + poly_d[m, 5]
                    member_run(a, b, c0, thresholds[d, m], first_u, inv_du, width, diff, start, stop)
                running[:] = 0
                for i in range(width):
                    for r in range(lanes):
                        running[r] += diff[i, r]
                    for q in range(n_own):
                        word = _ZERO
                        sq = sign[q]
                        for r in range(lanes):
                            word |= bit[r] if sq * running[r] >= bar[q, r] else _ZERO
                        bits[own[q], i] = word
            for vote in range(n_votes):
                if vote_chamber[vote] >= 0:
                    continue
                for i in range(width):
                    word = _ZERO
                    for r in range(n_replicates):
                        if ref_passed[vote, d, r, offset + i]:
                            word |= _ONE << np.uint64(r)
                    bits[vote, i] = word
            run_program(ops, weights, bits, outcome, stack, width, n_replicates, full)
            for k in range(n_sides + 1):
                for i in range(width):
                    per_draw[k, d, offset + i] = popcount(outcome[k, i])
                for r in range(n_replicates):
                    total = 0
                    shift = np.uint64(r)
                    for i in range(width):
                        total += int((outcome[k, i] >> shift) & _ONE)
                    size[k, d, r] += total
