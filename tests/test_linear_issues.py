"""Linear issues (cues): known answers for the net gain, and the PyTensor graph against the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymc as pm
import pytest

from riskmodel.errors import ScenarioError
from riskmodel.inference.sampling import draw_prior
from riskmodel.model.gain_graph import member_net_gain
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.arrays import deal_features
from riskmodel.worlds.build import make_worlds
from riskmodel.worlds.gains import gain_coefficients

NO_LINKS = np.zeros((0, 2), dtype=np.int64)


def _gain(theta, w, q, x, linear):
    coef = gain_coefficients(np.asarray(theta), np.asarray(w), np.asarray(q), np.zeros(0), NO_LINKS, linear)
    return float(deal_features(np.asarray(x, dtype=float), NO_LINKS)[0] @ coef)


def test_a_linear_issue_weighs_the_cue_in_proportion_to_the_ideal() -> None:
    # unit scale: a cue of range [-1, 1] has its middle (no position announced) at 0.5
    w, linear = [1.0], np.array([True])
    for theta in (0.0, 0.25, 0.5, 0.8, 1.3):
        for x in (0.0, 0.5, 1.0):
            for q in (0.0, 0.5, 1.0):
                assert _gain([theta], w, [q], [x], linear) == pytest.approx(
                    2 * (theta - 0.5) * (x - q), abs=1e-15
                )
    # an indifferent actor (ideal in the middle) gains nothing from any cue
    assert _gain([0.5], w, [0.5], [1.0], linear) == 0.0
    assert _gain([0.5], w, [0.5], [0.0], linear) == 0.0


def test_a_linear_issue_keeps_the_quadratic_contrast_and_drops_its_constant() -> None:
    # between two deals the linear and the quadratic issue differ by nothing; against the
    # reversion the quadratic one adds −w·((x − ½)² − (q − ½)²): a cost for any announced cue
    rng = np.random.default_rng(11)
    for theta, w, q in zip(
        rng.uniform(-0.5, 1.5, 20), rng.uniform(0.1, 2.0, 20), rng.uniform(0, 1, 20), strict=True
    ):
        quadratic = [_gain([theta], [w], [q], [x], np.array([False])) for x in (0.0, 1.0)]
        linear = [_gain([theta], [w], [q], [x], np.array([True])) for x in (0.0, 1.0)]
        assert linear[1] - linear[0] == pytest.approx(quadratic[1] - quadratic[0], abs=1e-12)
        for x, lin, quad in zip((0.0, 1.0), linear, quadratic, strict=True):
            assert lin - quad == pytest.approx(w * ((x - 0.5) ** 2 - (q - 0.5) ** 2), abs=1e-12)


def test_quadratic_issues_are_unchanged_by_a_linear_neighbour() -> None:
    rng = np.random.default_rng(12)
    theta, w, q = rng.uniform(0, 1, (3, 4)), rng.dirichlet(np.ones(4), 3), rng.uniform(0, 1, 4)
    plain = gain_coefficients(theta, w, q, np.zeros(0), NO_LINKS)
    mixed = gain_coefficients(theta, w, q, np.zeros(0), NO_LINKS, np.array([False, True, False, False]))
    x = rng.uniform(0, 1, (6, 4))
    f = deal_features(x, NO_LINKS)
    only_cue = w[:, 1:2] * ((x[:, 1] - 0.5) ** 2 - (q[1] - 0.5) ** 2)[None, :]  # (3, 6)
    np.testing.assert_allclose(mixed @ f.T, plain @ f.T + only_cue, atol=1e-12)


@pytest.fixture
def cue_toy(toy_path: Path, tmp_path: Path) -> Path:
    """toy.yaml with ``labour`` a linear issue (its link removed: linear issues are never linked)."""
    text = toy_path.read_text()
    text = text.replace(
        "- {name: labour, label: Labour enforcement, unit: index, range: [0, 1]}",
        "- {name: labour, label: Labour enforcement, unit: index, range: [0, 1], shape: linear}",
    )
    text = text.replace(
        "links:\n  - {issues: [tariff, labour], interaction: {dist: uniform, lower: -0.3, upper: 0.3}}\n", ""
    )
    path = tmp_path / "cue_toy.yaml"
    path.write_text(text)
    return path


def test_layout_marks_linear_issues(cue_toy: Path) -> None:
    layout = build_layout(load_scenario(cue_toy))
    assert layout.issues == ["tariff", "labour"]
    np.testing.assert_array_equal(layout.issue_linear, [False, True])
    assert not len(layout.link_pairs)


@pytest.mark.slow
def test_net_gain_graph_matches_the_engine_with_a_linear_issue(cue_toy: Path) -> None:
    # the evidence likelihood (PyTensor) and the engine (NumPy coefficients) must agree on every
    # member's net gain, own, lobby, public and chief terms included
    layout = build_layout(load_scenario(cue_toy))
    assert layout.lobbies and layout.publics and layout.chiefs
    model = build_model(layout)
    members = np.arange(len(layout.members))
    deals = layout.to_unit(layout.deal_values)
    with model:
        for d, deal in enumerate(deals):
            pm.Deterministic(f"gain_{d}", member_net_gain(model, layout, deal, members), dims="member")
    draws = draw_prior(model, 40, seed=3)["prior"].to_dataset()
    worlds = make_worlds(layout, draws, n_replicates=1, seed=4)
    for d, deal in enumerate(deals):
        expected = worlds.member_coef @ deal_features(deal[None, :], layout.link_pairs)[0]
        np.testing.assert_allclose(
            draws[f"gain_{d}"].to_numpy().reshape(40, -1), expected, rtol=1e-8, atol=1e-10
        )


def test_a_link_on_a_linear_issue_is_a_one_line_error(toy_path: Path, tmp_path: Path) -> None:
    text = toy_path.read_text().replace(
        "- {name: labour, label: Labour enforcement, unit: index, range: [0, 1]}",
        "- {name: labour, label: Labour enforcement, unit: index, range: [0, 1], shape: linear}",
    )
    path = tmp_path / "linked_cue.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "labour is linear" in message and "\n" not in message and "linked_cue.yaml" in message
