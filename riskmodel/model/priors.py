"""Scenario → PyMC model: every uncertain number of the scenario as a PyMC variable.

Priors of the same family are gathered into one vector random variable (``prior_normal``,
``prior_beta`` ...), so the model has a handful of nodes whatever the scenario's size; named
deterministics (``bloc_ideal``, ``lobby_influence`` ...) then put each value back on its
coordinates. The graph represents *one* world's epistemic parameters; observed data (roll
calls, whip counts, polls) attach to the same model later.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import stats

from riskmodel.model.layout import Layout
from riskmodel.spec.priors import (
    Beta,
    Elicited,
    Fixed,
    Gamma,
    HalfNormal,
    LogNormal,
    Normal,
    Prior,
    TruncatedNormal,
    Uniform,
)
from riskmodel.spec.schema import Dirichlet, Salience

__all__ = ["build_model", "concrete_prior", "to_scipy"]


def _cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "riskmodel" / "elicited-priors.json"


@functools.lru_cache(maxsize=1024)
def _fit_elicited(family: str, lower: float, upper: float, mass: float) -> Prior:
    """Maximum-entropy distribution of ``family`` with ``mass`` in [lower, upper] (PreliZ).

    A fit takes seconds (PreliZ compiles and optimises), so fitted parameters are kept in a
    small JSON cache keyed by the statement and the PreliZ version; a missing or unwritable
    cache only costs time.
    """
    import preliz as pz

    key = f"{pz.__version__}|{family}|{lower!r}|{upper!r}|{mass!r}"
    cache = _cache_file()
    try:
        cached = json.loads(cache.read_text()).get(key)
    except (OSError, ValueError):
        cached = None
    if isinstance(cached, dict):
        return _elicited_prior(family, cached, lower, upper)

    match family:
        case "normal":
            dist = pz.Normal()
        case "beta":
            dist = pz.Beta()
        case "gamma":
            dist = pz.Gamma()
        case "log_normal":
            dist = pz.LogNormal()
        case "truncated_normal":
            # Truncated at the stated interval: all mass inside, max entropy is the flat-ish normal
            dist = pz.TruncatedNormal(lower=lower, upper=upper)
    pz.maxent(dist, lower, upper, mass, plot=False)
    params = {k: float(v) for k, v in zip(dist.param_names, dist.params, strict=True)}
    try:
        entries = json.loads(cache.read_text()) if cache.is_file() else {}
        entries[key] = params
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries, indent=1, sort_keys=True))
        tmp.replace(cache)
    except (OSError, ValueError):
        pass
    return _elicited_prior(family, params, lower, upper)


def _elicited_prior(family: str, params: dict[str, float], lower: float, upper: float) -> Prior:
    match family:
        case "normal":
            return Normal(dist="normal", mu=params["mu"], sigma=params["sigma"])
        case "beta":
            return Beta(dist="beta", alpha=params["alpha"], beta=params["beta"])
        case "gamma":
            return Gamma(dist="gamma", alpha=params["alpha"], beta=params["beta"])
        case "log_normal":
            return LogNormal(dist="log_normal", mu=params["mu"], sigma=params["sigma"])
        case _:
            return TruncatedNormal(
                dist="truncated_normal", mu=params["mu"], sigma=params["sigma"], lower=lower, upper=upper
            )


def concrete_prior(prior: Prior) -> Prior:
    """Resolve an elicited prior into its fitted distribution; other priors pass through."""
    if isinstance(prior, Elicited):
        fitted = _fit_elicited(prior.family, prior.between[0], prior.between[1], prior.mass)
        assert not isinstance(fitted, float)
        return fitted.model_copy(update={"source": prior.source, "judgement": prior.judgement})
    return prior


def to_scipy(prior: Prior) -> Any:
    """A frozen SciPy distribution equal to the prior (a fixed value is a point mass)."""
    prior = concrete_prior(prior)
    match prior:
        case float() | int():
            return stats.uniform(loc=float(prior), scale=0.0)
        case Fixed(value=value):
            return stats.uniform(loc=value, scale=0.0)
        case Normal(mu=mu, sigma=sigma):
            return stats.norm(mu, sigma)
        case HalfNormal(sigma=sigma):
            return stats.halfnorm(scale=sigma)
        case LogNormal(mu=mu, sigma=sigma):
            return stats.lognorm(s=sigma, scale=math.exp(mu))
        case TruncatedNormal(mu=mu, sigma=sigma, lower=lower, upper=upper):
            lo = -np.inf if lower is None else (lower - mu) / sigma
            hi = np.inf if upper is None else (upper - mu) / sigma
            return stats.truncnorm(lo, hi, loc=mu, scale=sigma)
        case Beta(alpha=alpha, beta=beta):
            return stats.beta(alpha, beta)
        case Gamma(alpha=alpha, beta=beta):
            return stats.gamma(alpha, scale=1 / beta)
        case Uniform(lower=lower, upper=upper):
            return stats.uniform(lower, upper - lower)
    raise TypeError(f"not a prior: {prior!r}")


@dataclass
class _Bank:
    """Collects scalar priors, then builds one vector random variable per family."""

    names: list[str] = field(default_factory=list)
    priors: list[Prior] = field(default_factory=list)

    def add(self, name: str, prior: Prior) -> int:
        self.names.append(name)
        self.priors.append(concrete_prior(prior))
        return len(self.names) - 1

    def build(self) -> pt.TensorVariable:
        """Return the flat vector of every registered value, in registration order."""
        groups: dict[str, list[int]] = defaultdict(list)
        for index, prior in enumerate(self.priors):
            key = prior.dist if hasattr(prior, "dist") else "fixed"
            groups[key].append(index)
        pieces, order = [], []
        for key, indices in groups.items():
            priors = [self.priors[i] for i in indices]
            names = [self.names[i] for i in indices]
            pieces.append(self._family(key, priors, names))
            order.extend(indices)
        if not pieces:
            return pt.zeros((0,))
        flat = pt.concatenate(pieces)
        return flat[np.argsort(np.asarray(order))]

    @staticmethod
    def _family(key: str, priors: Sequence[Any], names: list[str]) -> pt.TensorVariable:
        def column(attr: str, default: float = np.nan) -> np.ndarray:
            values = [getattr(p, attr) for p in priors]
            return np.array([default if v is None else v for v in values], dtype=np.float64)

        model = pm.modelcontext(None)
        dim = f"prior_{key}_param"
        model.add_coord(dim, names)
        name = f"prior_{key}"
        match key:
            case "fixed":
                values = [float(p.value if isinstance(p, Fixed) else p) for p in priors]
                return pt.as_tensor_variable(np.array(values, dtype=np.float64))
            case "normal":
                return pm.Normal(name, mu=column("mu"), sigma=column("sigma"), dims=dim)
            case "half_normal":
                return pm.HalfNormal(name, sigma=column("sigma"), dims=dim)
            case "log_normal":
                return pm.LogNormal(name, mu=column("mu"), sigma=column("sigma"), dims=dim)
            case "beta":
                return pm.Beta(name, alpha=column("alpha"), beta=column("beta"), dims=dim)
            case "gamma":
                return pm.Gamma(name, alpha=column("alpha"), beta=column("beta"), dims=dim)
            case "uniform":
                return pm.Uniform(name, lower=column("lower"), upper=column("upper"), dims=dim)
            case "truncated_normal":
                # Inverse-CDF form: a uniform on the truncated CDF range, mapped through the normal
                # quantile. Same distribution as pm.TruncatedNormal, but its forward draws compile
                # to fast code (PyTensor's truncated-normal sampler falls back to object mode).
                mu, sigma = column("mu"), column("sigma")
                lo = stats.norm.cdf((column("lower", -np.inf) - mu) / sigma)
                hi = stats.norm.cdf((column("upper", np.inf) - mu) / sigma)
                u = pm.Uniform(f"{name}_cdf", lower=lo, upper=hi, dims=dim)
                z = pt.sqrt(2.0) * pt.erfinv(2.0 * u - 1.0)
                return pm.Deterministic(name, mu + sigma * z, dims=dim)
        raise ValueError(f"unknown prior family {key!r}")


class _SalienceRows:
    """Salience weight rows (one per actor): fixed rows or rows of one Dirichlet variable."""

    def __init__(self, issues: Sequence[str]):
        self.issues = list(issues)
        self.rows: list[tuple[str, Salience | None]] = []

    def add(self, name: str, salience: Salience | None) -> int:
        self.rows.append((name, salience))
        return len(self.rows) - 1

    def build(self) -> pt.TensorVariable:
        k = len(self.issues)
        fixed_rows, fixed_index, dir_rows, dir_index, dir_names = [], [], [], [], []
        for index, (name, salience) in enumerate(self.rows):
            if isinstance(salience, Dirichlet):
                dir_rows.append([salience.dirichlet[issue] for issue in self.issues])
                dir_index.append(index)
                dir_names.append(name)
            else:
                weights = (
                    np.ones(k) if salience is None else np.array([salience.get(i, 0.0) for i in self.issues])
                )
                fixed_rows.append(weights / weights.sum())
                fixed_index.append(index)
        pieces = []
        if fixed_rows:
            pieces.append(pt.as_tensor_variable(np.asarray(fixed_rows, dtype=np.float64)))
        if dir_rows:
            model = pm.modelcontext(None)
            model.add_coord("salience_actor", dir_names)
            pieces.append(
                pm.Dirichlet("salience_dirichlet", a=np.asarray(dir_rows), dims=("salience_actor", "issue"))
            )
        if not pieces:
            return pt.zeros((0, k))
        stacked = pt.concatenate(pieces, axis=0)
        return stacked[np.argsort(np.asarray(fixed_index + dir_index))]


def _per_issue(value: Prior | dict[str, Prior], issues: Sequence[str]) -> list[Prior]:
    if isinstance(value, dict):
        return [value.get(issue, 0.0) for issue in issues]
    return [value] * len(issues)


def build_model(layout: Layout) -> pm.Model:
    """Build the PyMC model of a scenario's epistemic uncertainty.

    Parameters
    ----------
    layout
        The indexed scenario (:func:`riskmodel.model.layout.build_layout`).

    Returns
    -------
    pymc.Model
        Deterministics with named coordinates, in the issues' own units: ``bloc_ideal``,
        ``bloc_spread``, ``bloc_salience``, ``bloc_party_pull``, ``bloc_responsiveness``, ``bloc_valence``,
        ``member_ideal``; ``lobby_ideal``, ``lobby_salience``, ``lobby_influence``;
        ``public_ideal``, ``public_spread``, ``public_salience``, ``public_approval``;
        ``chief_ideal``, ``chief_salience``; ``chamber_absence``, ``chamber_shock_scale``,
        ``chamber_turnout``, ``chamber_campaign_shock``; ``link_interaction``.
    """
    issues = layout.issues
    coords: dict[str, list[str]] = {
        "issue": issues,
        "side": layout.sides,
        "chamber": layout.chambers,
        "bloc": layout.blocs,
        "member": layout.members,
        "lobby": layout.lobbies,
        "public": layout.publics,
        "chief": layout.chiefs,
        "link": layout.links,
    }
    with pm.Model(coords=coords) as model:
        bank = _Bank()
        salience = _SalienceRows(issues)
        planned: list[tuple[str, tuple[str, ...], list[int] | list[list[int]]]] = []
        sal_planned: list[tuple[str, str, list[int]]] = []

        def matrix(var: str, dim: str, names: Sequence[str], rows: Sequence[list[Prior]]) -> None:
            index = [
                [bank.add(f"{var}[{name},{issue}]", prior) for issue, prior in zip(issues, row, strict=True)]
                for name, row in zip(names, rows, strict=True)
            ]
            planned.append((var, (dim, "issue"), index))

        def vector(var: str, dim: str, names: Sequence[str], priors: Sequence[Prior]) -> None:
            index = [bank.add(f"{var}[{name}]", prior) for name, prior in zip(names, priors, strict=True)]
            planned.append((var, (dim,), index))

        def weights(var: str, dim: str, names: Sequence[str], specs: Sequence[Any]) -> None:
            sal_planned.append(
                (
                    var,
                    dim,
                    [salience.add(name, spec.salience) for name, spec in zip(names, specs, strict=True)],
                )
            )

        blocs = layout.bloc_specs
        matrix("bloc_ideal", "bloc", layout.blocs, [[b.ideal[i] for i in issues] for b in blocs])
        matrix("bloc_spread", "bloc", layout.blocs, [_per_issue(b.spread, issues) for b in blocs])
        vector("bloc_party_pull", "bloc", layout.blocs, [b.party_pull for b in blocs])
        vector("bloc_responsiveness", "bloc", layout.blocs, [b.responsiveness for b in blocs])
        vector("bloc_valence", "bloc", layout.blocs, [b.valence for b in blocs])
        weights("bloc_salience", "bloc", layout.blocs, blocs)

        lobbies = layout.lobby_specs
        matrix("lobby_ideal", "lobby", layout.lobbies, [[j.ideal[i] for i in issues] for j in lobbies])
        vector("lobby_influence", "lobby", layout.lobbies, [j.influence for j in lobbies])
        weights("lobby_salience", "lobby", layout.lobbies, lobbies)

        publics = layout.public_specs
        matrix("public_ideal", "public", layout.publics, [[p.ideal[i] for i in issues] for p in publics])
        matrix("public_spread", "public", layout.publics, [_per_issue(p.spread, issues) for p in publics])
        vector("public_approval", "public", layout.publics, [p.approval for p in publics])
        weights("public_salience", "public", layout.publics, publics)

        chiefs = layout.chief_specs
        matrix("chief_ideal", "chief", layout.chiefs, [[c.ideal[i] for i in issues] for c in chiefs])
        weights("chief_salience", "chief", layout.chiefs, chiefs)

        chambers = layout.chamber_specs
        vector("chamber_absence", "chamber", layout.chambers, [c.absence for c in chambers])
        vector("chamber_shock_scale", "chamber", layout.chambers, [c.shock_scale for c in chambers])
        vector("chamber_turnout", "chamber", layout.chambers, [c.turnout for c in chambers])
        vector("chamber_campaign_shock", "chamber", layout.chambers, [c.campaign_shock for c in chambers])
        vector(
            "link_interaction",
            "link",
            layout.links,
            [link.interaction for link in layout.scenario.spec.links],
        )

        flat = bank.build()
        named: dict[str, pt.TensorVariable] = {}
        for var, dims, index in planned:
            gathered = flat[np.asarray(index, dtype=np.int64)]
            if len(dims) == 2:
                gathered = gathered.reshape((len(index), len(issues)))
            named[var] = pm.Deterministic(var, gathered, dims=dims)
        rows = salience.build()
        for var, dim, index in sal_planned:
            pm.Deterministic(
                var,
                rows[np.asarray(index, dtype=np.int64)].reshape((len(index), len(issues))),
                dims=(dim, "issue"),
            )

        n_members = len(layout.members)
        if n_members:
            z = pm.Normal("member_z", 0.0, 1.0, dims=("member", "issue"))
            bloc_of = layout.member_bloc
            pm.Deterministic(
                "member_ideal",
                named["bloc_ideal"][bloc_of] + layout.member_offset + named["bloc_spread"][bloc_of] * z,
                dims=("member", "issue"),
            )
    return model
