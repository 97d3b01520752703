"""The one module that samples: forward draws of the priors and posterior fits.

Forward draws are vectorised: every random variable of the model gets a leading ``draw``
dimension and the whole graph is compiled and evaluated once, instead of once per draw.

Posterior fits (:func:`sample_posterior`) use NUTS — nutpie when it is installed, PyMC's own
sampler otherwise — or ADVI as an explicit fast option; :func:`convergence_gate` checks a fit
against rank-normalised R-hat < 1.01, bulk and tail ESS ≥ 400 and zero divergences (Vehtari et
al. 2021).
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Hashable, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pymc as pm
import xarray as xr
from pymc.distributions.shape_utils import change_dist_size
from pymc.pytensorf import compile as compile_pymc
from pytensor.compile.mode import Mode
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.basic import HalfNormalRV

from riskmodel import resultsfile
from riskmodel.inference.compiled import HalfNormalDraws, PriorFunction
from riskmodel.inference.to_gate import Progress, Verdict, complete_draws, kept_groups, sample_to_gate
from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = [
    "ConvergenceGate",
    "HalfNormalDraws",
    "compile_prior",
    "convergence_gate",
    "default_sampler",
    "draw_prior",
    "sample_posterior",
]

# The vectorised graph is evaluated once, so each op runs one batched NumPy call: the Python
# linker executes it as fast as a compiled backend and skips a cold numba/C compile (about a
# minute on a fresh machine). Elementwise fusion is excluded: a fused Composite op would run
# element by element in Python (60 s instead of 1 s for the bundled scenario).
_MODE = Mode(linker="py", optimizer="fast_run").excluding("fusion")


def _without_scipy_stats(outputs: list[Variable]) -> list[Variable]:
    """The graph of ``outputs`` with every half-normal draw made by :class:`HalfNormalDraws`."""
    replace: dict[Variable, Variable] = {}
    for variable in ancestors(outputs):
        node = variable.owner
        if node is None or type(node.op) is not HalfNormalRV or node.outputs[0] in replace:
            continue
        props = {name: getattr(node.op, name) for name in node.op.__props__}
        swapped = HalfNormalDraws(**props).make_node(*node.inputs)
        replace.update(zip(node.outputs, swapped.outputs, strict=True))
    if not replace:
        return outputs
    return list(graph_replace(outputs, replace, strict=False))


def draw_prior(model: pm.Model, n_draws: int, *, seed: SeedLike = None) -> xr.DataTree:
    """Draw the model's deterministics from the prior.

    Parameters
    ----------
    model
        A model from :func:`riskmodel.model.priors.build_model`.
    n_draws
        Number of epistemic draws.
    seed
        Seed; the same seed gives the same draws.

    Returns
    -------
    xarray.DataTree
        ArviZ layout: group ``prior`` with dims ``(chain, draw, ...)`` and one chain.
    """
    return compile_prior(model, n_draws).draw(seed)


def compile_prior(model: pm.Model, n_draws: int) -> PriorFunction:
    """Compile the model's vectorised forward draws, unseeded: :meth:`PriorFunction.draw` seeds them.

    The function does not depend on the seed, so it can be kept and reused
    (:mod:`riskmodel.inference.compiled`).
    """
    if n_draws < 1:
        raise ValueError("n_draws must be at least 1")
    names = [var.name for var in model.deterministics]
    outputs = [model[name] for name in names]
    batched = {rv: change_dist_size(rv, (n_draws,), expand=True) for rv in model.free_RVs}
    vectorised = _without_scipy_stats(vectorize_graph(outputs, replace=batched))
    # random_seed=False: PriorFunction.reseed seeds the generators as this call would have
    fn, updates = compile_pymc([], vectorised, random_seed=False, mode=_MODE, return_updates=True)
    inputs = [spec.variable for spec in fn.maker.inputs]
    rng_inputs = tuple(next(i for i, var in enumerate(inputs) if var is rng) for rng in updates)
    return PriorFunction(
        function=fn,
        rng_inputs=rng_inputs,
        names=tuple(names),
        dims={name: tuple(model.named_vars_to_dims.get(name, ())) for name in names},
        coords={dim: list(labels) for dim, labels in model.coords.items() if labels is not None},
        n_draws=n_draws,
    )


# --------------------------------------------------------------------------- posterior fits

Sampler = Literal["auto", "nutpie", "pymc"]
Method = Literal["nuts", "advi"]

# the gate's limits live with the results they mark, so the report reads the same values
RHAT_MAX, ESS_MIN = resultsfile.RHAT_MAX, resultsfile.ESS_MIN


def default_sampler() -> Literal["nutpie", "pymc"]:
    """``"nutpie"`` when the nutpie package is importable, else ``"pymc"``."""
    return "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"


def sample_posterior(
    model: pm.Model,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    cores: int | None = None,
    method: Method = "nuts",
    sampler: Sampler = "auto",
    advi_iterations: int = 20_000,
    var_names: Sequence[str] | None = None,
    data: Mapping[str, npt.ArrayLike] | None = None,
    compiled_cache: MutableMapping[Hashable, object] | None = None,
    seed: SeedLike = None,
    target_accept: float = 0.8,
    max_draws: int | None = None,
    check_every: int | None = None,
) -> xr.DataTree:
    """Sample the posterior of a model with observed data (or potentials).

    Parameters
    ----------
    model
        A model with evidence attached.
    draws, tune, chains
        Kept draws and warm-up iterations per chain, and the number of chains. With
        ``method="advi"``, ``draws`` independent draws are taken from the fitted approximation
        (one chain).
    cores
        Chains run in parallel (default: ``chains``).
    method
        ``"nuts"`` (default) or ``"advi"`` (mean-field variational inference: fast, approximate,
        never passes the convergence gate by construction).
    sampler
        NUTS implementation: ``"nutpie"``, ``"pymc"`` or ``"auto"`` (nutpie when installed).
    advi_iterations
        Optimisation steps for ADVI.
    var_names
        Variables to keep (default: all free variables and deterministics).
    data
        New values for the model's ``pm.Data`` variables, set before sampling.
    compiled_cache
        A dict in which compiled nutpie models are kept by model identity (each with its
        model, so a freed model's id never finds them): a model sampled again, with new
        ``data`` or other sampler settings, is not compiled again (compiling costs tens of
        seconds).
    seed
        Seed; the same seed gives the same draws.
    target_accept
        NUTS's target acceptance rate during warm-up (default 0.8, both samplers' own default).
        A higher value takes smaller steps: slower, but fewer divergent transitions where the
        posterior curves sharply.
    max_draws, check_every
        Sample *to the convergence gate* (NUTS only): a fit whose first ``draws`` per chain
        fail :func:`convergence_gate` (on ``var_names``) goes on with the same chains, judged
        again every ``check_every`` draws (default ``draws // 3``), and keeps the first
        checkpoint that passes, or ``max_draws`` when none does (a checkpoint with divergent
        transitions ends the fit there: no longer run can pass). The chains are those of a
        single run of ``max_draws``, so the result depends on the seed alone: a fit that passes
        at ``draws`` is the fit ``max_draws=None`` gives. Default: exactly ``draws``.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior`` and ``sample_stats`` (``diverging`` for NUTS); attrs ``sampler``,
        ``sampling_seconds``, ``draws`` (kept draws per chain) and, when a checkpoint stopped
        the fit, ``convergence_gate`` (its :class:`ConvergenceGate` as a dict, on ``var_names``).
    """
    if draws < 1 or chains < 1 or tune < 0:
        raise ValueError("draws and chains must be at least 1 and tune non-negative")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie strictly between 0 and 1, not {target_accept}")
    most = draws if max_draws is None or method == "advi" else max_draws
    if most < draws:
        raise ValueError(f"max_draws ({max_draws}) must be at least draws ({draws})")
    step = max(1, draws // 3) if check_every is None else check_every
    if step < 1:
        raise ValueError(f"check_every must be at least 1, not {check_every}")
    checkpoints = list(range(draws, most, step))
    judge, stop = _Judge(var_names), None
    rng_seed = int(as_seed_sequence(seed).generate_state(1)[0])
    started = time.perf_counter()
    if method not in ("nuts", "advi"):
        raise ValueError(f"unknown method {method!r}; expected 'nuts' or 'advi'")
    used = "advi" if method == "advi" else (default_sampler() if sampler == "auto" else sampler)
    if data and used != "nutpie":
        with model:
            pm.set_data(dict(data))
    if used == "advi":
        with model:
            approx = pm.fit(n=advi_iterations, method="advi", random_seed=rng_seed, progressbar=False)
            tree = approx.sample(draws, random_seed=rng_seed + 1)
    else:
        if used == "nutpie":
            import nutpie
            import pytensor

            key = (id(model), tuple(var_names or ()))
            # the entry keeps its model: a model freed while cached cannot hand its id (and its
            # compiled logp) to another model
            entry = None if compiled_cache is None else compiled_cache.get(key)
            compiled: Any = entry[1] if isinstance(entry, tuple) and entry[0] is model else None
            if compiled is None:
                # no fast-math in the numba code of the logp (see riskmodel/__init__.py: with
                # it, cold and warm numba caches gave different posteriors for one seed); set
                # here too for a process that imported PyTensor before riskmodel
                with pytensor.config.change_flags(numba__fastmath=False):
                    compiled = nutpie.compile_pymc_model(model, var_names=var_names)
                if compiled_cache is not None:
                    compiled_cache[key] = (model, compiled)
            if data:
                # nutpie knows only the data its stored graph uses (var_names may leave some out)
                known = {var.name for var in getattr(compiled, "shared_var_keys", {})} or set(data)
                compiled = compiled.with_data(**{k: np.asarray(v) for k, v in data.items() if k in known})
            progress = Progress(tune)
            tree = nutpie.sample(
                compiled,
                draws=most,
                tune=tune,
                chains=chains,
                cores=cores or chains,
                seed=rng_seed,
                progress_bar=False,
                save_warmup=False,
                target_accept=target_accept,
                blocking=not checkpoints,
                progress_callback=progress if checkpoints else None,
                progress_rate=200,
            )
            if checkpoints:
                tree, stop = sample_to_gate(tree, progress, checkpoints, judge)
                most = most if stop is None else stop
        else:
            with model:
                tree = pm.sample(
                    draws=most,
                    tune=tune,
                    chains=chains,
                    cores=cores or chains,
                    random_seed=rng_seed,
                    target_accept=target_accept,
                    progressbar=False,
                    compute_convergence_checks=False,
                    var_names=list(var_names) if var_names is not None else None,
                )
            if checkpoints:  # the same checkpoints, judged after the run
                kept = kept_groups(tree)
                stop = next((k for k in checkpoints if judge(kept.isel(draw=slice(0, k))) != "more"), None)
                most = most if stop is None else stop
    assert isinstance(tree, xr.DataTree)
    groups = {name: tree[name].to_dataset() for name in ("posterior", "sample_stats") if name in tree}
    if checkpoints:
        groups = {name: group.isel(draw=slice(0, most)) for name, group in groups.items()}
        if complete_draws(xr.DataTree.from_dict(groups)) < most:  # never a running sampler's copy
            raise RuntimeError(f"the sampler returned fewer than the {most} draws per chain it kept")
    if var_names is not None and "posterior" in groups:
        # nutpie stores every free variable whatever var_names says (PyMC's sampler keeps only
        # var_names): dropped here, so a fit holds no latent nobody asked for (member_u of the
        # ideology evidence is as large as member_ideal)
        groups["posterior"] = groups["posterior"][[n for n in var_names if n in groups["posterior"]]]
    result = xr.DataTree.from_dict(groups)
    result.attrs.update(sampler=used, sampling_seconds=time.perf_counter() - started, draws=most)
    if stop is not None and judge.last is not None:  # the kept draws were judged: no second look
        result.attrs["convergence_gate"] = asdict(judge.last)
    return result


class _Judge:
    """A checkpoint's verdict from :func:`convergence_gate` on the kept variables.

    Divergent transitions end the fit at once: the gate wants none, and a longer run keeps them.
    ``last`` is the gate of the last checkpoint judged.
    """

    def __init__(self, var_names: Sequence[str] | None) -> None:
        self.var_names = var_names
        self.last: ConvergenceGate | None = None

    def __call__(self, tree: xr.DataTree) -> Verdict:
        names = self.var_names
        if names is not None:
            names = [n for n in names if n in tree["posterior"].to_dataset()]
        self.last = gate = convergence_gate(kept_groups(tree), var_names=names)
        return "passed" if gate.passed else "hopeless" if gate.divergences else "more"


@dataclass(frozen=True)
class ConvergenceGate:
    """The outcome of :func:`convergence_gate`.

    Attributes
    ----------
    passed
        All criteria met.
    status
        ``"passed"`` or ``"failed: <reasons>"`` (the text stored in results attrs).
    max_rhat, min_ess_bulk, min_ess_tail
        Worst values over the checked variables.
    divergences
        Divergent transitions after warm-up.
    """

    passed: bool
    status: str
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int


def convergence_gate(
    draws: xr.DataTree,
    *,
    var_names: Sequence[str] | None = None,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
) -> ConvergenceGate:
    """Check a fit: rank-normalised R-hat < ``rhat_max``, bulk and tail ESS ≥ ``ess_min``, no divergences.

    Parameters
    ----------
    draws
        Output of :func:`sample_posterior`.
    var_names
        Variables to check (default: every posterior variable).
    rhat_max, ess_min
        Thresholds (Vehtari et al. 2021).
    """
    import arviz_stats

    posterior = draws["posterior"].to_dataset()
    if var_names is not None:
        posterior = posterior[list(var_names)]
    if draws.attrs.get("sampler") == "advi":
        return ConvergenceGate(False, "failed: ADVI fit (no MCMC diagnostics)", np.nan, np.nan, np.nan, 0)
    reasons = []
    if int(posterior.sizes.get("chain", 1)) < 2:
        reasons.append("fewer than 2 chains")

    def worst(data: xr.Dataset, reduce: str) -> float:
        values = [np.asarray(data[name].to_numpy(), dtype=float).ravel() for name in data.data_vars]
        flat = np.concatenate(values) if values else np.array([np.nan])
        flat = flat[np.isfinite(flat)]
        if not len(flat):
            return float("nan")
        return float(flat.max() if reduce == "max" else flat.min())

    with warnings.catch_warnings():
        # a variable that is constant across draws has no R-hat (0/0); worst() drops its NaN
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        max_rhat = worst(arviz_stats.rhat(posterior, method="rank"), "max")
        ess_bulk = worst(arviz_stats.ess(posterior, method="bulk"), "min")
        ess_tail = worst(arviz_stats.ess(posterior, method="tail"), "min")
    divergences = 0
    if "sample_stats" in draws.children and "diverging" in draws["sample_stats"].to_dataset():
        divergences = int(draws["sample_stats"]["diverging"].to_numpy().sum())
    if not max_rhat < rhat_max:
        reasons.append(f"R-hat {max_rhat:.3f} ≥ {rhat_max}")
    if not ess_bulk >= ess_min:
        reasons.append(f"bulk ESS {ess_bulk:.0f} < {ess_min:.0f}")
    if not ess_tail >= ess_min:
        reasons.append(f"tail ESS {ess_tail:.0f} < {ess_min:.0f}")
    if divergences:
        reasons.append(f"{divergences} divergent transitions")
    status = "passed" if not reasons else "failed: " + "; ".join(reasons)
    return ConvergenceGate(not reasons, status, max_rhat, ess_bulk, ess_tail, divergences)
