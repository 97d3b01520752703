"""A hand-written log density and gradient of the 1-D IRT model, for nutpie: the fast path.

:func:`riskmodel.model.irt.build_irt_model` is the model's definition (a PyMC graph, used by PyMC's
sampler, by SBC and by scenarios with roll-call evidence). For large stand-alone fits (a whole
House congress, ≈440 members × ≈1,000 roll calls) its compiled gradient makes several passes
over the members × roll calls arrays with temporaries. This module computes the *same* log
density (up to an additive constant) and its gradient in one fused numba loop over the votes and
hands it to nutpie through ``nutpie.compiled_pyfunc.from_pyfunc``. The loop releases the GIL, so
nutpie's chains run on separate cores. ``tests/test_irt_kernel.py`` checks value differences and
gradients against the PyMC model's own ``logp``/``dlogp`` at random points.

Unconstrained parameters, in the PyMC model's order: raw ideal points θ (N), cutpoints c (J),
log discriminations u = log β (J; PyMC's log transform of the half-normal). With
η = (θ_i − c_j) β_j over observed votes::

    log p = Σ [y η − softplus(η)] − Σ θ²/2 − Σ c²/(2 s_c²) − Σ β²/(2 s_β²) + Σ u
"""

from __future__ import annotations

import time
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.model.irt import BETA_SCALE, CUTPOINT_SCALE, VoteMatrix, preliminary_scores
from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = [
    "IDENTIFIED",
    "exp_neg",
    "fit_irt_kernel",
    "kernel_data",
    "log1p_unit",
    "logp_and_grad",
    "posterior_mode",
]

FloatArray = npt.NDArray[np.float64]

IDENTIFIED = ["irt_ideal", "irt_cut", "irt_slope"]
"""The fit's identified quantities: what the convergence gate checks."""


def kernel_data(matrix: VoteMatrix) -> tuple[FloatArray, FloatArray]:
    """``(yea, weight)``: two ``(N, J)`` float arrays (weight 0 where the member did not vote)."""
    weight = matrix.observed.astype(np.float64)
    return np.ascontiguousarray(matrix.yea * weight), np.ascontiguousarray(weight)


@numba.njit(fastmath=True, inline="always", error_model="numpy", cache=True)
def exp_neg(x: float) -> float:  # pragma: no cover - numba
    """exp(x) for x ≤ 0 (clamped at −40; e^−40 < 5e-18), branch-free so the loop vectorises.

    numba's scalar ``exp`` and ``log1p`` are libm calls that keep the vote loop scalar (≈ 36 ns per
    element here); Taylor series of exp(x/64) squared six times is accurate to ~2e-14 relative.
    """
    r = max(x, -40.0) * (1.0 / 64.0)
    p = 1.0 / 1307674368000.0
    p = p * r + 1.0 / 87178291200.0
    p = p * r + 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@numba.njit(fastmath=True, inline="always", error_model="numpy", cache=True)
def log1p_unit(e: float) -> float:  # pragma: no cover - numba
    """log(1 + e) for e in [0, 1] as 2·atanh(e / (2 + e)) (series in s² ≤ 1/9; ~5e-16 relative)."""
    s = e / (2.0 + e)
    z = s * s
    q = 2.0 / 35.0
    q = q * z + 2.0 / 33.0
    q = q * z + 2.0 / 31.0
    q = q * z + 2.0 / 29.0
    q = q * z + 2.0 / 27.0
    q = q * z + 2.0 / 25.0
    q = q * z + 2.0 / 23.0
    q = q * z + 2.0 / 21.0
    q = q * z + 2.0 / 19.0
    q = q * z + 2.0 / 17.0
    q = q * z + 2.0 / 15.0
    q = q * z + 2.0 / 13.0
    q = q * z + 2.0 / 11.0
    q = q * z + 2.0 / 9.0
    q = q * z + 2.0 / 7.0
    q = q * z + 2.0 / 5.0
    q = q * z + 2.0 / 3.0
    q = q * z + 2.0
    return s * q


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def _logp_grad(
    x: FloatArray, yea: FloatArray, weight: FloatArray, grad: FloatArray
) -> float:  # pragma: no cover - numba
    n, j = yea.shape
    inv_c = 1.0 / (CUTPOINT_SCALE * CUTPOINT_SCALE)
    inv_b = 1.0 / (BETA_SCALE * BETA_SCALE)
    theta = x[:n]
    cut = x[n : n + j]
    u = x[n + j :]
    beta = np.exp(u)
    r_sum = np.zeros(j)
    rd_sum = np.zeros(j)
    total = 0.0
    for i in range(n):
        t = theta[i]
        y = yea[i]
        w = weight[i]
        acc = 0.0
        for k in range(j):
            d = t - cut[k]
            eta = d * beta[k]
            a = abs(eta)
            e = exp_neg(-a)
            inv = 1.0 / (1.0 + e)
            # σ(η) = 1/(1+e) for η > 0, e/(1+e) otherwise; softplus(η) = max(η, 0) + log(1 + e)
            p = inv if eta > 0 else e * inv
            total += w[k] * (y[k] * eta - 0.5 * (eta + a) - log1p_unit(e))
            r = w[k] * (y[k] - p)
            acc += r * beta[k]
            r_sum[k] += r
            rd_sum[k] += r * d
        grad[i] = acc - t
        total -= 0.5 * t * t
    for k in range(j):
        total += -0.5 * cut[k] * cut[k] * inv_c - 0.5 * beta[k] * beta[k] * inv_b + u[k]
        grad[n + k] = -r_sum[k] * beta[k] - cut[k] * inv_c
        grad[n + j + k] = rd_sum[k] * beta[k] - beta[k] * beta[k] * inv_b + 1.0
    return total


def logp_and_grad(x: FloatArray, data: tuple[FloatArray, FloatArray]) -> tuple[float, FloatArray]:
    """Log density (up to a constant) and its gradient at unconstrained point ``x``.

    ``data`` is :func:`kernel_data` of the vote matrix.
    """
    grad = np.empty(len(x))
    value = _logp_grad(np.ascontiguousarray(x, dtype=np.float64), data[0], data[1], grad)
    return float(value), grad


def _identified(x: FloatArray, n: int, j: int) -> dict[str, FloatArray]:
    """The PyMC model's identified deterministics from a raw point."""
    theta = x[:n]
    centre = theta.mean()
    spread = np.sqrt(np.mean((theta - centre) ** 2))
    return {
        "irt_ideal": ((theta - centre) / spread)[:, None],
        "irt_cut": (x[n : n + j] - centre) / spread,
        "irt_slope": np.exp(x[n + j :]) * spread,
    }


def posterior_mode(matrix: VoteMatrix, *, max_iterations: int = 500) -> FloatArray:
    """The posterior mode in unconstrained coordinates ``(θ, c, log β)``.

    L-BFGS from the preliminary (SVD) scores, with every cutpoint at the mean ideal point and
    every discrimination 1. A few hundred gradient evaluations (a fraction of a second on a
    House congress) put the chains where the posterior mass is, so warm-up spends its draws
    adapting the step size and mass matrix instead of travelling.
    """
    from scipy.optimize import minimize

    data = kernel_data(matrix)
    n, j = matrix.shape
    scores = preliminary_scores(np.where(matrix.observed, matrix.yea, np.nan).astype(float), 1)[:, 0]
    start = np.zeros(n + 2 * j)
    start[:n] = (scores - scores.mean()) / (scores.std() + 1e-12)

    def negative(x: FloatArray) -> tuple[float, FloatArray]:
        value, grad = logp_and_grad(x, data)
        return -value, -grad

    found = minimize(negative, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iterations})
    return np.asarray(found.x, dtype=np.float64)


def fit_irt_kernel(
    matrix: VoteMatrix,
    *,
    draws: int = 1500,
    tune: int = 500,
    chains: int = 2,
    seed: SeedLike = None,
    adaptation: str = "diag",
    check_every: int | None = None,
    progress_bar: bool = False,
) -> xr.DataTree:
    """Sample the 1-D IRT posterior with nutpie on the hand-written gradient.

    Returns a DataTree like :func:`riskmodel.inference.sampling.sample_posterior` (groups ``posterior``
    with ``irt_ideal`` (chain, draw, irt_member, irt_dim), ``irt_cut``, ``irt_slope``, and
    ``sample_stats``); attrs ``sampler="nutpie-kernel"`` and ``sampling_seconds``.
    ``adaptation`` is nutpie's mass-matrix adaptation: "diag" (default) — on the 109th House
    "low_rank" took the same number of leapfrog steps per draw and 2.6× the wall time.

    With ``check_every`` (e.g. 250), sampling runs *to the convergence gate*: after every
    ``check_every`` draws per chain (from 500 on) the gate (R-hat < 1.01, bulk and tail ESS ≥
    400, no divergences, on the identified quantities) is checked on the draws so far, and the
    fit stops at the first checkpoint that passes; ``draws`` is then the most it will take. The
    attrs' ``draws`` says how many were kept. The default (``None``) takes exactly ``draws``:
    on the 109th House the gate first passes at about 1,500 draws anyway, and each check costs
    the chains time (the trace is copied and diagnosed while they wait for the GIL).

    Each chain starts from the posterior mode (:func:`posterior_mode`) jittered by ±0.5 in every
    coordinate, so that R-hat still compares chains that began apart; warm-up then needs far
    fewer draws than from a random start.
    """
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    data = kernel_data(matrix)
    n, j = matrix.shape
    ndim = n + 2 * j
    mode = posterior_mode(matrix)

    def make_logp_fn() -> Any:
        def logp(x: FloatArray, **_: Any) -> tuple[float, FloatArray]:
            return logp_and_grad(x, data)

        return logp

    def make_expand_fn(seed1: Any, seed2: Any, chain: Any) -> Any:
        def expand(x: FloatArray, **_: Any) -> dict[str, FloatArray]:
            return _identified(np.asarray(x, dtype=np.float64), n, j)

        return expand

    def initial_point(init_seed: int) -> FloatArray:
        rng = np.random.default_rng(init_seed)
        return mode + rng.uniform(-0.5, 0.5, ndim)

    compiled = from_pyfunc(
        ndim,
        make_logp_fn,
        make_expand_fn,
        [np.dtype("float64")] * 3,
        [(n, 1), (j,), (j,)],
        ["irt_ideal", "irt_cut", "irt_slope"],
        coords={"irt_member": matrix.members, "irt_dim": ["dim1"], "irt_rollcall": matrix.rollcalls},
        dims={
            "irt_ideal": ("irt_member", "irt_dim"),
            "irt_cut": ("irt_rollcall",),
            "irt_slope": ("irt_rollcall",),
        },
        make_initial_point_fn=initial_point,
    )
    rng_seed = int(as_seed_sequence(seed).generate_state(1)[0])
    started = time.perf_counter()
    progress = _Progress(tune)
    sampler = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=rng_seed,
        adaptation=adaptation,
        save_warmup=False,
        progress_bar=progress_bar,
        blocking=check_every is None,
        progress_callback=progress,
        progress_rate=200,
    )
    if check_every is None:
        tree, kept_draws = _kept(sampler), draws
    else:
        tree, kept_draws = _sample_to_gate(sampler, progress, draws, check_every)
    elapsed = time.perf_counter() - started
    tree.attrs.update(
        sampler="nutpie-kernel", sampling_seconds=elapsed, draws=kept_draws, tune=tune, chains=chains
    )
    return tree


def _kept(tree: xr.DataTree) -> xr.DataTree:
    return xr.DataTree.from_dict(
        {name: tree[name].to_dataset() for name in ("posterior", "sample_stats") if name in tree.children}
    )


def _finished(sampler: Any) -> bool:
    try:
        return bool(sampler.is_finished)
    except TimeoutError:  # nutpie 0.16 raises instead of answering False while chains run
        return False


class _Progress:
    """Kept draws every chain has finished, from nutpie's progress callback (no trace copies)."""

    def __init__(self, tune: int) -> None:
        self.tune = tune
        self.kept = 0

    def __call__(self, chains: Any) -> None:
        self.kept = max(0, min(int(chain.finished_draws) for chain in chains) - self.tune)


FIRST_CHECK = 500
"""No gate check before this many draws per chain: fewer rarely give ESS ≥ 400 in both tails."""


def _sample_to_gate(
    sampler: Any, progress: _Progress, draws: int, check_every: int
) -> tuple[xr.DataTree, int]:
    """Draws up to the first checkpoint (every ``check_every`` draws per chain) that passes the gate.

    Each check looks at exactly the first ``checkpoint`` draws of every chain, and the chains are
    deterministic given the seed, so where the fit stops depends on the seed alone, never on
    how fast the machine ran.
    """
    from riskmodel.inference.sampling import convergence_gate

    checkpoint = check_every * max(1, -(-FIRST_CHECK // check_every))
    while checkpoint < draws:
        while not _finished(sampler):
            if progress.kept >= checkpoint:
                current = _kept(sampler.inspect())
                if _complete_draws(current) >= checkpoint:
                    break
            time.sleep(0.2)
        else:
            break  # all draws done before the checkpoint was reached
        head = _kept(current.isel(draw=slice(0, checkpoint)))
        if convergence_gate(head, var_names=IDENTIFIED).passed:
            sampler.cancel()
            return head, checkpoint
        checkpoint += check_every
    return _kept(sampler.wait()), draws


def _complete_draws(tree: xr.DataTree) -> int:
    """Draws that every chain has finished (a chain behind the others is padded with NaN)."""
    if "posterior" not in tree.children:
        return 0
    cut = tree["posterior"]["irt_cut"].to_numpy()  # (chain, draw, roll call)
    done = np.isfinite(cut).all(axis=(0, 2))
    return int(np.argmin(done)) if not done.all() else int(done.size)
