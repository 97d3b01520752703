"""Forward draws compiled once per installation, like numba's cache of compiled kernels.

Building a scenario's PyMC model and compiling its vectorised forward draws costs more than
drawing (PyMC's import, the model build and PyTensor's graph rewrites). The compiled function
depends only on the scenario's content, the number of draws, riskmodel's modelling code and the
installed libraries, never on the seed: :func:`store_prior_function` keeps it in riskmodel's
cache folder under a key made of exactly those, and :func:`load_prior_function` gives it back,
without importing PyMC, to a later run with the same key.

What is cached is the compiled function and the names and coordinates of its outputs; every
draw is made afresh. :meth:`PriorFunction.draw` reseeds the function's random generators from
the run's seed the way PyMC's ``compile(random_seed=...)`` seeds them, so cached and freshly
compiled functions give the same numbers bit for bit (tests/test_compiled_draws.py). An entry
that cannot be read, that was written by other code or libraries, or that does not hold what
its key says is ignored and compiled again; the folder keeps the most recently used entries.
The entries are pickles, read only from the user's own cache folder (as numba reads its own).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import xarray as xr
from pytensor.tensor.random.basic import HalfNormalRV

from riskmodel.io import write_atomic
from riskmodel.paths import cache_folder
from riskmodel.randomness import SeedLike, as_seed_sequence

if TYPE_CHECKING:
    from riskmodel.spec.scenario import LoadedScenario

__all__ = [
    "FORMAT",
    "KEEP_ENTRIES",
    "HalfNormalDraws",
    "PriorFunction",
    "entry_path",
    "load_prior_function",
    "prior_key",
    "store_prior_function",
]

FORMAT = 1
"""Version of the entries' layout: raised whenever :class:`PriorFunction` changes."""

KEEP_ENTRIES = 64
"""Entries kept in the cache folder; the least recently used beyond these are removed."""

# The modelling code whose changes change the graph: the scenario schema and priors (spec),
# the model build (model) and the forward draws themselves (inference).
_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCES = ("spec", "model", "inference")
# what the graph and its ops' numbers depend on besides riskmodel's own code
_LIBRARIES = ("pymc", "pytensor", "numpy", "scipy", "preliz")
_PYTENSOR_FLAGS = (
    "floatX",
    "cast_policy",
    "deterministic",
    "optimizer_excluding",
    "optimizer_including",
    "optimizer_requiring",
)


class HalfNormalDraws(HalfNormalRV):
    """PyTensor's half-normal, drawing exactly as ``scipy.stats.halfnorm.rvs`` does, minus the import.

    PyTensor draws a half-normal through ``scipy.stats``, and importing ``scipy.stats`` (with
    the SciPy modules it loads) costs a forward draw more than the draw itself. SciPy's
    sampler is ``|standard normal| * scale + loc``: the same calls on the same generator give
    the same numbers bit for bit, so forward draws use them directly. Only forward draws do:
    posterior fits keep PyMC's own ``HalfNormal``. It lives here, not beside the model build,
    so that a cached function naming it can be loaded without importing PyMC.
    """

    @classmethod
    def rng_fn_scipy(
        cls,
        rng: np.random.Generator,
        loc: npt.NDArray[np.float64],
        scale: npt.NDArray[np.float64],
        size: tuple[int, ...] | None,
    ) -> npt.NDArray[np.float64]:
        """Draw as ``scipy.stats.halfnorm.rvs(loc, scale, size=size, random_state=rng)``."""
        loc, scale = np.asarray(loc, dtype=np.float64), np.asarray(scale, dtype=np.float64)
        shape = np.broadcast_shapes(loc.shape, scale.shape) if size is None else tuple(np.atleast_1d(size))
        if not np.all(scale >= 0):
            raise ValueError("half-normal draws need a scale >= 0")
        if np.all(scale == 0):  # SciPy draws nothing then
            return np.asarray(loc * np.ones(shape))
        return np.asarray(np.abs(rng.standard_normal(size=shape)) * scale + loc)


@dataclass
class PriorFunction:
    """A compiled forward-draw function of one model and what its outputs are.

    Attributes
    ----------
    function
        The compiled PyTensor function: no inputs, one output per name, random generators as
        shared inputs.
    rng_inputs
        Positions of the random generators among the function's inputs, in the order PyMC's
        ``compile`` reseeds them.
    names
        The model's deterministics, one per output.
    dims
        Each name's model dims (without ``chain`` and ``draw``).
    coords
        The model's coordinates, in the model's order.
    n_draws
        Epistemic draws per call.
    key
        The cache key it was stored or loaded under ("" when not cached).
    """

    function: Any
    rng_inputs: tuple[int, ...]
    names: tuple[str, ...]
    dims: dict[str, tuple[str, ...]]
    coords: dict[str, list[Any]]
    n_draws: int
    key: str = ""

    def reseed(self, seed: SeedLike) -> None:
        """Seed the random generators as ``pymc.pytensorf.compile(random_seed=...)`` does."""
        rng_seed = int(as_seed_sequence(seed).generate_state(1)[0])
        children = np.random.SeedSequence(rng_seed).spawn(len(self.rng_inputs))
        for index, child in zip(self.rng_inputs, children, strict=True):
            self.function.input_storage[index].value = np.random.Generator(np.random.PCG64(child))

    def draw(self, seed: SeedLike) -> xr.DataTree:
        """Draw the deterministics once with ``seed``: the ``prior`` group of ``draw_prior``."""
        self.reseed(seed)
        values = self.function()
        n_draws = self.n_draws
        data = {}
        for name, value in zip(self.names, values, strict=True):
            dims = list(self.dims[name])
            value = np.asarray(value)
            if value.ndim == len(dims):  # constant graph: not batched by the vectoriser
                value = np.broadcast_to(value, (n_draws, *value.shape))
            data[name] = (["chain", "draw", *dims], value[np.newaxis])
        used = {dim for dims, _ in data.values() for dim in dims}
        coords: dict[str, object] = {dim: labels for dim, labels in self.coords.items() if dim in used}
        coords.update(chain=[0], draw=np.arange(n_draws))
        prior = xr.Dataset(data, coords=coords)
        return xr.DataTree.from_dict({"prior": prior})


@functools.cache
def _installation() -> str:
    """What the compiled graph depends on besides the scenario: code, libraries, platform."""
    from importlib.metadata import PackageNotFoundError, version

    hasher = hashlib.sha256(f"format {FORMAT}|{sys.version}|{platform.machine()}".encode())
    for name in _LIBRARIES:
        try:
            hasher.update(f"|{name} {version(name)}".encode())
        except PackageNotFoundError:
            hasher.update(f"|{name} -".encode())
    # PyTensor's settings that change a graph's types or rewrites (from PYTENSOR_FLAGS or .pytensorrc)
    from pytensor import config

    for flag in _PYTENSOR_FLAGS:
        hasher.update(f"|{flag}={getattr(config, flag, None)!r}".encode())
    for folder in _SOURCES:
        for path in sorted((_PACKAGE / folder).glob("*.py")):
            hasher.update(path.name.encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


def _elicited_priors() -> bytes:
    """The cached PreliZ fits the model's elicited priors take their parameters from."""
    try:
        return (cache_folder() / "elicited-priors.json").read_bytes()
    except OSError:
        return b""


def prior_key(scenario: LoadedScenario, n_draws: int) -> str | None:
    """The cache key of a scenario's forward draws; ``None`` when the scenario has no digest."""
    if not scenario.digest:
        return None
    hasher = hashlib.sha256(f"{_installation()}|{scenario.digest}|{n_draws}|".encode())
    # the fitted parameters of elicited priors enter the graph as constants
    hasher.update(_elicited_priors())
    return hasher.hexdigest()


def entry_path(key: str) -> Path:
    """Where the entry of ``key`` is kept."""
    return cache_folder() / "forward-draws" / f"{key}.pickle"


def load_prior_function(scenario: LoadedScenario, n_draws: int) -> PriorFunction | None:
    """The cached forward draws of ``scenario``, or ``None`` (not cached, unreadable, stale)."""
    key = prior_key(scenario, n_draws)
    if key is None:
        return None
    path = entry_path(key)
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        loaded = pickle.loads(blob)  # noqa: S301 - the user's own cache folder, as numba's cache
        if not _valid(loaded, key, n_draws):
            return None
    except Exception:  # whatever an unreadable entry raises, it is compiled again
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept when the folder is pruned
    assert isinstance(loaded, PriorFunction)
    return loaded


def _valid(loaded: object, key: str, n_draws: int) -> bool:
    """Whether an unpickled entry is the function its key names and can be reseeded."""
    if not isinstance(loaded, PriorFunction) or loaded.key != key or loaded.n_draws != n_draws:
        return False
    storage = loaded.function.input_storage
    outputs = loaded.function.maker.outputs
    return (
        len(outputs) == len(loaded.names)
        and set(loaded.dims) == set(loaded.names)
        and len(set(loaded.rng_inputs)) == len(loaded.rng_inputs)
        # every random generator of the function is reseeded, and nothing else
        and set(loaded.rng_inputs)
        == {i for i, container in enumerate(storage) if isinstance(container.value, np.random.Generator)}
    )


def store_prior_function(scenario: LoadedScenario, prior: PriorFunction) -> Path | None:
    """Keep ``prior`` for later runs of ``scenario``; ``None`` when it could not be kept.

    The key is taken now, after the model was built (a first build may have fitted and cached
    elicited priors). Failing to write (a read-only home, a full disk) only costs later runs time.
    """
    from riskmodel.errors import RiskmodelError

    key = prior_key(scenario, prior.n_draws)
    if key is None:
        return None
    _strip_tags(prior.function)
    try:
        blob = pickle.dumps(
            PriorFunction(
                prior.function, prior.rng_inputs, prior.names, prior.dims, prior.coords, prior.n_draws, key
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    except Exception:  # an op that cannot be pickled: this scenario is not cached
        return None
    path = entry_path(key)
    try:
        write_atomic(path, lambda tmp: Path(tmp).write_bytes(blob))
    except (RiskmodelError, OSError):
        return None
    _prune(path.parent)
    return path


def _strip_tags(function: Any) -> None:
    """Drop what a compiled graph keeps for running or debugging, not for computing.

    Blockwise ops keep their vectorised closure on the node (rebuilt on the next call), and
    every variable the stack trace of its creation, which would tie the entry to file paths.
    """
    fgraph = function.maker.fgraph
    for node in fgraph.apply_nodes:
        node.tag.__dict__.pop("gufunc", None)
    for variable in fgraph.variables:
        variable.tag.__dict__.pop("trace", None)


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond :data:`KEEP_ENTRIES`."""
    with contextlib.suppress(OSError):
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for stale in entries[KEEP_ENTRIES:]:
            stale.unlink(missing_ok=True)
