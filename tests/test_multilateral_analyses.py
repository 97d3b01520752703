"""Stress tests, sensitivity, pivotality and the report on deals among a subset of the sides.

The scenario has three sides whose members vote yes with fixed probabilities
(:func:`engine_helpers.fixed_side`): ``a`` and ``b`` one member each, ``c`` a chamber of three
members with 3, 2 and 1 votes deciding by a majority of those present, with an abstention
band. Deal ``ab`` binds ``a`` and ``b`` only; ``abc`` binds all three. Known answers are exact
enumerations over the members' three possible votes, each estimate within 4 standard errors.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from engine_helpers import fixed_scenario, fixed_side
from scipy import stats

from riskmodel.analyses import pivotality
from riskmodel.analyses.parties import deal_parties, party_outcomes
from riskmodel.analyses.sensitivity import analyse_sensitivity
from riskmodel.analyses.stress import stress_test
from riskmodel.engine import count_weighted, evaluate_chunks
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.shockcheck import parse_shocks
from riskmodel.worlds.arrays import deal_features

N_WORLDS = 20_000
P_A, P_B = 0.7, 0.6
C_P = (0.8, 0.6, 0.5)
C_WEIGHT = (3, 2, 1)
BAND = 0.3


def three_sides(band: float | None = BAND, issues: tuple[str, ...] = ("x",)) -> list[dict]:
    c = fixed_side("c", list(C_P), threshold="majority", relative_to="present", issues=issues)
    for bloc, weight in zip(c["chambers"][0]["blocs"], C_WEIGHT, strict=True):
        bloc["weight"] = weight
    if band is not None:
        c["chambers"][0]["abstention"] = {"band": band}
    return [fixed_side("a", [P_A], issues=issues), fixed_side("b", [P_B], issues=issues), c]


def scenario(band: float | None = BAND):
    return fixed_scenario(three_sides(band), [{"name": "ab", "parties": ["a", "b"]}, {"name": "abc"}])


def vote_probabilities(band: float) -> list[tuple[float, float, float]]:
    """(yes, no, abstain) of each member of ``c``: net gain Φ⁻¹(p) plus a standard normal shock."""
    out = []
    for p in C_P:
        v = stats.norm.ppf(p)
        yes, no = stats.norm.sf(band - v), stats.norm.cdf(-band - v)
        out.append((yes, no, 1.0 - yes - no))
    return out


def c_passes(states: tuple[int, ...], rule: str = "majority") -> bool:
    """``c``'s vote from each member's state (0 yes, 1 no, 2 abstains), weighted, of those present."""
    yes = sum(w for w, s in zip(C_WEIGHT, states, strict=True) if s == 0)
    no = sum(w for w, s in zip(C_WEIGHT, states, strict=True) if s == 1)
    if rule == "unanimity":
        return yes >= max(yes + no, 1)
    return 2 * yes > yes + no and yes >= 1


def enumerate_states(band: float):
    probabilities = vote_probabilities(band)
    for states in itertools.product(range(3), repeat=3):
        yield states, math.prod(probabilities[m][s] for m, s in enumerate(states))


@pytest.fixture(scope="module", params=[BAND, None], ids=["abstention", "weights_only"])
def run(request):
    band = request.param
    simulation = sample_worlds(scenario(band), n_worlds=N_WORLDS, n_replicates=20, seed=17)
    return band or 0.0, simulation, evaluate_deals(simulation)


def test_member_votes_add_up_to_the_engine_counts(run) -> None:
    _, simulation, _ = run
    layout, worlds = simulation.layout, simulation.worlds
    votes = pivotality.deal_votes(layout, worlds, layout.deal_values[1])
    features = deal_features(layout.to_unit(layout.deal_values[1:2]), worlds.link_pairs)
    yes, abstain = count_weighted(worlds, features)
    np.testing.assert_array_equal(votes.yes, yes[:, :, 0, :])
    if votes.abstained is not None:
        np.testing.assert_array_equal(votes.abstained, abstain[:, :, 0, :])
    (chunk,) = evaluate_chunks(worlds, layout.to_unit(layout.deal_values[1:2]))
    np.testing.assert_array_equal(votes.ratified, chunk.side_ratified[..., 0])


def test_member_pivotality_in_a_weighted_chamber_against_enumeration(run) -> None:
    band, simulation, _ = run
    layout, worlds = simulation.layout, simulation.worlds
    votes = pivotality.deal_votes(layout, worlds, layout.deal_values[1])
    decisive = pivotality.member_pivotal(votes)
    swing = pivotality.member_swing(votes, decisive)
    probabilities = vote_probabilities(band)
    members = np.flatnonzero(layout.member_chamber == layout.chambers.index("c.council"))
    n = worlds.n_worlds
    for i, m in enumerate(members.tolist()):
        exact_decisive = exact_swing = 0.0
        for states, prob in enumerate_states(band):
            outcome = [c_passes((*states[:i], t, *states[i + 1 :])) for t in range(3)]
            exact_decisive += prob * (outcome[0] != outcome[1])
            exact_swing += prob * sum(
                probabilities[i][t] * (outcome[t] != outcome[states[i]]) for t in range(3)
            )
        p = float(decisive[..., m].mean())
        assert abs(p - exact_decisive) <= 4 * math.sqrt(exact_decisive * (1 - exact_decisive) / n), (i, p)
        # a per-world swing lies in [0, 1]: its standard error is at most 0.5 / sqrt(n)
        assert abs(swing[m] - exact_swing) <= 4 * 0.5 / math.sqrt(n), (i, swing[m], exact_swing)
        # one member per bloc: the bloc's all-for against all-against is the member's switch
        bloc = int(layout.member_bloc[m])
        np.testing.assert_array_equal(pivotality.bloc_decisive(votes, bloc), decisive[..., m])


def test_stress_on_a_deal_among_two_parties() -> None:
    simulation = sample_worlds(scenario(), n_worlds=N_WORLDS, n_replicates=20, seed=17)
    results = evaluate_deals(simulation)
    shocks = parse_shocks(
        "shocks:\n"
        "  - {name: c_unanimity, kind: set_threshold, side: c, vote: vote, threshold: unanimity}\n"
        "  - {name: c_grows, kind: set_seats, side: c, bloc: m2, seats: 4}\n",
        simulation.layout.scenario,
        file="shocks.yaml",
    )
    stress = stress_test(simulation, shocks)
    agreement = stress.baseline_probability.sel(outcome="agreement")
    np.testing.assert_allclose(agreement, results.agreement_probability, rtol=1e-12)
    assert abs(float(agreement.sel(deal="ab")) - P_A * P_B) <= 4 * float(
        stress.baseline_mcse.sel(outcome="agreement", deal="ab")
    )
    # c is not evaluated for ab: NaN, and flagged
    assert np.isnan(stress.baseline_probability.sel(outcome="c", deal="ab")).item()
    assert np.isnan(stress.change.sel(outcome="c", deal="ab")).all()
    assert not bool(stress.party.sel(side="c", deal="ab")) and bool(
        stress.evaluated.sel(side="c", deal="abc")
    )
    # shocks to a side that is not a party leave the deal's agreement bit for bit
    for shock in ("c_unanimity", "c_grows"):
        after = stress.probability.sel(shock=shock, outcome="agreement", deal="ab").item()
        assert after == agreement.sel(deal="ab").item()
        assert stress.change.sel(shock=shock, outcome="agreement", deal="ab").item() == 0.0
    # unanimity of those present in c: nobody votes no and somebody votes yes
    exact_c = sum(prob for states, prob in enumerate_states(BAND) if c_passes(states, "unanimity"))
    p = stress.probability.sel(shock="c_unanimity", outcome="agreement", deal="abc").item()
    se = math.sqrt(P_A * P_B * exact_c * (1 - P_A * P_B * exact_c) / simulation.worlds.n_worlds)
    assert abs(p - P_A * P_B * exact_c) <= 4 * se


def test_sensitivity_on_a_deal_among_two_parties() -> None:
    simulation = sample_worlds(scenario(), n_worlds=2_000, n_replicates=20, seed=17)
    results = evaluate_deals(simulation)
    sens = analyse_sensitivity(simulation, n_bootstrap=10)
    np.testing.assert_array_equal(
        sens.baseline_probability.sel(outcome="agreement").to_numpy(),
        results.agreement_probability.to_numpy(),
    )
    assert np.isnan(sens.baseline_probability.sel(outcome="c", deal="ab")).item()
    c_groups = sens.constituency_side == "c"
    assert np.isnan(sens.pivotality.sel(deal="ab")[c_groups]).all()
    assert np.isfinite(sens.pivotality.sel(deal="abc")[c_groups]).all()
    c_members = sens.member_side == "c"
    assert np.isnan(sens.member_decisive.sel(deal="ab")[c_members]).all()
    assert (sens.member_decisive.sel(deal="abc")[c_members] > 0).all()
    assert np.isfinite(sens.pivotality.sel(deal="ab")[~c_groups]).all()


def test_party_outcomes_follow_a_reversion_if_sequence() -> None:
    """The per-draw outcomes of stress and sensitivity are the results' own, sequences included."""
    first = fixed_side("vnm", [0.6])
    later = fixed_side("tha", [0.5], reversion=0.5)
    later["chambers"][0]["blocs"][0].update(ideal={"x": 0.7}, valence=0.0)
    later["reversion_if"] = [{"ratified": "us_vnm", "then": {"x": 0.1}}]
    deals = [{"name": "us_tha", "parties": ["tha"]}, {"name": "us_vnm", "parties": ["vnm"]}]
    simulation = sample_worlds(fixed_scenario([first, later], deals), n_worlds=2_000, n_replicates=20, seed=3)
    results = evaluate_deals(simulation)
    layout = simulation.layout
    for names in (["us_tha", "us_vnm"], ["us_tha"]):
        chosen = deal_parties(layout, names)
        pe = party_outcomes(layout, simulation.worlds, chosen)
        np.testing.assert_array_equal(pe[-1], results.agreement_conditional.sel(deal=names).to_numpy())
        sides = chosen.masked(pe.mean(axis=1))[:-1]  # NaN where the results have NaN
        np.testing.assert_allclose(sides, results.ratification_probability.sel(deal=names), rtol=1e-12)


def test_report_names_the_agreement_of_the_parties(tmp_path) -> None:
    from riskmodel.report import write_report
    from riskmodel.report.context import build_report_context

    loaded = scenario()
    results = evaluate_deals(sample_worlds(loaded, n_worlds=400, n_replicates=20, seed=1))
    context = build_report_context(results, scenario=loaded)
    ab, abc = context["summary"]
    assert [row["side"] for row in ab["rows"]] == ["a", "b", "c", "joint"]  # lines up with the header
    assert [row["party"] for row in ab["rows"][:3]] == [True, True, False]
    assert ab["rows"][-1]["side_label"] == "agreement of the parties"
    assert abc["rows"][-1]["side_label"] == "all sides (joint)"
    assert ab["joint_phrase"] == "agreement of its parties (a, b all ratify)"
    assert abc["joint_phrase"] == "agreement (every side ratifies)"
    page = write_report(results, html=tmp_path / "report.html", scenario=loaded).html
    assert page is not None
    text = page.read_text(encoding="utf-8")
    assert "agreement of its parties (a, b all ratify)" in text
    assert "agreement of the parties" in text


def test_winset_report_tables_show_the_parties_and_their_pairs() -> None:
    from riskmodel.analyses.winset import compute_winset
    from riskmodel.report.analysis_tables import winset_pairs_table, winset_report_table

    xy = ("x", "y")
    sides = [fixed_side(name, [p], issues=xy) for name, p in (("a", 0.7), ("b", 0.6), ("c", 0.2), ("d", 0.9))]
    loaded = fixed_scenario(sides, [{"name": "abd", "parties": ["a", "b", "d"]}], issues=xy)
    simulation = sample_worlds(loaded, n_worlds=400, n_replicates=20, seed=5)
    winset = compute_winset(simulation, x="x", y="y", base="abd", grid=5)
    table = winset_report_table(winset)
    assert table["win-set"].tolist() == ["a", "b", "d", "agreement of the parties"]
    pairs = winset_pairs_table(winset)
    assert pairs["pair"].tolist() == ["a & b", "a & d", "b & d"]
    p = winset.ratification_probability
    both = (p.sel(side="a") >= 0.5) & (p.sel(side="d") >= 0.5)
    assert pairs.set_index("pair").loc["a & d", "both P ≥ 50%"] == float(both.mean())


def test_stress_sensitivity_and_report_with_a_nested_side(tmp_path) -> None:
    """A union of three members deciding by two of three; a spoke deal binds one member only."""
    from riskmodel.report.context import build_report_context

    members = {"idn": 0.8, "vnm": 0.6, "tha": 0.5}
    sides = [fixed_side("us", [0.9])] + [fixed_side(n, [p]) for n, p in members.items()]
    sides.append(
        {"name": "asean", "members": list(members), "agreement": {"at_least": {"k": 2, "of": list(members)}}}
    )
    deals = [{"name": "collective", "parties": ["us", "asean"]}, {"name": "spoke", "parties": ["us", "idn"]}]
    loaded = fixed_scenario(sides, deals)
    simulation = sample_worlds(loaded, n_worlds=N_WORLDS, n_replicates=20, seed=23)
    results = evaluate_deals(simulation)
    layout, worlds = simulation.layout, simulation.worlds
    votes = pivotality.deal_votes(layout, worlds, layout.deal_values[0])
    (chunk,) = evaluate_chunks(worlds, layout.to_unit(layout.deal_values[:1]), agreements=None)
    np.testing.assert_array_equal(votes.ratified, chunk.side_ratified[..., 0])  # the union's rule applied

    shocks = parse_shocks(
        "shocks:\n  - {name: vnm_grows, kind: set_seats, side: vnm, bloc: m0, seats: 3}\n",
        loaded,
        file="shocks.yaml",
    )
    stress = stress_test(simulation, shocks)
    base = stress.baseline_probability.sel(outcome="agreement")
    np.testing.assert_allclose(base, results.agreement_probability, rtol=1e-12)  # mean of p_e vs count
    spoke = stress.probability.sel(shock="vnm_grows", outcome="agreement", deal="spoke").item()
    assert spoke == base.sel(deal="spoke").item()  # vnm is not evaluated for the spoke
    # three vnm members must all agree (unanimity): vnm ratifies with 0.6³
    p = {"idn": 0.8, "vnm": 0.6**3, "tha": 0.5}
    two_of_three = sum(
        math.prod(p[n] if r else 1 - p[n] for n, r in zip(p, outcome, strict=True))
        for outcome in itertools.product([False, True], repeat=3)
        if sum(outcome) >= 2
    )
    collective = stress.probability.sel(shock="vnm_grows", outcome="agreement", deal="collective").item()
    se = math.sqrt(0.9 * two_of_three * (1 - 0.9 * two_of_three) / worlds.n_worlds)
    assert abs(collective - 0.9 * two_of_three) <= 4 * se

    sens = analyse_sensitivity(
        sample_worlds(loaded, n_worlds=1_000, n_replicates=20, seed=23), n_bootstrap=10
    )
    assert np.isnan(sens.pivotality.sel(deal="spoke")[sens.constituency_side == "vnm"]).all()
    assert np.isfinite(sens.pivotality.sel(deal="collective")[sens.constituency_side == "vnm"]).all()

    context = build_report_context(results, scenario=loaded)
    phrases = {deal["name"]: deal["joint_phrase"] for deal in context["summary"]}
    assert phrases == {
        "collective": "agreement (its Level-I rule over us, asean)",
        "spoke": "agreement (its Level-I rule over us, idn)",
    }


def _agreement_after_shift(loaded, side: str, shift: float, seed: int = 29) -> tuple[float, float, float]:
    """P(agreement) of the first deal with ``side``'s only bloc moved by ``shift``: (before, after, MCSE)."""
    from riskmodel.analyses.constituency import Constituency, shifted_worlds
    from riskmodel.results.mcse import mean_and_mcse
    from riskmodel.worlds.crn import baseline_of

    simulation = sample_worlds(loaded, n_worlds=N_WORLDS, n_replicates=20, seed=seed)
    base = baseline_of(simulation)
    layout = base.layout
    bloc = layout.blocs.index(f"{side}.m0")
    constituency = Constituency("bloc", bloc, layout.blocs[bloc], layout.sides.index(side))
    worlds = shifted_worlds(base, constituency, np.full((base.worlds.n_draws, 1), shift))
    deals = deal_parties(layout, [layout.deals[0]])
    before = party_outcomes(layout, base.worlds, deals)[-1, :, 0]
    after = party_outcomes(layout, worlds, deals)[-1, :, 0]
    mean, mcse = mean_and_mcse(after, axis=0, worlds=worlds)
    return float(before.mean()), float(mean), float(mcse)


def test_moving_a_bloc_with_its_own_fallback_against_the_analytic_gain() -> None:
    """The bloc weighs the deal (0.5) against its own fallback (0.2), not its side's (0.5)."""
    side = fixed_side("a", [0.5])
    side["chambers"][0]["blocs"][0].update(ideal={"x": 0.7}, valence=0.0, reversion={"x": 0.2})
    loaded = fixed_scenario([side], [{"name": "deal"}])
    before, after, mcse = _agreement_after_shift(loaded, "a", -0.2)
    gain = lambda ideal: -((0.5 - ideal) ** 2) + (0.2 - ideal) ** 2  # noqa: E731
    assert abs(before - stats.norm.cdf(gain(0.7))) <= 4 * mcse
    assert abs(after - stats.norm.cdf(gain(0.5))) <= 4 * mcse, (after, stats.norm.cdf(gain(0.5)))


def test_moving_a_bloc_moves_its_reversion_if_shift_too() -> None:
    """The later deal's fallback 0.1 (once the earlier deal holds) is weighed from the moved ideal."""
    first = fixed_side("vnm", [0.6])
    later = fixed_side("tha", [0.5], reversion=0.5)
    later["chambers"][0]["blocs"][0].update(ideal={"x": 0.7}, valence=0.0)
    later["reversion_if"] = [{"ratified": "us_vnm", "then": {"x": 0.1}}]
    deals = [{"name": "us_tha", "parties": ["tha"]}, {"name": "us_vnm", "parties": ["vnm"]}]
    _, after, mcse = _agreement_after_shift(fixed_scenario([first, later], deals), "tha", -0.2)
    ideal = 0.5
    default, sequel = (-((0.5 - ideal) ** 2) + (q - ideal) ** 2 for q in (0.5, 0.1))
    exact = 0.6 * stats.norm.cdf(sequel) + 0.4 * stats.norm.cdf(default)
    assert abs(after - exact) <= 4 * mcse, (after, exact)


def test_a_new_veto_player_in_a_scenario_with_multilateral_variables() -> None:
    """A veto player added to a side whose chamber has a common shock and whose bloc its own fallback."""
    a = fixed_side("a", [0.7], reversion=0.2)
    a["chambers"][0]["common_shock"] = 0.5
    a["chambers"][0]["blocs"][0]["reversion"] = {"x": 0.3}
    loaded = fixed_scenario(
        [a, fixed_side("b", [0.6])], [{"name": "ab"}, {"name": "b_only", "parties": ["b"]}]
    )
    simulation = sample_worlds(loaded, n_worlds=2_000, n_replicates=20, seed=31)
    shocks = parse_shocks(
        "shocks:\n"
        "  - {name: friend, kind: add_veto, side: a, player: friend, shock_scale: 0.001, ideal: {x: 0.5}}\n"
        "  - {name: foe, kind: add_veto, side: a, player: foe, shock_scale: 0.001, ideal: {x: 0.0}}\n",
        loaded,
        file="shocks.yaml",
    )
    stress = stress_test(simulation, shocks)
    agreement = stress.probability.sel(outcome="agreement")
    base = stress.baseline_probability.sel(outcome="agreement")
    # against a's fallback 0.2 the friend gains 0.09 from the deal and always signs; the foe loses 0.21
    np.testing.assert_array_equal(agreement.sel(shock="friend"), base)
    assert agreement.sel(shock="foe", deal="ab").item() == 0.0
    assert agreement.sel(shock="foe", deal="b_only").item() == base.sel(deal="b_only").item()
