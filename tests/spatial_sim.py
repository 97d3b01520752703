"""Earlier votes with chamber and party common shocks: a scenario, its fit model, a simulator.

The simulator is written by hand (numpy only): a member's net gain on an earlier deal is the
salience-weighted quadratic utility of the deal minus that of its reversion plus the party's
valence, and the vote adds the chamber's shock of that vote, the party's shock of that vote and
the member's own shock. It shares no code with :mod:`riskmodel.model.spatial` (which draws the
parties' *totals* through a Cholesky factor) or with the engine (which adds the shocks per
world), so agreement between them is a cross-check, not a tautology.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import special, stats

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout, build_layout
from riskmodel.model.priors import build_model
from riskmodel.model.spatial import (
    deal_vote_gain,
    earlier_votes_loglik,
    member_deviation_gain,
    vote_common_shocks,
)
from riskmodel.spec.scenario import load_scenario

LOW, SPAN = np.array([0.0, 0.0]), np.array([4.0, 1.0])
# earlier deals (labour 0-4, opening 0-1), all against the status quo (0, 0)
TERMS = [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (2, 0.5), (3, 0.5), (4, 0.5), (0, 0.5), (1, 0.5)]
MEMBER_SHOCK = 0.1  # the member's own shock, fixed as the backtest's scenarios fix it

SCENARIO = """
name: shock_scales
issues:
  - {{name: labour, unit: index, range: [0, 4]}}
  - {{name: opening, unit: share, range: [0, 1]}}
deals:
  - {{name: target, values: {{labour: {target_labour}, opening: 1}}}}
sides:
  - name: us
    reversion: {{labour: 0, opening: 0}}
    chambers:
      - name: house
        members: members.csv
        shock_scale: {member_shock}
        absence: 0
        common_shock: {chamber}
        blocs:
          - name: dem
            ideal: {{labour: {dem_labour}, opening: {dem_opening}}}
            spread: {{labour: {spread_labour}, opening: {spread_opening}}}
            salience: {salience}
            valence: {valence}
            common_shock: {dem}
          - name: rep
            ideal: {{labour: {rep_labour}, opening: {rep_opening}}}
            spread: {{labour: {spread_labour}, opening: {spread_opening}}}
            salience: {salience}
            valence: {valence}
            common_shock: {rep}
    votes:
      - {{name: passage, chamber: house}}
{evidence}
"""

HALF_NORMAL = "{dist: half_normal, sigma: 0.2}"  # the backtest scenarios' prior on every scale
LEARNED = {
    "target_labour": 2,
    "member_shock": MEMBER_SHOCK,
    "chamber": HALF_NORMAL,
    "dem": HALF_NORMAL,
    "rep": HALF_NORMAL,
    "dem_labour": "{dist: normal, mu: 3.0, sigma: 0.6}",
    "rep_labour": "{dist: normal, mu: 1.0, sigma: 0.6}",
    "dem_opening": "{dist: normal, mu: 0.35, sigma: 0.2}",
    "rep_opening": "{dist: normal, mu: 0.85, sigma: 0.2}",
    "spread_labour": 0.6,
    "spread_opening": 0.15,
    "salience": "{dirichlet: {labour: 3, opening: 3}}",
    "valence": "{dist: normal, mu: 0.0, sigma: 0.1}",
    "evidence": "",
}
SCALES = ("chamber_common_shock", "bloc_common_shock")


def write_scenario(folder: Path, n_per_bloc: int, **priors: object) -> Path:
    """A one-chamber, two-party scenario (``LEARNED`` updated by ``priors``) and its member table."""
    names = [f"d{i}" for i in range(n_per_bloc)] + [f"r{i}" for i in range(n_per_bloc)]
    pd.DataFrame(
        {
            "name": names,
            "bloc": ["dem"] * n_per_bloc + ["rep"] * n_per_bloc,
            "bioguide": [f"B{i:03d}" for i in range(len(names))],
        }
    ).to_csv(folder / "members.csv", index=False)
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.format(**{**LEARNED, **priors}))
    return path


def evidence_yaml(folder: Path, yea: npt.NDArray[np.float64], n_members: int) -> str:
    """Write ``votes.csv`` (vote ``v{k}`` is earlier deal ``k``) and return the ``evidence:`` block."""
    rows = [
        (f"v{k}", f"B{i:03d}", "Yea" if yea[k * n_members + i] else "Nay")
        for k in range(len(TERMS))
        for i in range(n_members)
    ]
    votes = pd.DataFrame(rows, columns=["vote_id", "member_id", "position"])
    votes.assign(party="X", state="XX").to_csv(folder / "votes.csv", index=False)
    deals = "\n".join(
        f"        - {{vote_id: v{k}, deal: {{labour: {labour}, opening: {opening}}}}}"
        for k, (labour, opening) in enumerate(TERMS)
    )
    return (
        "evidence:\n  earlier_deals:\n    - side: us\n      chamber: house\n      votes: votes.csv\n"
        f"      member_key: bioguide\n      deals:\n{deals}"
    )


def terms(k: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Earlier deal ``k`` and its reversion on the unit scale."""
    labour, opening = TERMS[k]
    return np.array([labour / 4, opening]), np.zeros(2)


def shock_model(path: Path) -> tuple[pm.Model, Layout]:
    """The scenario's model with every member's vote on every earlier deal as ``pm.Data``.

    The likelihood is the one :func:`riskmodel.model.evidence.add_evidence` adds for
    ``earlier_deals`` (net gain + the vote's common shocks, member shock as the probit scale);
    the votes are data, so one compiled model serves every simulated data set.
    """
    layout = build_layout(load_scenario(path))
    model = build_model(layout)
    n = len(layout.members)
    members = np.tile(np.arange(n), len(TERMS))
    vote = np.repeat(np.arange(len(TERMS)), n)
    with model:
        yea = pm.Data("yea", np.zeros(n * len(TERMS)))
        gains = [deal_vote_gain(model, layout, *terms(k), np.arange(n)) for k in range(len(TERMS))]
        # the part of each gain a party shares, which add_evidence centres the vote shocks on
        centres = [
            gain - member_deviation_gain(model, layout, *terms(k), np.arange(n))
            for k, gain in enumerate(gains)
        ]
        common = vote_common_shocks(
            model, layout, members, vote, len(TERMS), prefix="earlier0", centre=pt.concatenate(centres)
        )
        scale = model[mv.CHAMBER_SHOCK_SCALE][layout.member_chamber[members]]
        pm.Potential("earlier0_loglik", earlier_votes_loglik(pt.concatenate(gains) + common, scale, yea))
    return model, layout


def truth_arrays(prior: xr.Dataset, r: int) -> dict[str, npt.NDArray[np.float64]]:
    """Replication ``r`` of prior draws (an ``xarray.Dataset``) as plain arrays."""
    names = ("member_ideal", "bloc_salience", "bloc_valence", *SCALES)
    return {name: np.asarray(prior[name].to_numpy()[0, r], dtype=np.float64) for name in names}


def hand_gain(
    truth: dict[str, npt.NDArray[np.float64]],
    bloc: npt.NDArray[np.int64],
    deal: npt.NDArray[np.float64],
    reversion: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Each member's net gain on ``deal`` against ``reversion`` (unit scale): Δ utility + valence."""
    ideal = (truth["member_ideal"] - LOW) / SPAN
    weight = truth["bloc_salience"][bloc]
    utility_deal = -np.sum(weight * (deal - ideal) ** 2, axis=1)
    utility_reversion = -np.sum(weight * (reversion - ideal) ** 2, axis=1)
    return utility_deal - utility_reversion + truth["bloc_valence"][bloc]


def simulate_vote(
    truth: dict[str, npt.NDArray[np.float64]],
    bloc: npt.NDArray[np.int64],
    deal: npt.NDArray[np.float64],
    reversion: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> npt.NDArray[np.bool_]:
    """``(M,)`` one vote: a chamber shock and a shock per party for this vote, and each member's own."""
    chamber = rng.normal() * float(truth["chamber_common_shock"][0])
    party = rng.normal(size=len(truth["bloc_common_shock"])) * truth["bloc_common_shock"]
    own = rng.normal(size=len(bloc)) * MEMBER_SHOCK
    return np.asarray(hand_gain(truth, bloc, deal, reversion) + chamber + party[bloc] + own > 0)


def simulate_votes(
    truth: dict[str, npt.NDArray[np.float64]], bloc: npt.NDArray[np.int64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """``(len(TERMS) · M,)`` votes on the earlier deals, deal by deal."""
    votes = [simulate_vote(truth, bloc, *terms(k), rng) for k in range(len(TERMS))]
    return np.concatenate(votes).astype(np.float64)


def yes_count_pmf(
    gain: npt.NDArray[np.float64],
    bloc: npt.NDArray[np.int64],
    chamber_scale: float,
    party_scale: npt.NDArray[np.float64],
    member_scale: float,
    nodes: int = 48,
) -> npt.NDArray[np.float64]:
    """P(yes count = y), y = 0 … M, for fixed gains: a mixture of Poisson-binomials.

    Given the chamber's shock c and each party's shock d_b, members vote independently with
    p_i = Φ((g_i + c + d_b) / s). The chamber's and the parties' standard normals are integrated
    by Gauss-Hermite quadrature (``nodes`` per dimension); the Poisson-binomial for each node
    by convolution.
    """
    x, w = special.roots_hermitenorm(nodes)
    w = w / w.sum()
    n_blocs = len(party_scale)
    # the parties are independent given c: P(count | c) is the convolution of each party's
    # mixture over its own shock, so the quadrature is (1 + 1)-dimensional, not (1 + B)
    pmf = np.zeros(len(gain) + 1)
    for zc, wc in zip(x, w, strict=True):
        given_c = np.array([1.0])
        for b in range(n_blocs):
            in_bloc = gain[bloc == b]
            mixture = np.zeros(len(in_bloc) + 1)
            for zb, wb in zip(x, w, strict=True):
                p = stats.norm.cdf((in_bloc + chamber_scale * zc + party_scale[b] * zb) / member_scale)
                mixture += wb * poisson_binomial(p)
            given_c = np.convolve(given_c, mixture)
        pmf += wc * given_c
    return pmf


def poisson_binomial(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """P(Σ Bernoulli(p_i) = y), y = 0 … n, by convolution."""
    out = np.array([1.0])
    for q in p:
        out = np.convolve(out, [1.0 - q, q])
    return out
