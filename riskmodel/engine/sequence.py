"""Named deals evaluated in sequence: ``reversion_if`` makes a later deal's worlds depend on earlier ones.

A side whose reversion changes when deal ``e`` is agreed has, in exactly the worlds where ``e``
was agreed, every member's net gain moved by a constant (a reversion enters a net gain only
through its constant term). Moving a member's gain by ``δ`` is moving its shock by ``δ``, so a
deal is evaluated on worlds whose shocks are shifted where the earlier deals held: the same
worlds, the same random numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from riskmodel.engine.chunks import ChunkOutcome, evaluate_chunks
from riskmodel.worlds.arrays import Expression, Worlds

__all__ = ["evaluate_in_order"]


def evaluate_in_order(
    worlds: Worlds,
    deals_unit: npt.ArrayLike,
    agreements: Sequence[Expression | None],
    order: Sequence[int],
    *,
    chunk_size: int | None = None,
) -> Iterator[ChunkOutcome]:
    """Evaluate named deals, earlier deals of ``reversion_if`` entries first; yield them in deal order.

    Parameters
    ----------
    worlds
        The sampled worlds (with their ``sequences``).
    deals_unit
        ``(N, K)`` the named deals on the unit scale.
    agreements
        One Level-I rule per deal (``None``: the default).
    order
        A permutation of the deals in which every deal comes after those its sides' reversions
        depend on (:func:`riskmodel.spec.multilateral.deal_order`).
    chunk_size
        Passed on when no deal depends on another.
    """
    deals = np.atleast_2d(np.asarray(deals_unit, dtype=np.float64))
    if not worlds.sequences:
        yield from evaluate_chunks(worlds, deals, chunk_size=chunk_size, agreements=agreements)
        return
    agreed: dict[int, npt.NDArray[np.bool_]] = {}
    outcomes: dict[int, ChunkOutcome] = {}
    for j in order:
        shifted = _shifted(worlds, {e: a for e, a in agreed.items() if e != j})
        (outcome,) = evaluate_chunks(shifted, deals[j : j + 1], agreements=[agreements[j]], chunk_size=1)
        outcome = dataclasses.replace(outcome, deal_slice=slice(j, j + 1))
        agreed[j] = outcome.agreed[..., 0]
        outcomes[j] = outcome
    for j in range(deals.shape[0]):
        yield outcomes[j]


def _shifted(worlds: Worlds, agreed: dict[int, npt.NDArray[np.bool_]]) -> Worlds:
    """Worlds whose shocks carry each applicable entry's shift (first matching entry per side)."""
    entries = [e for e in worlds.sequences if e.deal in agreed]
    if not entries:
        return worlds
    shock = worlds.member_shock.copy()
    taken: dict[int, npt.NDArray[np.bool_]] = {}
    for entry in entries:
        done = taken.setdefault(entry.side, np.zeros(shock.shape[:2], dtype=bool))
        hit = agreed[entry.deal] & ~done  # (D, R)
        add = np.where(hit[:, :, None], entry.shift[:, None, :], np.float32(0.0))
        shock[:, :, entry.members] += add
        done |= hit
    return dataclasses.replace(worlds, member_shock=shock)
