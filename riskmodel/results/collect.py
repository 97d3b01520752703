"""Results: engine outcomes reduced to a labelled xarray Dataset (saved by :func:`riskmodel.io.save_results`).

Two kinds of answer (docs/design.md, "The model"): the share of worlds in which a deal survives, with its
Monte Carlo standard error from the effective sample size of the per-draw estimates; and the
distribution over epistemic draws of the conditional probability p_e (share of a draw's shock
replicates in which the deal survives), summarised by its median and 50%/90% intervals.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.io import package_versions
from riskmodel.results.mcse import MIN_DRAWS_PER_CHAIN, mcse

if TYPE_CHECKING:
    from riskmodel.engine import ChunkOutcome
    from riskmodel.model.layout import Layout

__all__ = ["NUMPY_BELOW", "QUANTILES", "collect_results", "mask_non_parties"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

NUMPY_BELOW = 2**16
"""Per-draw counts (outcomes × draws × deals) up to which a chunk is summarised with NumPy.

NumPy's ``std`` and ``quantile`` over a few hundred draws of a few deals take well under a
millisecond, while compiling the draw-statistics kernel takes seconds on a first run (and
loading it from numba's cache still costs a little); the kernel reproduces NumPy's numbers
bit for bit, so which one a chunk uses cannot change a result.
"""


def _deal_rows(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Move the deal axis (last) first and make each deal's block contiguous.

    Reductions then see the same memory layout for a deal whatever the chunk it came in, so
    floating-point sums do not depend on the chunk size.
    """
    return np.ascontiguousarray(np.moveaxis(values, -1, 0))


def _summaries(
    counts: npt.NDArray[np.int64], n_replicates: int, chains: int | None
) -> tuple[Any, Any, Any, Any]:
    """From per-draw success counts (K, D, n) or (D, n): mean, MCSE and quantiles (Q, [K,] n).

    The mean is an exact integer total divided by the number of worlds, so it cannot depend on
    how deals were chunked. The MCSE and quantiles are those of ``mcse`` and ``numpy.quantile``
    over the draws of ``counts / n_replicates`` (draws first): NumPy's own for small chunks
    (:data:`NUMPY_BELOW`), NumPy's arithmetic in one compiled pass for larger ones
    (:func:`riskmodel.engine.draw_stats.draw_statistics`).
    """
    single = counts.ndim == 2
    blocks = counts[None] if single else counts  # (K, D, n)
    n_draws = blocks.shape[1]
    if blocks.size <= NUMPY_BELOW:
        # NumPy's own reductions: the numbers the kernel reproduces, without compiling it
        per_draw = np.moveaxis(blocks, 0, 1) / n_replicates  # (D, K, n)
        total = blocks.sum(axis=1, dtype=np.int64)
        error = mcse(per_draw, chains)
        q = np.quantile(per_draw, QUANTILES, axis=0)
    else:
        total, error, q = _compiled_summaries(blocks, n_replicates, chains)
    mean = total / (n_draws * n_replicates)
    if single:
        return total, mean[0], error[0], q[:, 0]
    return total, mean, error, q


def _compiled_summaries(
    blocks: npt.NDArray[np.int64], n_replicates: int, chains: int | None
) -> tuple[Any, Any, Any]:
    """Totals, MCSE and quantiles of ``(K, D, n)`` counts in one compiled pass."""
    # here, not at the top: tables of saved results import this module's QUANTILES without numba
    from riskmodel.engine.draw_stats import draw_statistics

    n_draws = blocks.shape[1]
    exact = chains is None and n_draws >= MIN_DRAWS_PER_CHAIN
    # mcse() of (D, K, n) sums a deal's draws pairwise when K == 1, in order otherwise
    total, error, q = draw_statistics(
        blocks, n_replicates, mcse=exact, pairwise=blocks.shape[0] == 1, quantiles=QUANTILES
    )
    if not exact:  # MCMC draws (ArviZ's ESS) or too few draws: the one mcse function itself
        error = mcse(np.moveaxis(blocks, 0, 1) / n_replicates, chains)  # (D, K, n) → (K, n)
    return total, error, q


def collect_results(
    layout: Layout,
    chunks: Iterable[ChunkOutcome],
    *,
    vote_needed: Sequence[float],
    deal_names: list[str],
    deal_values: npt.NDArray[np.float64],
    chains: int = 1,
    independent_draws: bool = True,
    vote_detail: bool = True,
    keep_conditional: bool = True,
    evaluated: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Reduce engine chunks into the results Dataset.

    Parameters
    ----------
    layout
        The indexed scenario.
    chunks
        Outcomes from :func:`riskmodel.engine.evaluate_chunks`, in order.
    vote_needed
        Votes (or the share, for referendums) each vote needs when every member votes
        (:func:`riskmodel.engine.full_attendance_needed`): the reference line of the vote charts.
    deal_names, deal_values
        Names and ``(N, K)`` values (issue units) of the deals evaluated.
    chains
        Chains of the epistemic draws (for the effective sample size).
    independent_draws
        The draws are independent (prior forward draws): their ESS is their number.
    vote_detail
        Summarise each vote's count per deal (quantiles, mean, full histogram); costs a sort
        per deal and vote, so grids of many deals turn it off.
    keep_conditional
        Keep p_e per draw (``draw × deal`` arrays); turn off for very large grids.
    evaluated
        ``(evaluated, party)``, each ``(S, N)``: the sides each deal evaluates and its parties.
        Sides (and their votes) not evaluated for a deal are NaN for it, and a ``party`` variable
        is added; ``None`` when every deal binds every side.
    attrs
        Extra attributes (seed, scenario digest ...).
    """
    n_deals = len(deal_names)
    n_sides, n_votes, n_q = len(layout.sides), len(layout.votes), len(QUANTILES)
    max_seats = int(layout.seats.max()) if len(layout.members) else 0
    out: dict[str, npt.NDArray[Any]] = {
        "side_p": np.zeros((n_sides, n_deals)),
        "side_mcse": np.zeros((n_sides, n_deals)),
        "side_q": np.zeros((n_q, n_sides, n_deals)),
        "joint_p": np.zeros(n_deals),
        "joint_mcse": np.zeros(n_deals),
        "joint_q": np.zeros((n_q, n_deals)),
        "vote_p": np.zeros((n_votes, n_deals)),
        "vote_mcse": np.zeros((n_votes, n_deals)),
        "vote_q": np.zeros((n_q, n_votes, n_deals)),
        "support_mean": np.zeros((n_votes, n_deals)),
        "support_q": np.zeros((n_q, n_votes, n_deals)),
        "margin_q": np.zeros((n_q, n_votes, n_deals)),
    }
    conditional_side: list[npt.NDArray[np.float64]] = []
    conditional_joint: list[npt.NDArray[np.float64]] = []
    histogram = np.zeros((n_votes, n_deals, max_seats + 1)) if vote_detail else None
    counted_votes = [
        v
        for v, chamber in enumerate(layout.vote_chamber.tolist())
        if chamber not in set(layout.referendum_chambers.tolist())
    ]
    counted = set(counted_votes)
    n_draws = 0
    ess_chains = None if independent_draws else chains
    for chunk in chunks:
        part = chunk.deal_slice
        n_draws, n_replicates = chunk.agreed.shape[:2]
        side_counts = np.count_nonzero(chunk.side_ratified, axis=2)  # (S, D, n)
        _, mean, mcse, q = _summaries(side_counts, n_replicates, ess_chains)
        out["side_p"][:, part], out["side_mcse"][:, part], out["side_q"][:, :, part] = mean, mcse, q
        joint_counts = np.count_nonzero(chunk.agreed, axis=1)  # (D, n)
        _, mean, mcse, q = _summaries(joint_counts, n_replicates, ess_chains)
        out["joint_p"][part], out["joint_mcse"][part], out["joint_q"][:, part] = mean, mcse, q
        _, mean, mcse, q = _summaries(np.count_nonzero(chunk.vote_passed, axis=2), n_replicates, ess_chains)
        out["vote_p"][:, part], out["vote_mcse"][:, part], out["vote_q"][:, :, part] = mean, mcse, q
        worlds_support = chunk.support.reshape(n_votes, -1, chunk.support.shape[-1])
        n_worlds = worlds_support.shape[1]
        for v in range(n_votes):
            if v in counted:
                # whole vote counts: their float64 sum is exact in any order, so no deal-major copy
                out["support_mean"][v, part] = worlds_support[v].sum(axis=0) / n_worlds
            else:
                out["support_mean"][v, part] = _deal_rows(worlds_support[v]).mean(axis=1)
        if histogram is not None:
            out["support_q"][:, :, part] = np.quantile(worlds_support, QUANTILES, axis=1)
            out["margin_q"][:, :, part] = np.quantile(
                chunk.margin.reshape(worlds_support.shape), QUANTILES, axis=1
            )
            n_in = worlds_support.shape[-1]
            for v in counted_votes:
                counts = worlds_support[v].astype(np.int64)  # (W, n)
                flat = counts + (max_seats + 1) * np.arange(n_in)[None, :]
                hist = np.bincount(flat.ravel(), minlength=n_in * (max_seats + 1))
                histogram[v, part] = hist.reshape(n_in, max_seats + 1) / counts.shape[0]
        if keep_conditional:
            conditional_side.append(side_counts / n_replicates)
            conditional_joint.append(joint_counts / n_replicates)

    quantile = list(QUANTILES)
    data: dict[str, Any] = {
        "ratification_probability": (("side", "deal"), out["side_p"]),
        "ratification_mcse": (("side", "deal"), out["side_mcse"]),
        "ratification_conditional_quantile": (("quantile", "side", "deal"), out["side_q"]),
        "agreement_probability": (("deal",), out["joint_p"]),
        "agreement_mcse": (("deal",), out["joint_mcse"]),
        "agreement_conditional_quantile": (("quantile", "deal"), out["joint_q"]),
        "vote_probability": (("vote", "deal"), out["vote_p"]),
        "vote_mcse": (("vote", "deal"), out["vote_mcse"]),
        "vote_conditional_quantile": (("quantile", "vote", "deal"), out["vote_q"]),
        "support_mean": (("vote", "deal"), out["support_mean"]),
        "deal_value": (("deal", "issue"), np.asarray(deal_values, dtype=np.float64)),
    }
    if histogram is not None:
        data["support_quantile"] = (("quantile", "vote", "deal"), out["support_q"])
        data["margin_quantile"] = (("quantile", "vote", "deal"), out["margin_q"])
        data["support_histogram"] = (("vote", "deal", "count"), histogram)
    if keep_conditional:
        data["ratification_conditional"] = (
            ("side", "draw", "deal"),
            np.concatenate(conditional_side, axis=2),
        )
        data["agreement_conditional"] = (("draw", "deal"), np.concatenate(conditional_joint, axis=1))
    referendum = set(layout.referendum_chambers.tolist())
    coords: dict[str, Any] = {
        "side": layout.sides,
        "deal": list(deal_names),
        "vote": layout.votes,
        "quantile": quantile,
        "issue": layout.issues,
        "vote_side": ("vote", [layout.sides[s] for s in layout.vote_side]),
        "vote_chamber": ("vote", [layout.chambers[c] for c in layout.vote_chamber.tolist()]),
        "vote_kind": (
            "vote",
            ["share" if c in referendum else "count" for c in layout.vote_chamber.tolist()],
        ),
        "vote_rule": ("vote", [_describe(layout, v) for v in range(n_votes)]),
        "chamber_seats": ("vote", [int(layout.seats[c]) for c in layout.vote_chamber.tolist()]),
        "vote_needed_full": (
            "vote",
            [float(x) for x in vote_needed],
        ),
    }
    if keep_conditional:
        coords["draw"] = np.arange(n_draws)
    if histogram is not None:
        coords["count"] = np.arange(max_seats + 1)
    spec = layout.scenario.spec
    all_attrs = {
        "scenario_name": spec.name,
        "scenario_title": spec.title or spec.name,
        "scenario_digest": layout.scenario.digest,
        "n_draws": n_draws,
        "chains": chains,
        "package_versions": json.dumps(package_versions(), sort_keys=True),
        "issue_units": json.dumps({i.name: i.unit for i in spec.issues}),
        **(attrs or {}),
    }
    results = xr.Dataset(data, coords=coords, attrs=all_attrs)
    return results if evaluated is None else mask_non_parties(results, layout, *evaluated)


def mask_non_parties(
    results: xr.Dataset, layout: Layout, evaluated: npt.NDArray[np.bool_], party: npt.NDArray[np.bool_]
) -> xr.Dataset:
    """Set side and vote results of sides a deal does not evaluate to NaN; add ``party`` (side, deal)."""
    side_ok = xr.DataArray(evaluated, dims=("side", "deal"))
    vote_ok = xr.DataArray(evaluated[layout.vote_side], dims=("vote", "deal"))
    for name, variable in results.data_vars.items():
        if "deal" not in variable.dims:
            continue
        if "side" in variable.dims:
            results[name] = variable.where(side_ok)
        elif "vote" in variable.dims:
            results[name] = variable.where(vote_ok)
    results["party"] = (("side", "deal"), party)
    results["evaluated"] = (("side", "deal"), evaluated)
    return results


def _describe(layout: Layout, v: int) -> str:
    spec = layout.vote_specs[v]
    threshold = spec.threshold
    text = str(threshold).replace("_", " ") if isinstance(threshold, str) else str(threshold)
    base = "all seats" if spec.relative_to == "seats" else "those voting"
    return f"{text} {spec.polarity} the deal, of {base}"
