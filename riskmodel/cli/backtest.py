"""``riskmodel backtest``: forecast recorded trade votes out of sample and score them."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from riskmodel.cli.common import console, errors, fail
from riskmodel.defaults import DEFAULT_BACKTEST_SEED
from riskmodel.errors import RiskmodelError

# Heavy modules are imported inside the commands, so that `riskmodel --help` stays light.

__all__ = ["register"]


def _vote_table(result: dict[str, Any]) -> Table:
    from riskmodel.backtest.summary import BASELINES

    table = Table(title=f"{result['vote_id']} — {result['label']}: {result['action']} ({result['date']})")
    for column in ("forecast", "accuracy", "APRE", "Brier", "log score", "ECE"):
        table.add_column(column, justify="right" if column != "forecast" else "left")
    rows = [("model", result)] + [(name, result["baselines"].get(name)) for name in BASELINES]
    for name, scores in rows:
        if scores is None or scores.get("brier") is None:  # no baseline, or a withheld failed fit
            table.add_row(name, "—", "—", "—", "—", "—")
            continue
        ece = f"{scores['ece']:.3f}" if "ece" in scores else ""
        table.add_row(
            name,
            f"{scores['accuracy']:.3f}",
            f"{scores['apre']:.3f}",
            f"{scores['brier']:.4f}",
            f"{scores['log_score']:.4f}",
            ece,
        )
    return table


def _gate_line(status: str) -> str:
    if status == "passed":
        return "Convergence gate: passed (R-hat < 1.01, bulk and tail ESS ≥ 400, no divergences)."
    return (
        f"[bold red]Convergence gate FAILED[/] — {status}. The fit's numbers are withheld: "
        "a failed fit is no forecast."
    )


def backtest(
    data: Annotated[
        Path, typer.Option("--data", help="Roll-call data folder (layout of shared/data/rollcalls).")
    ],
    vote: Annotated[str | None, typer.Option("--vote", help="Clerk vote id, e.g. h443-109.2005.")] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", help="'trade': every trade vote in the index.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result as JSON here.")] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Suite: summary table CSV (default backtest_trade.csv).")
    ] = None,
    since: Annotated[int | None, typer.Option("--since", help="Suite: only votes from this year on.")] = None,
    until: Annotated[int | None, typer.Option("--until", help="Suite: only votes up to this year.")] = None,
    method: Annotated[
        str, typer.Option("--method", help="'nuts' (default) or 'advi' (fast, approximate).")
    ] = "nuts",
    sampler: Annotated[str, typer.Option("--sampler", help="NUTS sampler: auto, nutpie or pymc.")] = "auto",
    draws: Annotated[
        int | None,
        typer.Option("--draws", min=50, help="Posterior draws (and warm-up) per chain for both fits."),
    ] = None,
    max_rollcalls: Annotated[
        int | None,
        typer.Option("--max-rollcalls", min=20, help="Roll calls per IRT fit (random subset; default all)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed.")] = DEFAULT_BACKTEST_SEED,
    max_congress: Annotated[
        int | None,
        typer.Option("--max-congress", min=1, help="Ignore trade votes after this congress (default: none)."),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="'trade': the hierarchical trade-vote model; 'scenario': the vote's scenario, conditioned "
            "on earlier deals with known terms (data/agreements) and evaluated by the engine.",
        ),
    ] = "trade",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Suite: run on the Dask scheduler at this address (default: serially)."
        ),
    ] = None,
    shuffle_terms: Annotated[
        int | None,
        typer.Option(
            "--shuffle-terms", min=0, help="Scenario model, negative control: shuffle agreement terms (seed)."
        ),
    ] = None,
    shuffle_scope: Annotated[
        str,
        typer.Option(
            "--shuffle-scope",
            help="With --shuffle-terms: 'all' gives the target and every earlier agreement another's "
            "record; 'earlier' permutes only the earlier agreements' records.",
        ),
    ] = "all",
) -> None:
    """Forecast recorded trade votes from earlier information only, and score the forecasts."""
    from riskmodel.backtest.runner import Backtester, BacktestSettings
    from riskmodel.backtest.scenario_runner import ScenarioSettings
    from riskmodel.backtest.suite import run_suite, score_vote
    from riskmodel.backtest.summary import pooled_summary
    from riskmodel.io import write_atomic

    if (vote is None) == (suite is None):
        raise fail(RiskmodelError("give exactly one of --vote VOTE_ID or --suite trade"))
    if suite is not None and suite != "trade":
        raise fail(RiskmodelError(f"unknown suite '{suite}'; the one suite is 'trade'"))
    if model not in ("trade", "scenario"):
        raise fail(RiskmodelError(f"--model must be trade or scenario, not '{model}'"))
    if shuffle_scope not in ("all", "earlier"):
        raise fail(RiskmodelError(f"--shuffle-scope must be all or earlier, not '{shuffle_scope}'"))
    if method not in ("nuts", "advi") or sampler not in ("auto", "nutpie", "pymc"):
        raise fail(RiskmodelError("--method must be nuts or advi; --sampler auto, nutpie or pymc"))
    settings = BacktestSettings(
        method=method,  # type: ignore[arg-type]
        sampler=sampler,  # type: ignore[arg-type]
        irt_max_rollcalls=max_rollcalls,
        seed=seed,
        max_congress=max_congress,
    )
    if draws is not None:
        settings = replace(settings, irt_draws=draws, irt_tune=draws, trade_draws=draws, trade_tune=draws)
    scenario_settings = ScenarioSettings(seed=seed, shuffle_scope=shuffle_scope)
    if draws is not None:
        scenario_settings = replace(scenario_settings, draws=draws, tune=draws)
    started = time.perf_counter()
    try:
        tester = Backtester(data, settings, log=lambda message: errors.print(message, style="dim"))
        if vote is not None:
            result = score_vote(
                tester,
                vote,
                model=model,  # type: ignore[arg-type]
                scenario_settings=scenario_settings,
                shuffle_seed=shuffle_terms,
            )
            console.print(_vote_table(result))
            if result["yea_interval_90"] is None:
                console.print(f"Recorded {result['actual_yea']}-{result['actual_nay']}.", highlight=False)
            else:
                console.print(
                    f"Recorded {result['actual_yea']}-{result['actual_nay']}; forecast yes count "
                    f"{result['yea_predicted_mean']:.0f}, 90% interval {result['yea_interval_90'][0]:.0f}–"
                    f"{result['yea_interval_90'][1]:.0f}; P(pass) {result['p_pass']:.2f}.",
                    highlight=False,
                )
            console.print(_gate_line(result["convergence_gate"]), highlight=False)
            if json_out is not None:
                text = json.dumps(result, indent=2)
                write_atomic(json_out, lambda tmp: Path(tmp).write_text(text))
                console.print(f"Wrote {json_out}.", highlight=False)
        else:
            votes = tester.trade.votes
            years = votes["date"].dt.year
            chosen = votes[(years >= (since or 0)) & (years <= (until or 9999))]["vote_id"].tolist()
            results = run_suite(
                data,
                chosen,
                settings=settings,
                model=model,  # type: ignore[arg-type]
                scenario_settings=scenario_settings,
                shuffle_seed=shuffle_terms,
                scheduler=scheduler,
                log=lambda message: errors.print(message, style="dim"),
            )
            table = pooled_summary(results)
            out = csv_out or Path("backtest_trade.csv")
            write_atomic(out, lambda tmp: table.to_csv(tmp, index=False, float_format="%.4f"))
            if json_out is not None:
                text = json.dumps({"votes": results, "summary": table.to_dict(orient="records")}, default=str)
                write_atomic(json_out, lambda tmp: Path(tmp).write_text(text))
            _print_suite(table)
            console.print(f"Wrote {out}.", highlight=False)
    except RiskmodelError as exc:
        raise fail(exc) from None
    console.print(f"Done in {time.perf_counter() - started:.0f} s.", style="dim")


def _print_suite(table: Any) -> None:
    import pandas as pd

    view = Table(
        title="Trade-vote backtest (member level; pooled over the members of votes whose fit passed the "
        "convergence gate; a failed fit's scores are withheld: —)"
    )
    for column in (
        "vote",
        "n",
        "yea",
        "acc",
        "APRE",
        "Brier",
        "ECE",
        "90% yes",
        "cover",
        "party Brier",
        "NOM Brier",
        "gate",
    ):
        view.add_column(column)

    def show(value: Any, digits: int) -> str:  # a withheld score (failed fit) is empty, shown as —
        return "—" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"

    for row in table.itertuples():
        gate = str(row.convergence_gate)
        interval = "—" if pd.isna(row.yea_lo90) else f"{row.yea_lo90:.0f}–{row.yea_hi90:.0f}"
        view.add_row(
            str(row.vote_id),
            str(row.n_members),
            str(row.actual_yea),
            show(row.accuracy, 3),
            show(row.apre, 3),
            show(row.brier, 4),
            show(row.ece, 3),
            "" if row.vote_id == "pooled" else interval,
            show(row.yea_covered, 2),
            show(row.party_line_brier, 4),
            show(row.nominate_logistic_brier, 4),
            gate if gate == "passed" or "/" in gate else "[red]FAILED[/]",
        )
    console.print(view)


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to the CLI."""
    app.command(name="backtest")(backtest)
