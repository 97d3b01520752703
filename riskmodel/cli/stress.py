"""``riskmodel stress SCENARIO --shocks FILE``: named shocks swept over the deals, on Dask."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from riskmodel.cli.common import JsonOption, console, emit_json, fail, fold, records, say
from riskmodel.cli.options import OutOption, ReplicatesOption, SeedOption, out_folder, progress_bar
from riskmodel.collector import collecting_new_objects, fewer_full_collections
from riskmodel.defaults import DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_STRESS_SEED, DEFAULT_WORLDS
from riskmodel.errors import RiskmodelError

# Heavy modules are imported inside the commands, so that `riskmodel --help` stays light.

__all__ = ["register", "stress"]


def _ranking(frame: Any, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("shock")
    table.add_column("kind")
    table.add_column("deal")
    table.add_column("Δ P(agreement) ± MCSE", justify="right")
    table.add_column("P(agreement)", justify="right")
    for row in frame.itertuples():
        unclear = row.effect == "unclear"
        table.add_row(
            str(row.rank),
            Text(str(row.shock) if row.kind != "combination" else f"{row.shock} = {row.parts}"),
            str(row.kind),
            Text(str(row.deal)),
            f"{row.change:+.3f} ± {row.mcse:.3f}" + (" (within 2 MCSE)" if unclear else ""),
            f"{row.probability:.3f}",
            style="dim" if unclear else None,
        )
    return fold(table)


@contextlib.contextmanager
def _executor(serial: bool, scheduler: str | None, workers: int | None) -> Iterator[Any]:
    if serial:
        yield None
        return
    from riskmodel.analyses.stress import dask_client

    with dask_client(scheduler, n_workers=workers) as client:
        yield client


@fewer_full_collections()  # the analysis's imports need no repeated full collections
def stress(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    shocks: Annotated[Path, typer.Option("--shocks", help="YAML file of named shocks.", show_default=False)],
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a Dask scheduler (default: a local cluster)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Workers of the local cluster (default: one per core)."),
    ] = None,
    serial: Annotated[bool, typer.Option("--serial", help="Run in this process, without Dask.")] = False,
    deal: Annotated[
        list[str] | None, typer.Option("--deal", help="Deal to sweep (repeatable; default: every deal).")
    ] = None,
    worlds: Annotated[
        int, typer.Option("--worlds", min=2, help="Possible worlds to sample.")
    ] = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    analysis_seed: Annotated[
        int, typer.Option("--analysis-seed", min=0, help="Seed of entities the shocks create.")
    ] = DEFAULT_STRESS_SEED,
    top: Annotated[int, typer.Option("--top", min=1, help="Shocks listed in each ranking.")] = 25,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply each shock, and each declared combination, to the scenario; list what hurts and what helps.

    Two rankings: the shocks that lower some deal's probability of agreement, largest drop
    first, and those that raise it, largest rise first (a shock can be in both, for different
    deals).

    Runs on Dask: a local cluster by default, your cluster with --scheduler. Every unit of work
    has its own seed, so the numbers are the same serially, locally or on a cluster. Writes
    stress.nc beside the results of `riskmodel run`.
    """
    from riskmodel.analyses.stress import save_stress, stress_test
    from riskmodel.pipeline import sample_worlds
    from riskmodel.results.tables import stress_table
    from riskmodel.spec.scenario import load_scenario
    from riskmodel.spec.shockcheck import load_shocks

    if serial and (scheduler is not None or workers is not None):
        raise fail(RiskmodelError("--serial runs without Dask: drop --scheduler and --workers"))
    started = time.perf_counter()
    try:
        loaded = load_scenario(scenario)
        shock_set = load_shocks(shocks, loaded)
        out_dir = out_folder(out, loaded)
        with progress_bar() as progress:
            task = progress.add_task("Starting Dask" if not serial else "Sampling worlds (PyMC)", total=None)
            with _executor(serial, scheduler, workers) as client:  # first: a bad address fails fast
                progress.update(task, description="Sampling worlds (PyMC)")
                simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
                progress.update(task, description="Shocks", total=len(shock_set.units()), completed=0)
                result = stress_test(
                    simulation,
                    shock_set,
                    deals=deal,
                    seed=analysis_seed,
                    client=client,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
    except RiskmodelError as exc:
        raise fail(exc) from None
    baseline = result["baseline_probability"].sel(outcome="agreement")
    shown = ", ".join(f"{d} {float(baseline.sel(deal=d)):.3f}" for d in result["deal"].to_numpy().tolist())
    where = "serially" if serial else f"on Dask ({scheduler or 'local cluster'})"
    hurts = stress_table(result, top=top, effect="hurts")
    helps = stress_table(result, top=top, effect="helps")
    if as_json:
        emit_json(
            {
                "baseline_agreement": {
                    d: float(baseline.sel(deal=d)) for d in result["deal"].to_numpy().tolist()
                },
                "hurts": records(hurts),
                "helps": records(helps),
                "ranking": records(stress_table(result, top=top)),
            }
        )
    else:
        console.print(Text(f"Baseline P(agreement): {shown}"), highlight=False, soft_wrap=True)
        console.print(_ranking(hurts, "Shocks that lower P(agreement), largest drop first"))
        console.print(_ranking(helps, "Shocks that raise P(agreement), largest rise first"))
    with collecting_new_objects():  # the write's own collection walks only its objects
        path = save_stress(result, out_dir / "stress.nc")
    elapsed = time.perf_counter() - started
    say(as_json).print(
        Text(
            f"{result.sizes['shock']} units swept {where}. Δ is each shock's largest change on any deal, "
            f"with its Monte Carlo standard error; dim rows are within 2 MCSE of no change. "
            f"Wrote {path} in {elapsed:.1f} s."
        ),
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``riskmodel stress`` to the CLI."""
    app.command(name="stress")(stress)
