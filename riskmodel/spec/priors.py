"""Declarative prior objects: what a scenario file may say about an uncertain number.

A prior is data, not code: a fixed value, a named distribution with its parameters, or an
elicitation (``{between: [lo, hi], mass: 0.9}``) that PreliZ turns into a distribution. One
function in :mod:`riskmodel.model.priors` turns any of them into a PyMC variable.
Here, :func:`concrete_prior` resolves an elicitation into its fitted distribution (PreliZ,
cached on disk) and :func:`to_scipy` gives any prior's SciPy form.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = [
    "Beta",
    "Elicited",
    "Fixed",
    "Gamma",
    "HalfNormal",
    "LogNormal",
    "Normal",
    "Prior",
    "TruncatedNormal",
    "Uniform",
    "concrete_prior",
    "prior_mean",
    "prior_sd",
    "prior_support",
    "to_scipy",
]

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

Number = Annotated[float, Field(strict=True)]
"""A real number: an integer or a float, never a boolean or a string (YAML's ``yes`` is not 1)."""
PositiveFloat = Annotated[float, Field(gt=0, strict=True)]


class _PriorBase(BaseModel):
    model_config = _CONFIG
    source: str | None = Field(default=None, description="Where the number comes from.")
    judgement: bool = Field(default=False, description="True when the value is a judgement call.")


class Fixed(_PriorBase):
    """A known number (no uncertainty)."""

    value: Number


class Normal(_PriorBase):
    """A normal distribution."""

    dist: Literal["normal"]
    mu: Number
    sigma: PositiveFloat


class HalfNormal(_PriorBase):
    """A half-normal distribution on [0, ∞)."""

    dist: Literal["half_normal"]
    sigma: PositiveFloat


class LogNormal(_PriorBase):
    """A log-normal distribution: log(x) ~ Normal(mu, sigma)."""

    dist: Literal["log_normal"]
    mu: Number
    sigma: PositiveFloat


class TruncatedNormal(_PriorBase):
    """A normal distribution truncated to [lower, upper]."""

    dist: Literal["truncated_normal"]
    mu: Number
    sigma: PositiveFloat
    lower: Number | None = None
    upper: Number | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self) -> TruncatedNormal:
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self


class Beta(_PriorBase):
    """A beta distribution on [0, 1]."""

    dist: Literal["beta"]
    alpha: PositiveFloat
    beta: PositiveFloat


class Gamma(_PriorBase):
    """A gamma distribution with shape alpha and rate beta."""

    dist: Literal["gamma"]
    alpha: PositiveFloat
    beta: PositiveFloat


class Uniform(_PriorBase):
    """A uniform distribution on [lower, upper]."""

    dist: Literal["uniform"]
    lower: Number
    upper: Number

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Uniform:
        if self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self


class Elicited(_PriorBase):
    """An expert's statement: ``mass`` of the probability lies ``between`` two values.

    Turned into the maximum-entropy member of ``family`` by ``preliz.maxent``.
    """

    between: tuple[Number, Number]
    mass: float = Field(default=0.9, gt=0, lt=1, strict=True)
    family: Literal["normal", "beta", "gamma", "log_normal", "truncated_normal"] = "normal"

    @model_validator(mode="after")
    def _interval_ordered(self) -> Elicited:
        lo, hi = self.between
        if lo >= hi:
            raise ValueError(f"between: the first value ({lo}) must be below the second ({hi})")
        if self.family == "beta" and not (lo >= 0 and hi <= 1):
            raise ValueError("between: a beta prior needs an interval inside [0, 1]")
        if self.family in ("gamma", "log_normal") and lo < 0:
            raise ValueError(f"between: a {self.family} prior needs a non-negative interval")
        return self


Distribution = Annotated[
    Normal | HalfNormal | LogNormal | TruncatedNormal | Beta | Gamma | Uniform,
    Field(discriminator="dist"),
]


def _prior_kind(value: Any) -> str | None:
    """Which form of prior the raw value is, so validation reports that form's errors only."""
    if isinstance(value, _PriorBase):
        return (
            "elicited"
            if isinstance(value, Elicited)
            else "fixed"
            if isinstance(value, Fixed)
            else "distribution"
        )
    if isinstance(value, dict):
        if "dist" in value:
            return "distribution"
        if "between" in value:
            return "elicited"
        if "value" in value:
            return "fixed"
        return None
    if isinstance(value, bool):
        return None
    return "number"


PRIOR_FORMS = (
    "a number, {value: x}, {dist: normal|half_normal|log_normal|truncated_normal|beta|gamma|uniform, "
    "...parameters} or {between: [lo, hi], mass: 0.9}"
)

Prior = Annotated[
    Annotated[Number, Tag("number")]
    | Annotated[Fixed, Tag("fixed")]
    | Annotated[Distribution, Tag("distribution")]
    | Annotated[Elicited, Tag("elicited")],
    Discriminator(
        _prior_kind,
        custom_error_type="prior_form",
        custom_error_message=f"expected a prior: {PRIOR_FORMS}",
    ),
]
"""Any uncertain number in a scenario file."""


def prior_support(prior: Prior) -> tuple[float, float]:
    """Return the closed support ``(lower, upper)`` of a prior (possibly infinite)."""
    match prior:
        case float() | int():
            return float(prior), float(prior)
        case Fixed(value=value):
            return value, value
        case Normal() | LogNormal():
            return (0.0 if isinstance(prior, LogNormal) else -math.inf), math.inf
        case HalfNormal() | Gamma():
            return 0.0, math.inf
        case TruncatedNormal(lower=lower, upper=upper):
            return (-math.inf if lower is None else lower), (math.inf if upper is None else upper)
        case Beta():
            return 0.0, 1.0
        case Uniform(lower=lower, upper=upper):
            return lower, upper
        case Elicited(family=family, between=between):
            if family == "beta":
                return 0.0, 1.0
            if family in ("gamma", "log_normal"):
                return 0.0, math.inf
            if family == "truncated_normal":
                return between
            return -math.inf, math.inf
    raise TypeError(f"not a prior: {prior!r}")


def prior_mean(prior: Prior) -> float:
    """Return the prior mean (elicited priors: the interval midpoint)."""
    match prior:
        case float() | int():
            return float(prior)
        case Fixed(value=value):
            return value
        case Normal(mu=mu):
            return mu
        case TruncatedNormal():
            from scipy import stats

            lo, hi = prior_support(prior)
            a, b = (lo - prior.mu) / prior.sigma, (hi - prior.mu) / prior.sigma
            return float(stats.truncnorm(a, b, loc=prior.mu, scale=prior.sigma).mean())
        case HalfNormal(sigma=sigma):
            return sigma * math.sqrt(2 / math.pi)
        case LogNormal(mu=mu, sigma=sigma):
            return math.exp(mu + sigma**2 / 2)
        case Beta(alpha=alpha, beta=beta):
            return alpha / (alpha + beta)
        case Gamma(alpha=alpha, beta=beta):
            return alpha / beta
        case Uniform(lower=lower, upper=upper):
            return (lower + upper) / 2
        case Elicited(between=(lo, hi)):
            return (lo + hi) / 2
    raise TypeError(f"not a prior: {prior!r}")


def prior_sd(prior: Prior) -> float:
    """Return the prior standard deviation (0 for fixed values)."""
    if isinstance(prior, float | int | Fixed):
        return 0.0
    return float(to_scipy(prior).std())


# Elicited priors: the PreliZ fit, cached on disk, and the SciPy form of any prior.


def _cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "riskmodel" / "elicited-priors.json"


@functools.cache
def _preliz_version() -> str:
    """The installed PreliZ version, read from package metadata (no import of PreliZ)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("preliz")
    except PackageNotFoundError:
        return "not-installed"


@functools.lru_cache(maxsize=1024)
def _fit_elicited(family: str, lower: float, upper: float, mass: float) -> Prior:
    """Maximum-entropy distribution of ``family`` with ``mass`` in [lower, upper] (PreliZ).

    A fit takes seconds (PreliZ compiles and optimises), so fitted parameters are kept in a
    small JSON cache keyed by the statement and the PreliZ version; a missing or unwritable
    cache only costs time. The version comes from the installed package's metadata and PreliZ
    itself is imported only on a cache miss: importing it costs more than the rest of a run's
    set-up (it loads PyTensor, matplotlib and SciPy's stats).
    """
    key = f"{_preliz_version()}|{family}|{lower!r}|{upper!r}|{mass!r}"
    cache = _cache_file()
    try:
        cached = json.loads(cache.read_text()).get(key)
    except (OSError, ValueError):
        cached = None
    if isinstance(cached, dict):
        return _elicited_prior(family, cached, lower, upper)

    import preliz as pz

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
    from scipy import stats

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
            lo = -math.inf if lower is None else (lower - mu) / sigma
            hi = math.inf if upper is None else (upper - mu) / sigma
            return stats.truncnorm(lo, hi, loc=mu, scale=sigma)
        case Beta(alpha=alpha, beta=beta):
            return stats.beta(alpha, beta)
        case Gamma(alpha=alpha, beta=beta):
            return stats.gamma(alpha, scale=1 / beta)
        case Uniform(lower=lower, upper=upper):
            return stats.uniform(lower, upper - lower)
    raise TypeError(f"not a prior: {prior!r}")
