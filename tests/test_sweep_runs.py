"""A member's yes runs along a row: the shortcut for whole-row and absent runs equals the roots.

``member_run`` skips the per-replicate roots when every replicate's run covers the whole row or
is empty. Thresholds are placed on either side of where a run just reaches the row's ends,
closer than any rounding margin, and the difference array must be the one the roots give.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskmodel.engine.sweep_kernels import member_run


def roots_diff(a: float, b: float, c0: float, t: np.ndarray, first_u: float, inv_du: float, width: int):
    """The concave case of ``member_run`` replicate by replicate, in Python's (IEEE double) arithmetic."""
    diff = np.zeros((width + 1, t.size), dtype=np.int32)
    top = float(width)
    center = (-b / (2.0 * a) - first_u) * inv_du
    k0 = (b * b - 4.0 * a * c0) / (4.0 * a * a) * inv_du * inv_du
    k1 = inv_du * inv_du / a
    for r, threshold in enumerate(t):
        h2 = k0 + k1 * float(threshold)
        h = math.sqrt(max(h2, 0.0))
        lo = min(max(math.floor(center - h) + 1.0, 0.0), top)
        hi = min(max(math.ceil(center + h), 0.0), top)
        ok = h2 > 0.0 and lo < hi
        diff[int(lo) if ok else 0, r] += 1
        diff[int(hi) if ok else 0, r] -= 1
    return diff


@pytest.mark.parametrize("seed", range(6))
def test_whole_row_shortcut_gives_the_runs_of_the_roots(seed: int) -> None:
    rng = np.random.default_rng(seed)
    width = int(rng.integers(5, 400))
    first_u, inv_du = 0.0, float(width - 1)
    checked = shortcuts = 0
    for _ in range(200):
        a = -float(rng.uniform(0.05, 5.0))
        center_u = float(rng.uniform(-0.5, 1.5))  # the peak, in or beyond the row
        b = -2.0 * a * center_u
        c0 = float(rng.normal())
        center = (-b / (2.0 * a) - first_u) * inv_du
        k0 = (b * b - 4.0 * a * c0) / (4.0 * a * a) * inv_du * inv_du
        k1 = inv_du * inv_du / a
        # h2 where a run just reaches each end of the row, and thresholds that put h2 there,
        # a hair either side (relative 1e-15 .. 1e-6), exactly there, or nowhere near
        edges = [max(center, 0.0) ** 2, max(top_gap := width - 1.0 - center, 0.0) ** 2, (top_gap + 1.0) ** 2]
        targets = [
            e * (1.0 + s * f) for e in edges for s in (-1.0, 1.0) for f in (0.0, 1e-15, 1e-12, 1e-9, 1e-6)
        ]
        targets += [0.0, -1.0, 5e-324]
        pool = np.array([(h2 - k0) / k1 for h2 in targets])
        for n_replicates in (1, 3, 20):
            t = rng.choice(pool, n_replicates)
            if rng.random() < 0.2:
                t[rng.integers(n_replicates)] = np.inf  # an absent member
            diff = np.zeros((width + 1, n_replicates), dtype=np.int32)
            start = np.empty(n_replicates, dtype=np.int64)
            stop = np.empty(n_replicates, dtype=np.int64)
            inside = member_run(a, b, c0, t, first_u, inv_du, width, diff, start, stop)
            expected = roots_diff(a, b, c0, t, first_u, inv_du, width)
            np.testing.assert_array_equal(diff, expected)
            if not inside:  # only whole-row runs: nothing starts or ends inside the row
                assert not np.any(diff[1:width])
            shortcuts += not inside
            checked += 1
    assert checked == 600
    assert 30 < shortcuts < 570  # both ways taken
