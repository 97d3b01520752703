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

from riskmodel.budget import check_budget, estimate_scenario
from riskmodel.cli.common import errors
from riskmodel.errors import ParameterError, RiskmodelError
from riskmodel.paths import check_output_folder

# Imported where used: every command module imports this one, and `--help` must stay light.
if TYPE_CHECKING:
    from riskmodel.pipeline import Sampler, Simulation
    from riskmodel.randomness import SeedLike
    from riskmodel.spec.scenario import LoadedScenario

__all__ = [
    "MAX_SEED",
    "MemoryLimitOption",
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
MAX_SEED = 2**63 - 1
"""Seeds are stored in the results as a 64-bit signed integer."""

SeedOption = Annotated[
    int,
    typer.Option(
        "--seed",
        min=0,
        max=MAX_SEED,
        help="Seed of the worlds (the same seed gives the same worlds as `run`).",
    ),
]
MemoryLimitOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Refuse runs estimated to need more memory than this (e.g. 8GB; default: half the machine's).",
        show_default=False,
    ),
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
    scenario: Path, *, worlds: int, replicates: int, seed: int, deals: int | None = None
) -> tuple[LoadedScenario, Simulation]:
    """Load a scenario and sample its worlds (the same worlds as ``riskmodel run`` with this seed).

    ``deals`` is how many deals the command will evaluate on the worlds (a win-set grid's N×N),
    checked with the worlds against the memory limit before anything is sampled.
    """
    from riskmodel.pipeline import sample_worlds
    from riskmodel.spec.scenario import load_scenario

    loaded = load_scenario(scenario)
    if deals is not None:
        check_budget(estimate_scenario(loaded, worlds=worlds, replicates=replicates, deals=deals))
    with status("Sampling worlds (PyMC)"):
        simulation = sample_worlds(loaded, n_worlds=worlds, n_replicates=replicates, seed=seed)
    return loaded, simulation


def out_folder(out: Path | None, loaded: LoadedScenario) -> Path:
    """The output folder: ``--out`` or ``reports/<scenario name>`` (where ``run`` writes its results)."""
    folder = out if out is not None else Path("reports") / loaded.spec.name
    # checked before any work, so a bad folder does not cost the user a whole simulation
    return check_output_folder(folder, option="--out")


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
