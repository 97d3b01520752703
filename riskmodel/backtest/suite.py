"""Run a backtest suite serially or on a Dask cluster, with the same numbers either way.

Every vote's forecast is seeded from the run's seed and the vote itself, never from the order
in which votes are run or the worker that runs them, so a suite on a cluster gives the same
results, bit for bit, as the same suite run serially.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from riskmodel.backtest.runner import Backtester, BacktestSettings
from riskmodel.backtest.scenario_runner import ScenarioSettings, forecast_by_scenario
from riskmodel.errors import RiskmodelError

__all__ = ["run_suite", "score_vote"]

Model = Literal["trade", "scenario"]


def score_vote(
    tester: Backtester,
    vote_id: str,
    *,
    model: Model = "trade",
    scenario_settings: ScenarioSettings | None = None,
    shuffle_seed: int | None = None,
) -> dict[str, Any]:
    """Forecast and score one vote with the chosen model (the ``--json`` object)."""
    if model == "trade":
        return tester.score(vote_id)
    forecast = forecast_by_scenario(tester, vote_id, settings=scenario_settings, shuffle_seed=shuffle_seed)
    return tester.score(vote_id, forecast=forecast)


def _remote(
    data_dir: str,
    vote_id: str,
    settings: BacktestSettings,
    model: Model,
    scenario_settings: ScenarioSettings | None,
    shuffle_seed: int | None,
) -> dict[str, Any]:
    tester = Backtester(data_dir, settings)
    return score_vote(
        tester, vote_id, model=model, scenario_settings=scenario_settings, shuffle_seed=shuffle_seed
    )


def run_suite(
    data_dir: str | Path,
    vote_ids: Sequence[str],
    *,
    settings: BacktestSettings | None = None,
    model: Model = "trade",
    scenario_settings: ScenarioSettings | None = None,
    shuffle_seed: int | None = None,
    scheduler: str | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Score every vote of ``vote_ids``; on the Dask scheduler at ``scheduler`` when given.

    Parameters
    ----------
    data_dir
        A roll-call data folder.
    vote_ids
        The votes, in the order the results come back.
    settings, model, scenario_settings, shuffle_seed
        As for :func:`score_vote`.
    scheduler
        Address of a Dask scheduler; ``None`` runs serially in this process.
    log
        Progress messages.
    """
    settings = settings or BacktestSettings()
    say = log or (lambda message: None)
    if scheduler is None:
        tester = Backtester(data_dir, settings, log=say)
        results = []
        for k, vote_id in enumerate(vote_ids):
            say(f"[{k + 1}/{len(vote_ids)}] {vote_id}")
            results.append(
                score_vote(
                    tester,
                    vote_id,
                    model=model,
                    scenario_settings=scenario_settings,
                    shuffle_seed=shuffle_seed,
                )
            )
        return results
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise RiskmodelError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    with client:
        futures = [
            client.submit(
                _remote,
                str(data_dir),
                vote_id,
                settings,
                model,
                scenario_settings,
                shuffle_seed,
                key=f"backtest-{vote_id}-{model}-{shuffle_seed}",
                pure=False,
            )
            for vote_id in vote_ids
        ]
        for done, future in enumerate(as_completed(futures), start=1):
            say(f"[{done}/{len(vote_ids)}] {future.key}")
        return [future.result() for future in futures]
