"""The gallery of bundled cases: each scenario run once, its headline numbers and what really happened.

For every scenario with a fact sheet (:mod:`riskmodel.backtest.facts`), :func:`gallery_rows` runs the
scenario and reports, per deal, the probability of each evaluated side's ratification (the deal's
parties and the members of nested parties; other sides are NaN in the results and left out) and
of the deal's agreement (with MCSE). For every ``outcome`` in the fact sheet it adds the
probability the model gave *what really happened* (P(ratified) when the side ratified, 1 − P
otherwise; an outcome without a side is the deal's agreement) and its Brier score.
:func:`gallery_markdown` renders the README table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.backtest.facts import FactSheet, check_facts, facts_path, load_facts
from riskmodel.pipeline import DEFAULT_REPLICATES, DEFAULT_SEED, run_scenario
from riskmodel.randomness import SeedLike
from riskmodel.spec.scenario import load_scenario

__all__ = ["gallery_markdown", "gallery_rows", "outcome_rows"]


def outcome_rows(results: xr.Dataset, facts: FactSheet) -> list[dict[str, object]]:
    """One row per recorded outcome: the probability the model gave what happened.

    Parameters
    ----------
    results
        A results dataset of the scenario (``ratification_probability``, ``ratification_mcse``).
    facts
        Its :class:`~riskmodel.backtest.facts.FactSheet`.
    """
    rows: list[dict[str, object]] = []
    for outcome in facts.outcome:
        if outcome.side is None:
            p = float(results["agreement_probability"].sel(deal=outcome.deal))
            mcse = float(results["agreement_mcse"].sel(deal=outcome.deal))
        else:
            p = float(results["ratification_probability"].sel(side=outcome.side, deal=outcome.deal))
            mcse = float(results["ratification_mcse"].sel(side=outcome.side, deal=outcome.deal))
        happened = p if outcome.ratified else 1.0 - p
        rows.append(
            {
                "side": outcome.side if outcome.side is not None else "agreement",
                "deal": outcome.deal,
                "ratified": outcome.ratified,
                "p_ratified": p,
                "mcse": mcse,
                "p_what_happened": happened,
                "brier": (1.0 - happened) ** 2,
                "date": str(outcome.date),
                "note": outcome.note or "",
            }
        )
    return rows


def _sides(results: xr.Dataset, deal: object) -> str:
    """``side p; side p`` over the sides evaluated for the deal (non-parties are NaN)."""
    p = results["ratification_probability"].sel(deal=deal)
    return "; ".join(
        f"{side} {float(p.sel(side=side)):.2f}"
        for side in results["side"].to_numpy()
        if np.isfinite(float(p.sel(side=side)))
    )


def gallery_rows(
    paths: Sequence[str | Path],
    *,
    n_worlds: int = 4000,
    n_replicates: int = DEFAULT_REPLICATES,
    seed: SeedLike = DEFAULT_SEED,
    log: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every scenario; return ``(headlines, outcomes)``.

    ``headlines``: one row per scenario and deal — each side's P(ratified) and the joint
    P(agreement) with MCSE, the information cut-off and the run's wall time. ``outcomes``: one
    row per recorded outcome (:func:`outcome_rows`) with the scenario's name.
    A scenario that disagrees with its fact sheet is an error, not a row.
    """
    say = log or (lambda message: None)
    headlines: list[dict[str, object]] = []
    outcomes: list[dict[str, object]] = []
    for path in paths:
        loaded = load_scenario(path)
        facts = load_facts(facts_path(path))
        problems = check_facts(loaded, facts)
        if problems:
            raise ValueError(f"{path}: scenario and fact sheet disagree: {problems[0]}")
        say(f"running {loaded.spec.name}")
        started = time.perf_counter()
        results = run_scenario(loaded, n_worlds=n_worlds, n_replicates=n_replicates, seed=seed)
        wall = time.perf_counter() - started
        for deal in results["deal"].to_numpy():
            row: dict[str, object] = {
                "scenario": loaded.spec.name,
                "title": loaded.spec.title or loaded.spec.name,
                "deal": str(deal),
                "as_of": str(facts.as_of),
                "p_agreement": float(results["agreement_probability"].sel(deal=deal)),
                "mcse_agreement": float(results["agreement_mcse"].sel(deal=deal)),
                "sides": _sides(results, deal),
                "seconds": round(wall, 1),
            }
            headlines.append(row)
        outcomes.extend({"scenario": loaded.spec.name, **r} for r in outcome_rows(results, facts))
    return pd.DataFrame(headlines), pd.DataFrame(outcomes)


def gallery_markdown(headlines: pd.DataFrame, outcomes: pd.DataFrame) -> str:
    """The README's gallery: headline probabilities, then the probability given to what happened.

    The outcomes' notes stay in ``outcomes.csv`` (and the fact sheets); the table stays short.
    """
    lines = [
        "| case | deal | P(agreement) ± MCSE | P(ratified) per side | priors as of |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in headlines.itertuples():
        lines.append(
            f"| `{row.scenario}` | `{row.deal}` | {row.p_agreement:.3f} ± {row.mcse_agreement:.3f} "
            f"| {row.sides} | {row.as_of} |"
        )
    if len(outcomes):
        lines += [
            "",
            "| case | side | deal | what happened | P(what happened) ± MCSE | Brier |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in outcomes.itertuples():
            happened = "ratified" if row.ratified else "not ratified"
            lines.append(
                f"| `{row.scenario}` | {row.side} | `{row.deal}` | {happened} "
                f"| {row.p_what_happened:.3f} ± {row.mcse:.3f} | {row.brier:.3f} |"
            )
        brier = outcomes["brier"].to_numpy()
        lines += [
            "",
            f"Mean Brier score over the {len(brier)} recorded outcomes: {np.mean(brier):.3f} "
            "(a forecaster who always says 0.5 scores 0.250).",
        ]
    return "\n".join(lines) + "\n"
