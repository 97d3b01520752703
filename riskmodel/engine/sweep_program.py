"""Procedures, nested sides and the Level-I rule as one program over bit-packed replicates.

The fused map kernel (:mod:`riskmodel.engine.sweep_map`) keeps, for every grid deal of a row,
one 64-bit word per vote whose bit ``r`` says whether the vote passed in replicate ``r`` of the
draw. A side's procedure is then a few word operations per deal (``NOT`` is a complement,
``AtLeast(n, n)`` an ``AND``, ``AtLeast(1, n)`` an ``OR``), run over the whole row at once so
the interpreter's dispatch is paid once per row, not per deal. Weighted counts fall back to
one replicate at a time with :func:`riskmodel.engine.procedure.evaluate_procedure`'s arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from riskmodel.worlds.arrays import AtLeast, Expression, Not, VoteRef, WeightedCount

__all__ = [
    "OP_ALL",
    "OP_AND_SIDE",
    "OP_AT_LEAST",
    "OP_NONE",
    "OP_NOT",
    "OP_SIDE",
    "OP_STORE_AGREED",
    "OP_STORE_SIDE",
    "OP_VOTE",
    "OP_WEIGHTED",
    "Program",
    "compile_program",
]

# Instructions: (op, a, b, c). The stack holds rows of words.
OP_VOTE = 0  # push vote a
OP_SIDE = 1  # push side a (nested sides and the Level-I rule read side outcomes)
OP_NOT = 2  # complement the top
OP_AT_LEAST = 3  # pop b rows, push "at least a of them" (a == b: AND, a == 1: OR)
OP_WEIGHTED = 4  # pop a rows, push weights[b : b + a] · held ≥ weights[b + a]; c = 1: polarity for
OP_ALL = 5  # push every replicate
OP_NONE = 6  # push no replicate
OP_STORE_SIDE = 7  # pop into side a
OP_AND_SIDE = 8  # pop and AND into side a (a nested side's rule over its members)
OP_STORE_AGREED = 9  # pop into the agreement

Program = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]


class _Builder:
    def __init__(self) -> None:
        self.ops: list[tuple[int, int, int, int]] = []
        self.weights: list[float] = []
        self.depth = 0
        self.max_depth = 0

    def emit(self, op: int, a: int = 0, b: int = 0, c: int = 0, *, pops: int = 0, pushes: int = 0) -> None:
        self.ops.append((op, a, b, c))
        self.depth += pushes - pops
        self.max_depth = max(self.max_depth, self.depth)

    def expression(self, expression: Expression, leaf: int) -> None:
        match expression:
            case VoteRef(vote=index):
                self.emit(leaf, index, pushes=1)
            case Not(clause=clause):
                self.expression(clause, leaf)
                self.emit(OP_NOT)
            case AtLeast(k=k, clauses=clauses):
                if k <= 0:
                    self.emit(OP_ALL, pushes=1)
                elif k > len(clauses):
                    self.emit(OP_NONE, pushes=1)
                else:
                    for clause in clauses:
                        self.expression(clause, leaf)
                    self.emit(OP_AT_LEAST, k, len(clauses), pops=len(clauses), pushes=1)
            case WeightedCount(clauses=clauses, threshold=threshold, share=share, polarity_for=polarity_for):
                offset = len(self.weights)
                total = 0.0
                for clause, w in clauses:
                    self.expression(clause, leaf)
                    self.weights.append(float(w))
                    total += w
                # evaluate_procedure's threshold, the same floating-point operations
                needed = threshold * total if share else threshold
                self.weights.append(needed - 1e-9 * max(total, 1.0))
                self.emit(OP_WEIGHTED, len(clauses), offset, int(polarity_for), pops=len(clauses), pushes=1)
            case _:
                raise TypeError(f"not an expression: {expression!r}")


def compile_program(
    procedures: Sequence[Expression],
    nested: Sequence[tuple[int, Expression]],
    agreement: Expression | None,
) -> Program:
    """Compile the sides' procedures, nested sides and the Level-I rule into one program.

    The program reproduces :func:`riskmodel.engine.procedure.evaluate_procedure` per side,
    :func:`riskmodel.engine.chunks.nest_sides` (in order) and
    :func:`riskmodel.engine.chunks.level_one` (``agreement`` None: every side).

    Returns
    -------
    tuple
        ``(ops (P, 4) int64, weights (W,) float64, stack depth)``.
    """
    builder = _Builder()
    for side, expression in enumerate(procedures):
        builder.expression(expression, OP_VOTE)
        builder.emit(OP_STORE_SIDE, side, pops=1)
    for side, rule in nested:
        builder.expression(rule, OP_SIDE)
        builder.emit(OP_AND_SIDE, side, pops=1)
    if agreement is None and not procedures:
        builder.emit(OP_ALL, pushes=1)  # np.all over no sides
    elif agreement is None:
        for side in range(len(procedures)):
            builder.emit(OP_SIDE, side, pushes=1)
        builder.emit(OP_AT_LEAST, len(procedures), len(procedures), pops=len(procedures), pushes=1)
    else:
        builder.expression(agreement, OP_SIDE)
    builder.emit(OP_STORE_AGREED, pops=1)
    ops = np.array(builder.ops, dtype=np.int64).reshape(-1, 4)
    return ops, np.array(builder.weights, dtype=np.float64), max(builder.max_depth, 1)
