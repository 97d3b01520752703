"""Scenario → PyMC model: every uncertain number of the scenario as a PyMC variable.

Priors of the same family are gathered into one vector random variable (``prior_normal``,
``prior_beta`` ...), so the model has a handful of nodes whatever the scenario's size; named
deterministics (``bloc_ideal``, ``lobby_influence`` ...) then put each value back on its
coordinates. The graph represents *one* world's epistemic parameters; observed data (roll
calls, whip counts, polls) attach to the same model later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout
from riskmodel.model.spatial import ideology_inputs
from riskmodel.spec.priors import Fixed, Prior, concrete_prior, prior_support, to_scipy
from riskmodel.spec.schema import Dirichlet, Salience

__all__ = ["build_model", "concrete_prior", "scalar_variable", "to_scipy"]


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
                # ndtr is the standard normal CDF itself (scipy.stats.norm.cdf calls it), without
                # the import of scipy.stats, which costs more than the rest of the model build
                from scipy.special import ndtr  # only truncated normals need SciPy's special functions

                mu, sigma = column("mu"), column("sigma")
                lo = ndtr((column("lower", -np.inf) - mu) / sigma)
                hi = ndtr((column("upper", np.inf) - mu) / sigma)
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


def _is_zero(prior: Prior) -> bool:
    value = prior.value if isinstance(prior, Fixed) else prior
    return isinstance(value, int | float) and value == 0


def _multilateral_priors(layout: Layout, matrix: Any, vector: Any) -> None:
    """Register the multilateral keys' priors, only when the scenario uses them.

    A scenario without them builds exactly the model it always did, so its draws do not move.
    """
    blocs, chambers = layout.bloc_specs, layout.chamber_specs
    if any(b.reversion for b in blocs):
        side_reversion = layout.reversion[layout.bloc_side]
        rows = [
            [
                (b.reversion or {}).get(issue, float(side_reversion[j, k]))
                for k, issue in enumerate(layout.issues)
            ]
            for j, b in enumerate(blocs)
        ]
        matrix(mv.BLOC_REVERSION, "bloc", layout.blocs, rows)
    if not all(_is_zero(b.common_shock) for b in blocs):
        vector(mv.BLOC_COMMON_SHOCK, "bloc", layout.blocs, [b.common_shock for b in blocs])
    if not all(_is_zero(c.common_shock) for c in chambers):
        vector(mv.CHAMBER_COMMON_SHOCK, "chamber", layout.chambers, [c.common_shock for c in chambers])
    if not all(_is_zero(s.common_shock) for s in layout.side_specs):
        vector(mv.SIDE_COMMON_SHOCK, "side", layout.sides, [s.common_shock for s in layout.side_specs])
    if any(c.abstention is not None for c in chambers):
        bands = [c.abstention.band if c.abstention is not None else 0.0 for c in chambers]
        vector(mv.CHAMBER_ABSTENTION_BAND, "chamber", layout.chambers, bands)


def scalar_variable(name: str, prior: Prior) -> Any:
    """One scalar PyMC variable for a prior (a fixed value stays a constant)."""
    prior = concrete_prior(prior)
    dist = to_scipy(prior)
    lo, hi = prior_support(prior)
    if lo == hi:
        return pt.as_tensor_variable(float(lo))
    match getattr(prior, "dist", None):
        case "normal":
            return pm.Normal(name, prior.mu, prior.sigma)  # type: ignore[union-attr]
        case "beta":
            return pm.Beta(name, prior.alpha, prior.beta)  # type: ignore[union-attr]
        case "uniform":
            return pm.Uniform(name, prior.lower, prior.upper)  # type: ignore[union-attr]
        case "half_normal":
            return pm.HalfNormal(name, prior.sigma)  # type: ignore[union-attr]
        case "gamma":
            return pm.Gamma(name, prior.alpha, prior.beta)  # type: ignore[union-attr]
        case "log_normal":
            return pm.LogNormal(name, prior.mu, prior.sigma)  # type: ignore[union-attr]
        case "truncated_normal":
            return pm.TruncatedNormal(name, prior.mu, prior.sigma, lower=prior.lower, upper=prior.upper)  # type: ignore[union-attr]
    raise ValueError(f"unsupported prior for {name}: {dist}")


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
    if layout.groups:
        coords["group"] = list(layout.groups)
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
        matrix(mv.BLOC_IDEAL, "bloc", layout.blocs, [[b.ideal[i] for i in issues] for b in blocs])
        matrix(mv.BLOC_SPREAD, "bloc", layout.blocs, [_per_issue(b.spread, issues) for b in blocs])
        vector(mv.BLOC_PARTY_PULL, "bloc", layout.blocs, [b.party_pull for b in blocs])
        vector(mv.BLOC_RESPONSIVENESS, "bloc", layout.blocs, [b.responsiveness for b in blocs])
        vector(mv.BLOC_VALENCE, "bloc", layout.blocs, [b.valence for b in blocs])
        weights(mv.BLOC_SALIENCE, "bloc", layout.blocs, blocs)

        lobbies = layout.lobby_specs
        matrix(mv.LOBBY_IDEAL, "lobby", layout.lobbies, [[j.ideal[i] for i in issues] for j in lobbies])
        vector(mv.LOBBY_INFLUENCE, "lobby", layout.lobbies, [j.influence for j in lobbies])
        weights(mv.LOBBY_SALIENCE, "lobby", layout.lobbies, lobbies)

        publics = layout.public_specs
        matrix(mv.PUBLIC_IDEAL, "public", layout.publics, [[p.ideal[i] for i in issues] for p in publics])
        matrix(mv.PUBLIC_SPREAD, "public", layout.publics, [_per_issue(p.spread, issues) for p in publics])
        vector(mv.PUBLIC_APPROVAL, "public", layout.publics, [p.approval for p in publics])
        weights(mv.PUBLIC_SALIENCE, "public", layout.publics, publics)

        chiefs = layout.chief_specs
        matrix(mv.CHIEF_IDEAL, "chief", layout.chiefs, [[c.ideal[i] for i in issues] for c in chiefs])
        weights(mv.CHIEF_SALIENCE, "chief", layout.chiefs, chiefs)

        chambers = layout.chamber_specs
        vector(mv.CHAMBER_ABSENCE, "chamber", layout.chambers, [c.absence for c in chambers])
        vector(mv.CHAMBER_SHOCK_SCALE, "chamber", layout.chambers, [c.shock_scale for c in chambers])
        vector(mv.CHAMBER_TURNOUT, "chamber", layout.chambers, [c.turnout for c in chambers])
        vector(mv.CHAMBER_CAMPAIGN_SHOCK, "chamber", layout.chambers, [c.campaign_shock for c in chambers])
        _multilateral_priors(layout, matrix, vector)
        vector(
            mv.LINK_INTERACTION,
            "link",
            layout.links,
            [link.interaction for link in layout.scenario.spec.links],
        )

        flat = bank.build()
        named: dict[str, pt.TensorVariable] = {}
        for var, dims, index in planned:
            gathered = flat[np.asarray(index, dtype=np.int64)]
            if len(index) == 0:  # a zero-size reshape breaks PyTensor's rewrites of the draw graph
                gathered = pt.zeros((0, len(issues)) if len(dims) == 2 else (0,))
            elif len(dims) == 2:
                gathered = gathered.reshape((len(index), len(issues)))
            named[var] = pm.Deterministic(var, gathered, dims=dims)
        rows = salience.build()
        for var, dim, index in sal_planned:
            picked = rows[np.asarray(index, dtype=np.int64)].reshape((len(index), len(issues)))
            pm.Deterministic(var, picked if len(index) else pt.zeros((0, len(issues))), dims=(dim, "issue"))

        n_members = len(layout.members)
        if n_members:
            z = _member_positions(layout)
            bloc_of = layout.member_bloc
            ideal = named[mv.BLOC_IDEAL][bloc_of] + layout.member_offset + named[mv.BLOC_SPREAD][bloc_of] * z
            if layout.groups:
                ideal = ideal + _group_shifts(layout)
            pm.Deterministic(mv.MEMBER_IDEAL, ideal, dims=("member", "issue"))
    return model


def _group_shifts(layout: Layout) -> Any:
    """``(M, K)`` each member's group's shift (0 outside any group): spread × η, η ~ N(0, 1).

    Written non-centred (``group_eta_<issue>``), as the spread of few groups with few votes each
    is otherwise a funnel; an issue without a spread prior gets no shift and no η.
    """
    assert layout.group_chamber is not None and layout.member_group is not None
    issues = layout.issues
    scales = {}
    for c in np.unique(layout.group_chamber):
        spec = layout.chamber_specs[c].groups
        assert spec is not None
        scales[c] = [
            scalar_variable(f"group_spread_{layout.chambers[c]}_{issue}", spec.spread[issue])
            if issue in spec.spread
            else pt.as_tensor_variable(0.0)
            for issue in issues
        ]
    spread = pm.Deterministic(
        mv.GROUP_SPREAD,
        pt.stack([pt.stack(scales[c]) for c in layout.group_chamber]),
        dims=("group", "issue"),
    )
    used = {issue for c in scales for issue in layout.chamber_specs[c].groups.spread}
    eta = [
        pm.Normal(f"group_eta_{issue}", 0.0, 1.0, dims="group")
        if issue in used
        else pt.zeros(len(layout.groups))
        for issue in issues
    ]
    shift = pm.Deterministic(mv.GROUP_SHIFT, spread * pt.stack(eta, axis=1), dims=("group", "issue"))
    padded = pt.concatenate([shift, pt.zeros((1, len(issues)))])  # row −1: members in no group
    return padded[layout.member_group]


def _member_positions(layout: Layout) -> Any:
    """``member_z``: the members' standardised positions, N(0, 1) a priori.

    With ``evidence: ideology`` a member's position on the item's issue is written
    non-centred in the member's standardised ideal point ``x``: ``ρ_b·x + √(1 − ρ_b²)·u``,
    ``u ~ N(0, 1)`` (``member_u``), ``ρ_b`` the bloc's loading (``ideology{k}_loading``). Given
    ``x`` this is exactly the position's conditional distribution under the item's model — ``z``
    and ``x`` standard bivariate normal with correlation ρ, ``x``'s own density free of ρ — so
    the posterior is the one :func:`riskmodel.model.spatial.ideology_loglik` gives, without the
    funnel between a loading near ±1 and the positions it ties down (the fits with few earlier
    votes mixed slowly in the loadings and spreads: bulk ESS 64–97 per 2,000 draws, against 812
    for the blocs' ideals). A position already written so by an earlier item keeps the later
    item's likelihood instead (:func:`riskmodel.model.evidence.add_evidence`).
    """
    inputs = [item for item in ideology_inputs(layout) if item is not None]
    if not inputs:
        return pm.Normal(mv.MEMBER_Z, 0.0, 1.0, dims=("member", "issue"))
    u = pm.Normal("member_u", 0.0, 1.0, dims=("member", "issue"))
    z = u
    for data in inputs:
        loadings = [
            scalar_variable(f"ideology{data.k}_loading_{layout.blocs[b]}", data.loading)
            for b in range(len(layout.blocs))
        ]
        loading = pm.Deterministic(f"ideology{data.k}_loading", pt.stack(loadings), dims="bloc")
        rows = ~data.centred
        if rows.any():
            index, rho = data.index[rows], loading[data.bloc[rows]]
            given = rho * data.x[rows] + pt.sqrt(1.0 - rho**2) * u[index, data.issue]
            z = pt.set_subtensor(z[index, data.issue], given)
    return pm.Deterministic(mv.MEMBER_Z, z, dims=("member", "issue"))
