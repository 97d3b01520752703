"""Spatial evidence: recorded votes on earlier deals as likelihood terms of the scenario's model.

A member's vote on an earlier deal ``x`` against its reversion ``q`` follows the engine's rule:
yea when Δ_i(x; q) + ε_i > 0, ε_i ~ N(0, s_c²) with ``s_c`` the chamber's shock scale. Δ_i is
:func:`riskmodel.model.gain_graph.member_net_gain` — own utility, lobbies', the public's and
the chief's pull — at ``x`` minus the same at ``q``, plus the bloc's valence (the net gain
from ratifying whatever the terms). The difference cancels the scenario's own reversion, so
any reversion can be used. The public's approval of the scenario's deal is deal-specific and
cancels too: it is not learned from earlier votes.

Members of one roll call do not vote independently given their positions: whipping and the
day's politics move a whole party, or the whole chamber, at once. When the scenario declares
``common_shock`` on a bloc, a chamber or a side, each earlier vote draws the same kind of shock
the engine draws for the scenario's own vote (docs/design.md §5a): one normal per vote and
group, whose scale *is* the scenario's ``common_shock`` variable. The recorded votes thereby
learn that scale, and the worlds of the target vote draw their common shock from its
posterior, so the forecast's yes-count carries it. The intercepts are written non-centred
(``scale · z`` with ``z ~ N(0, 1)``) so NUTS does not meet the funnel between a small scale
and its intercepts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pymc as pm
import pytensor.tensor as pt

from riskmodel.model import variables as mv
from riskmodel.model.gain_graph import member_net_gain
from riskmodel.model.layout import Layout

__all__ = ["deal_vote_gain", "earlier_votes_loglik", "vote_common_shocks"]


def deal_vote_gain(
    model: pm.Model,
    layout: Layout,
    deal: npt.NDArray[np.float64],
    reversion: npt.NDArray[np.float64],
    index: npt.NDArray[np.int64],
) -> Any:
    """Δ_i of members ``index`` for ``deal`` against ``reversion`` (both ``(K,)``, unit scale).

    Parameters
    ----------
    model
        The scenario's model (:func:`riskmodel.model.priors.build_model`).
    layout
        Its layout.
    deal, reversion
        The earlier deal and what its failure left in place, on the unit scale.
    index
        Member positions in ``layout.members``.
    """
    bloc = layout.member_bloc[index]
    gain = member_net_gain(model, layout, deal, index) - member_net_gain(model, layout, reversion, index)
    return gain + model[mv.BLOC_VALENCE][bloc]


def earlier_votes_loglik(gain: Any, shock_scale: Any, yea: Any) -> Any:
    """Σ log P(recorded vote): P(yea) = Φ(gain / shock_scale), computed as log Φ(±z) for stability.

    ``yea`` (1 yea, 0 nay) may be an array or a tensor (e.g. ``pm.Data``, to refit new votes
    without recompiling).
    """
    sign = 2.0 * pt.as_tensor_variable(yea) - 1.0
    z = sign * gain / shock_scale
    return pt.sum(pm.logcdf(pm.Normal.dist(0.0, 1.0), z))


def vote_common_shocks(
    model: pm.Model,
    layout: Layout,
    index: npt.NDArray[np.int64],
    vote: npt.NDArray[np.int64],
    n_votes: int,
    prefix: str,
) -> Any:
    """The common shocks of recorded votes: ``(n,)`` the sum each row's member shared in its vote.

    Parameters
    ----------
    model
        The scenario's model; only the levels it declares a ``common_shock`` for take part
        (``bloc_common_shock``, ``chamber_common_shock``, ``side_common_shock``).
    layout
        Its layout.
    index
        The member of each row (positions in ``layout.members``).
    vote
        The vote of each row, ``0 … n_votes − 1``.
    n_votes
        Number of distinct votes.
    prefix
        Name prefix of the standardised intercepts (``{prefix}_{level}_z``, one per vote and
        group of the level).

    Returns
    -------
    tensor or float
        ``(n,)`` shocks (``0.0`` when the scenario declares no common shock). The chamber
        level uses the scale of the member's chamber in the scenario, also for a row recorded
        in another chamber (a senator's earlier House vote).
    """
    levels = (
        (mv.BLOC_COMMON_SHOCK, "bloc", layout.blocs, layout.member_bloc),
        (mv.CHAMBER_COMMON_SHOCK, "chamber", layout.chambers, layout.member_chamber),
        (mv.SIDE_COMMON_SHOCK, "side", layout.sides, layout.bloc_side[layout.member_bloc]),
    )
    total: Any = 0.0
    for variable, level, names, group_of in levels:
        if variable not in model.named_vars:
            continue
        group = np.asarray(group_of)[index]
        z = pm.Normal(f"{prefix}_{level}_z", 0.0, 1.0, shape=(n_votes, len(names)))
        total = total + model[variable][group] * z[vote, group]
    return total
