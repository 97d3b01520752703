"""World arrays of the multilateral keys: per-bloc reversions, common shocks and sequence shifts.

Each piece is built only when the scenario declares it, so a scenario without these keys gets
exactly the worlds it always had (docs/design.md, "Multilateral and nested games").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.worlds.arrays import SequenceShift

__all__ = ["COMMON_SHOCK_STREAM", "bloc_reversion", "common_shocks", "sequence_shifts", "stack"]

FloatArray = npt.NDArray[np.float64]

COMMON_SHOCK_STREAM = 0x636F6D6D
"""Spawn key of the common shocks' own stream (far above any per-draw child's index), so that
drawing them moves no other random number."""


def stack(draws: xr.Dataset, name: str) -> FloatArray:
    """(chain × draw, ...) array of a variable, chains concatenated."""
    values = draws[name].to_numpy()
    return values.reshape(-1, *values.shape[2:]).astype(np.float64)


def bloc_reversion(layout: Layout, draws: xr.Dataset) -> FloatArray:
    """``(D, B, K)`` each bloc's reversion on the unit scale (its side's where it declares none)."""
    return (stack(draws, mv.BLOC_REVERSION) - layout.issue_low) / layout.issue_span


def common_shocks(
    layout: Layout, draws: xr.Dataset, seed: SeedLike, n_replicates: int
) -> npt.NDArray[np.float32] | None:
    """``(D, R, M)`` the sum of the common shocks each member shares, or ``None`` when there are none.

    One standard normal per world and group (bloc, chamber or side), times the group's scale in
    that draw; every member of the group gets the same value. Veto players share their side's.
    """
    groups: list[tuple[FloatArray, npt.NDArray[np.bool_]]] = []  # (scale (D,), members mask (M,))
    side_of = layout.bloc_side[layout.member_bloc]
    if mv.BLOC_COMMON_SHOCK in draws:
        scale = stack(draws, mv.BLOC_COMMON_SHOCK)
        groups += [(scale[:, b], layout.member_bloc == b) for b in range(len(layout.blocs))]
    if mv.CHAMBER_COMMON_SHOCK in draws:
        scale = stack(draws, mv.CHAMBER_COMMON_SHOCK)
        groups += [(scale[:, c], layout.member_chamber == c) for c in range(len(layout.chambers))]
    if mv.SIDE_COMMON_SHOCK in draws:
        scale = stack(draws, mv.SIDE_COMMON_SHOCK)
        groups += [(scale[:, s], side_of == s) for s in range(len(layout.sides))]
    if not groups:
        return None
    root = as_seed_sequence(seed)
    stream = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, COMMON_SHOCK_STREAM))
    scales = np.stack([g[0] for g in groups], axis=1)  # (D, G)
    membership = np.stack([g[1] for g in groups], axis=0).astype(np.float64)  # (G, M)
    n_draws = scales.shape[0]
    out = np.empty((n_draws, n_replicates, len(layout.members)), dtype=np.float32)
    for d, child in enumerate(stream.spawn(n_draws)):
        z = np.random.default_rng(child).standard_normal((n_replicates, len(groups)))
        out[d] = (z * scales[d]) @ membership
    if layout.member_lead is not None:
        out = out[:, :, layout.member_lead]
    return out


def sequence_shifts(
    layout: Layout, coef: FloatArray, coefficients: Callable[[FloatArray], FloatArray]
) -> tuple[SequenceShift, ...]:
    """One shift per ``reversion_if`` entry: how much each of the side's members' net gain moves.

    A reversion enters a net gain only through its constant term, so the gain against the
    alternative reversion is the gain against the side's plus a per-member constant.
    ``coefficients(reversion)`` recomputes every member's coefficients against ``(S, K)`` reversions.
    """
    spec = layout.scenario.spec
    side_of = layout.bloc_side[layout.member_bloc]
    out = []
    base = layout.to_unit(layout.reversion)
    for s, side in enumerate(spec.sides):
        members = np.flatnonzero(side_of == s)
        for entry in side.reversion_if:
            reversion = base.copy()
            for k, issue in enumerate(layout.issues):
                if issue in entry.then:
                    reversion[s, k] = (entry.then[issue] - layout.issue_low[k]) / layout.issue_span[k]
            other = coefficients(reversion)
            if layout.member_lead is not None:
                other = other[:, layout.member_lead]
            shift = (other[:, members, -1] - coef[:, members, -1]).astype(np.float32)
            out.append(
                SequenceShift(side=s, deal=layout.deals.index(entry.ratified), members=members, shift=shift)
            )
    return tuple(out)
