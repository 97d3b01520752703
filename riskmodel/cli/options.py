"""Options and helpers shared by the commands that sample a scenario's worlds."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from riskmodel.cli.common import errors
from riskmodel.errors import ParameterError, RiskmodelError

# Imported where used: every command module imports this one, and `--help` must stay light.
if TYPE_CHECKING:
    from riskmodel.pipeline import Sampler, Simulation
    from riskmodel.randomness import SeedLike
    from riskmodel.spec.scenario import LoadedScenario

__all__ = [
    "OutOption",
    "ReplicatesOption",
    "SeedOption",
    "WorldsOption",
    "load_and_sample",
    "out_folder",
    "progress_bar",
    "resampler",
    "status",
    "with_flags",
]


WorldsOption = Annotated[int, typer.Option("--worlds", min=1, help="Possible worlds to sample.")]
ReplicatesOption = Annotated[
    int, typer.Option("--replicates", min=1, help="Shock replicates per epistemic draw.")
]
SeedOption = Annotated[
    int,
    typer.Option("--seed", min=0, help="Seed of the worlds (the same seed gives the same worlds as `run`)."),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Output folder (default: reports/<scenario name>).")
]


@contextmanager
def status(description: str) -> Iterator[None]:
    """A transient spinner on stderr while slow work runs."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=errors, transient=True
    ) as progress:
        progress.add_task(description, total=None)
        yield


def progress_bar() -> Progress:
    """A transient progress bar on stderr: description, bar, done/total, elapsed time and ETA.

    A step of unknown length (``total=None``) shows a pulsing bar and no ETA.
    """
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def load_and_sample(
    scenario: Path, *, worlds: int, replicates: int, seed: int
) -> tuple[LoadedScenario, Simulation]:
    """Load a scenario and sample its worlds (the same worlds as ``riskmodel run`` with this seed)."""
    from riskmodel.pipeline import sample_worlds
    from riskmodel.spec.scenario import load_scenario

    loaded = load_scenario(scenario)
    with status("Sampling worlds (PyMC)"):
        simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
    return loaded, simulation


def out_folder(out: Path | None, loaded: LoadedScenario) -> Path:
    """The output folder: ``--out`` or ``reports/<scenario name>`` (where ``run`` writes its results)."""
    folder = out if out is not None else Path("reports") / loaded.spec.name
    if folder.exists() and not folder.is_dir():
        raise RiskmodelError(f"{folder}: --out must be a folder, and this is a file")
    return folder


def resampler(*, worlds: int, replicates: int) -> Sampler:
    """Fresh worlds for analyses that need them: a closure over ``sample_worlds`` with these sizes.

    Analyses never sample the model themselves; the command hands them this callback.
    """
    from riskmodel.pipeline import sample_worlds

    def resample(scenario: LoadedScenario, seed: SeedLike) -> Simulation:
        return sample_worlds(scenario, n_worlds=worlds, n_replicates=replicates, seed=seed)

    return resample


def with_flags(exc: RiskmodelError, flags: Mapping[str, str]) -> RiskmodelError:
    """A library error re-phrased with the command's flags for the parameters it names.

    Library functions raise :class:`~riskmodel.errors.ParameterError` naming their parameters
    (``grid must be …``); the user typed flags, so those names become ``flags`` (``{"grid":
    "--grid"}``). Other errors are returned unchanged.
    """
    if isinstance(exc, ParameterError):
        return RiskmodelError(exc.phrased(flags))
    return exc
