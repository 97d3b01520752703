"""Deal design re-checks its winner on fresh worlds, never on the worlds the search ran on.

The search picks the deal its own worlds favour most, so its probability there is optimistic;
the reported re-check must come from independent worlds (another seed stream) sampled by the
caller's ``Sampler``. On the toy scenario with 100 worlds (seed 7) the two estimates differ
(0.41 on the search's worlds, 0.34 on fresh ones), so a re-check that reuses the search worlds
changes the outcome, and ``_check_fresh`` below catches each way of reusing them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import riskmodel.analyses.linkage as linkage
from riskmodel.analyses.linkage import OptimisedDeal, fresh_simulation, optimise_deal
from riskmodel.pipeline import Sampler, Simulation, evaluate_deals, sample_worlds
from riskmodel.randomness import SeedLike
from riskmodel.spec.scenario import LoadedScenario, load_scenario

TOY = Path(__file__).parent / "fixtures" / "toy.yaml"
SEARCH_SEED = 7


def _resample(scenario: LoadedScenario, seed: SeedLike) -> Simulation:
    return sample_worlds(scenario, n_worlds=100, n_replicates=2, seed=seed)


class _Recorder:
    """A Sampler that records the seeds it is given and the simulations it returns."""

    def __init__(self) -> None:
        self.seeds: list[SeedLike] = []
        self.returned: list[Simulation] = []

    def __call__(self, scenario: LoadedScenario, seed: SeedLike, /) -> Simulation:
        self.seeds.append(seed)
        self.returned.append(_resample(scenario, seed))
        return self.returned[-1]


@pytest.fixture(scope="module")
def search() -> Simulation:
    return _resample(load_scenario(TOY), SEARCH_SEED)


def _probability(simulation: Simulation, deal: np.ndarray) -> float:
    result = evaluate_deals(simulation, deal[None], vote_detail=False, keep_conditional=False)
    return float(result["agreement_probability"][0])


def _same_worlds(a: Simulation, b: Simulation) -> bool:
    return np.array_equal(a.worlds.member_shock, b.worlds.member_shock) and np.array_equal(
        a.worlds.member_coef, b.worlds.member_coef
    )


def _check_fresh(search: Simulation, recorder: _Recorder, best: OptimisedDeal) -> None:
    """The re-check ran once, on worlds the sampler drew from a new seed stream, and used them."""
    assert len(recorder.returned) == 1, "the caller's sampler was not asked for fresh worlds"
    fresh = recorder.returned[0]
    assert not _same_worlds(fresh, search), "the fresh worlds are the search's worlds"
    assert not np.array_equal(fresh.worlds.present, search.worlds.present)
    assert best.probability == _probability(search, best.deal)
    assert best.fresh_probability == _probability(fresh, best.deal), "not re-checked on the fresh worlds"
    # this seeded case is one where the search's worlds flatter the winner
    assert best.fresh_probability != best.probability


def _optimise(search: Simulation, recorder: object) -> OptimisedDeal:
    return optimise_deal(search, fresh=recorder, grid=4, rounds=3)  # type: ignore[arg-type]


def test_the_winner_is_rechecked_on_fresh_worlds(search: Simulation) -> None:
    recorder = _Recorder()
    best = _optimise(search, recorder)
    _check_fresh(search, recorder, best)
    assert (best.probability, best.fresh_probability) == (0.41, 0.34)


def test_the_fresh_seed_is_a_distinct_reproducible_stream(search: Simulation) -> None:
    recorder = _Recorder()
    first = fresh_simulation(search, recorder)
    again = fresh_simulation(search, recorder)
    derived = recorder.seeds[0]
    assert isinstance(derived, np.random.SeedSequence)
    search_state = np.random.SeedSequence(SEARCH_SEED).generate_state(8)
    assert not np.array_equal(derived.generate_state(8), search_state)
    assert not _same_worlds(first, search)
    assert _same_worlds(first, again)  # same simulation, same fresh worlds
    explicit = fresh_simulation(search, recorder, 99)
    assert _same_worlds(explicit, _resample(search.layout.scenario, 99))


def test_a_sampler_that_returns_the_search_worlds_is_caught(search: Simulation) -> None:
    class Reusing(_Recorder):
        def __call__(self, scenario: LoadedScenario, seed: SeedLike, /) -> Simulation:
            self.seeds.append(seed)
            self.returned.append(search)
            return search

    recorder = Reusing()
    best = _optimise(search, recorder)
    assert best.fresh_probability == best.probability  # the planted reuse changes the outcome
    with pytest.raises(AssertionError, match="are the search's worlds"):
        _check_fresh(search, recorder, best)


def test_a_fresh_seed_equal_to_the_search_seed_is_caught(
    search: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A derivation that hands the sampler the search's own seed reproduces the search worlds."""

    def same_seed(simulation: Simulation, resample: Sampler, seed: SeedLike = None) -> Simulation:
        return resample(simulation.layout.scenario, simulation.seed)

    monkeypatch.setattr(linkage, "fresh_simulation", same_seed)
    recorder = _Recorder()
    best = _optimise(search, recorder)
    assert recorder.seeds == [SEARCH_SEED]
    assert best.fresh_probability == best.probability
    with pytest.raises(AssertionError, match="are the search's worlds"):
        _check_fresh(search, recorder, best)


def test_a_recheck_on_the_search_worlds_is_caught(
    search: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sampling fresh worlds but evaluating the winner on the search's worlds is caught too."""
    recorder = _Recorder()

    def sampled_but_unused(simulation: Simulation, resample: object, seed: SeedLike = None) -> Simulation:
        fresh_simulation(simulation, recorder, seed)
        return simulation

    monkeypatch.setattr(linkage, "fresh_simulation", sampled_but_unused)
    best = _optimise(search, recorder)
    assert best.fresh_probability == best.probability
    with pytest.raises(AssertionError, match="not re-checked on the fresh worlds"):
        _check_fresh(search, recorder, best)
