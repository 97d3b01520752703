"""Seeds normalised once at the boundary; children spawned per step, chunk or worker."""

from __future__ import annotations

import numpy as np

__all__ = ["SeedLike", "as_seed_sequence"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise an int, SeedSequence, Generator or None into a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"a seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed))
