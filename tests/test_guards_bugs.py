"""Known-answer tests for behaviours a plausible one-line bug would break (each states the behaviour)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hostile import TOY

from riskmodel import resultsfile
from riskmodel.backtest.facts import VoteFacts, rule_passes
from riskmodel.backtest.scoring import apre, expected_calibration_error
from riskmodel.engine.sweep_kernels import sweep_counts
from riskmodel.engine.votes import needed_votes
from riskmodel.inference.sampling import convergence_gate
from riskmodel.report.diagnostics import diagnostics
from riskmodel.worlds.arrays import VoteRule

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------------------ the convergence gate


def _chains_with_rhat(
    target: float, *, chains: int = 40, n_draws: int = 500, seed: int = 3
) -> tuple[np.ndarray, float]:
    """Well-mixed chains whose means differ just enough for a rank-normalised R-hat ≈ ``target``.

    Many chains keep the bulk and tail ESS above the gate's 400, so R-hat alone decides.
    """
    import arviz_stats as azs

    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(chains, n_draws))
    spread = rng.normal(size=(chains, 1))
    spread = (spread - spread.mean()) / spread.std()

    def rhat_of(scale: float) -> float:
        data = xr.Dataset({"t": (("chain", "draw"), noise + scale * spread)})
        return float(azs.rhat(data, method="rank")["t"])

    lo, hi = 0.0, 1.0
    for _ in range(50):  # bisection on the spread of the chains' means
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rhat_of(mid) < target else (lo, mid)
    return noise + hi * spread, rhat_of(hi)


def _fit(values: np.ndarray) -> xr.DataTree:
    posterior = xr.Dataset({"theta": (("chain", "draw"), values)})
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros(values.shape, dtype=bool))})
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def test_the_gate_fails_a_fit_at_rhat_1_03_and_for_that_reason_alone() -> None:
    values, rhat = _chains_with_rhat(1.03)
    assert 1.025 < rhat < 1.035
    gate = convergence_gate(_fit(values))
    assert not gate.passed
    assert gate.status.startswith("failed") and "R-hat" in gate.status and "ESS" not in gate.status
    assert gate.min_ess_bulk >= 400 and gate.min_ess_tail >= 400


def test_the_gate_passes_well_mixed_chains() -> None:
    values, rhat = _chains_with_rhat(1.004)
    assert rhat < 1.006
    assert convergence_gate(_fit(values)).passed


def test_one_gate_limit_for_the_sampler_and_the_report() -> None:
    import riskmodel.inference.sampling as sampling
    import riskmodel.report.diagnostics as report_diagnostics

    assert sampling.RHAT_MAX == report_diagnostics.RHAT_MAX == resultsfile.RHAT_MAX == 1.01
    assert sampling.ESS_MIN == report_diagnostics.ESS_MIN == resultsfile.ESS_MIN == 400


def test_the_report_fails_results_whose_draws_have_rhat_1_03() -> None:
    values, _ = _chains_with_rhat(1.03)
    probabilities = 1 / (1 + np.exp(-values.reshape(-1)))  # p_e per draw, chains one after the other
    results = xr.Dataset(
        {
            "ratification_conditional": (("side", "deal", "draw"), probabilities[None, None, :]),
            "ratification_mcse": (("side", "deal"), [[0.01]]),
            "agreement_mcse": (("deal",), [0.01]),
        },
        coords={"side": ["home"], "deal": ["d"], "draw": np.arange(probabilities.size)},
        attrs={"evidence": "posterior", "chains": values.shape[0], "n_draws": probabilities.size},
    )
    verdict = diagnostics(results)
    assert verdict["verdict"] == "fail", verdict
    assert "R-hat" in verdict["verdict_reason"] and "ESS" not in verdict["verdict_reason"]


# ------------------------------------------------------------------------------ scoring


def test_apre_counts_a_forecast_of_exactly_one_half_as_yea() -> None:
    # two yeas forecast at 0.5 are right (ties count as yea), so no errors: APRE 1
    assert apre([0.5, 0.5, 0.1], [1, 1, 0]) == 1.0
    # a nay forecast at 0.5 is an error: minority 1, errors 1, APRE 0
    assert apre([0.5, 0.9, 0.9], [0, 1, 1]) == 0.0


def test_ece_keeps_forecasts_of_exactly_one() -> None:
    # two certain forecasts that were wrong: the top bin holds them with error 1
    assert expected_calibration_error([1.0, 1.0, 0.05], [0, 0, 0]) == pytest.approx(
        2 / 3 * 1.0 + 1 / 3 * 0.05
    )
    assert expected_calibration_error([1.0, 1.0], [1, 1]) == 0.0
    assert expected_calibration_error([0.0, 1.0], [1, 0]) == 1.0


# ------------------------------------------------------------------------------ vote arithmetic


def _rule(fraction: Fraction | None, *, strict: bool = False, count: int | None = None) -> VoteRule:
    return VoteRule(
        chamber=0,
        fraction=fraction,
        strict=strict,
        count=count,
        relative_to_seats=False,
        polarity_for=True,
        ties_pass=False,
    )


@pytest.mark.parametrize(
    "rule",
    [
        _rule(Fraction(1, 2), strict=True),
        _rule(Fraction(2, 3)),
        _rule(Fraction(3, 5)),
        _rule(Fraction(1, 100)),
    ],
    ids=["majority", "two_thirds", "three_fifths", "one_percent"],
)
def test_a_chamber_with_everyone_absent_cannot_pass(rule: VoteRule) -> None:
    """With nobody voting the base is 0; one vote is still needed, and nobody cast it."""
    needed = needed_votes(rule, np.array([0, 0]))
    assert (needed >= 1).all()
    assert not (np.array([0, 0]) >= needed).any()


@pytest.mark.parametrize(
    ("threshold", "yea", "nay", "passes"),
    [
        ("two_thirds", 66, 33, True),  # exactly two thirds of 99
        ("two_thirds", 65, 34, False),
        ("two_thirds", 290, 145, True),  # exactly 2/3 of 435
        ("two_thirds", 289, 146, False),
        ("three_fifths", 60, 40, True),  # exactly three fifths of 100
        ("three_fifths", 59, 41, False),
        ("three_fifths", 3, 2, True),
        ("majority", 50, 50, False),  # a tie fails
        ("majority", 51, 50, True),
        ("unanimity", 10, 0, True),
        ("unanimity", 10, 1, False),
    ],
)
def test_fact_sheet_arithmetic_at_exact_boundaries(threshold: str, yea: int, nay: int, passes: bool) -> None:
    facts = VoteFacts(threshold=threshold, rule="cited rule", source="test")
    assert rule_passes(facts, yea, nay) is passes


def test_three_fifths_of_all_seats_needs_sixty_senators_whoever_votes() -> None:
    facts = VoteFacts(threshold="three_fifths", relative_to="seats", rule="cloture", source="test")
    assert rule_passes(facts, 60, 0, seats=100)
    assert not rule_passes(facts, 59, 0, seats=100)


# ------------------------------------------------------------------------------ the win-set sweep


@pytest.mark.parametrize(
    ("a", "b", "c"),
    [
        (-1e-12, 1.0, -0.5000037),  # concave, vertex far off the grid: yes for u > ~0.5
        (1e-12, -1.0, 0.5000037),  # convex: yes for u < ~0.5
        (-1e-12, -1.0, 0.5000037),
        (1e-12, 1.0, -0.5000037),
        (-1e-9, 1.0, -0.2500013),
        (4.0, -4.0, 0.9999123),  # convex with two roots on the grid
        (-4.0, 4.0, -0.9999123),  # concave, vertex on the grid
    ],
)
def test_sweep_run_ends_match_brute_force_where_naive_roots_cancel(a: float, b: float, c: float) -> None:
    """Yes exactly where a·u² + b·u + c > 0, column by column, even when b² ≫ 4ac."""
    width = 200_001
    du = 1.0 / (width - 1)
    poly = np.zeros((1, 1, 6))
    poly[0, 0, [0, 1, 5]] = a, b, c  # coefficients of u², u and 1 (v = 0)
    counts = sweep_counts(
        poly, np.zeros((1, 1, 1)), np.zeros(1, dtype=np.int64), 1, 0.0, du, 0, width, np.zeros(1)
    )
    u = np.arange(width) * du
    expected = (a * u * u + b * u + c) > 0
    got = counts[0, 0, :, 0] == 1
    assert int((got != expected).sum()) == 0, np.nonzero(got != expected)[0][:10]


# ------------------------------------------------------------------------------ elicitation


_ELICIT = """
import json, sys
from riskmodel.spec.priors import to_scipy
from riskmodel.spec.scenario import load_scenario
spec = load_scenario(sys.argv[1]).spec
prior = spec.sides[0].chambers[0].shock_scale
dist = to_scipy(prior)
print(json.dumps({"mass": float(dist.cdf(0.2) - dist.cdf(0.05)), "mean": float(dist.mean())}))
"""


def test_elicited_priors_fit_from_an_empty_cache_and_read_back_the_same(tmp_path: Path) -> None:
    """The toy's shock scale: 90% between 0.05 and 0.2, fitted afresh in a cache of our own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _ELICIT, str(TOY)], env=env, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout))
    assert any((tmp_path / "cache").rglob("*")), "the fit was not cached"
    assert runs[0]["mass"] == pytest.approx(0.9, abs=0.01)
    assert runs[0] == runs[1]  # from the cache: the same prior


# ------------------------------------------------------------------------------ stress shift signs


@pytest.fixture(scope="module")
def toy_baseline():
    from riskmodel.pipeline import sample_worlds
    from riskmodel.spec.scenario import load_scenario
    from riskmodel.worlds.crn import baseline_of

    loaded = load_scenario(TOY)
    return loaded, baseline_of(sample_worlds(loaded, n_worlds=40, n_replicates=4, seed=5))


@pytest.mark.parametrize("by", [3.0, -3.0])
def test_a_shift_bloc_shock_moves_the_bloc_by_its_signed_amount(toy_baseline, by: float) -> None:
    from riskmodel.analyses.stress import apply_preferences
    from riskmodel.model import variables as mv
    from riskmodel.spec.shockcheck import parse_shocks
    from riskmodel.worlds.crn import flat_draws

    loaded, base = toy_baseline
    text = f"shocks:\n  - {{name: s, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: {by}}}\n"
    (shock,) = parse_shocks(text, loaded).spec.shocks
    draws, _ = apply_preferences(base, [shock])
    layout = base.layout
    bloc, issue = layout.blocs.index("home.left"), layout.issues.index("tariff")
    moved = (
        flat_draws(draws, mv.BLOC_IDEAL)[:, bloc, issue]
        - flat_draws(base.draws, mv.BLOC_IDEAL)[:, bloc, issue]
    )
    np.testing.assert_allclose(moved, by)
    members = layout.member_bloc == bloc
    moved = (
        flat_draws(draws, mv.MEMBER_IDEAL)[:, members, issue]
        - flat_draws(base.draws, mv.MEMBER_IDEAL)[:, members, issue]
    )
    np.testing.assert_allclose(moved, by)


@pytest.mark.parametrize("by", [3.0, -3.0])
def test_the_fast_shift_path_agrees_with_rebuilding_the_worlds(toy_baseline, by: float) -> None:
    """Pure shifts take an affine shortcut; with another shock the worlds are rebuilt from draws."""
    from riskmodel.analyses.stress import apply_shocks
    from riskmodel.spec.shockcheck import parse_shocks

    loaded, base = toy_baseline
    text = (
        "shocks:\n"
        f"  - {{name: s, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: {by}}}\n"
        "  - {name: same, kind: scale_lobby, side: home, lobby: unions, factor: 1.0}\n"
    )
    shift, neutral = parse_shocks(text, loaded).spec.shocks
    fast = apply_shocks(base, [shift], seed=0)[1]
    rebuilt = apply_shocks(base, [shift, neutral], seed=0)[1]
    np.testing.assert_allclose(fast.member_coef, rebuilt.member_coef, rtol=1e-9, atol=1e-9)
    assert not np.allclose(fast.member_coef, base.worlds.member_coef)
