"""``riskmodel sensitivity SCENARIO``: tornado, Sobol indices, pivotality and the whip list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from riskmodel.cli.common import JsonOption, console, emit_json, fail, fold, records, say
from riskmodel.cli.options import (
    OutOption,
    ReplicatesOption,
    SeedOption,
    out_folder,
    progress_bar,
    with_flags,
)
from riskmodel.collector import collecting_new_objects, fewer_full_collections
from riskmodel.defaults import (
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    DEFAULT_SENSITIVITY_SEED,
    DEFAULT_WORLDS,
)
from riskmodel.errors import RiskmodelError

# Heavy modules are imported inside the commands, so that `riskmodel --help` stays light.

__all__ = ["register", "sensitivity"]


def _signed(value: float, error: float) -> str:
    if value != value:  # NaN: a fixed ideal point has no prior SD to shift by
        return "n/a"
    return f"{value:+.3f} ± {error:.3f}"


def _index(value: float, low: float, high: float) -> str:
    """An index with its ±2 SE interval; an interval spanning almost all of [0, 1] says so."""
    if value != value:  # NaN: p_e (almost) never varies
        return "—"
    if low != low or high != high:
        return f"{value:.2f}"
    if high - low >= 0.9:
        return f"{value:.2f} (uninformative)"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _constituency_table(frame: object, deal: str, baseline: str) -> Table:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    title = f"Deal {deal} ({baseline}): sensitivity of P(own side ratifies)"
    table = Table(title=title, title_justify="left")
    table.add_column("constituency")
    for name in ("Δ toward", "Δ away", "Sobol 1st", "Sobol total", "pivotal"):
        table.add_column(name, justify="right")
    for row in frame[frame["deal"] == deal].to_dict("records"):
        pivotal = float(row["pivotality"])
        table.add_row(
            Text(str(row["constituency"])),
            _signed(float(row["toward"]), float(row["toward_mcse"])),
            _signed(float(row["away"]), float(row["away_mcse"])),
            _index(float(row["sobol_first"]), float(row["sobol_first_low"]), float(row["sobol_first_high"])),
            _index(float(row["sobol_total"]), float(row["sobol_total_low"]), float(row["sobol_total_high"])),
            "—" if pivotal != pivotal else f"{pivotal:.3f}",  # NaN: it casts no votes
        )
    return fold(table)


def _whip_table(frame: object, deal: str) -> Table:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    table = Table(title=f"Deal {deal}: swing members (the whip list)", title_justify="left")
    table.add_column("member")
    table.add_column("bloc")
    table.add_column("P(pivotal)", justify="right")
    table.add_column("P(votes yes)", justify="right")
    for row in frame.itertuples():
        table.add_row(
            Text(str(row.member)), Text(str(row.bloc)), f"{row.pivotality:.3f}", f"{row.yes_probability:.3f}"
        )
    return fold(table)


@fewer_full_collections()  # the analysis's imports need no repeated full collections
def sensitivity(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    deal: Annotated[
        list[str] | None, typer.Option("--deal", help="Deal to analyse (repeatable; default: every deal).")
    ] = None,
    worlds: Annotated[
        int, typer.Option("--worlds", min=4, help="Possible worlds to sample.")
    ] = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    analysis_seed: Annotated[
        int, typer.Option("--analysis-seed", min=0, help="Seed of the Sobol recombination and bootstrap.")
    ] = DEFAULT_SENSITIVITY_SEED,
    top: Annotated[int, typer.Option("--top", min=1, help="Swing members listed per deal.")] = 15,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Shift each constituency ±1 prior SD, estimate Sobol indices and pivotality, list swing members.

    Writes sensitivity.nc beside the results of `riskmodel run` (same worlds for the same
    --worlds, --replicates and --seed).
    """
    from riskmodel.analyses.sensitivity import analyse_sensitivity, save_sensitivity
    from riskmodel.pipeline import sample_worlds
    from riskmodel.results.tables import sensitivity_table, swing_members
    from riskmodel.spec.scenario import load_scenario

    started = time.perf_counter()
    try:
        loaded = load_scenario(scenario)
        out_dir = out_folder(out, loaded)
        with progress_bar() as progress:
            task = progress.add_task("Sampling worlds (PyMC)", total=None)
            simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
            progress.update(task, description="Constituencies", total=None, completed=0)
            result = analyse_sensitivity(
                simulation,
                deals=deal,
                seed=analysis_seed,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except RiskmodelError as exc:
        raise fail(with_flags(exc, {"n_worlds": "--worlds"})) from None
    frame = sensitivity_table(result)
    if as_json:
        emit_json(
            {
                "baseline": {
                    str(d): {
                        str(o): float(result["baseline_probability"].sel(deal=d, outcome=o))
                        for o in result["outcome"].to_numpy()
                    }
                    for d in result["deal"].to_numpy()
                },
                "constituencies": records(frame),
                "swing_members": {
                    str(d): records(swing_members(result, str(d), top=top)) for d in result["deal"].to_numpy()
                },
            }
        )
    else:
        for name in result["deal"].to_numpy().tolist():
            baseline = result["baseline_probability"].sel(deal=name)
            shown = ", ".join(
                f"{o} {float(baseline.sel(outcome=o)):.3f}" for o in result["outcome"].to_numpy().tolist()
            )
            console.print(_constituency_table(frame, name, f"P: {shown}"))
            console.print(_whip_table(swing_members(result, name, top=top), name))
    with collecting_new_objects():  # the write's own collection walks only its objects
        path = save_sensitivity(result, out_dir / "sensitivity.nc")
    notes = say(as_json)
    notes.print(
        "Δ: change (± MCSE) in the probability that the constituency's side ratifies when its ideal point "
        "moves one prior SD toward / away from the deal (common random numbers; n/a: the ideal point is "
        "fixed in the scenario, so there is no prior SD to move by — its Sobol index then comes from its "
        "other parameters). Sobol: share of the variance of p_e due to the constituency's parameters, in "
        "[0, 1], with a ±2 bootstrap SE interval (— when p_e hardly varies). Pivotal: P(its side's outcome "
        "flips if its votes are redrawn from their own distribution) — 0 for a vote that never varies.",
        style="dim",
    )
    elapsed = time.perf_counter() - started
    notes.print(Text(f"Wrote {path} in {elapsed:.1f} s."), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``riskmodel sensitivity`` to the CLI."""
    app.command(name="sensitivity")(sensitivity)
