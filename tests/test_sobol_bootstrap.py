"""The compiled bootstrap of the pick-freeze indices gives NumPy's numbers bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pytest

from riskmodel.analyses.sobol import pick_freeze_indices, pick_freeze_standard_errors
from riskmodel.randomness import as_seed_sequence


def _gathered(
    y_a: npt.NDArray[np.float64],
    y_b: npt.NDArray[np.float64],
    y_c: npt.NDArray[np.float64],
    n_bootstrap: int,
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The bootstrap as first written: every resample gathered, then reduced by NumPy."""
    rng = np.random.default_rng(as_seed_sequence(seed))
    n = y_a.shape[0]
    per_block = max(1, 2_000_000 // max(y_a.size, 1))
    firsts, totals = [], []
    for start in range(0, n_bootstrap, per_block):
        picks = rng.integers(0, n, (n, min(per_block, n_bootstrap - start)))
        first, total = pick_freeze_indices(y_a[picks], y_b[picks], y_c[picks])
        firsts.append(first)
        totals.append(total)
    first_all, total_all = np.concatenate(firsts), np.concatenate(totals)
    degenerate = np.mean(np.isnan(total_all), axis=0) > 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first_se = np.nanstd(first_all, axis=0, ddof=1)
        total_se = np.nanstd(total_all, axis=0, ddof=1)
    return np.where(degenerate, np.nan, first_se), np.where(degenerate, np.nan, total_se)


@pytest.mark.parametrize(
    ("n", "rest", "n_bootstrap"), [(200, (4, 3), 200), (57, (2,), 31), (800, (5, 7), 400)]
)
def test_bootstrap_equals_gathering_every_resample(n: int, rest: tuple[int, ...], n_bootstrap: int) -> None:
    rng = np.random.default_rng(n)
    # p_e-like outputs: shares of 20 replicates, many ties, some outputs that never vary
    y_a = rng.binomial(20, rng.uniform(0, 1, rest), (n, *rest)) / 20
    y_a[:, 0] = 0.25
    y_b = y_a[np.roll(np.arange(n), 1)]
    y_c = np.clip(y_a + rng.normal(0, 0.1, y_a.shape), 0, 1)
    y_c[: n // 3] = y_a[: n // 3]
    got = pick_freeze_standard_errors(y_a, y_b, y_c, n_bootstrap=n_bootstrap, seed=7)
    want = _gathered(y_a, y_b, y_c, n_bootstrap, 7)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w, equal_nan=True)
    assert np.isnan(got[0][0]).all() and np.isfinite(got[1][1:]).all()


def test_bootstrap_keeps_the_draw_axis_argument() -> None:
    rng = np.random.default_rng(3)
    y_a, y_c = rng.uniform(size=(3, 90)), rng.uniform(size=(3, 90))
    y_b = y_a[:, ::-1]
    got = pick_freeze_standard_errors(y_a, y_b, y_c, axis=1, n_bootstrap=50, seed=1)
    want = _gathered(y_a.T, y_b.T, y_c.T, 50, 1)
    for g, w in zip(got, want, strict=True):
        assert g.shape == (3,) and np.array_equal(g, w)
