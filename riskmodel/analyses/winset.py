"""Win-set maps: P(deal ∈ W_s) on a grid over two issues, per side and jointly.

Every grid deal is evaluated in the same worlds (common random numbers), once: the same chunks
give the probability of each deal (share of worlds in which it survives, with its MCSE and the
distribution of the conditional probability p_e over epistemic draws) and the win-set *size*
of each world (share of the grid that survives in it), accumulated chunk by chunk so that
worlds × grid is never held in memory. The agreement zone is the set of grid deals whose joint
probability reaches τ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.analyses.winset_rows import MapTask, Method, Progress, Reducer, run_map
from riskmodel.errors import ParameterError, RiskmodelError, did_you_mean
from riskmodel.io import load_netcdf, package_versions, save_netcdf
from riskmodel.model.layout import Layout
from riskmodel.pipeline import Simulation
from riskmodel.results.collect import QUANTILES
from riskmodel.worlds.agreement import deal_rule

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_TAU",
    "compute_winset",
    "deal_rule",
    "load_winset",
    "resolve_deal",
    "save_winset",
]

DEFAULT_GRID = 101
DEFAULT_TAU = 0.5


def _issue_index(layout: Layout, name: str, option: str) -> int:
    if name not in layout.issues:
        raise ParameterError(
            "{" + option + "}: unknown issue '{name}'{hint}; the scenario's issues are: {issues}",
            name=name,
            hint=did_you_mean(name, layout.issues),
            issues=", ".join(layout.issues),
        )
    return layout.issues.index(name)


def resolve_deal(layout: Layout, deal: str | None) -> tuple[str, npt.NDArray[np.float64]]:
    """Name and values (issue units) of a named deal; the scenario's first deal when ``None``."""
    if deal is None:
        return layout.deals[0], layout.deal_values[0].copy()
    if deal not in layout.deals:
        raise RiskmodelError(
            f"unknown deal '{deal}'{did_you_mean(deal, layout.deals)}; "
            f"the scenario's deals are: {', '.join(layout.deals)}"
        )
    return deal, layout.deal_values[layout.deals.index(deal)].copy()


def compute_winset(
    simulation: Simulation,
    *,
    x: str,
    y: str,
    base: str | None = None,
    grid: int | tuple[int, int] = DEFAULT_GRID,
    tau: float = DEFAULT_TAU,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    method: Method = "sweep",
    quantiles: bool = True,
    chunk_size: int | None = None,
    client: Any = None,
    progress: Progress | None = None,
    rows_per_task: int | None = None,
) -> xr.Dataset:
    """Map the probability of win-set membership on a grid over two issues.

    Parameters
    ----------
    simulation
        Sampled worlds (:func:`riskmodel.pipeline.sample_worlds`); every grid deal uses them all.
    x, y
        The two issues of the map (columns and rows).
    base
        Named deal fixing the other issues; the scenario's first deal by default.
    grid
        Points per axis (N gives an N×N map), or ``(n_x, n_y)``.
    tau
        Joint probability a deal needs to be in the agreement zone.
    x_range, y_range
        Limits of the map in the issues' units; each issue's declared range by default.
    method
        ``"sweep"``: exact row sweep of each member's quadratic net gain (:mod:`riskmodel.engine.sweep`);
        ``"engine"``: every grid deal through :func:`riskmodel.engine.evaluate_chunks`. Both give
        the same outcomes; the sweep is much faster on fine grids.
    quantiles
        Keep the 5/25/50/75/95% quantiles of p_e per grid deal (5 floats per deal and side).
    chunk_size
        Deals per chunk (memory bound); by default about 256 MiB of outcome arrays. Chunks are
        reduced as they come: memory beyond the result arrays does not grow with the grid.
    client
        A ``distributed.Client``: blocks of rows run as Dask tasks (the same numbers, bit for
        bit, as serially); serial when None.
    progress
        Called as ``progress(done, total)`` (deals) as blocks of rows finish.
    rows_per_task
        Map rows per block (per Dask task); by default 1/64 of the map serially, 1/16 on Dask.

    Returns
    -------
    xarray.Dataset
        ``ratification_probability(side, y, x)``, ``ratification_mcse``, ``agreement_probability(y, x)``,
        ``agreement_mcse``, the p_e quantiles, ``winset_size(side, world)`` and
        ``overlap_size(world)`` (share of the grid ratified in each world), ``agreement_zone(y, x)``,
        and for plotting ``named_deal_value(named_deal, issue)``, ``reversion(side, issue)``,
        ``base_value(issue)``.
    """
    layout = simulation.layout
    worlds = simulation.worlds
    x_index = _issue_index(layout, x, "x")
    y_index = _issue_index(layout, y, "y")
    if x_index == y_index:
        raise ParameterError("{x} and {y} must name two different issues")
    n_x, n_y = (grid, grid) if isinstance(grid, int) else grid
    if min(n_x, n_y) < 2:
        raise ParameterError("{grid} must be at least 2 points per axis")
    if not 0.0 < tau <= 1.0:
        raise ParameterError("{tau} must be in (0, 1], got {value}", value=tau)
    if method not in ("sweep", "engine"):
        raise RiskmodelError(f"unknown method '{method}'; choose sweep or engine")
    base_name, base_values = resolve_deal(layout, base)
    low, span = layout.issue_low, layout.issue_span
    xs = _axis(x_range, low[x_index], span[x_index], n_x, "x_range")
    ys = _axis(y_range, low[y_index], span[y_index], n_y, "y_range")
    base_unit = layout.to_unit(base_values)
    x_unit = (xs - low[x_index]) / span[x_index]
    y_unit = (ys - low[y_index]) / span[y_index]

    # a named base deal among a subset of sides: its parties' win-sets and its agreement
    rule, evaluated = deal_rule(layout, base_name)
    if worlds.member_weight is not None or worlds.abstention_band is not None:
        method = "engine"  # the row sweep counts one vote per member and no abstention
    task = MapTask(worlds, method, base_unit, x_index, y_index, x_unit, y_unit, rule, chunk_size, quantiles)
    n_sides = len(layout.sides)
    reducer = Reducer(n_sides, n_x * n_y, worlds.n_draws, worlds.n_replicates, quantiles)
    run_map(task, reducer, client, progress, rows_per_task)

    n_worlds = worlds.n_worlds
    shape = (n_y, n_x)
    agreement = (reducer.joint_count / n_worlds).reshape(shape)
    data: dict[str, Any] = {
        "ratification_probability": (
            ("side", "y", "x"),
            (reducer.side_count / n_worlds).reshape(n_sides, *shape),
        ),
        "ratification_mcse": (("side", "y", "x"), reducer.side_mcse.reshape(n_sides, *shape)),
        "agreement_probability": (("y", "x"), agreement),
        "agreement_mcse": (("y", "x"), reducer.joint_mcse.reshape(shape)),
        "agreement_zone": (("y", "x"), agreement >= tau),
        "winset_size": (("side", "world"), reducer.side_size.reshape(n_sides, -1) / (n_x * n_y)),
        "overlap_size": (("world",), reducer.joint_size.reshape(-1) / (n_x * n_y)),
        "named_deal_value": (("named_deal", "issue"), layout.deal_values),
        "reversion": (("side", "issue"), layout.reversion),
        "base_value": (("issue",), base_values),
    }
    if quantiles:
        q = (len(QUANTILES), n_sides, *shape)
        data["ratification_conditional_quantile"] = (
            ("quantile", "side", "y", "x"),
            reducer.side_q.reshape(q),
        )
        data["agreement_conditional_quantile"] = (
            ("quantile", "y", "x"),
            reducer.joint_q.reshape(q[:1] + shape),
        )
    spec = layout.scenario.spec
    issue_spec = {issue.name: issue for issue in spec.issues}
    coords: dict[str, Any] = {
        "side": layout.sides,
        "x": xs,
        "y": ys,
        "world": np.arange(n_worlds),
        "world_draw": ("world", np.repeat(np.arange(worlds.n_draws), worlds.n_replicates)),
        "named_deal": layout.deals,
        "issue": layout.issues,
    }
    if quantiles:
        coords["quantile"] = list(QUANTILES)
    attrs = {
        "scenario_name": spec.name,
        "scenario_title": spec.title or spec.name,
        "scenario_digest": layout.scenario.digest,
        "x_issue": x,
        "y_issue": y,
        "x_label": issue_spec[x].label or x,
        "y_label": issue_spec[y].label or y,
        "x_unit": issue_spec[x].unit,
        "y_unit": issue_spec[y].unit,
        "base_deal": base_name,
        "tau": tau,
        "method": method,
        "n_worlds": n_worlds,
        "n_draws": worlds.n_draws,
        "n_replicates": worlds.n_replicates,
        "seed": -1 if simulation.seed is None else simulation.seed,
        "evidence": simulation.evidence,
        "agreement_zone_share": float(np.mean(agreement >= tau)),
        "package_versions": json.dumps(package_versions(), sort_keys=True),
    }
    if simulation.evidence == "posterior":
        attrs["convergence_gate"] = str(simulation.draws.attrs.get("convergence_gate", ""))
    winset = xr.Dataset(data, coords=coords, attrs=attrs)
    if evaluated is None:
        return winset
    # sides the base deal does not bind are not evaluated: NaN, as in the results of `run`
    keep = xr.DataArray([side in evaluated for side in layout.sides], dims="side")
    for name in (
        "ratification_probability",
        "ratification_mcse",
        "ratification_conditional_quantile",
        "winset_size",
    ):
        if name in winset:
            winset[name] = winset[name].where(keep)
    return winset.assign_coords(evaluated=("side", keep.to_numpy()))


def _axis(
    limits: tuple[float, float] | None, low: float, span: float, n: int, option: str
) -> npt.NDArray[np.float64]:
    lo, hi = (low, low + span) if limits is None else limits
    if not lo < hi:
        raise ParameterError(
            "{" + option + "}: the lower end ({lo}) must be below the upper end ({hi})", lo=lo, hi=hi
        )
    return np.linspace(lo, hi, n)


def save_winset(winset: xr.Dataset, path: str | Path) -> Path:
    """Save a win-set map as netCDF (h5netcdf), atomically."""
    return save_netcdf(winset, path)


def load_winset(path: str | Path) -> xr.Dataset:
    """Load a win-set map saved by :func:`save_winset`."""
    return load_netcdf(path, kind="riskmodel win-set")
