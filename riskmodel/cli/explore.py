"""``riskmodel explore SCENARIO``: a live what-if page for the scenario's deals, on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import console, fail
from riskmodel.cli.options import ReplicatesOption, SeedOption, WorldsOption, status
from riskmodel.defaults import DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_WORLDS
from riskmodel.errors import RiskmodelError

__all__ = ["DEFAULT_PORT", "explore", "register"]

DEFAULT_PORT = 8765
HOST = "127.0.0.1"


def explore(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    worlds: WorldsOption = DEFAULT_WORLDS,
    replicates: ReplicatesOption = DEFAULT_REPLICATES,
    seed: SeedOption = DEFAULT_SEED,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1 to serve the page on.")
    ] = DEFAULT_PORT,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for saved scenarios and reports (default: the working directory)."
        ),
    ] = None,
) -> None:
    """Sample the worlds once and serve a page to edit a deal and watch every side's risk move.

    The page shows the same numbers as `riskmodel run` on a scenario holding the deal (same
    --worlds, --replicates and --seed). It listens on 127.0.0.1 only; stop it with Ctrl-C.
    """
    # the web stack is imported here, not at module level: `riskmodel --help` must stay fast
    import uvicorn

    from riskmodel.explore import Explorer
    from riskmodel.explore.app import create_app
    from riskmodel.pipeline import sample_worlds
    from riskmodel.spec.scenario import load_scenario

    folder = out if out is not None else Path.cwd()
    if folder.exists() and not folder.is_dir():
        raise fail(RiskmodelError(f"{folder}: --out must be a folder, and this is a file"))
    _check_port(port)  # before sampling: a busy port should not cost the user the wait
    try:
        loaded = load_scenario(scenario)
        if loaded.spec.evidence is not None:  # as `run` does: evidence must name what exists
            from riskmodel.model.evidence import check_evidence
            from riskmodel.model.layout import build_layout

            check_evidence(build_layout(loaded), loaded.spec.evidence)
        with status(f"Sampling {worlds:,} worlds (PyMC)"):
            simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
    except RiskmodelError as exc:
        raise fail(exc) from None
    explorer = Explorer(simulation=simulation, scenario_path=scenario, out_dir=folder)
    with status("Compiling the engine"):
        explorer.evaluate(simulation.layout.deal_values[0])  # the first page load then answers at once
    app = create_app(explorer)
    console.print(
        f"Exploring {loaded.spec.title or loaded.spec.name}: {simulation.worlds.n_worlds:,} worlds, "
        f"seed {seed}.\nOpen http://{HOST}:{port}/ in a browser; Ctrl-C stops the server.",
        highlight=False,
    )
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False, server_header=False)


def _check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise fail(
                RiskmodelError(f"port {port} on {HOST} is in use (another explorer?); choose one with --port")
            ) from None


def register(app: typer.Typer) -> None:
    """Add ``riskmodel explore`` to the CLI."""
    app.command(name="explore")(explore)
