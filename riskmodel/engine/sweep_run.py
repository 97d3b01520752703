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

# where a stack entry of run_program lies
_IN_VOTES = 0
_IN_SIDES = 1
_IN_STACK = 2


@numba.njit(cache=True, inline="always")
def popcount(x: np.uint64) -> int:  # pragma: no cover - compiled
    """Set bits of a 64-bit word (SWAR: branch-free, vectorisable)."""
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> np.uint64(56))


@numba.njit(cache=True, inline="always")
def _operand(
    kind: int,
    index: int,
    bits: npt.NDArray[np.uint64],
    outcome: npt.NDArray[np.uint64],
    stack: npt.NDArray[np.uint64],
) -> npt.NDArray[np.uint64]:  # pragma: no cover - compiled
    if kind == _IN_VOTES:
        return bits[index]
    if kind == _IN_SIDES:
        return outcome[index]
    return stack[index]


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
    """Run a compiled program over a row of words: sides to ``outcome[:S]``, agreement to ``outcome[S]``.

    The stack holds references (a vote's row, a side's row or a stack row of its own), so a
    vote or side is read where it lies instead of being copied; an operation writes its result
    into the stack row of its first operand. Every statement of a program (a side's procedure,
    a nested side's rule, the agreement) leaves the stack empty, so a reference to a side's row
    is always read before that row is written again.
    """
    n_sides = outcome.shape[0] - 1
    kind = np.empty(stack.shape[0], dtype=np.int64)
    where = np.empty(stack.shape[0], dtype=np.int64)
    sp = 0
    for p in range(ops.shape[0]):
        op, a, b, c = ops[p, 0], ops[p, 1], ops[p, 2], ops[p, 3]
        if op in (OP_VOTE, OP_SIDE):
            kind[sp] = _IN_VOTES if op == OP_VOTE else _IN_SIDES
            where[sp] = a
            sp += 1
        elif op in (OP_ALL, OP_NONE):
            fill = full if op == OP_ALL else _ZERO
            for i in range(width):
                stack[sp, i] = fill
            kind[sp] = _IN_STACK
            where[sp] = sp
            sp += 1
        elif op == OP_NOT:
            source = _operand(kind[sp - 1], where[sp - 1], bits, outcome, stack)
            target = stack[sp - 1]
            for i in range(width):
                target[i] = ~source[i] & full
            kind[sp - 1] = _IN_STACK
            where[sp - 1] = sp - 1
        elif op == OP_AT_LEAST and b == 1:
            pass  # one of one: the operand itself
        elif op == OP_AT_LEAST and (a == b or a == 1):
            base = sp - b
            target = stack[base]
            first = _operand(kind[base], where[base], bits, outcome, stack)
            second = _operand(kind[base + 1], where[base + 1], bits, outcome, stack)
            if a == b:
                for i in range(width):
                    target[i] = first[i] & second[i]
            else:
                for i in range(width):
                    target[i] = first[i] | second[i]
            for q in range(2, b):
                other = _operand(kind[base + q], where[base + q], bits, outcome, stack)
                if a == b:
                    for i in range(width):
                        target[i] &= other[i]
                else:
                    for i in range(width):
                        target[i] |= other[i]
            kind[base] = _IN_STACK
            where[base] = base
            sp = base + 1
        elif op in (OP_AT_LEAST, OP_WEIGHTED):
            # replicate by replicate, on the operands copied into their own stack rows
            n_in = b if op == OP_AT_LEAST else a
            base = sp - n_in
            for q in range(n_in):
                if kind[base + q] != _IN_STACK:
                    source = _operand(kind[base + q], where[base + q], bits, outcome, stack)
                    for i in range(width):
                        stack[base + q, i] = source[i]
            if op == OP_AT_LEAST:
                for i in range(width):
                    word = _ZERO
                    for r in range(n_replicates):
                        held = 0
                        for q in range(b):
                            held += int((stack[base + q, i] >> np.uint64(r)) & _ONE)
                        if held >= a:
                            word |= _ONE << np.uint64(r)
                    stack[base, i] = word
            else:
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
            kind[base] = _IN_STACK
            where[base] = base
            sp = base + 1
        elif op in (OP_STORE_SIDE, OP_AND_SIDE, OP_STORE_AGREED):
            sp -= 1
            source = _operand(kind[sp], where[sp], bits, outcome, stack)
            target = outcome[n_sides if op == OP_STORE_AGREED else a]
            if op == OP_AND_SIDE:
                for i in range(width):
                    target[i] &= source[i]
            else:
                for i in range(width):
                    target[i] = source[i]


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
        # per vote: the chamber's yes count must reach bar (a vote for the deal) or stay at or
        # under it (a vote against: present - yes >= needed, i.e. yes <= present - needed)
        bar = np.zeros((n_votes, lanes), dtype=np.int32)
        for vote in range(n_votes):
            chamber = vote_chamber[vote]
            if chamber < 0:
                continue
            for r in range(n_replicates):
                need = needed[vote, d, r]
                bar[vote, r] = need if vote_for[vote] else present[d, r, chamber] - need
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
                        n_own += 1
                if n_own == 0:
                    continue
                inside = False
                for m in range(bounds[chamber], bounds[chamber + 1]):
                    a = poly_d[m, 0]
                    b = poly_d[m, 1] + poly_d[m, 2] * v
                    c0 = (poly_d[m, 3] * v + poly_d[m, 4]) * v + poly_d[m, 5]
                    inside |= member_run(
                        a, b, c0, thresholds[d, m], first_u, inv_du, width, diff, start, stop
                    )
                if not inside:
                    # every run covers the row or misses it: the count is diff[0] all along
                    for q in range(n_own):
                        vote = own[q]
                        word = _ZERO
                        for r in range(lanes):
                            count = diff[0, r]
                            held = count >= bar[vote, r] if vote_for[vote] else count <= bar[vote, r]
                            word |= bit[r] if held else _ZERO
                        for i in range(width):
                            bits[vote, i] = word
                    for r in range(lanes):
                        diff[0, r] = 0
                        diff[width, r] = 0
                    continue
                # the running count, clearing the difference array behind it for the next chamber
                running[:] = 0
                for i in range(width):
                    for r in range(lanes):
                        running[r] += diff[i, r]
                        diff[i, r] = 0
                    for q in range(n_own):
                        vote = own[q]
                        word = _ZERO
                        if vote_for[vote]:
                            for r in range(lanes):
                                word |= bit[r] if running[r] >= bar[vote, r] else _ZERO
                        else:
                            for r in range(lanes):
                                word |= bit[r] if running[r] <= bar[vote, r] else _ZERO
                        bits[vote, i] = word
                diff[width, :] = 0
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
