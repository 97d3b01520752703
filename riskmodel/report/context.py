"""The report context: everything a report shows, computed once from saved results.

HTML and PDF are both rendered from this one dictionary (STYLE.md habit 8). It is built
from a results file (or Dataset) without re-simulating; the scenario file named in the
results is re-loaded only for labels, vote rules and the list of assumptions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from riskmodel.errors import RiskmodelError
from riskmodel.io import load_results
from riskmodel.plots.votes import joint_label
from riskmodel.report.assumptions import appendix_context
from riskmodel.report.charts import FIGURE_DPI, summary_figure, vote_figure
from riskmodel.report.diagnostics import diagnostics
from riskmodel.report.figures import FigureFormat
from riskmodel.report.overview import (
    consistency_warnings,
    heatmap_figure,
    levers,
    no_change_pairs,
    reproduce,
    short_labels,
)
from riskmodel.report.rating import RATING_BANDS, risk_rating
from riskmodel.report.sections import analysis_sections
from riskmodel.results.tables import summary_table
from riskmodel.spec.scenario import LoadedScenario, load_scenario

__all__ = ["build_report_context", "report_scenario", "vote_figure"]


def _attr(results: xr.Dataset, name: str, default: Any = None) -> Any:
    value = results.attrs.get(name, default)
    return value.item() if isinstance(value, np.generic) else value


def report_scenario(
    results: xr.Dataset, scenario: str | Path | LoadedScenario | None, folder: Path | None
) -> tuple[LoadedScenario | None, list[str]]:
    """Re-load the run's scenario; warn when it is missing, invalid or changed."""
    if isinstance(scenario, LoadedScenario):
        loaded = scenario
    else:
        recorded = scenario if scenario is not None else _attr(results, "scenario_file")
        if recorded is None:
            return None, ["The results do not name their scenario file, so the assumptions are not listed."]
        candidates = [Path(recorded)]
        if folder is not None and not Path(recorded).is_absolute():
            candidates.append(folder / recorded)
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            return None, [f"The scenario file {recorded} was not found, so the assumptions are not listed."]
        try:
            loaded = load_scenario(found)
        except RiskmodelError as exc:
            return None, [
                f"The scenario file could not be re-loaded, so the assumptions are not listed: {exc}"
            ]
    digest = _attr(results, "scenario_digest")
    if digest and loaded.digest != digest:
        return loaded, [
            "The scenario file has changed since these results were computed (its digest differs): "
            "the labels and assumptions below are those of the file as it is now."
        ]
    return loaded, []


def _labels(results: xr.Dataset, loaded: LoadedScenario | None) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {
        "deal": {str(d): str(d) for d in results["deal"].to_numpy()},
        "side": {str(s): str(s) for s in results["side"].to_numpy()},
        "vote": {str(v): str(v) for v in results["vote"].to_numpy()},
        "chamber": {str(c): str(c) for c in results["vote_chamber"].to_numpy()},
        "issue": {str(i): str(i) for i in results["issue"].to_numpy()},
    }
    if loaded is None:
        return labels
    spec = loaded.spec
    for deal in spec.deals:
        labels["deal"][deal.name] = deal.label or deal.name
    for issue in spec.issues:
        labels["issue"][issue.name] = issue.label or issue.name
    for side in spec.sides:
        labels["side"][side.name] = side.label or side.name
        for chamber in side.chambers:
            labels["chamber"][f"{side.name}.{chamber.name}"] = chamber.label or chamber.name
        for vote in side.votes:
            labels["vote"][f"{side.name}.{vote.name}"] = vote.label or vote.name
    return labels


def _joint_phrase(results: xr.Dataset, deal: str, labels: dict[str, dict[str, str]], spec: Any) -> str:
    """What a deal's joint probability is the probability of, in words."""
    party = results.get("party")
    named = None
    if party is not None and not bool(party.sel(deal=deal).all()):
        chosen = party.sel(deal=deal)
        named = [labels["side"].get(str(s), str(s)) for s in chosen["side"].to_numpy()[chosen.to_numpy()]]
    own_rule = spec is not None and (
        spec.agreement is not None
        or any(d.name == deal and d.agreement is not None for d in spec.deals)
        or any(side.members for side in spec.sides)
    )
    if own_rule:
        return (
            f"agreement (its Level-I rule over {', '.join(named)})"
            if named
            else "agreement (its Level-I rule)"
        )
    return (
        f"agreement of its parties ({', '.join(named)} all ratify)"
        if named
        else "agreement (every side ratifies)"
    )


def _summary(
    results: xr.Dataset,
    labels: dict[str, dict[str, str]],
    no_change: list[tuple[str, str]],
    spec: Any = None,
) -> list[dict[str, Any]]:
    table = summary_table(results)
    every_side = [*(str(s) for s in results["side"].to_numpy()), "joint"]
    blank: dict[str, Any] = dict.fromkeys(map(str, table.columns), math.nan)
    deals = []
    for deal, rows in table.groupby("deal", sort=False):
        by_side: dict[str, dict[str, Any]] = {
            str(row["side"]): {str(k): v for k, v in row.items()} for row in rows.to_dict("records")
        }
        joint_text = joint_label(results, str(deal))
        entries = []
        for side in every_side:
            # a side the deal does not evaluate is left out of the summary table: keep its
            # column (marked "not party") so every row of the report lines up with the header
            row = by_side.get(side, {**blank, "deal": deal, "side": side})
            p, mcse = row["probability"], row["mcse"]
            entries.append(
                {
                    **row,
                    "side_label": joint_text if side == "joint" else labels["side"].get(side, side),
                    "joint": side == "joint",
                    "mc_low": max(0.0, p - 1.96 * mcse),
                    "mc_high": min(1.0, p + 1.96 * mcse),
                    "rating": risk_rating(p, mcse) if p == p else None,
                    # the deal is this side's fallback: its P is a coin flip of indifferent voters
                    "no_change": (str(deal), side) in no_change,
                    "party": p == p,  # NaN: the side is not party to the deal
                }
            )
        sides = [e for e in entries if not e["joint"] and e["party"] and not e["no_change"]]
        weakest = min(sides, key=lambda e: e["probability"]) if sides else None
        deals.append(
            {
                "name": str(deal),
                "label": labels["deal"].get(str(deal), str(deal)),
                "rows": entries,
                "joint": entries[-1],
                "joint_phrase": _joint_phrase(results, str(deal), labels, spec),
                "weakest": weakest,
                "n_evaluated": len([e for e in entries if e["party"] and not e["joint"]]),
            }
        )
    return deals


def _deal_values(results: xr.Dataset, labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    units = json.loads(_attr(results, "issue_units", "{}") or "{}")
    issues = [str(i) for i in results["issue"].to_numpy()]
    return {
        "issues": [{"name": i, "label": labels["issue"][i], "unit": units.get(i, "")} for i in issues],
        "rows": [
            {
                "label": labels["deal"][str(deal)],
                "values": [f"{float(v):g}" for v in results["deal_value"].sel(deal=deal).to_numpy()],
            }
            for deal in results["deal"].to_numpy()
        ],
    }


def _votes(
    results: xr.Dataset,
    labels: dict[str, dict[str, str]],
    fmt: FigureFormat,
    drawn: Mapping[str, str],
) -> list[dict[str, Any]]:
    detail = "support_quantile" in results
    votes = []
    for vote in (str(v) for v in results["vote"].to_numpy()):
        kind = str(results["vote_kind"].sel(vote=vote).item())
        seats = int(results["chamber_seats"].sel(vote=vote).item())
        needed = float(results["vote_needed_full"].sel(vote=vote).item())
        rule = str(results["vote_rule"].sel(vote=vote).item())
        per_deal = []
        for deal in (str(d) for d in results["deal"].to_numpy()):
            entry: dict[str, Any] = {
                "label": labels["deal"][deal],
                "p_pass": float(results["vote_probability"].sel(vote=vote, deal=deal)),
                "mcse": float(results["vote_mcse"].sel(vote=vote, deal=deal)),
            }
            if detail:
                q = results["support_quantile"].sel(vote=vote, deal=deal)
                entry.update(
                    {f"q{round(100 * float(k)):02d}": float(q.sel(quantile=k)) for k in q["quantile"]}
                )
            per_deal.append(entry)
        votes.append(
            {
                "name": vote,
                "label": labels["vote"][vote],
                "side": labels["side"].get(str(results["vote_side"].sel(vote=vote).item()), ""),
                "chamber": labels["chamber"].get(str(results["vote_chamber"].sel(vote=vote).item()), ""),
                "kind": kind,
                "rule": rule,
                "seats": seats,
                "needed": needed,
                "deals": per_deal,
                "figure": (drawn[vote] if vote in drawn else vote_figure(results, vote, fmt))
                if detail
                else None,
            }
        )
    return votes


def _check_results(dataset: xr.Dataset, path: Path | None) -> None:
    missing = [
        v
        for v in ("ratification_probability", "agreement_probability", "vote_probability")
        if v not in dataset
    ]
    if missing:
        raise RiskmodelError(f"{path or 'results'}: not riskmodel results (missing {', '.join(missing)})")


def _prepared(
    dataset: xr.Dataset, scenario: str | Path | LoadedScenario | None, path: Path | None
) -> tuple[LoadedScenario | None, list[str], dict[str, dict[str, str]], bool]:
    """The scenario, its warnings, the labels and the summary's layout the figures are drawn with."""
    loaded, warnings = report_scenario(dataset, scenario, path.parent if path is not None else None)
    labels = _labels(dataset, loaded)
    n_deals, n_sides = dataset.sizes["deal"], dataset.sizes["side"]
    # one dot-plot row per deal and side fits up to ~60 rows; beyond, the heat map has the sides
    per_side = n_deals * (n_sides + 2) <= 60
    return loaded, warnings, labels, per_side


def build_report_context(
    results: str | Path | xr.Dataset,
    *,
    scenario: str | Path | LoadedScenario | None = None,
    analyses_dir: str | Path | None = None,
    figure_format: FigureFormat = "png",
    results_file: str | Path | None = None,
    vote_figures: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Compute everything the HTML and PDF reports show, from saved results.

    Parameters
    ----------
    results
        A results file (``results.nc``) or a results Dataset (for results still in memory, see
        :func:`riskmodel.report.worker.outcomes`).
    scenario
        The scenario file (or loaded scenario) behind the results; by default the file the
        results name in ``attrs["scenario_file"]``. Used for labels, vote rules and the
        assumptions; a digest that differs from the results' is reported as a warning.
    analyses_dir
        Folder holding optional analyses (``winset.nc``, ``sensitivity.nc``, ``stress.nc``,
        ``linkage.nc``); by default the results file's folder.
    figure_format
        ``png`` or ``svg`` figures, embedded as data URIs.
    results_file
        Where a results Dataset given in memory is (or is being) saved: the report names it, and
        its folder is where the analyses and a relative scenario path are looked for. Ignored
        when ``results`` is a file.
    vote_figures
        Vote charts already drawn (:func:`vote_figure`, e.g. in another process), by vote;
        the others are drawn here.

    Returns
    -------
    dict
        The report context; see the template for how each key is shown.
    """
    path: Path | None = None
    if isinstance(results, xr.Dataset):
        dataset = results
        path = Path(results_file) if results_file is not None else None
    else:
        path = Path(results)
        dataset = load_results(path)
    _check_results(dataset, path)
    folder = Path(analyses_dir) if analyses_dir is not None else (path.parent if path is not None else None)
    loaded, warnings, labels, per_side = _prepared(dataset, scenario, path)
    spec = loaded.spec if loaded is not None else None
    summary_uri = summary_figure(dataset, per_side, figure_format)
    sides = short_labels([str(s) for s in dataset["side"].to_numpy()], labels["side"])
    no_change = no_change_pairs(dataset, loaded)
    heatmap = heatmap_figure(dataset, sides, labels["deal"], no_change, figure_format, FIGURE_DPI)
    warnings = [*consistency_warnings(dataset, folder), *warnings]
    return {
        "title": (spec.title if spec is not None else None)
        or str(_attr(dataset, "scenario_title", "riskmodel report")),
        "scenario_name": str(_attr(dataset, "scenario_name", "")),
        "description": spec.description if spec is not None else None,
        "warnings": warnings,
        "run": {
            "n_worlds": int(_attr(dataset, "n_worlds", 0)),
            "n_draws": int(_attr(dataset, "n_draws", 0)),
            "n_replicates": int(_attr(dataset, "n_replicates", 0)),
            "evidence": str(_attr(dataset, "evidence", "prior")),
            "seed": _attr(dataset, "seed"),
        },
        "rating_bands": [
            {"lower": b.lower, "upper": upper, "label": b.label, "risk": b.risk}
            for b, upper in zip(RATING_BANDS, [1.0] + [b.lower for b in RATING_BANDS[:-1]], strict=True)
        ],
        "summary": _summary(dataset, labels, no_change, spec),
        "summary_figure": summary_uri,
        "summary_per_side": per_side,
        "sides": sides,
        "sides_by_name": {side["name"]: side for side in sides},
        "not_party": bool(np.isnan(dataset["ratification_probability"].to_numpy()).any()),
        "heatmap": heatmap,
        "no_change": [
            {"deal": labels["deal"].get(d, d), "side": labels["side"].get(s, s)} for d, s in no_change
        ],
        "levers": levers(folder, labels["deal"]),
        "deal_values": _deal_values(dataset, labels),
        "votes": _votes(dataset, labels, figure_format, vote_figures or {}),
        "analyses": analysis_sections(folder, fmt=figure_format),
        "diagnostics": diagnostics(dataset),
        "assumptions": appendix_context(loaded)["assumptions"],
        "reproduce": reproduce(dataset, path),
    }
