"""Full-House ideal points with nutpie on a hand-written gradient: the fast path.

The log density (:mod:`riskmodel.inference.irt_reference`, float64, checked against the PyMC
model of :func:`riskmodel.model.irt.build_irt_model`) is evaluated in float32 by
:mod:`riskmodel.inference.irt_fast` and handed to nutpie through
``nutpie.compiled_pyfunc.from_pyfunc``. The vote loop releases the GIL, so nutpie's chains run
on separate cores. Chains start at the posterior mode; sampling can run to the convergence gate.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.inference.irt_fast import logp_grad32, vote_codes
from riskmodel.inference.irt_reference import exp_neg, kernel_data, log1p_unit, logp_and_grad
from riskmodel.inference.to_gate import Progress, kept_groups, sample_to_gate
from riskmodel.model.irt import VoteMatrix, preliminary_scores
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
    every discrimination 1, on the float32 gradient (:func:`riskmodel.inference.irt_fast.logp_grad32`).
    A couple of hundred gradient evaluations put the chains where the posterior mass is, so
    warm-up spends its draws adapting the step size and mass matrix instead of travelling.
    The mode only starts the chains, so its precision (with the float32 value L-BFGS stops at
    a largest gradient entry of ~0.5 rather than ~0.1) changes nothing in the posterior.
    BLAS runs on one thread: L-BFGS's small vector operations spend more time waking threads
    than computing, and on a busy machine spinning threads made the search 4× slower.
    """
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    yea, weight = vote_codes(matrix)
    n, j = matrix.shape
    with threadpool_limits(limits=1):
        votes = np.where(matrix.observed, matrix.yea, np.nan).astype(float)
        scores = preliminary_scores(votes, 1)[:, 0]
        start = np.zeros(n + 2 * j)
        start[:n] = (scores - scores.mean()) / (scores.std() + 1e-12)

        def negative(x: FloatArray) -> tuple[float, FloatArray]:
            grad = np.empty(len(x))
            value = logp_grad32(np.ascontiguousarray(x, dtype=np.float64), yea, weight, grad)
            return -value, -grad

        found = minimize(negative, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iterations})
    return np.asarray(found.x, dtype=np.float64)


def fit_irt_kernel(
    matrix: VoteMatrix,
    *,
    draws: int = 1500,
    tune: int = 300,
    chains: int = 2,
    seed: SeedLike = None,
    adaptation: str = "diag",
    check_every: int | None = None,
    progress_bar: bool = False,
    jitter: float = 0.5,
) -> xr.DataTree:
    """Sample the 1-D IRT posterior with nutpie on the hand-written gradient.

    Returns a DataTree like :func:`riskmodel.inference.sampling.sample_posterior` (groups ``posterior``
    with ``irt_ideal`` (chain, draw, irt_member, irt_dim), ``irt_cut``, ``irt_slope``, and
    ``sample_stats``); attrs ``sampler="nutpie-kernel"``, ``sampling_seconds`` and
    ``gradient_evaluations`` (leapfrog steps of all chains, warm-up included).
    ``adaptation`` is nutpie's mass-matrix adaptation: "diag" (default) — on the 109th House
    "low_rank" took the same number of leapfrog steps per draw and 2.6× the wall time.

    The gradient is the float32 kernel (:func:`riskmodel.inference.irt_fast.logp_grad32`, ~3×
    cheaper than the float64 reference). Each chain starts at the posterior mode
    (:func:`posterior_mode`) jittered uniformly by ±``jitter`` (default 0.5) in every coordinate,
    so that R-hat still compares chains that began apart; from there 300 warm-up draws suffice
    on the 109th House (measured: the gate passed at 1,250 and 1,500 draws with seeds 1 and 2).

    With ``check_every`` (e.g. 250), sampling runs *to the convergence gate*: after every
    ``check_every`` draws per chain (from 500 on) the gate (R-hat < 1.01, bulk and tail ESS ≥
    400, no divergences, on the identified quantities) is checked on the draws so far, and the
    fit stops at the first checkpoint that passes; ``draws`` is then the most it will take. The
    attrs' ``draws`` says how many were kept. The default (``None``) takes exactly ``draws``:
    each check costs the chains time (they pause while the trace is copied and diagnosed), and
    on the 109th House the gate first passes at 1,250 to 1,500 draws.
    """
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    from riskmodel.inference.sampling import convergence_gate

    yea, weight = vote_codes(matrix)
    n, j = matrix.shape
    ndim = n + 2 * j
    mode = posterior_mode(matrix)

    def make_logp_fn() -> Any:
        def logp(x: FloatArray, **_: Any) -> tuple[float, FloatArray]:
            grad = np.empty(ndim)
            return float(logp_grad32(x, yea, weight, grad)), grad

        return logp

    def make_expand_fn(seed1: Any, seed2: Any, chain: Any) -> Any:
        def expand(x: FloatArray, **_: Any) -> dict[str, FloatArray]:
            return _identified(np.asarray(x, dtype=np.float64), n, j)

        return expand

    def initial_point(init_seed: int) -> FloatArray:
        rng = np.random.default_rng(init_seed)
        return mode + rng.uniform(-jitter, jitter, ndim)

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
    progress = Progress(tune)
    sampler = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=rng_seed,
        adaptation=adaptation,
        save_warmup=True,  # only for its leapfrog-step counts: the draws are not kept
        progress_bar=progress_bar,
        blocking=check_every is None,
        progress_callback=progress,
        progress_rate=200,
    )
    if check_every is None:
        full, kept_draws = sampler, draws
    else:
        full, stop = sample_to_gate(
            sampler,
            progress,
            _checkpoints(draws, check_every),
            lambda head: "passed" if convergence_gate(head, var_names=IDENTIFIED).passed else "more",
        )
        kept_draws = draws if stop is None else stop
    elapsed = time.perf_counter() - started
    tree = kept_groups(full.isel(draw=slice(0, kept_draws)) if check_every is not None else full)
    steps = int(tree["sample_stats"]["n_steps"].sum())
    if "warmup_sample_stats" in full.children:
        steps += int(full["warmup_sample_stats"]["n_steps"].sum())
    tree.attrs.update(
        sampler="nutpie-kernel",
        sampling_seconds=elapsed,
        draws=kept_draws,
        tune=tune,
        chains=chains,
        gradient_evaluations=steps,
    )
    return tree


FIRST_CHECK = 500
"""No gate check before this many draws per chain: fewer rarely give ESS ≥ 400 in both tails."""


def _checkpoints(draws: int, check_every: int) -> list[int]:
    """Every ``check_every`` draws per chain from :data:`FIRST_CHECK` on, below ``draws``."""
    return list(range(check_every * max(1, -(-FIRST_CHECK // check_every)), draws, check_every))
