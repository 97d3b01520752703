"""Bayesian item-response (2PL) ideal points from roll calls, identified and fast to sample.

P(yea_ij) = logistic(β_j1 (θ_i1 − c_j) + β_j2 θ_i2) on the *recoded* votes: each roll call is flipped so
that "yea" is the side a preliminary SVD score favours, with that score oriented by an anchor
(a party, or named members, on the positive side). Identification, following what made the
sampler converge: discriminations on dimension 1 are positive (fixes the reflection); the ideal
points carry a N(0, 1) prior and are reported standardised per draw (mean 0, SD 1: fixes
location and scale). In two
dimensions the second is also made uncorrelated with the first, one strongly partisan roll call
loads on dimension 1 only (fixes the rotation) and another has a positive loading on dimension 2
(fixes its reflection).

The vote matrix is dense (members × roll calls with a 0/1 mask), so the log-likelihood is one
fused elementwise loop — the fastest form for NUTS on ~440 × 1,200 votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from riskmodel.errors import RiskmodelError
from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = [
    "VoteMatrix",
    "build_irt_model",
    "ideal_point_terms",
    "irt_data",
    "preliminary_scores",
    "vote_matrix",
]

CUTPOINT_SCALE = 2.0
"""Prior SD of the roll-call cutpoints c (ideal-point scale)."""
BETA_SCALE = 2.5
"""Prior scale of the discriminations β (half-normal on dimension 1, normal on dimension 2)."""


@dataclass(frozen=True)
class VoteMatrix:
    """Members × roll calls, dense, with polarity already applied.

    Attributes
    ----------
    members, rollcalls
        Row and column labels.
    yea
        ``(N, J)`` int8: 1 where the member voted on the side favoured by the preliminary score.
    observed
        ``(N, J)`` bool: the member voted yea or nay.
    polarity
        ``(J,)`` +1 where a recorded yea is coded 1, −1 where the roll call was flipped.
    party
        ``(N,)`` party label of each member.
    pure_item, sign_item
        Column pinned to dimension 1 and column with a positive dimension-2 loading (2-D fits).
    """

    members: list[str]
    rollcalls: list[str]
    yea: npt.NDArray[np.int8]
    observed: npt.NDArray[np.bool_]
    polarity: npt.NDArray[np.int8]
    party: npt.NDArray[np.str_]
    pure_item: int
    sign_item: int

    @property
    def shape(self) -> tuple[int, int]:
        """(members, roll calls)."""
        return int(self.yea.shape[0]), int(self.yea.shape[1])


def preliminary_scores(votes: npt.NDArray[np.float64], n_dims: int) -> npt.NDArray[np.float64]:
    """Leading left singular vectors of the column-centred, mean-imputed vote matrix."""
    means = np.nanmean(votes, axis=0)
    filled = np.where(np.isnan(votes), means, votes) - means
    u, s, _ = np.linalg.svd(filled, full_matrices=False)
    return u[:, :n_dims] * s[:n_dims]


def vote_matrix(
    member_votes: pd.DataFrame,
    *,
    anchor: str | Sequence[str] = "R",
    min_minority: float = 0.05,
    min_votes: int = 20,
    max_rollcalls: int | None = None,
    seed: SeedLike = None,
) -> VoteMatrix:
    """Build the recoded vote matrix from long member votes.

    Parameters
    ----------
    member_votes
        Columns ``vote_id, member_id, party, vote`` (1 yea, 0 nay, NaN otherwise).
    anchor
        A party label (its mean preliminary score is made positive) or a list of member ids.
    min_minority
        Drop lopsided roll calls whose minority share is below this (Voteview uses 0.025).
    min_votes
        Drop members with fewer yea/nay votes than this (after the roll-call filter).
    max_rollcalls
        Keep a random subset of at most this many roll calls (None: keep all).
    seed
        Seed for that subset.
    """
    table = member_votes.dropna(subset=["vote"])
    wide = table.pivot_table(index="member_id", columns="vote_id", values="vote", aggfunc="last")
    share = wide.mean(axis=0)
    keep = (np.minimum(share, 1 - share) >= min_minority) & (wide.notna().sum(axis=0) >= 10)
    wide = wide.loc[:, np.asarray(keep, dtype=bool)]
    if max_rollcalls is not None and wide.shape[1] > max_rollcalls:
        rng = np.random.default_rng(as_seed_sequence(seed))
        chosen = np.sort(rng.choice(wide.shape[1], size=max_rollcalls, replace=False))
        wide = wide.iloc[:, chosen]
    wide = wide.loc[wide.notna().sum(axis=1).to_numpy() >= min_votes]
    if wide.shape[0] < 3 or wide.shape[1] < 2:
        raise RiskmodelError(
            "too few informative roll calls for an IRT fit "
            f"({wide.shape[0]} members × {wide.shape[1]} roll calls)"
        )
    party_of = table.drop_duplicates("member_id", keep="last").set_index("member_id")["party"]
    party = party_of.reindex(wide.index).fillna("").to_numpy().astype(str)
    votes = wide.to_numpy(dtype=np.float64)
    scores = preliminary_scores(votes, 2)
    if isinstance(anchor, str):
        side = party == anchor
        if not side.any():
            raise RiskmodelError(f"anchor party '{anchor}' has no member in these roll calls")
    else:
        side = np.isin(wide.index.to_numpy(), list(anchor))
        if not side.any():
            raise RiskmodelError("none of the anchor members voted on these roll calls")
    if scores[side, 0].mean() < scores[:, 0].mean():
        scores[:, 0] *= -1
    observed = ~np.isnan(votes)
    centred = np.where(observed, votes - np.nanmean(votes, axis=0), 0.0)
    loading = centred.T @ scores  # (J, 2): association of each roll call with each score
    polarity = np.where(loading[:, 0] >= 0, 1, -1).astype(np.int8)
    yea = np.where(polarity > 0, votes, 1 - votes)
    loading = loading * polarity[:, None]
    norm = np.linalg.norm(loading, axis=1) + 1e-12
    pure_item = int(np.argmax(loading[:, 0] / norm))
    tilt = np.abs(loading[:, 1]) / norm
    tilt[pure_item] = -1
    sign_item = int(np.argmax(tilt))
    return VoteMatrix(
        members=[str(m) for m in wide.index],
        rollcalls=[str(v) for v in wide.columns],
        yea=np.nan_to_num(yea).astype(np.int8),
        observed=observed,
        polarity=polarity,
        party=party,
        pure_item=pure_item,
        sign_item=sign_item,
    )


def _standardise(raw: pt.TensorVariable, weight: pt.TensorVariable) -> pt.TensorVariable:
    total = weight.sum()
    centred = raw - (weight * raw).sum() / total
    return centred / pt.sqrt((weight * centred**2).sum() / total)


def irt_data(matrix: VoteMatrix, *, pad_to: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Arrays of the IRT model's data (``yea``, ``observed``, ``member_weight``), zero-padded.

    Padding to a fixed shape lets one compiled model serve vote matrices of different sizes:
    padded members and roll calls have no observations and do not enter the standardisation.
    """
    n_members, n_rollcalls = matrix.shape
    rows, cols = pad_to if pad_to is not None else matrix.shape
    if rows < n_members or cols < n_rollcalls:
        raise ValueError(f"cannot pad a {matrix.shape} vote matrix to {(rows, cols)}")
    yea = np.zeros((rows, cols))
    observed = np.zeros((rows, cols))
    yea[:n_members, :n_rollcalls] = matrix.yea
    observed[:n_members, :n_rollcalls] = matrix.observed
    weight = np.zeros(rows)
    weight[:n_members] = 1.0
    return {"yea": yea, "observed": observed, "member_weight": weight}


def ideal_point_terms(
    matrix: VoteMatrix,
    *,
    n_dims: int = 1,
    prefix: str = "irt",
    pad_to: tuple[int, int] | None = None,
    ideal_raw: pt.TensorVariable | None = None,
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """Add the IRT nodes to the model in context; return ``(ideal (N, D), log-likelihood)``.

    The vote data are ``pm.Data`` (``<prefix>_yea``, ``<prefix>_observed``,
    ``<prefix>_member_weight``), so a compiled model can be re-used with another vote matrix
    of the same padded shape (:func:`irt_data`). The log-likelihood is returned (not yet added)
    so callers can attach it as a potential or combine it with other terms. ``ideal_raw``
    replaces the N(0, 1) raw ideal points of dimension 1 (a model that links them to other
    quantities must keep them roughly standard normal a priori).

    Identified quantities, for convergence checks: ``<prefix>_ideal`` (standardised ideal
    points), ``<prefix>_cut`` and ``<prefix>_slope`` (cutpoint and discrimination on that
    standardised scale).
    """
    if n_dims not in (1, 2):
        raise ValueError("n_dims must be 1 or 2")
    model = pm.modelcontext(None)
    arrays = irt_data(matrix, pad_to=pad_to)
    n_members, n_rollcalls = arrays["yea"].shape
    pad_m = [f"pad-{k}" for k in range(n_members - matrix.shape[0])]
    pad_r = [f"pad-{k}" for k in range(n_rollcalls - matrix.shape[1])]
    model.add_coord(f"{prefix}_member", matrix.members + pad_m)
    model.add_coord(f"{prefix}_rollcall", matrix.rollcalls + pad_r)
    dims_name = f"{prefix}_dim"
    model.add_coord(dims_name, [f"dim{d + 1}" for d in range(n_dims)])
    y = pm.Data(f"{prefix}_yea", arrays["yea"])
    mask = pm.Data(f"{prefix}_observed", arrays["observed"])
    weight = pm.Data(f"{prefix}_member_weight", arrays["member_weight"])
    member_dim = f"{prefix}_member"
    raw = [
        ideal_raw if ideal_raw is not None else pm.Normal(f"{prefix}_ideal_raw", 0.0, 1.0, dims=member_dim)
    ]
    if n_dims == 2:
        raw.append(pm.Normal(f"{prefix}_ideal2_raw", 0.0, 1.0, dims=member_dim))
    # The likelihood sees the raw points (their N(0, 1) prior pins location and scale softly,
    # which keeps the posterior free of a long global direction); the reported ideal points
    # are standardised per draw (and, in 2-D, the second made uncorrelated with the first).
    first = _standardise(raw[0], weight)
    columns = [first]
    if n_dims == 2:
        second = _standardise(raw[1], weight)
        projection = (weight * second * first).sum() / weight.sum()
        columns.append(_standardise(second - projection * first, weight))
    ideal = pm.Deterministic(f"{prefix}_ideal", pt.stack(columns, axis=1), dims=(member_dim, dims_name))
    # Cutpoint form β(θ − c): a party-line roll call's discrimination can grow without the
    # difficulty having to follow it along a ridge (α = βc), which NUTS crosses slowly.
    cutpoint = pm.Normal(f"{prefix}_cutpoint", 0.0, CUTPOINT_SCALE, dims=f"{prefix}_rollcall")
    beta1 = pm.HalfNormal(f"{prefix}_discrimination", BETA_SCALE, dims=f"{prefix}_rollcall")
    eta = (raw[0][:, None] - cutpoint[None, :]) * beta1[None, :]
    centre = (weight * raw[0]).sum() / weight.sum()
    spread = pt.sqrt((weight * (raw[0] - centre) ** 2).sum() / weight.sum())
    pm.Deterministic(f"{prefix}_cut", (cutpoint - centre) / spread, dims=f"{prefix}_rollcall")
    pm.Deterministic(f"{prefix}_slope", beta1 * spread, dims=f"{prefix}_rollcall")
    if n_dims == 2:
        others = np.setdiff1d(np.arange(n_rollcalls), [matrix.pure_item, matrix.sign_item])
        free = pm.Normal(f"{prefix}_discrimination2_free", 0.0, BETA_SCALE, shape=len(others))
        positive = pm.HalfNormal(f"{prefix}_discrimination2_sign", BETA_SCALE)
        beta2 = pt.zeros(n_rollcalls)
        beta2 = pt.set_subtensor(beta2[others], free)
        beta2 = pt.set_subtensor(beta2[matrix.sign_item], positive)
        pm.Deterministic(f"{prefix}_discrimination2", beta2, dims=f"{prefix}_rollcall")
        eta = eta + raw[1][:, None] * beta2[None, :]
    loglik = pt.sum(mask * (y * eta - pt.softplus(eta)))
    return ideal, loglik


def build_irt_model(
    matrix: VoteMatrix, *, n_dims: int = 1, pad_to: tuple[int, int] | None = None
) -> pm.Model:
    """A stand-alone IRT model of a vote matrix (ideal points ``irt_ideal`` (member, dim))."""
    with pm.Model() as model:
        _, loglik = ideal_point_terms(matrix, n_dims=n_dims, pad_to=pad_to)
        pm.Potential("irt_loglik", loglik)
    return model
