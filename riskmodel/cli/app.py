"""The ``riskmodel`` command line: a thin layer over the Python API.

Errors the user caused (bad scenario, bad option, an unwritable output folder, a run too large
for the memory limit) print one line and exit with code 2; ``--debug`` shows tracebacks instead.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from riskmodel.budget import LIMIT_ENV, check_budget, estimate_scenario, parse_size
from riskmodel.cli.common import (
    JsonOption,
    SafeGroup,
    console,
    emit_json,
    errors,
    fail,
    fold,
    records,
    say,
    set_debug,
)
from riskmodel.cli.helpstyle import tidy_help
from riskmodel.cli.options import (
    MemoryLimitOption,
    OutOption,
    ReplicatesOption,
    SeedOption,
    WorldsOption,
    out_folder,
    progress_bar,
    status,
)
from riskmodel.collector import collecting_new_objects, fewer_full_collections
from riskmodel.defaults import DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_WORLDS
from riskmodel.errors import RiskmodelError

# Heavy modules (PyMC, numba, xarray …) are imported by the commands that need them, so that
# `--help`, `--version` and `validate` start fast (tests/test_architecture.py checks it).
if TYPE_CHECKING:
    from riskmodel.report.worker import ReportWorker
    from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.names import ALLOW_OUTSIDE_ENV

__all__ = ["app"]

BUNDLED_EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "usmca_2019.yaml"

tidy_help()
app = typer.Typer(
    name="riskmodel",
    help="Forecast whether international agreements survive domestic ratification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # markdown joins a docstring's wrapped lines into one paragraph (rich mode keeps the breaks)
    rich_markup_mode="markdown",
    cls=SafeGroup,
)


def _print_version(value: bool) -> None:
    if value:
        from riskmodel.io import package_versions

        console.print(f"riskmodel {package_versions()['riskmodel']}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error instead of one line.")
    ] = False,
    memory_limit: MemoryLimitOption = None,
    allow_outside_tables: Annotated[
        bool,
        typer.Option(
            "--allow-outside-tables",
            help="Let scenarios read member tables outside their own folder (trusted scenarios only).",
        ),
    ] = False,
) -> None:
    """Forecast whether international agreements survive domestic ratification."""
    set_debug(debug)
    if memory_limit is not None:
        os.environ[LIMIT_ENV] = str(parse_size(memory_limit))
    if allow_outside_tables:
        os.environ[ALLOW_OUTSIDE_ENV] = "1"


def _format_table(results_table: object, title: str) -> Table:
    import pandas as pd

    assert isinstance(results_table, pd.DataFrame)
    table = Table(title=title, title_justify="left", caption_justify="left")
    table.add_column("deal")
    table.add_column("side")
    table.add_column("P(ratify) ± MCSE", justify="right")
    table.add_column("p_e median", justify="right")
    table.add_column("p_e 90% interval", justify="right")
    previous = ""
    for row in results_table.itertuples():
        deal, side = str(row.deal), str(row.side)
        style = "bold" if side == "joint" else None
        table.add_row(
            deal if deal != previous else "",
            side,
            _or_dash(f"{row.probability:.3f} ± {row.mcse:.3f}", row.probability)
            + (" (no change)" if getattr(row, "no_change", False) else ""),
            _or_dash(f"{row.conditional_median:.2f}", row.conditional_median),
            _or_dash(f"[{row.conditional_q05:.2f}, {row.conditional_q95:.2f}]", row.conditional_q05),
            style=style,
            end_section=side == "joint",
        )
        previous = deal
    return fold(table)


def _or_dash(text: str, value: object) -> str:
    """``text``, or a dash where the number is missing (a side that is not party to the deal)."""
    return "—" if value != value else text


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
) -> None:
    """Check a scenario file against the schema and say exactly what is wrong."""
    loaded = _load(scenario)
    spec = loaded.spec
    n_chambers = sum(len(side.chambers) for side in spec.sides)
    console.print(
        f"{scenario}: valid — {len(spec.issues)} issues, {len(spec.deals)} deals, "
        f"{len(spec.sides)} sides, {n_chambers} chambers",
        highlight=False,
    )


@app.command()
@fewer_full_collections()
def run(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario YAML file; the bundled USMCA example when omitted.", show_default=False
        ),
    ] = None,
    worlds: WorldsOption = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    out: OutOption = None,
    chunk_size: Annotated[
        int | None, typer.Option("--chunk-size", min=1, help="Deals per engine chunk (memory bound).")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write report.html and report.pdf beside the results.")
    ] = False,
    as_json: JsonOption = False,
    memory_limit: MemoryLimitOption = None,
) -> None:
    """Sample worlds, evaluate every named deal, print the table and write the results.

    Writes results.nc (an ArviZ DataTree: the outcomes at its root, the sampled model variables
    in its `prior` or `posterior` group) and summary.csv.
    """
    if memory_limit is not None:
        os.environ[LIMIT_ENV] = str(parse_size(memory_limit))
    path = scenario if scenario is not None else BUNDLED_EXAMPLE
    if not report:
        loaded, out_dir = _checked(path, out, worlds, replicates)
        _run(loaded, path, out_dir, worlds, replicates, seed, chunk_size, as_json, None)
        return
    from riskmodel.report.worker import ReportWorker

    # the report's child is forked now, before pandas, numba and xarray are imported and while
    # this process runs one thread: it imports WeasyPrint while the scenario is loaded, lays out
    # the appendix while the run samples; a second child is forked once the scenario is loaded
    with ReportWorker() as worker:
        loaded, out_dir = _checked(path, out, worlds, replicates)
        worker.start(loaded)
        _run(loaded, path, out_dir, worlds, replicates, seed, chunk_size, as_json, worker)


def _checked(path: Path, out: Path | None, worlds: int, replicates: int) -> tuple[LoadedScenario, Path]:
    """The scenario and the output folder of a run, or the one-line error that ends the command."""
    loaded = _load(path)
    try:
        out_dir = out_folder(out, loaded)
        check_budget(estimate_scenario(loaded, worlds=worlds, replicates=replicates))
    except RiskmodelError as exc:
        raise fail(exc) from None
    return loaded, out_dir


def _run(
    loaded: LoadedScenario,
    path: Path,
    out_dir: Path,
    worlds: int,
    replicates: int,
    seed: int,
    chunk_size: int | None,
    as_json: bool,
    worker: ReportWorker | None,
) -> None:
    """Sample, evaluate, print and save; with a report worker, the report too."""
    from riskmodel.io import save_results, write_atomic
    from riskmodel.pipeline import evaluate_deals, sample_worlds
    from riskmodel.results.datatree import results_tree
    from riskmodel.results.netcdf import without_distributed
    from riskmodel.results.tables import summary_table

    started = time.perf_counter()
    with progress_bar() as progress:
        posterior = loaded.spec.evidence is not None
        task = progress.add_task(
            "Sampling the posterior given the evidence (NUTS)" if posterior else "Sampling worlds (PyMC)",
            total=None,
        )
        simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
        progress.update(task, description="Evaluating deals", total=len(loaded.spec.deals), completed=0)
        results = evaluate_deals(
            simulation,
            chunk_size=chunk_size,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    elapsed = time.perf_counter() - started
    results.attrs["scenario_file"] = str(path.resolve())
    table = summary_table(results)
    title = (
        f"{loaded.spec.title or loaded.spec.name} — {results.attrs['n_worlds']:,} worlds "
        f"({results.attrs['n_draws']:,} draws × {replicates} replicates), seed {seed}"
    )
    from riskmodel.results.nochange import no_change_pairs

    unchanged = set(no_change_pairs(results, loaded))
    shown = table.assign(
        no_change=[
            (str(d), str(side)) in unchanged for d, side in zip(table["deal"], table["side"], strict=True)
        ]
    )
    out_console = say(as_json)
    if as_json:
        emit_json({"title": title, "attrs": dict(results.attrs), "rows": records(shown)})
    else:
        console.print(_format_table(shown, title))
    tree = results_tree(results, simulation.draws)
    if worker is not None:  # the child builds the report while this process saves the results
        worker.submit(tree, results_file=out_dir / "results.nc")
    with without_distributed(), collecting_new_objects():
        results_path = save_results(tree, out_dir / "results.nc")
        csv_path = write_atomic(out_dir / "summary.csv", lambda tmp: table.to_csv(tmp, index=False))
    out_console.print(
        "P(ratify): share of worlds in which the side ratifies, ± its Monte Carlo standard error.\n"
        "p_e: ratification probability given one epistemic draw (posterior of win-set membership)."
        + (
            "\nno change: the deal equals the side's fallback; its voters are indifferent, P is a coin flip."
            if unchanged
            else ""
        ),
        style="dim",
    )
    gate = str(results.attrs.get("convergence_gate", ""))
    if gate == "passed":
        out_console.print(
            "Convergence gate: passed (rank-normalised R-hat < 1.01, bulk and tail ESS ≥ 400, "
            "no divergences).",
            highlight=False,
        )
    elif gate:
        errors.print(
            Text.assemble(
                ("Convergence gate FAILED", "bold red"),
                f" — {gate}. The probabilities above come from a fit that did not converge; "
                "do not report them. Raise evidence.draws / evidence.tune in the scenario.",
            ),
            highlight=False,
        )
    out_console.print(f"Wrote {results_path} and {csv_path} in {elapsed:.1f} s.", highlight=False)
    if worker is not None:
        from riskmodel.report.files import write_built

        try:
            with status("Writing the report (figures, HTML, PDF)"), collecting_new_objects():
                files = write_built(worker.result(), html=out_dir / "report.html", pdf=out_dir / "report.pdf")
        except RiskmodelError as exc:
            raise fail(exc) from None
        for warning in files.warnings:
            errors.print(f"warning: {escape(warning)}", highlight=False)
        out_console.print(f"Wrote {files.html} and {files.pdf}.", highlight=False)


def _load(path: Path) -> LoadedScenario:
    """Load a scenario and check what its evidence refers to; a user error ends the command."""
    from riskmodel.spec.scenario import load_scenario

    try:
        loaded = load_scenario(path)
        if loaded.spec.evidence is not None:
            from riskmodel.model.evidence import check_evidence
            from riskmodel.model.layout import build_layout

            check_evidence(build_layout(loaded), loaded.spec.evidence)
    except RiskmodelError as exc:
        raise fail(exc) from None
    return loaded


def _register_commands() -> None:
    """Add the analysis commands, one module each."""
    from riskmodel.cli import (
        backtest,
        dealdesign,
        explore,
        formats,
        gallery,
        report,
        sensitivity,
        stress,
        winset,
    )

    for module in (winset, dealdesign, sensitivity, stress, report, backtest, gallery, explore, formats):
        module.register(app)


_register_commands()


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m riskmodel``.

    When ``python -m riskmodel`` is the program, the process ends as soon as the command has
    finished (see :func:`leave`); called from other code, ``main`` exits as any Click program
    does, by raising ``SystemExit``.
    """
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    if getattr(spec, "name", None) != "riskmodel.__main__":
        app()
        return
    script()


def script() -> None:  # pragma: no cover - console entry point
    """Entry point of the installed ``riskmodel`` command: run the command, then :func:`leave`."""
    try:
        app()
    except SystemExit as exc:
        leave(exc.code)
    leave(0)


def leave(code: object) -> None:
    """End the program with ``code`` now: exit handlers run and output is flushed, teardown skipped.

    Tearing down the interpreter after a command (a final collection over the million objects
    numba, PyTensor, SciPy and xarray leave, freeing them one by one, LLVM's shutdown) costs
    about a fifth of a warm run's wall time (0.4 s of CPU) and does nothing for the user: every
    file is already written, synced and closed. So, as mypy does, the process runs its exit
    handlers (``atexit``, temporary folders' finalisers), flushes its streams and exits at once.
    Anything unusual — a non-integer code, a thread still running, a stream that cannot be
    flushed — takes Python's ordinary exit instead.
    """
    import atexit
    import threading

    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
