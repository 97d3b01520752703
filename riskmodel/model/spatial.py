"""Spatial evidence: recorded votes on earlier deals as likelihood terms of the scenario's model.

A member's vote on an earlier deal ``x`` against its reversion ``q`` follows the engine's rule:
yea when Δ_i(x; q) + ε_i > 0, ε_i ~ N(0, s_c²) with ``s_c`` the chamber's shock scale. Δ_i is
:func:`riskmodel.model.gain_graph.member_net_gain` — own utility, lobbies', the public's and
the chief's pull — at ``x`` minus the same at ``q``, plus the bloc's valence (the net gain
from ratifying whatever the terms). The difference cancels the scenario's own reversion, so
any reversion can be used. The public's approval of the scenario's deal is deal-specific and
cancels too: it is not learned from earlier votes.
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

__all__ = ["deal_vote_gain", "earlier_votes_loglik"]


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
