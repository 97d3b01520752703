"""The vote engine: deals × worlds → yes counts → votes → procedures → agreement.

Pure NumPy (plus a numba kernel); it knows nothing of YAML, PyMC or plotting. A member's net
gain from a deal is one dot product of its coefficient vector with the deal's features, so the
kernel evaluates every (draw, member, deal) once and compares it against the member's R shock
replicates. Deals are processed in chunks so memory stays bounded; nothing random happens here,
so chunk size and thread count cannot change a number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from riskmodel.model.layout import VoteRule
from riskmodel.model.procedure import Expression, evaluate_procedure
from riskmodel.worlds.build import Worlds, deal_features

__all__ = ["ChunkOutcome", "count_yes", "evaluate_chunks", "vote_outcomes"]


@numba.njit(parallel=True, cache=True, fastmath=True)
def _count_yes_kernel(
    coef_t: npt.NDArray[np.float32],
    features: npt.NDArray[np.float32],
    neg_shocks: npt.NDArray[np.float32],
    bounds: npt.NDArray[np.int64],
) -> npt.NDArray[np.int32]:  # pragma: no cover - compiled
    # coef_t (D, F, M); features (N, F); neg_shocks (D, R, M) = -shock (+inf when absent);
    # bounds (C + 1,): members of chamber c are bounds[c]:bounds[c + 1]. The innermost loops
    # run over contiguous members so they vectorise; a member votes yes iff gain > -shock.
    # The count is accumulated in float32 (exact below 2**24) because that form vectorises.
    n_draws, n_features, n_members = coef_t.shape
    n_deals = features.shape[0]
    n_replicates = neg_shocks.shape[1]
    n_chambers = bounds.shape[0] - 1
    counts = np.zeros((n_draws, n_replicates, n_deals, n_chambers), dtype=np.int32)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for d in numba.prange(n_draws):
        gain = np.empty(n_members, dtype=np.float32)
        coef_d = coef_t[d]
        for n in range(n_deals):
            weight = features[n, 0]
            row = coef_d[0]
            for m in range(n_members):
                gain[m] = row[m] * weight
            for f in range(1, n_features):
                weight = features[n, f]
                row = coef_d[f]
                for m in range(n_members):
                    gain[m] += row[m] * weight
            for r in range(n_replicates):
                threshold = neg_shocks[d, r]
                for c in range(n_chambers):
                    lo = bounds[c]
                    hi = bounds[c + 1]
                    g = gain[lo:hi]
                    t = threshold[lo:hi]
                    total = zero
                    for m in range(hi - lo):
                        total += one if g[m] > t[m] else zero
                    counts[d, r, n, c] = np.int32(total)
    return counts


@dataclass(frozen=True)
class _KernelInput:
    """Worlds rearranged once for the kernel: members contiguous in the innermost axis."""

    coef_t: npt.NDArray[np.float32]
    neg_shocks: npt.NDArray[np.float32]
    bounds: npt.NDArray[np.int64]


def _kernel_input(worlds: Worlds) -> _KernelInput:
    chamber = worlds.member_chamber
    if np.any(np.diff(chamber) < 0):
        raise ValueError("members must be ordered by chamber")
    bounds = np.searchsorted(chamber, np.arange(worlds.n_chambers + 1), side="left").astype(np.int64)
    return _KernelInput(
        coef_t=np.ascontiguousarray(np.moveaxis(worlds.member_coef, 2, 1), dtype=np.float32),
        neg_shocks=np.ascontiguousarray(-worlds.member_shock, dtype=np.float32),
        bounds=bounds,
    )


def count_yes(
    worlds: Worlds, features: npt.NDArray[np.float64], *, prepared: _KernelInput | None = None
) -> npt.NDArray[np.int32]:
    """Members voting for each deal: ``(D, R, N, C)`` counts per chamber and world."""
    kernel_input = prepared if prepared is not None else _kernel_input(worlds)
    return _count_yes_kernel(
        kernel_input.coef_t,
        np.ascontiguousarray(features, dtype=np.float32),
        kernel_input.neg_shocks,
        kernel_input.bounds,
    )


def _referendum_share(
    worlds: Worlds, deals_unit: npt.NDArray[np.float64], features: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Yes share ``(D, R, N, Q)`` of each referendum: the voters' net gain is normal."""
    # Explicit products summed over the last axis (not einsum/BLAS, whose blocking depends on N)
    # keep every deal's value bit-identical whatever chunk it is evaluated in.
    mean = (worlds.referendum_coef[:, :, None, :] * features[None, None, :, :]).sum(axis=-1)  # (D, Q, N)
    u = deals_unit[None, :, :] - worlds.referendum_reversion[:, None, :]  # (Q, N, K)
    outer = u[:, :, :, None] * u[:, :, None, :]  # (Q, N, K, K)
    variance = (worlds.referendum_var[:, :, None] * outer[None]).sum(axis=(-1, -2))
    scale = np.sqrt(variance + worlds.referendum_noise[:, :, None] ** 2)  # (D, Q, N)
    z = (mean[:, None] + worlds.referendum_campaign[:, :, :, None]) / scale[:, None]  # (D, R, Q, N)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(scale[:, None] > 0, ndtr(z), (z > 0).astype(np.float64))
    return np.moveaxis(share, 3, 2)


def _needed(rule: VoteRule, base: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Smallest count that carries the vote, given the base (members voting or seats)."""
    if rule.count is not None:
        return np.full_like(base, rule.count)
    assert rule.fraction is not None
    num, den = rule.fraction.numerator, rule.fraction.denominator
    if rule.strict:  # more than num/den of the base; an exact tie passes only with a tie-breaker
        needed = (base * num) // den + 1
        if rule.ties_pass:
            needed = np.where((base * num) % den == 0, needed - 1, needed)
    else:
        needed = -((-base * num) // den)  # ceil(base * num / den) in integers
    return np.maximum(needed, 1)


@dataclass(frozen=True)
class ChunkOutcome:
    """Outcomes for one chunk of deals in every world.

    Attributes
    ----------
    deal_slice
        Which deals of the full set this chunk holds.
    vote_passed
        ``(V, D, R, n)`` whether each vote passed.
    support
        ``(V, D, R, n)`` votes cast in the vote's direction (share of those voting for
        referendums).
    margin
        ``(V, D, R, n)`` support minus what was needed (votes; share for referendums).
    side_ratified
        ``(S, D, R, n)`` whether each side ratified.
    agreed
        ``(D, R, n)`` whether every side ratified.
    """

    deal_slice: slice
    vote_passed: npt.NDArray[np.bool_]
    support: npt.NDArray[np.float64]
    margin: npt.NDArray[np.float64]
    side_ratified: npt.NDArray[np.bool_]
    agreed: npt.NDArray[np.bool_]


def vote_outcomes(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    yes: npt.NDArray[np.int32],
    share: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply each vote's threshold to the counts: ``(passed, support, margin)``, each (V, D, R, N)."""
    n_draws, n_replicates, n_deals = yes.shape[:3]
    shape = (len(rules), n_draws, n_replicates, n_deals)
    passed = np.zeros(shape, dtype=bool)
    support = np.zeros(shape)
    margin = np.zeros(shape)
    ref_slot = {int(c): q for q, c in enumerate(worlds.referendum_chambers)}
    for v, rule in enumerate(rules):
        if rule.chamber in ref_slot:
            q = ref_slot[rule.chamber]
            s = share[..., q]
            yes_share = s if rule.polarity_for else 1.0 - s
            fraction = 1.0 if rule.fraction is None else float(rule.fraction)
            ok = worlds.referendum_turnout_ok[:, q][:, None, None]
            carried = yes_share > fraction if rule.strict else yes_share >= fraction
            passed[v] = carried & ok
            support[v] = yes_share
            margin[v] = yes_share - fraction
            continue
        present = worlds.present[:, :, rule.chamber][:, :, None].astype(np.int64)  # (D, R, 1)
        ayes = yes[..., rule.chamber].astype(np.int64)
        count = ayes if rule.polarity_for else present - ayes
        base = np.broadcast_to(
            np.int64(worlds.seats[rule.chamber]) if rule.relative_to_seats else present, count.shape
        )
        needed = _needed(rule, np.asarray(base))
        passed[v] = count >= needed
        support[v] = count
        margin[v] = count - needed
    return passed, support, margin


def evaluate_chunks(
    worlds: Worlds,
    deals_unit: npt.ArrayLike,
    rules: Sequence[VoteRule],
    procedures: Sequence[Expression],
    *,
    chunk_size: int | None = None,
    memory_budget: int = 256 * 2**20,
) -> Iterator[ChunkOutcome]:
    """Evaluate deals against worlds, one chunk of deals at a time.

    Parameters
    ----------
    worlds
        The sampled worlds.
    deals_unit
        ``(N, K)`` deals on the unit scale.
    rules
        One rule per vote, in the layout's vote order.
    procedures
        One compiled procedure per side.
    chunk_size
        Deals per chunk; by default as many as fit ``memory_budget`` bytes of outcome arrays.
    memory_budget
        Approximate bytes a chunk may use when ``chunk_size`` is not given.

    Yields
    ------
    ChunkOutcome
    """
    deals = np.atleast_2d(np.asarray(deals_unit, dtype=np.float64))
    n_deals = deals.shape[0]
    per_deal = worlds.n_worlds * (4 * worlds.n_chambers + 17 * len(rules) + 2 * len(procedures) + 1)
    if chunk_size is None:
        chunk_size = max(1, memory_budget // max(per_deal, 1))
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    prepared = _kernel_input(worlds)
    for start in range(0, n_deals, chunk_size):
        part = slice(start, min(start + chunk_size, n_deals))
        x = deals[part]
        features = deal_features(x, worlds.link_pairs)
        yes = count_yes(worlds, features, prepared=prepared)
        share = _referendum_share(worlds, x, features)
        passed, support, margin = vote_outcomes(worlds, rules, yes, share)
        sides = np.stack([evaluate_procedure(expr, passed) for expr in procedures])
        yield ChunkOutcome(
            deal_slice=part,
            vote_passed=passed,
            support=support,
            margin=margin,
            side_ratified=sides,
            agreed=np.all(sides, axis=0),
        )
