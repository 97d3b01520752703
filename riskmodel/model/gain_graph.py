"""Net gains as PyTensor expressions over the scenario model, for evidence on a named deal.

The same quantities :mod:`riskmodel.worlds.build` computes in NumPy from draws (docs/design.md,
"The model"), written over the model's deterministics so that observations about a deal (a whip
count, a poll) can condition the priors. Issues are on the unit scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pymc as pm
import pytensor.tensor as pt

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout

__all__ = ["member_net_gain", "public_share"]


def _utility_gain(
    theta: Any,
    weight: Any,
    reversion: Any,
    deal: Any,
    gamma: Any,
    pairs: npt.NDArray[np.int64],
    linear: npt.NDArray[np.bool_],
) -> Any:
    """U(x) − U(q) over the last axis; the arguments broadcast (e.g. (n, K) rows and a (K,) deal).

    ``gamma`` is (P,), one per link pair. A linear issue (``linear``, (K,)) weighs
    2w(θ − ½)(x − ½) instead of −w(x − θ)²: the quadratic's gain plus w((x − ½)² − (q − ½)²).
    """

    def utility(point: Any) -> Any:
        gap = point - theta
        value = -pt.sum(weight * gap**2, axis=-1)
        for p, (a, b) in enumerate(pairs):
            value = (
                value - 2 * gamma[p] * pt.sqrt(weight[..., a] * weight[..., b]) * gap[..., a] * gap[..., b]
            )
        return value

    gain = utility(deal) - utility(reversion)
    if np.any(linear):
        mask = linear.astype(np.float64)
        gain = gain + pt.sum(weight * mask * ((deal - 0.5) ** 2 - (reversion - 0.5) ** 2), axis=-1)
    return gain


def _unit(layout: Layout, values: Any) -> Any:
    return (values - layout.issue_low) / layout.issue_span


def _gamma(model: pm.Model, layout: Layout) -> Any:
    return model[mv.LINK_INTERACTION] if len(layout.link_pairs) else pt.zeros(0)


def _public_gain(model: pm.Model, layout: Layout, deal: Any) -> Any:
    """The public's mean net gain plus approval: (S_pub,) for a (K,) deal, (S_pub, n) for (n, K) rows."""
    reversion = layout.to_unit(layout.reversion)[layout.public_side]
    rows = np.ndim(deal) == 2
    gain = _utility_gain(
        _expand(_unit(layout, model[mv.PUBLIC_IDEAL]), rows),
        _expand(model[mv.PUBLIC_SALIENCE], rows),
        _expand(reversion, rows),
        pt.as_tensor_variable(deal),
        _gamma(model, layout),
        layout.link_pairs,
        layout.issue_linear,
    )
    return gain + _expand(model[mv.PUBLIC_APPROVAL], rows, axis=-1)


def _expand(values: Any, rows: bool, axis: int = -2) -> Any:
    """``values`` with a row axis inserted at ``axis`` when the deal varies by row."""
    return pt.expand_dims(values, axis) if rows else values


def member_net_gain(
    model: pm.Model, layout: Layout, deal: npt.NDArray[np.float64], index: npt.NDArray[np.int64]
) -> Any:
    """Δ_i(deal) of members ``index``: own, lobby, public and chief terms (no shock).

    Parameters
    ----------
    model
        The scenario's model (:func:`riskmodel.model.priors.build_model`).
    layout
        Its layout.
    deal
        ``(K,)`` the deal on the unit scale, or ``(n, K)`` one deal per member row (the
        earlier votes of ``evidence: earlier_deals`` stacked: one graph for all of them).
    index
        Member positions in ``layout.members``.
    """
    bloc = layout.member_bloc[index]
    side = layout.bloc_side[bloc]
    reversion = layout.to_unit(layout.reversion)[side]
    gamma = _gamma(model, layout)
    x = pt.as_tensor_variable(deal)
    rows = np.ndim(deal) == 2
    total = _utility_gain(
        _unit(layout, model[mv.MEMBER_IDEAL][index]),
        model[mv.BLOC_SALIENCE][bloc],
        reversion,
        x,
        gamma,
        layout.link_pairs,
        layout.issue_linear,
    )
    row = np.arange(len(index))
    if layout.lobbies:
        lobby_gain = _utility_gain(
            _expand(_unit(layout, model[mv.LOBBY_IDEAL]), rows),
            _expand(model[mv.LOBBY_SALIENCE], rows),
            _expand(layout.to_unit(layout.reversion)[layout.lobby_side], rows),
            x,
            gamma,
            layout.link_pairs,
            layout.issue_linear,
        )  # (J,) or (J, n)
        reach = layout.lobby_reach[:, index].astype(np.float64)  # (J, n)
        weighted = (
            model[mv.LOBBY_INFLUENCE][:, None] * lobby_gain
            if rows
            else (model[mv.LOBBY_INFLUENCE] * lobby_gain)[:, None]
        )
        total = total + pt.sum(weighted * reach, axis=0)
    if layout.publics:
        slot = {int(s): k for k, s in enumerate(layout.public_side)}
        where = np.array([slot.get(int(s), -1) for s in side])
        if (where >= 0).any():
            public = _public_gain(model, layout, deal)
            gain = (public[np.maximum(where, 0), row] if rows else public[np.maximum(where, 0)]) * (
                where >= 0
            )
            total = total + model[mv.BLOC_RESPONSIVENESS][bloc] * gain
    if layout.chiefs:
        slot = {int(s): k for k, s in enumerate(layout.chief_side)}
        where = np.array([slot.get(int(s), -1) for s in side])
        if (where >= 0).any():
            chief = _utility_gain(
                _expand(_unit(layout, model[mv.CHIEF_IDEAL]), rows),
                _expand(model[mv.CHIEF_SALIENCE], rows),
                _expand(layout.to_unit(layout.reversion)[layout.chief_side], rows),
                x,
                gamma,
                layout.link_pairs,
                layout.issue_linear,
            )  # (C,) or (C, n)
            pull = chief[np.maximum(where, 0), row] if rows else chief[np.maximum(where, 0)]
            total = total + model[mv.BLOC_PARTY_PULL][bloc] * pull * (where >= 0)
    total = total + model[mv.BLOC_VALENCE][bloc]
    return total


def public_share(
    model: pm.Model, layout: Layout, deal: npt.NDArray[np.float64], public: int, noise: Any
) -> Any:
    """Share of a public preferring the deal to its reversion (as a referendum computes it).

    Voters' ideal points are N(μ, diag σ²) and each has an idiosyncratic N(0, noise²) taste:
    the share is Φ(mean gain / √(4 uᵀWΣWu + noise²)), u = deal − reversion.
    """
    mean = _public_gain(model, layout, deal)[public]
    weight = model[mv.PUBLIC_SALIENCE][public]
    spread = model[mv.PUBLIC_SPREAD][public] / layout.issue_span
    u = deal - layout.to_unit(layout.reversion)[layout.public_side[public]]
    wu = weight * u
    gamma = _gamma(model, layout)
    for p, (a, b) in enumerate(layout.link_pairs):
        s = gamma[p] * pt.sqrt(weight[a] * weight[b])
        wu = pt.inc_subtensor(wu[a], s * u[b])
        wu = pt.inc_subtensor(wu[b], s * u[a])
    variance = 4 * pt.sum(wu**2 * spread**2)
    z = mean / pt.sqrt(variance + noise**2)
    return pt.clip(0.5 * (1 + pt.erf(z / np.sqrt(2.0))), 1e-12, 1 - 1e-12)
