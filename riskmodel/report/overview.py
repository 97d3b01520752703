"""Page 1 of the report at any size: short labels, heat map, levers, consistency checks.

Short side labels for table headers, the deal × side heat map, the levers that would change
the forecast (from the sensitivity and stress analyses), and checks that the analyses beside
the results were computed on the same worlds.

A report of ten sides and twenty deals cannot put every side's full label in a table header
or every number in a dot plot; page 1 therefore carries a heat map of every deal and side
(short labels, with a legend), and the detail follows in the tables below it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from riskmodel.errors import RiskmodelError
from riskmodel.io import load_netcdf, package_versions
from riskmodel.plots.votes import plot_deal_side_heatmap
from riskmodel.report.figures import FigureFormat, figure_uri
from riskmodel.results.nochange import no_change_pairs
from riskmodel.results.tables import stress_table

__all__ = [
    "ANALYSIS_FILES",
    "SHORT_LABEL",
    "consistency_warnings",
    "heatmap_figure",
    "levers",
    "no_change_pairs",
    "reproduce",
    "short_labels",
]

SHORT_LABEL = 10
"""Characters of a side's label shown in table headers; longer labels get a short form."""

ANALYSIS_FILES = ("winset.nc", "sensitivity.nc", "stress.nc", "sidepay.nc")
"""Analysis files whose worlds must match the results' (same scenario, worlds and seed)."""


def short_labels(names: list[str], labels: dict[str, str]) -> list[dict[str, Any]]:
    """A short, unique header label per side, with its full label for the legend.

    A label of at most :data:`SHORT_LABEL` characters is kept; otherwise the side's name
    (its identifier in the scenario) if that is short enough, else its first characters. Every
    short label is unique (a number is appended when two would clash).
    """
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for name in names:
        full = labels.get(name, name)
        if len(full) <= SHORT_LABEL:
            short = full
        elif len(name) <= SHORT_LABEL:
            short = name
        else:
            short = name[: SHORT_LABEL - 1] + "…"
        candidate, k = short, 2
        while candidate in used:
            candidate, k = f"{short[: SHORT_LABEL - 2]}{k}", k + 1
        used.add(candidate)
        out.append({"name": name, "short": candidate, "full": full, "abbreviated": candidate != full})
    return out


def heatmap_figure(
    results: xr.Dataset,
    sides: list[dict[str, str]],
    deal_labels: dict[str, str],
    no_change: list[tuple[str, str]],
    fmt: FigureFormat,
    dpi: int,
) -> str:
    """The deal × side heat map as a data URI (short side labels; long deal labels cut)."""
    # room for the labels shrinks as the columns grow: the figure is at most a page wide
    width = 44 if len(sides) <= 4 else 28
    rows = []
    for deal in results["deal"].to_numpy().tolist():
        label = deal_labels.get(str(deal), str(deal))
        rows.append(label if len(label) <= width else label[: width - 1] + "…")
    fig, _ = plot_deal_side_heatmap(
        results, deal_labels=rows, side_labels=[s["short"] for s in sides], no_change=no_change
    )
    return figure_uri(fig, fmt=fmt, dpi=dpi)


def _load(path: Path) -> xr.Dataset | None:
    try:
        return load_netcdf(path)
    except RiskmodelError:
        return None


def consistency_warnings(results: xr.Dataset, folder: Path | None) -> list[str]:
    """One line per analysis file that was not computed on the results' worlds.

    Compares the scenario digest, the number of worlds, the replicates and the seed of the
    worlds: an analysis on other worlds has another baseline, so its numbers cannot be read
    against the headline probabilities.
    """
    if folder is None:
        return []
    wanted = _identity(results.attrs)
    lines = []
    for name in ANALYSIS_FILES:
        path = folder / name
        if not path.is_file():
            continue
        data = _load(path)
        if data is None:
            continue
        found = _identity(data.attrs)
        differ = [
            f"{key} {found[key]} (results: {wanted[key]})"
            for key in wanted
            if key in found
            and wanted[key] is not None
            and found[key] is not None
            and found[key] != wanted[key]
        ]
        if differ:
            lines.append(
                f"{name} was computed on other worlds than these results — {'; '.join(differ)}. "
                "Its baseline differs from the headline numbers: re-run it with the results' "
                "--worlds, --replicates and --seed before reading the two together."
            )
    return lines


def _identity(attrs: dict[str, Any]) -> dict[str, Any]:
    def value(key: str) -> Any:
        found = attrs.get(key)
        found = found.item() if isinstance(found, np.generic) else found
        return None if found is None or (key == "seed" and int(found) < 0) else found

    return {
        "scenario digest": (str(value("scenario_digest"))[:12] or None) if value("scenario_digest") else None,
        "worlds": value("n_worlds"),
        "replicates": value("n_replicates"),
        "seed": value("seed"),
    }


def levers(folder: Path | None, deal_labels: dict[str, str], *, top: int = 3) -> list[dict[str, Any]]:
    """The ``top`` largest changes in P(agreement) found by the sensitivity and stress analyses.

    Returns
    -------
    list of dict
        ``source`` (``stress`` or ``sensitivity``), ``what`` (the shock or the shift),
        ``deal`` (label), ``change`` and ``mcse``, ``before`` and ``after``; largest first.
        Empty when neither analysis is beside the results.
    """
    if folder is None:
        return []
    found: list[dict[str, Any]] = []
    stress = _load(folder / "stress.nc") if (folder / "stress.nc").is_file() else None
    if stress is not None and "change" in stress:
        for row in stress_table(stress).head(top).to_dict("records"):
            before = float(stress["baseline_probability"].sel(outcome="agreement", deal=row["deal"]))
            combination = row["kind"] == "combination"
            found.append(
                {
                    "source": "stress test",
                    "what": f"shock “{row['shock']}”" + (f" ({row['parts']})" if combination else ""),
                    "deal": deal_labels.get(str(row["deal"]), str(row["deal"])),
                    "change": float(row["change"]),
                    "mcse": float(row["mcse"]),
                    "before": before,
                    "after": float(row["probability"]),
                }
            )
    sensitivity = _load(folder / "sensitivity.nc") if (folder / "sensitivity.nc").is_file() else None
    if sensitivity is not None and "tornado_change" in sensitivity:
        change = sensitivity["tornado_change"].sel(outcome="agreement")  # (direction, constituency, deal)
        size = np.nan_to_num(np.abs(change.to_numpy()), nan=-1.0)
        for flat in np.argsort(-size, axis=None, kind="stable")[:top]:
            d, c, n = np.unravel_index(flat, size.shape)
            if size[d, c, n] <= 0:
                break
            one = change.isel(direction=d, constituency=c, deal=n)
            deal = str(one["deal"].item())
            before = float(sensitivity["baseline_probability"].sel(outcome="agreement", deal=deal))
            value = float(one)
            found.append(
                {
                    "source": "sensitivity",
                    "what": f"{one['constituency'].item()} one prior SD "
                    + ("toward" if one["direction"].item() == "toward" else "away from")
                    + " the deal",
                    "deal": deal_labels.get(deal, deal),
                    "change": value,
                    "mcse": float(
                        sensitivity["tornado_mcse"]
                        .sel(outcome="agreement")
                        .isel(direction=d, constituency=c, deal=n)
                    ),
                    "before": before,
                    "after": before + value,
                }
            )
    found = [lever for lever in found if abs(lever["change"]) > 0]  # a lever that moves nothing is none
    found.sort(key=lambda lever: -abs(lever["change"]))
    return found[:top]


def _attr(results: xr.Dataset, name: str, default: Any = None) -> Any:
    value = results.attrs.get(name, default)
    return value.item() if isinstance(value, np.generic) else value


def reproduce(results: xr.Dataset, path: Path | None) -> dict[str, Any]:
    """How to run the results again: seed, command, scenario digest and package versions then and now."""
    recorded = json.loads(_attr(results, "package_versions", "{}") or "{}")
    current = package_versions()
    seed = _attr(results, "seed")
    scenario_file = _attr(results, "scenario_file", "SCENARIO.yaml")
    command = None
    if seed is not None and int(seed) >= 0:
        command = (
            f"riskmodel run {scenario_file} --worlds {_attr(results, 'n_worlds')} "
            f"--replicates {_attr(results, 'n_replicates')} --seed {seed}"
        )
    return {
        "seed": seed
        if seed is None or int(seed) >= 0
        else "not recorded (the run was seeded by a generator)",
        "command": command,
        "digest": _attr(results, "scenario_digest", ""),
        "scenario_file": scenario_file,
        "results_file": str(path) if path is not None else "(in memory)",
        "versions": [
            {"name": name, "recorded": value, "current": current.get(name, "not installed")}
            for name, value in sorted(recorded.items())
        ],
    }
