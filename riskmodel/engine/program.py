"""Procedures, nested sides and Level-I agreement rules compiled to postfix programs run by numba.

:func:`riskmodel.engine.procedure.evaluate_procedure` walks an expression tree with NumPy, one
temporary array per node. Here every expression becomes a row range of one ``(ops, 4)`` table
(postfix: operands first), and :func:`level_outcomes` runs the programs of every side, every
nested side and each deal's agreement for each world and deal in one compiled pass, with the
same arithmetic in the same order (weighted counts are summed clause by clause in float64 and
compared with the same tolerance), so the outcomes are those of the NumPy path bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.worlds.arrays import All, AtLeast, Expression, Not, VoteRef, WeightedCount, Worlds

__all__ = ["PARALLEL_FROM", "Programs", "compile_programs", "level_outcomes"]

_REF, _NOT, _AT_LEAST, _WEIGHTED = range(4)


@dataclass(frozen=True)
class Programs:
    """Compiled programs: rows ``start[p]:start[p + 1]`` of ``ops`` are program ``p``.

    Attributes
    ----------
    ops
        ``(n_ops, 4)`` int64: opcode and its arguments (reference; k and clauses; clauses,
        polarity and the offset of its weights).
    numbers
        Weights of weighted clauses, then per op its threshold and whether it is a share.
    start
        ``(P + 1,)`` first op of each program.
    depth
        Largest stack a program needs.
    """

    ops: npt.NDArray[np.int64]
    numbers: npt.NDArray[np.float64]
    start: npt.NDArray[np.int64]
    depth: int


def _emit(expr: Expression, ops: list[list[int]], numbers: list[float]) -> int:
    """Append ``expr`` in postfix; return the stack depth it needs."""
    match expr:
        case VoteRef(vote=index):
            ops.append([_REF, index, 0, 0])
            return 1
        case Not(clause=clause):
            depth = _emit(clause, ops, numbers)
            ops.append([_NOT, 0, 0, 0])
            return depth
        case AtLeast(k=k, clauses=clauses):
            depth = max((_emit(c, ops, numbers) + i for i, c in enumerate(clauses)), default=0)
            ops.append([_AT_LEAST, k, len(clauses), 0])
            return max(depth, 1)
        case WeightedCount(clauses=clauses, threshold=threshold, share=share, polarity_for=polarity_for):
            depth = max((_emit(c, ops, numbers) + i for i, (c, _) in enumerate(clauses)), default=0)
            offset = len(numbers)
            numbers.extend([float(w) for _, w in clauses] + [float(threshold), 1.0 if share else 0.0])
            ops.append([_WEIGHTED, len(clauses), 1 if polarity_for else 0, offset])
            return max(depth, 1)
    raise TypeError(f"not a procedure: {expr!r}")


def compile_programs(expressions: Sequence[Expression]) -> Programs:
    """Compile expressions (in order) into one table of postfix programs."""
    ops: list[list[int]] = []
    numbers: list[float] = []
    start = [0]
    depth = 1
    for expr in expressions:
        depth = max(depth, _emit(expr, ops, numbers))
        start.append(len(ops))
    return Programs(
        ops=np.array(ops, dtype=np.int64).reshape(-1, 4),
        numbers=np.array(numbers, dtype=np.float64),
        start=np.array(start, dtype=np.int64),
        depth=depth,
    )


@numba.njit(inline="always")
def _run(
    ops: npt.NDArray[np.int64],
    numbers: npt.NDArray[np.float64],
    lo: int,
    hi: int,
    values: npt.NDArray[np.bool_],
    stack: npt.NDArray[np.bool_],
) -> bool:  # pragma: no cover - compiled
    # values (X,): the outcomes the program's references index (votes, or sides)
    top = 0
    for i in range(lo, hi):
        op = ops[i, 0]
        if op == 0:  # reference
            stack[top] = values[ops[i, 1]]
            top += 1
        elif op == 1:  # not
            stack[top - 1] = not stack[top - 1]
        elif op == 2:  # at least k of n
            k = ops[i, 1]
            n = ops[i, 2]
            held = 0
            for j in range(top - n, top):
                held += 1 if stack[j] else 0
            top -= n
            stack[top] = True if k <= 0 else held >= k
            top += 1
        else:  # weighted count, clause by clause in order as the NumPy path sums them
            n = ops[i, 1]
            polarity_for = ops[i, 2] == 1
            offset = ops[i, 3]
            weight = 0.0
            total = 0.0
            for j in range(n):
                w = numbers[offset + j]
                clause = stack[top - n + j]
                counted = clause if polarity_for else not clause
                weight += w * (1.0 if counted else 0.0)
                total += w
            top -= n
            threshold = numbers[offset + n]
            needed = threshold * total if numbers[offset + n + 1] == 1.0 else threshold
            stack[top] = weight >= needed - 1e-9 * max(total, 1.0)
            top += 1
    return stack[0]


def _level_loop(
    passed: npt.NDArray[np.bool_],
    ops: npt.NDArray[np.int64],
    numbers: npt.NDArray[np.float64],
    start: npt.NDArray[np.int64],
    depth: int,
    n_sides: int,
    nested_side: npt.NDArray[np.int64],
    deal_program: npt.NDArray[np.int64],
    sides: npt.NDArray[np.bool_],
    agreed: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled
    # passed (V, W, N) with W = D × R; programs: sides 0..S-1, nested S..S+len(nested)-1, then
    # the agreement programs each deal points to.
    n_votes, n_worlds, n_deals = passed.shape
    n_nested = nested_side.shape[0]
    for w in numba.prange(n_worlds):
        stack = np.empty(depth, dtype=np.bool_)
        votes = np.empty(n_votes, dtype=np.bool_)
        outcome = np.empty(n_sides, dtype=np.bool_)
        for n in range(n_deals):
            for v in range(n_votes):
                votes[v] = passed[v, w, n]
            for s in range(n_sides):
                outcome[s] = _run(ops, numbers, start[s], start[s + 1], votes, stack)
            for j in range(n_nested):
                p = n_sides + j
                s = nested_side[j]
                outcome[s] = outcome[s] and _run(ops, numbers, start[p], start[p + 1], outcome, stack)
            for s in range(n_sides):
                sides[s, w, n] = outcome[s]
            p = deal_program[n]
            agreed[w, n] = _run(ops, numbers, start[p], start[p + 1], outcome, stack)


# The work per world and deal is a few dozen operations: below about a million of them, starting
# the threads costs more than it saves (an analysis evaluating a few deals calls this hundreds of
# times), so small chunks run on one thread. Both give the same numbers.
_level_parallel = numba.njit(parallel=True, cache=True)(_level_loop)
_level_serial = numba.njit(cache=True)(_level_loop)
PARALLEL_FROM = 1 << 20


def level_outcomes(
    worlds: Worlds,
    procedures: Sequence[Expression],
    passed: npt.NDArray[np.bool_],
    agreements: Sequence[Expression | None] | Expression | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Sides' ratification ``(S, D, R, N)`` and the Level-I agreement ``(D, R, N)`` from vote outcomes.

    Parameters
    ----------
    worlds
        The worlds (their nested sides and default agreement).
    procedures
        One compiled procedure per side.
    passed
        ``(V, D, R, N)`` whether each vote passed.
    agreements
        One rule per deal, or one rule for every deal (``None``: the worlds' default agreement,
        else every side).
    """
    n_votes, n_draws, n_replicates, n_deals = passed.shape
    n_sides = len(procedures)
    default = worlds.agreement if worlds.agreement is not None else All(*(VoteRef(s) for s in range(n_sides)))
    per_deal = agreements if isinstance(agreements, Sequence) else [agreements] * n_deals
    rules: list[Expression] = []
    index: dict[Expression, int] = {}
    deal_program = np.empty(n_deals, dtype=np.int64)
    first = n_sides + len(worlds.nested)
    for n, rule in enumerate(per_deal):
        rule = rule if rule is not None else default
        if rule not in index:
            index[rule] = first + len(rules)
            rules.append(rule)
        deal_program[n] = index[rule]
    programs = compile_programs([*procedures, *(rule for _, rule in worlds.nested), *rules])
    sides = np.empty((n_sides, n_draws, n_replicates, n_deals), dtype=bool)
    agreed = np.empty((n_draws, n_replicates, n_deals), dtype=bool)
    kernel = _level_parallel if n_draws * n_replicates * n_deals >= PARALLEL_FROM else _level_serial
    kernel(
        passed.reshape(n_votes, n_draws * n_replicates, n_deals),
        programs.ops,
        programs.numbers,
        programs.start,
        programs.depth,
        n_sides,
        np.array([side for side, _ in worlds.nested], dtype=np.int64),
        deal_program,
        sides.reshape(n_sides, n_draws * n_replicates, n_deals),
        agreed.reshape(n_draws * n_replicates, n_deals),
    )
    return sides, agreed
