"""Default sizes and seeds of the library's verbs, in a module that imports nothing.

The command line shows these defaults in ``--help`` and uses them as option defaults, so they
must be importable without loading the modules whose verbs use them (PyMC, numba, xarray …):
``riskmodel --help`` then starts in a fraction of a second. The verbs' modules import them from
here, so there is one source for each number.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_BACKTEST_SEED",
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "DEFAULT_SENSITIVITY_SEED",
    "DEFAULT_STRESS_SEED",
    "DEFAULT_WORLDS",
]

DEFAULT_WORLDS = 4000
"""Possible worlds a scenario is sampled into (draws × replicates)."""
DEFAULT_REPLICATES = 20
"""Shock replicates per epistemic draw."""
DEFAULT_SEED = 20_190_101
"""Seed of the worlds of ``sample_worlds`` / ``riskmodel run``."""
DEFAULT_SENSITIVITY_SEED = 5
"""Seed of the sensitivity analysis's own randomness (pick-freeze permutations)."""
DEFAULT_STRESS_SEED = 11
"""Seed of the stress test's own randomness."""
DEFAULT_BACKTEST_SEED = 20_240_601
"""Seed of a backtest's fits."""
