"""riskmodel: forecast whether an international agreement survives domestic ratification.

Putnam's two-level game with Bayesian priors on every Level II preference: sample possible
worlds with PyMC, push every candidate deal through a vectorised vote engine, and report the
probability that each side ratifies it.

The verbs a notebook needs are importable from here (``riskmodel.load_scenario``,
``riskmodel.sample_worlds`` ...). They are loaded lazily, on first use (PEP 562): Python runs
this file before any submodule, so an eager import here would make ``import riskmodel.engine``
load PyMC.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any


def _pytensor_flags() -> dict[str, str]:
    """The settings in ``PYTENSOR_FLAGS`` (``name=value`` items separated by commas)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    return dict(item.split("=", 1) for item in flags.split(",") if "=" in item)


def _default_pytensor_flag(name: str, value: str) -> None:
    """Add ``name=value`` to ``PYTENSOR_FLAGS`` unless PyTensor is imported or the user set ``name``."""
    if "pytensor" in sys.modules or name in _pytensor_flags():
        return
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{name}={value}" if flags else f"{name}={value}"


def _deterministic_numba_fits() -> None:
    """Ask PyTensor's numba backend (nutpie's logp) for no fast-math, before PyTensor is imported.

    With fast-math, a function compiled afresh and the same function loaded from PyTensor's
    on-disk numba cache differ in the last bits (inner functions are inlined in one and called
    in the other; LLVM contracts and reassociates differently), and the chains then part: the
    same seed gave different posteriors with a cold and a warm cache. PyTensor fixes the flags
    of its own numba helpers when it is imported, so the setting has to be in
    ``PYTENSOR_FLAGS`` by then (a user's own ``numba__fastmath`` wins). About 8% slower on a
    House backtest fit.
    """
    _default_pytensor_flag("numba__fastmath", "False")


def _generated_source_folder() -> None:
    """Keep the Python source PyTensor generates for numba in one folder, not in ``/tmp``.

    By default PyTensor writes the source of every numba function it compiles to a new file in
    the system's temporary folder and never removes it: dozens of files per posterior fit, tens
    of thousands after a backtest suite. With ``generated_src_dir`` set, the files are named by
    their content (a function compiled again reuses its file) and PyTensor removes those unused
    for weeks. The folder is ``generated_src`` in PyTensor's ``base_compiledir`` (its default,
    or the one set in ``PYTENSOR_FLAGS``); a user's own ``generated_src_dir``, or a PyTensor
    configuration file, is left to decide.
    """
    if os.environ.get("PYTENSORRC"):
        return
    try:
        home = Path.home()
    except RuntimeError:  # no home folder to find: PyTensor decides
        return
    if (home / ".pytensorrc").exists() or (home / ".pytensorrc.txt").exists():
        return
    if "base_compiledir" in (settings := _pytensor_flags()):
        base = Path(settings["base_compiledir"]).expanduser()
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"]) / "PyTensor"
    else:
        base = home / ".pytensor"
    folder = str(base / "generated_src")
    if "," not in folder and "=" not in folder:  # PYTENSOR_FLAGS cannot carry either
        _default_pytensor_flag("generated_src_dir", folder)


_deterministic_numba_fits()
_generated_source_folder()

if TYPE_CHECKING:
    __version__: str
    from riskmodel.analyses.sensitivity import analyse_sensitivity
    from riskmodel.analyses.stress import stress_test
    from riskmodel.analyses.winset import compute_winset
    from riskmodel.io import load_results, save_results
    from riskmodel.pipeline import evaluate_deals, run_scenario, sample_worlds
    from riskmodel.report import write_report
    from riskmodel.spec.scenario import load_scenario

__all__ = [
    "__version__",
    "analyse_sensitivity",
    "compute_winset",
    "evaluate_deals",
    "load_results",
    "load_scenario",
    "run_scenario",
    "sample_worlds",
    "save_results",
    "stress_test",
    "write_report",
]


def _version() -> str:
    """The installed version (importlib.metadata costs ~30 ms: read only when asked for)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("riskmodel")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _load(name: str) -> Any:
    """Import one re-exported verb from the module that defines it."""
    if name == "__version__":
        return _version()
    if name == "load_scenario":
        from riskmodel.spec.scenario import load_scenario

        return load_scenario
    if name == "sample_worlds":
        from riskmodel.pipeline import sample_worlds

        return sample_worlds
    if name == "evaluate_deals":
        from riskmodel.pipeline import evaluate_deals

        return evaluate_deals
    if name == "run_scenario":
        from riskmodel.pipeline import run_scenario

        return run_scenario
    if name == "compute_winset":
        from riskmodel.analyses.winset import compute_winset

        return compute_winset
    if name == "analyse_sensitivity":
        from riskmodel.analyses.sensitivity import analyse_sensitivity

        return analyse_sensitivity
    if name == "stress_test":
        from riskmodel.analyses.stress import stress_test

        return stress_test
    if name == "write_report":
        from riskmodel.report import write_report

        return write_report
    if name == "load_results":
        from riskmodel.io import load_results

        return load_results
    if name == "save_results":
        from riskmodel.io import save_results

        return save_results
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __getattr__(name: str) -> Any:
    """Load a re-exported verb on first access (PEP 562), then keep it in the module."""
    value = _load(name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
