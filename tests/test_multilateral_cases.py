"""The four multilateral bundled cases: they validate, agree with their fact sheets, run, and obey
the structure of their Level-I rules (a consensus is never likelier than any of its members)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from riskmodel.backtest.facts import Outcome, check_facts, facts_path, load_facts
from riskmodel.backtest.levelone import agreement_holds, deal_rule
from riskmodel.pipeline import run_scenario
from riskmodel.spec.scenario import LoadedScenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
CASES = ["asean_us_2025", "ceta_2016", "eu_ev_duties_2024", "us_china_2025"]
ASEAN = [
    "brunei",
    "cambodia",
    "indonesia",
    "laos",
    "malaysia",
    "myanmar",
    "philippines",
    "singapore",
    "thailand",
    "vietnam",
]


def _load(name: str) -> LoadedScenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


@pytest.mark.parametrize("name", CASES)
def test_case_validates_and_agrees_with_its_fact_sheet(name: str) -> None:
    loaded = _load(name)
    assert loaded.spec.name == name
    problems = check_facts(loaded, load_facts(facts_path(SCENARIOS / f"{name}.yaml")))
    assert problems == [], "\n".join(problems)


def test_asean_deals_bind_their_parties_and_the_collective_deal_all_ten() -> None:
    spec = _load("asean_us_2025").spec
    bilateral = {d.name: deal_rule(spec, d)[0] for d in spec.deals if d.name != "asean_collective"}
    assert len(bilateral) >= 5
    assert all(
        parties[0] == "us" and parties[1] in ASEAN and len(parties) == 2 for parties in bilateral.values()
    )
    asean = next(s for s in spec.sides if s.name == "asean")
    assert sorted(getattr(asean, "members", None) or []) == ASEAN
    # The collective deal needs every government: it fails if any one of them refuses.
    rule = {"all": ["us", "asean"]}
    assert deal_rule(spec, next(d for d in spec.deals if d.name == "asean_collective"))[1] == rule
    letters = {s.name: s.reversion["us_tariff"] for s in spec.sides if s.name in ASEAN}
    assert letters == {
        "brunei": 25,
        "cambodia": 36,
        "indonesia": 32,
        "laos": 40,
        "malaysia": 25,
        "myanmar": 40,
        "philippines": 20,
        "singapore": 10,
        "thailand": 36,
        "vietnam": 46,
    }


def _eu_rule() -> tuple[object, list[str], dict[str, float]]:
    spec = _load("eu_ev_duties_2024").spec
    parties, rule = deal_rule(spec, spec.deals[0])
    population = load_facts(facts_path(SCENARIOS / "eu_ev_duties_2024.yaml")).weights["population"].values
    return rule, parties, dict(population)


def test_eu_rule_blocks_only_with_fifteen_states_and_65_percent_of_the_population() -> None:
    rule, parties, population = _eu_rule()
    by_size = sorted(parties, key=lambda s: population[s], reverse=True)

    def passes(objecting: list[str]) -> bool:
        return agreement_holds(rule, set(parties) - set(objecting), set(parties))

    # The record of 4 October 2024: five objections (22.65% of the population) do not block.
    assert passes(["germany", "hungary", "malta", "slovakia", "slovenia"])
    # The 15 largest states hold far more than 65%: they block; the 14 largest are too few states.
    assert sum(population[s] for s in by_size[:15]) / sum(population.values()) > 0.65
    assert not passes(by_size[:15])
    assert passes(by_size[:14])
    # The 15 smallest are enough states but far too few people.
    assert passes(by_size[-15:])
    # Exactly at the population line: the largest states down to the first that crosses 65%, with
    # enough small states to make 15; one person fewer (the largest state swapped out) passes.
    total = sum(population.values())
    big = []
    for s in by_size:
        big.append(s)
        if sum(population[x] for x in big) >= 0.65 * total:
            break
    small = [s for s in reversed(by_size) if s not in big][: max(0, 15 - len(big))]
    assert not passes(big + small)
    assert passes(big[1:] + small + [s for s in reversed(by_size) if s not in big + small][:1])


def test_a_wrong_level_one_record_or_weight_is_caught() -> None:
    path = SCENARIOS / "eu_ev_duties_2024.yaml"
    loaded, facts = load_scenario(path), load_facts(facts_path(path))
    record = facts.level_one[0]
    flipped = facts.model_copy(update={"level_one": [record.model_copy(update={"passed": False})]})
    assert any(
        "the record passes, but the record says passed=False" in p for p in check_facts(loaded, flipped)
    )
    table = facts.weights["population"]
    wrong = table.model_copy(update={"values": {**table.values, "germany": 84000.0}})
    bad = facts.model_copy(update={"weights": {**facts.weights, "population": wrong}})
    assert (
        "weights.population: no weighted agreement clause of the scenario has these weights"
        in check_facts(loaded, bad)
    )
    missing = record.model_copy(update={"refused": record.refused[1:]})
    assert any(
        "the deal's parties are" in p
        for p in check_facts(loaded, facts.model_copy(update={"level_one": [missing]}))
    )


def test_an_outcome_for_a_side_that_is_not_a_party_is_caught() -> None:
    path = SCENARIOS / "asean_us_2025.yaml"
    loaded, facts = load_scenario(path), load_facts(facts_path(path))
    wrong = Outcome(side="laos", deal="us_vietnam", ratified=True, date="2025-11-01", source="eo_14326")
    problems = check_facts(loaded, facts.model_copy(update={"outcome": [wrong]}))
    assert problems == ["outcome[0]: side 'laos' is not a party of 'us_vietnam'"]


# ----------------------------------------------------------------------------- the cases run


@pytest.fixture(scope="module")
def runs() -> dict[str, xr.Dataset]:
    return {name: run_scenario(_load(name), n_worlds=4000, seed=17) for name in CASES}


def _p(results: xr.Dataset, side: str, deal: str) -> float:
    return float(results["ratification_probability"].sel(side=side, deal=deal))


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_case_runs_with_4000_worlds(runs: dict[str, xr.Dataset], name: str) -> None:
    results = runs[name]
    p = results["agreement_probability"].to_numpy()
    assert p.shape == (len(_load(name).spec.deals),)
    assert np.all((p >= 0) & (p <= 1))


@pytest.mark.slow
def test_asean_consensus_is_never_likelier_than_any_member(runs: dict[str, xr.Dataset]) -> None:
    results = runs["asean_us_2025"]
    # Every member and ASEAN are evaluated in the same worlds: the consensus holds only in worlds
    # where every member ratifies, so its share cannot exceed any member's share.
    asean = _p(results, "asean", "asean_collective")
    assert asean <= min(_p(results, m, "asean_collective") for m in ASEAN) + 1e-12
    assert (
        float(results["agreement_probability"].sel(deal="asean_collective"))
        <= min(asean, _p(results, "us", "asean_collective")) + 1e-12
    )
    # A bilateral deal evaluates its two parties only.
    for m in ASEAN:
        if m != "vietnam":
            assert np.isnan(_p(results, m, "us_vietnam"))
    assert np.isfinite(_p(results, "vietnam", "us_vietnam"))


@pytest.mark.slow
def test_ceta_three_levels_nest(runs: dict[str, xr.Dataset]) -> None:
    results = runs["ceta_2016"]
    for deal in ("ceta_jii", "ceta_belgian_declaration", "ceta_trade_only"):
        belgium = _p(results, "belgium", deal)
        assert (
            belgium
            <= min(_p(results, m, deal) for m in ("belgian_federal", "flanders", "wallonia", "brussels"))
            + 1e-12
        )
        assert _p(results, "eu", deal) <= min(belgium, _p(results, "other_states", deal)) + 1e-12
        agreement = float(results["agreement_probability"].sel(deal=deal))
        assert agreement <= min(_p(results, "eu", deal), _p(results, "canada", deal)) + 1e-12
