"""``riskmodel winset SCENARIO --x ISSUE --y ISSUE``: the win-set map (and the deal-design commands).

The options it shares with ``linkage``, ``sidepay`` and ``bargain`` live in :mod:`riskmodel.cli.options`.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from riskmodel.cli.common import JsonOption, console, emit_json, fail, fold, records, say
from riskmodel.cli.options import (
    OutOption,
    ReplicatesOption,
    SeedOption,
    WorldsOption,
    out_folder,
    progress_bar,
    status,
    with_flags,
)
from riskmodel.defaults import DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_WORLDS
from riskmodel.errors import RiskmodelError

if TYPE_CHECKING:
    from riskmodel.budget import Estimate
    from riskmodel.spec.scenario import LoadedScenario

# Heavy modules are imported inside the commands, so that `riskmodel --help` stays light.

__all__ = ["register", "winset"]

# compute_winset's parameters, as this command's flags (for its error messages)
WINSET_FLAGS = {"x": "--x", "y": "--y", "grid": "--grid", "tau": "--tau"}


def _size_table(winset: object, title: str) -> Table:
    import xarray as xr

    from riskmodel.results.tables import OVERLAP, winset_table

    assert isinstance(winset, xr.Dataset)
    table = Table(title=title, title_justify="left")
    for name, justify in (("win-set", "left"), ("P ≥ 50%", "right"), ("P ≥ 90%", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column(Text("E[size]"), justify="right")
    table.add_column("size 5%–95%", justify="right")
    table.add_column("P(size = 0)", justify="right")
    for row in winset_table(winset).itertuples(index=False):
        name, above_50, above_90, mean, q05, q95, empty = row
        table.add_row(
            Text(str(name)),
            f"{above_50:.1%}",
            f"{above_90:.1%}",
            f"{mean:.1%}",
            f"{q05:.1%}–{q95:.1%}",
            f"{empty:.1%}",
            style="bold" if name == OVERLAP else None,
        )
    return fold(table)


def _map_estimate(loaded: LoadedScenario, *, grid: int, worlds: int, replicates: int) -> Estimate:
    """Memory of a map: the worlds (and the named deals) as for ``run``, one chunk, and the map's arrays.

    The map is evaluated and reduced a chunk of rows at a time, so beyond one chunk it keeps only
    its per-deal results: per side and for the agreement, the probability, its MCSE and five
    quantiles (float64), the agreement zone and the deal's coordinates.
    """
    from riskmodel.budget import CHUNK_BYTES, Estimate, estimate_scenario

    base = estimate_scenario(loaded, worlds=worlds, replicates=replicates)
    per_deal = (len(loaded.spec.sides) + 1) * 7 * 8 + 16
    return Estimate(parts={**base.parts, "the win-set map": CHUNK_BYTES + grid * grid * per_deal})


def winset(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    x: Annotated[str, typer.Option("--x", help="Issue on the horizontal axis.", show_default=False)],
    y: Annotated[str, typer.Option("--y", help="Issue on the vertical axis.", show_default=False)],
    base: Annotated[
        str | None, typer.Option("--base", help="Named deal fixing the other issues (default: the first).")
    ] = None,
    grid: Annotated[int, typer.Option("--grid", min=2, help="Points per axis (N×N deals).")] = 101,
    tau: Annotated[
        float, typer.Option("--tau", min=0.0, max=1.0, help="Joint probability of the agreement zone.")
    ] = 0.5,
    method: Annotated[
        str, typer.Option("--method", help="sweep (fast, exact) or engine (every deal through the engine).")
    ] = "sweep",
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Write PNG maps beside winset.nc.")
    ] = True,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run the map on Dask: a scheduler address, or 'local' (2 workers)."),
    ] = None,
    worlds: WorldsOption = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Map P(deal ∈ win-set) over two issues, per side and jointly, and the win-set size per world."""
    from riskmodel.analyses.stress import dask_client
    from riskmodel.analyses.winset import compute_winset, save_winset
    from riskmodel.budget import check_budget
    from riskmodel.io import write_atomic
    from riskmodel.pipeline import sample_worlds
    from riskmodel.plots.winset import plot_winset, plot_winset_size
    from riskmodel.results.tables import winset_table
    from riskmodel.spec.scenario import load_scenario

    try:
        loaded = load_scenario(scenario)
        check_budget(_map_estimate(loaded, grid=grid, worlds=worlds, replicates=replicates))
        with status("Sampling worlds (PyMC)"):
            simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
        folder = out_folder(out, loaded)
        started = time.perf_counter()
        with (
            contextlib.ExitStack() as stack,
            progress_bar() as bar,
        ):
            address = None if scheduler == "local" else scheduler
            client = None if scheduler is None else stack.enter_context(dask_client(address, n_workers=2))
            shown = bar.add_task(f"Mapping {grid}×{grid} deals", total=grid * grid)
            winset_map = compute_winset(
                simulation,
                client=client,
                progress=lambda done, total: bar.update(shown, completed=done, total=total),
                x=x,
                y=y,
                base=base,
                grid=grid,
                tau=tau,
                method=method,  # type: ignore[arg-type]
            )
        elapsed = time.perf_counter() - started
    except RiskmodelError as exc:
        raise fail(with_flags(exc, WINSET_FLAGS)) from None
    winset_map.attrs["scenario_file"] = str(scenario)
    title = (
        f"{loaded.spec.title or loaded.spec.name}: win-sets over {x} × {y} ({grid}×{grid} deals, others at "
        f"'{winset_map.attrs['base_deal']}'), {winset_map.attrs['n_worlds']:,} worlds, seed {seed}"
    )
    if as_json:
        emit_json(
            {
                "title": title,
                "agreement_zone_share": float(winset_map.attrs["agreement_zone_share"]),
                "rows": records(winset_table(winset_map)),
            }
        )
    else:
        console.print(_size_table(winset_map, title))
    out_console = say(as_json)
    out_console.print(
        Text(
            f"Agreement zone (joint P ≥ {tau:.0%}): "
            f"{winset_map.attrs['agreement_zone_share']:.1%} of the map. "
            "P ≥ 50%/90%: share of the map's deals with that probability of being in the win-set. "
            "Size: share of the map ratified in one world (its distribution over worlds).",
            style="dim",
        )
    )
    written = [save_winset(winset_map, folder / "winset.nc")]
    if plots:
        figures = [
            ("winset.png", plot_winset(winset_map)[0]),
            ("winset_size.png", plot_winset_size(winset_map)[0]),
        ]
        figures += [
            (f"winset_{s}.png", plot_winset(winset_map, side=str(s))[0])
            for s in winset_map["side"].to_numpy()
        ]
        for name, figure in figures:
            written.append(
                write_atomic(folder / name, lambda tmp, fig=figure: fig.savefig(tmp, format="png", dpi=120))
            )
    out_console.print(
        Text(f"Wrote {', '.join(map(str, written))}; the map took {elapsed:.1f} s."), highlight=False
    )


def register(app: typer.Typer) -> None:
    """Add ``winset`` to the CLI."""
    app.command(name="winset")(winset)
