"""The one module that samples: forward draws of the priors (and, later, posterior fits).

Forward draws are vectorised: every random variable of the model gets a leading ``draw``
dimension and the whole graph is compiled and evaluated once, instead of once per draw.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr
from pymc.distributions.shape_utils import change_dist_size
from pymc.pytensorf import compile as compile_pymc
from pytensor.compile.mode import Mode
from pytensor.graph.replace import vectorize_graph

from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = ["draw_prior"]

# The vectorised graph is evaluated once, so each op runs one batched NumPy call: the Python
# linker executes it as fast as a compiled backend and skips a cold numba/C compile (about a
# minute on a fresh machine).
_MODE = Mode(linker="py", optimizer="fast_run")


def draw_prior(model: pm.Model, n_draws: int, *, seed: SeedLike = None) -> xr.DataTree:
    """Draw the model's deterministics from the prior.

    Parameters
    ----------
    model
        A model from :func:`riskmodel.priors.build_model`.
    n_draws
        Number of epistemic draws.
    seed
        Seed; the same seed gives the same draws.

    Returns
    -------
    xarray.DataTree
        ArviZ layout: group ``prior`` with dims ``(chain, draw, ...)`` and one chain.
    """
    if n_draws < 1:
        raise ValueError("n_draws must be at least 1")
    names = [var.name for var in model.deterministics]
    outputs = [model[name] for name in names]
    batched = {rv: change_dist_size(rv, (n_draws,), expand=True) for rv in model.free_RVs}
    vectorised = vectorize_graph(outputs, replace=batched)
    rng_seed = int(as_seed_sequence(seed).generate_state(1)[0])
    fn = compile_pymc([], vectorised, random_seed=rng_seed, mode=_MODE)
    values = fn()
    data = {}
    for name, value in zip(names, values, strict=True):
        dims = list(model.named_vars_to_dims.get(name, ()))
        value = np.asarray(value)
        if value.ndim == len(dims):  # constant graph: not batched by the vectoriser
            value = np.broadcast_to(value, (n_draws, *value.shape))
        data[name] = (["chain", "draw", *dims], value[np.newaxis])
    used = {dim for dims, _ in data.values() for dim in dims}
    coords: dict[str, object] = {
        dim: list(labels) for dim, labels in model.coords.items() if dim in used and labels is not None
    }
    coords.update(chain=[0], draw=np.arange(n_draws))
    prior = xr.Dataset(data, coords=coords)
    return xr.DataTree.from_dict({"prior": prior})
