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
``common_shock`` on a bloc, a chamber or a side, each earlier vote draws the same shocks the
engine draws for the scenario's own vote (docs/design.md §5a), with the scales that *are* the
scenario's ``common_shock`` variables. The recorded votes thereby learn those scales, and the
worlds of the target vote draw their common shocks from the posterior, so the forecast's
yes-count carries them. The shocks are written non-centred (``scale · z`` with
``z ~ N(0, 1)``) so NUTS does not meet the funnel between a small scale and its shocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from riskmodel.model import variables as mv
from riskmodel.model.gain_graph import member_net_gain
from riskmodel.model.layout import Layout

__all__ = [
    "CENTRED_VOTES",
    "STRONG_VOTE",
    "IdeologyInput",
    "deal_vote_gain",
    "earlier_votes_loglik",
    "ideology_inputs",
    "ideology_loglik",
    "member_deviation_gain",
    "standardise_within",
    "vote_common_shocks",
]

# members per party above which a recorded vote pins down the party's shock (centred draws)
STRONG_VOTE = 10
# strong votes needed before they are drawn centred (fewer inform the shock scales too little)
CENTRED_VOTES = 5


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
        The earlier deal and what its failure left in place, on the unit scale: ``(K,)``, or
        ``(n, K)`` one per row (several earlier votes in one graph).
    index
        Member positions in ``layout.members``.
    """
    bloc = layout.member_bloc[index]
    gain = member_net_gain(model, layout, deal, index) - member_net_gain(model, layout, reversion, index)
    return gain + model[mv.BLOC_VALENCE][bloc]


def member_deviation_gain(
    model: pm.Model,
    layout: Layout,
    deal: npt.NDArray[np.float64],
    reversion: npt.NDArray[np.float64],
    index: npt.NDArray[np.int64],
) -> Any:
    """The part of Δ_i owed to member ``i``'s own departure from its bloc's ideal point.

    Own utility's gain U(x) − U(q) is linear in the ideal point θ (the quadratic terms in θ
    cancel): ``Σ_k 2·w_k·(x_k − q_k)·θ_k`` plus terms free of θ (link terms add pair-wise
    ones, left out here). This is that sum at ``θ_i − θ_bloc``; Δ_i minus it is the gain every
    member of the bloc shares on the vote (:func:`vote_common_shocks` centres on it).
    """
    bloc = layout.member_bloc[index]
    departure = (model[mv.MEMBER_IDEAL][index] - model[mv.BLOC_IDEAL][bloc]) / layout.issue_span
    slope = 2.0 * model[mv.BLOC_SALIENCE][bloc] * (deal - reversion)
    return pt.sum(slope * departure, axis=-1)


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
    centre: Any = None,
) -> Any:
    """The common shocks of recorded votes: ``(n,)`` the sum each row's member shared in its vote.

    The engine adds, per world, a chamber's and a bloc's (and a side's) shock to every member
    there. A party's members therefore share, on one vote, the *total* ``t_b`` of the shocks
    that reach their bloc; across blocs the totals are jointly normal with covariance
    ``Σ[b, b'] = Σ_level scale_level² · [b and b' share the level's group]``. The recorded votes
    depend on the shocks only through these totals, so they are drawn directly as
    ``t = L·z`` (``L`` the Cholesky factor of Σ, ``z ~ N(0, I)`` per vote): the same
    distribution as the sum of the separate shocks, without the ridge along which a chamber's
    shock and its parties' shocks trade off (it made the sampler diverge), and non-centred.

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
        Name of the standardised shocks: ``{prefix}_shock_z``, ``(n_votes, blocs of the rows)``.
    centre
        ``(n,)`` optional: the part of each row's net gain that its bloc shares on the vote
        (e.g. Δ_i minus :func:`member_deviation_gain`). Centred draws are then made of the
        *level* ``centre + total`` (``{prefix}_shock_level``, centred on the first row's
        ``centre`` of each vote and bloc) rather than of the total (``{prefix}_shock_t``): the
        same model, but where a vote pins down each party's level the party's valence and
        ideal point no longer trade off against every one of its vote shocks (hierarchical
        centring, Gelfand, Sahu & Carlin 1995).

    Without a bloc-level shock the blocs of one chamber (or side) share their total, so it is
    drawn once per vote and chamber (the *unit*), and a centred draw is of the chamber's level:
    the mean over its blocs of the gain they share plus the chamber's shock.

    Returns
    -------
    tensor or float
        ``(n,)`` shocks (``0.0`` when the scenario declares no common shock). The chamber
        level uses the scale of the member's chamber in the scenario, also for a row recorded
        in another chamber (a senator's earlier House vote).
    """
    cells, cell_of_row = np.unique(layout.member_bloc[index], return_inverse=True)
    first = np.array([index[np.flatnonzero(cell_of_row == c)[0]] for c in range(len(cells))])
    chamber, side = layout.member_chamber[first], layout.bloc_side[cells]
    # the units that draw one total per vote: each bloc when blocs have shocks of their own,
    # else each chamber (or side) — its blocs then share the total, and drawing it once per
    # unit keeps the covariance full rank
    if mv.BLOC_COMMON_SHOCK in model.named_vars:
        unit_of_cell = np.arange(len(cells))
    else:
        unit_of_cell = np.unique(
            chamber if mv.CHAMBER_COMMON_SHOCK in model.named_vars else side, return_inverse=True
        )[1]
    n_units = int(unit_of_cell.max()) + 1
    one = np.array([np.flatnonzero(unit_of_cell == u)[0] for u in range(n_units)])  # a cell per unit
    levels = (
        (mv.BLOC_COMMON_SHOCK, cells[one]),
        (mv.CHAMBER_COMMON_SHOCK, chamber[one]),
        (mv.SIDE_COMMON_SHOCK, side[one]),
    )
    cov: Any = None
    for variable, group in levels:
        if variable not in model.named_vars:
            continue
        scale = model[variable][group]
        same = (group[:, None] == group[None, :]).astype(np.float64)
        term = scale[:, None] * scale[None, :] * same
        cov = term if cov is None else cov + term
    if cov is None:
        return 0.0
    # Σ over the units is full rank while every scale is positive; 1e-9 (a shock of 3e-5 against
    # member shocks of order 0.1) keeps the factor defined at a scale of zero and changes nothing
    chol = pt.linalg.cholesky(cov + 1e-9 * np.eye(n_units))
    # Where a vote's rows pin down every party total (many members per party) the draws are
    # centred: a non-centred ``z = t / scale`` would then curve sharply with the scale, which
    # is where NUTS diverged. Where few members voted (a senator's earlier House vote) the
    # data say little and the non-centred form is the smooth one.
    counts = np.zeros((n_votes, len(cells)), dtype=np.int64)
    np.add.at(counts, (vote, cell_of_row), 1)
    strong = np.flatnonzero(counts.min(axis=1) >= STRONG_VOTE)
    if len(strong) < CENTRED_VOTES:
        # ... but the centred draws' scale is then learned from those few votes alone: a scale
        # the data barely inform, with shocks centred on it, is Neal's funnel (the fits with
        # one or two earlier votes diverged), so every vote is drawn non-centred
        strong = strong[:0]
    weak = np.setdiff1d(np.arange(n_votes), strong)
    pieces: list[Any] = []
    order: list[int] = []
    if len(strong) and centre is not None:
        first_row = np.array(
            [[np.flatnonzero((vote == v) & (cell_of_row == c))[0] for c in range(len(cells))] for v in strong]
        )
        mu = pt.as_tensor_variable(centre)[first_row]  # (strong votes, cells)
        if n_units < len(cells):  # a unit's level is centred on the mean of its blocs' shared gains
            weight = (unit_of_cell[None, :] == np.arange(n_units)[:, None]).astype(np.float64)
            mu = pt.dot(mu, (weight / weight.sum(axis=1, keepdims=True)).T)
        level = pm.MvNormal(f"{prefix}_shock_level", mu=mu, chol=chol, shape=(len(strong), n_units))
        pieces.append(level - mu)
        order.extend(strong)
    elif len(strong):
        mu = np.zeros(n_units)
        pieces.append(pm.MvNormal(f"{prefix}_shock_t", mu=mu, chol=chol, shape=(len(strong), n_units)))
        order.extend(strong)
    if len(weak):
        z = pm.Normal(f"{prefix}_shock_z", 0.0, 1.0, shape=(len(weak), n_units))
        pieces.append(z @ chol.T)
        order.extend(weak)
    totals = pt.concatenate(pieces, axis=0)[np.argsort(np.asarray(order))]
    return totals[vote, unit_of_cell[cell_of_row]]


def standardise_within(
    values: npt.NDArray[np.float64], group: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """``values`` centred and scaled to unit SD within each group (NaN where a group has < 3 or no spread).

    The ideology input is standardised per bloc, so that its loading is a correlation with the
    member's standardised issue position, whatever the scale of the ideal points given.
    """
    out = np.full(len(values), np.nan)
    for g in np.unique(group):
        rows = np.flatnonzero((group == g) & np.isfinite(values))
        if len(rows) < 3:
            continue
        spread = values[rows].std()
        if spread > 0:
            out[rows] = (values[rows] - values[rows].mean()) / spread
    return out


@dataclass(frozen=True)
class IdeologyInput:
    """One ``evidence: ideology`` item's standardised ideal points, for the members that have one."""

    k: int  # the item's position in ``evidence.ideology``
    index: npt.NDArray[np.int64]  # members (positions in ``layout.members``)
    x: npt.NDArray[np.float64]  # their ideal points, standardised within bloc
    bloc: npt.NDArray[np.int64]
    issue: int
    loading: Any  # the prior of each bloc's loading
    # rows whose position on the issue an earlier item already ties to an ideal point: they keep
    # this item's likelihood (:func:`ideology_loglik`) rather than a non-centred position
    centred: npt.NDArray[np.bool_]


def ideology_inputs(layout: Layout) -> list[IdeologyInput | None]:
    """Every ``evidence: ideology`` item of the scenario, in order (``None``: nobody has an ideal point)."""
    evidence = layout.scenario.spec.evidence
    out: list[IdeologyInput | None] = []
    taken: set[tuple[int, int]] = set()
    for k, item in enumerate(evidence.ideology if evidence is not None else ()):
        table = layout.scenario.member_tables.get((item.side, item.chamber))
        if table is None or item.column not in table.columns or item.issue not in layout.issues:
            out.append(None)  # named wrongly: reported by riskmodel.model.evidence.check_evidence
            continue
        members = layout.member_index(item.side, item.chamber)
        index = np.array([members[str(name)] for name in table["name"]], dtype=np.int64)
        cells = table[item.column].fillna("").astype(str).str.strip()
        values = pd.to_numeric(cells.where(cells != ""), errors="coerce").to_numpy(np.float64)
        x = standardise_within(values, layout.member_bloc[index])
        has = np.isfinite(x)
        if not has.any():
            out.append(None)  # every member takes the bloc's mean
            continue
        issue = layout.issues.index(item.issue)
        index = index[has]
        centred = np.array([(int(m), issue) in taken for m in index], dtype=bool)
        taken.update((int(m), issue) for m in index)
        bloc = layout.member_bloc[index]
        out.append(IdeologyInput(k, index, x[has], bloc, issue, item.loading, centred))
    return out


def ideology_loglik(z: Any, x: npt.NDArray[np.float64], loading: Any) -> Any:
    """Σ log N(x; ρ·z, 1 − ρ²): standardised ideal points ``x`` given standardised positions ``z``.

    With ``z ~ N(0, 1)`` (the model's prior on ``member_z``) this makes ``(z, x)`` standard
    bivariate normal with correlation ρ (``loading``, one per row): conditioning on ``x`` gives
    ``z | x ~ N(ρ·x, 1 − ρ²)`` — the position is loading × ideal point plus the member's own
    part. Written as a likelihood of the ideal points, the prior on ``z`` is left as it is.
    """
    sd = pt.sqrt(1.0 - loading**2)
    return pt.sum(pm.logp(pm.Normal.dist(loading * z, sd), x))
