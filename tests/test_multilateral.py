"""Multilateral and nested games against exact answers computed independently.

Every scenario here is built from members whose P(yes) is fixed by construction
(:func:`engine_helpers.fixed_side`), so each known answer is an enumeration, a count or an
integral computed with itertools/scipy, and each estimate must lie within 4 MCSE of it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from engine_helpers import fixed_scenario, fixed_side
from scipy import integrate, stats

from riskmodel.pipeline import run_scenario

N_WORLDS = 20_000


def run(scenario, seed: int = 11):
    return run_scenario(scenario, n_worlds=N_WORLDS, n_replicates=20, seed=seed)


def within(ds, deal: str, exact: float, variable: str = "agreement") -> None:
    p = float(ds[f"{variable}_probability"].sel(deal=deal))
    se = float(ds[f"{variable}_mcse"].sel(deal=deal))
    assert abs(p - exact) <= 4 * max(se, 1e-4), (deal, p, exact, se)


def enumerate_sides(probabilities: dict[str, float], holds) -> float:
    """P(rule) over independent sides: Σ over every outcome vector of its probability."""
    names = list(probabilities)
    total = 0.0
    for outcome in itertools.product([False, True], repeat=len(names)):
        ratified = dict(zip(names, outcome, strict=True))
        if holds(ratified):
            total += math.prod(probabilities[n] if r else 1 - probabilities[n] for n, r in ratified.items())
    return total


def test_two_party_deal_is_the_product_whatever_a_third_side_does() -> None:
    sides = [fixed_side("a", [0.7]), fixed_side("b", [0.6]), fixed_side("c", [0.2])]
    ds = run(fixed_scenario(sides, [{"name": "ab", "parties": ["a", "b"]}, {"name": "abc"}]))
    within(ds, "ab", 0.7 * 0.6)
    within(ds, "abc", 0.7 * 0.6 * 0.2)
    assert np.isnan(float(ds.ratification_probability.sel(side="c", deal="ab")))
    assert bool(ds.party.sel(side="a", deal="ab")) and not bool(ds.party.sel(side="c", deal="ab"))
    # the third side's own votes are not evaluated for the bilateral deal either
    assert np.isnan(float(ds.vote_probability.sel(vote="c.vote", deal="ab")))
    # a third side that always fails changes nothing for a deal it is not party to
    sides[2] = fixed_side("c", [0.0001])
    within(run(fixed_scenario(sides, [{"name": "ab", "parties": ["a", "b"]}])), "ab", 0.42)


QMV_P = {"de": 0.8, "fr": 0.7, "it": 0.5, "pl": 0.3, "nl": 0.6}
QMV_W = {"de": 18.6, "fr": 15.3, "it": 13.1, "pl": 8.3, "nl": 3.9}


def qmv_exact(k: int, share: float) -> float:
    total = sum(QMV_W.values())
    return enumerate_sides(
        QMV_P,
        lambda r: sum(r.values()) >= k and sum(QMV_W[n] for n in r if r[n]) >= share * total - 1e-9,
    )


def test_weighted_threshold_and_double_majority_against_enumeration() -> None:
    sides = [fixed_side(name, [p]) for name, p in QMV_P.items()]
    weighted = {"weighted": {"weights": QMV_W, "threshold": 0.65}}
    double = {"all": [{"at_least": {"k": 3, "of": list(QMV_P)}}, weighted]}
    blocking = {"not": {"weighted": {"weights": QMV_W, "threshold": 0.36, "polarity": "against"}}}
    deals = [
        {"name": "weighted", "agreement": weighted},
        {"name": "qmv", "agreement": double},
        {"name": "blocking", "agreement": blocking},
        {"name": "absolute", "agreement": {"weighted": {"weights": QMV_W, "threshold": 30}}},
    ]
    ds = run(fixed_scenario(sides, deals))
    total = sum(QMV_W.values())
    within(ds, "weighted", qmv_exact(0, 0.65))
    within(ds, "qmv", qmv_exact(3, 0.65))
    within(
        ds, "blocking", enumerate_sides(QMV_P, lambda r: sum(QMV_W[n] for n in r if not r[n]) < 0.36 * total)
    )
    within(ds, "absolute", enumerate_sides(QMV_P, lambda r: sum(QMV_W[n] for n in r if r[n]) >= 30))


def test_top_level_weighted_agreement_counts_only_the_parties() -> None:
    sides = [fixed_side(name, [p]) for name, p in QMV_P.items()]
    agreement = {"weighted": {"weights": QMV_W, "threshold": 0.5}}
    ds = run(fixed_scenario(sides, [{"name": "three", "parties": ["de", "fr", "pl"]}], agreement=agreement))
    sub = {n: QMV_P[n] for n in ("de", "fr", "pl")}
    total = sum(QMV_W[n] for n in sub)
    within(ds, "three", enumerate_sides(sub, lambda r: sum(QMV_W[n] for n in r if r[n]) >= 0.5 * total))


def test_weighted_votes_in_a_chamber_against_enumeration() -> None:
    probabilities = [0.7, 0.4, 0.55]
    weights = [6, 3, 4]
    side = fixed_side("bund", probabilities, threshold=7)
    for bloc, w in zip(side["chambers"][0]["blocs"], weights, strict=True):
        bloc["weight"] = w
    ds = run(fixed_scenario([side], [{"name": "law"}]))
    exact = enumerate_sides(
        {str(i): p for i, p in enumerate(probabilities)},
        lambda r: sum(w for (n, ok), w in zip(r.items(), weights, strict=True) if ok) >= 7,
    )
    within(ds, "law", exact)


def test_block_bloc_votes_as_one_member() -> None:
    side = fixed_side("land", [0.3], threshold="unanimity", bloc={"seats": 5, "block": True})
    within(run(fixed_scenario([side], [{"name": "law"}])), "law", 0.3)
    # without block: five independent votes, all needed
    free = fixed_side("land", [0.3], threshold="unanimity", bloc={"seats": 5})
    within(run(fixed_scenario([free], [{"name": "law"}])), "law", 0.3**5)


@pytest.mark.parametrize("relative_to", ["present", "voting"])
def test_abstention_band_against_the_trinomial_count(relative_to: str) -> None:
    p, band, n = 0.6, 0.3, 5
    side = fixed_side("majlis", [p], threshold="majority", relative_to=relative_to, bloc={"seats": n})
    side["chambers"][0]["abstention"] = {"band": band}
    ds = run(fixed_scenario([side], [{"name": "bill"}]))
    v = stats.norm.ppf(p)
    p_yes = stats.norm.sf(band - v)  # v + e >= band
    p_no = stats.norm.cdf(-band - v)  # v + e <= -band
    p_abs = 1 - p_yes - p_no
    exact = 0.0
    for yes in range(n + 1):
        for no in range(n - yes + 1):
            prob = (
                math.comb(n, yes) * math.comb(n - yes, no) * p_yes**yes * p_no**no * p_abs ** (n - yes - no)
            )
            base = yes + no if relative_to == "present" else n
            if yes > base / 2 and yes >= 1:
                exact += prob
    within(ds, "bill", exact)


def test_common_shock_against_numerical_integration() -> None:
    p, scale, n = 0.55, 0.8, 3
    side = fixed_side("senate", [p], threshold="majority", bloc={"seats": n, "common_shock": scale})
    ds = run(fixed_scenario([side], [{"name": "bill"}]))
    v = stats.norm.ppf(p)

    def integrand(z: float) -> float:
        q = stats.norm.cdf(v + scale * z)  # P(yes | common shock z): v + σz + e > 0
        return stats.norm.pdf(z) * stats.binom.sf(n // 2, n, q)

    exact, _ = integrate.quad(integrand, -10, 10)
    within(ds, "bill", exact)


def test_common_shock_of_scale_zero_is_bit_for_bit_the_independent_run() -> None:
    base = fixed_side("senate", [0.55, 0.4, 0.7], threshold="majority")
    zero = fixed_side("senate", [0.55, 0.4, 0.7], threshold="majority", bloc={"common_shock": 0.0})
    zero["common_shock"] = 0
    zero["chambers"][0]["common_shock"] = 0.0
    a = run(fixed_scenario([base], [{"name": "bill"}]))
    b = run(fixed_scenario([zero], [{"name": "bill"}]))
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values), name


def test_per_bloc_reversion_against_the_analytic_net_gain() -> None:
    side = fixed_side("us", [0.5], reversion=0.5)
    bloc = side["chambers"][0]["blocs"][0]
    bloc.update(ideal={"x": 0.6}, valence=0.0, reversion={"x": 0.2})
    ds = run(fixed_scenario([side], [{"name": "deal"}]))
    gain = -((0.5 - 0.6) ** 2) + (0.2 - 0.6) ** 2  # U(x) - U(q_bloc), salience 1
    within(ds, "deal", stats.norm.cdf(gain))


def test_nested_side_against_enumeration_of_its_members() -> None:
    members = {"idn": 0.8, "vnm": 0.6, "tha": 0.5}
    sides = [fixed_side("us", [0.9])] + [fixed_side(n, [p]) for n, p in members.items()]
    sides.append(
        {"name": "asean", "members": list(members), "agreement": {"at_least": {"k": 2, "of": list(members)}}}
    )
    deals = [
        {"name": "collective", "parties": ["us", "asean"]},
        {"name": "spoke", "parties": ["us", "idn"]},
    ]
    ds = run(fixed_scenario(sides, deals))
    at_least_two = enumerate_sides(members, lambda r: sum(r.values()) >= 2)
    within(ds, "collective", 0.9 * at_least_two)
    within(ds, "spoke", 0.9 * 0.8)
    within(ds.sel(side="asean"), "collective", at_least_two, variable="ratification")
    # members of a nested party are evaluated; a side outside both deals' parties is not
    assert not np.isnan(float(ds.ratification_probability.sel(side="vnm", deal="collective")))
    assert np.isnan(float(ds.ratification_probability.sel(side="vnm", deal="spoke")))


def test_reversion_if_against_enumeration_of_the_earlier_deal() -> None:
    first = fixed_side("vnm", [0.6])
    later = fixed_side("tha", [0.5], reversion=0.5)
    later["chambers"][0]["blocs"][0].update(ideal={"x": 0.7}, valence=0.0)
    later["reversion_if"] = [{"ratified": "us_vnm", "then": {"x": 0.1}}]
    deals = [{"name": "us_tha", "parties": ["tha"]}, {"name": "us_vnm", "parties": ["vnm"]}]
    ds = run(fixed_scenario([first, later], deals))
    gain_default = -((0.5 - 0.7) ** 2) + (0.5 - 0.7) ** 2
    gain_after = -((0.5 - 0.7) ** 2) + (0.1 - 0.7) ** 2
    exact = 0.6 * stats.norm.cdf(gain_after) + 0.4 * stats.norm.cdf(gain_default)
    within(ds, "us_tha", exact)
    within(ds, "us_vnm", 0.6)


@pytest.mark.parametrize("method", ["sweep", "engine"])
def test_winset_map_of_a_deal_among_two_parties(method: str) -> None:
    """At the deal itself the map's joint figure is the product over its two parties only."""
    from riskmodel.analyses.winset import compute_winset
    from riskmodel.pipeline import sample_worlds

    xy = ("x", "y")
    sides = [
        fixed_side("a", [0.7], issues=xy),
        fixed_side("b", [0.6], issues=xy),
        fixed_side("c", [0.2], issues=xy),
    ]
    scenario = fixed_scenario(sides, [{"name": "ab", "parties": ["a", "b"]}], issues=xy)
    simulation = sample_worlds(scenario, n_worlds=N_WORLDS, n_replicates=20, seed=5)
    winset = compute_winset(simulation, x="x", y="y", base="ab", grid=3, method=method)
    centre = {"x": 0.5, "y": 0.5}
    p = float(winset.agreement_probability.sel(centre))
    assert abs(p - 0.42) <= 4 * float(winset.agreement_mcse.sel(centre))
    assert np.isnan(float(winset.ratification_probability.sel(side="c", **centre)))
    assert not bool(winset.evaluated.sel(side="c"))


def test_linkage_and_side_payments_evaluate_only_the_parties() -> None:
    from riskmodel.analyses.linkage import compare_bundles
    from riskmodel.analyses.sidepayments import side_payments
    from riskmodel.pipeline import evaluate_deals, sample_worlds

    xy = ("x", "y")
    sides = [
        fixed_side("a", [0.7], issues=xy),
        fixed_side("b", [0.6], issues=xy),
        fixed_side("c", [0.2], issues=xy),
    ]
    deals = [{"name": "ab", "parties": ["a", "b"]}, {"name": "moved", "values": {"x": 0.6, "y": 0.4}}]
    simulation = sample_worlds(
        fixed_scenario(sides, deals, issues=xy), n_worlds=N_WORLDS, n_replicates=20, seed=9
    )
    # variants of the bilateral deal keep its parties
    variants = evaluate_deals(simulation, np.array([[0.5, 0.5]]), like="ab")
    within(variants, "deal-0", 0.42)
    assert np.isnan(float(variants.ratification_probability.sel(side="c")[0]))
    bundles = compare_bundles(simulation, [0.6, 0.4], base="ab")
    assert bundles["p_c"].isna().all()
    # side payments: with no budget, the bilateral agreement holds where both parties ratify
    paid = side_payments(simulation, "ab", budgets=[0.0])
    p0 = float(paid.agreement_probability.sel(budget=0.0))
    assert abs(p0 - 0.42) <= 4 * math.sqrt(0.42 * 0.58 / N_WORLDS)
    assert list(paid.party.to_numpy()) == [True, True, False]
