"""Per-draw outcomes: the conditional probabilities p_e of deals in given worlds.

The analyses that compare modified worlds with the base ones on common random numbers
(sensitivity, stress tests) reduce the engine's outcomes to p_e per draw with
:func:`per_draw_outcomes`, then to a mean and its MCSE with :func:`riskmodel.results.mcse.mean_and_mcse`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from riskmodel.engine import evaluate_chunks

if TYPE_CHECKING:
    from riskmodel.model.layout import Layout
    from riskmodel.worlds.arrays import Worlds

__all__ = ["per_draw_outcomes"]


def per_draw_outcomes(
    layout: Layout,
    worlds: Worlds,
    deal_values: npt.ArrayLike,
    *,
    chunk_size: int | None = None,
) -> npt.NDArray[np.float64]:
    """Conditional ratification probabilities p_e per side and of the agreement.

    Parameters
    ----------
    layout
        The indexed scenario (its vote rules and procedures are applied).
    worlds
        The worlds.
    deal_values
        ``(N, K)`` deals in issue units.
    chunk_size
        Deals per engine chunk.

    Returns
    -------
    numpy.ndarray
        ``(S + 1, D, N)``: share of each draw's replicates in which each side ratifies (rows
        in side order), and in which every side does (last row).
    """
    values = np.atleast_2d(np.asarray(deal_values, dtype=np.float64))
    n_sides = len(layout.sides)
    out = np.zeros((n_sides + 1, worlds.n_draws, values.shape[0]))
    chunks = evaluate_chunks(worlds, layout.to_unit(values), chunk_size=chunk_size)
    for chunk in chunks:
        part = chunk.deal_slice
        out[:n_sides, :, part] = chunk.side_ratified.sum(axis=2)
        out[n_sides, :, part] = chunk.agreed.sum(axis=1)
    return out / worlds.n_replicates
