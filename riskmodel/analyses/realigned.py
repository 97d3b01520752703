"""Base draws carried over to a structurally shocked scenario, multilateral variables included.

:func:`riskmodel.worlds.realign.realign_draws` carries every draw over by entity name and draws
the entities a shock creates from their priors. The variables of the multilateral keys (a
bloc's own fallback, common-shock scales, abstention bands) exist only when the scenario
declares them, and the entities a stress shock creates (a new veto player's bloc and chamber)
declare none of them: they are carried over here by name, and a new entity gets what not
declaring the key means — no common shock, no abstention band, the side's reversion as the
bloc's fallback (docs/design.md, "Multilateral and nested games").
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout
from riskmodel.worlds.crn import Baseline, flat_draws
from riskmodel.worlds.realign import realign_draws

__all__ = ["realigned_draws"]


def realigned_draws(base: Baseline, layout: Layout, rng: np.random.Generator) -> xr.Dataset:
    """The base draws on the restructured ``layout`` (see :func:`riskmodel.worlds.realign.realign_draws`)."""
    optional = [name for name in map(str, base.draws.data_vars) if name in mv.OPTIONAL_VARIABLES]
    if not optional:
        return realign_draws(base, layout, rng)
    stripped = Baseline(base.layout, base.draws.drop_vars(optional), base.worlds)
    draws = realign_draws(stripped, layout, rng)
    chains = int(base.draws.sizes["chain"])
    for name in optional:
        variable = base.draws[name]
        dim = str(variable.dims[2])  # bloc, chamber or side
        old = [str(v) for v in variable[dim].to_numpy()]
        new = list(getattr(layout, f"{dim}s"))
        flat = flat_draws(base.draws, name)
        values = np.zeros((flat.shape[0], len(new), *flat.shape[2:]))
        for i, entity in enumerate(new):
            if entity in old:
                values[:, i] = flat[:, old.index(entity)]
            elif name == mv.BLOC_REVERSION:  # a new bloc weighs the deal against its side's fallback
                values[:, i] = layout.reversion[layout.bloc_side[i]]
        shaped = values.reshape(chains, flat.shape[0] // chains, *values.shape[1:])
        draws[name] = xr.DataArray(shaped, dims=variable.dims, coords={dim: new})
    return draws
