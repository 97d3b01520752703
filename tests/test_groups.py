"""Member groups (``groups:`` on a chamber): members of one state share a shift of their ideal points,
and a member with no votes of its own borrows from its state as well as its party."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.errors import ScenarioError
from riskmodel.inference.sampling import draw_prior, sample_posterior
from riskmodel.model import variables as mv
from riskmodel.model.evidence import add_evidence
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.spec.scenario import load_scenario

SCENARIO = """
name: groups_demo
issues:
  - {{name: opening, unit: share, range: [0, 1]}}
  - {{name: labour, unit: index, range: [0, 4]}}
deals:
  - {{name: fta, values: {{opening: 1, labour: 2}}}}
sides:
  - name: us
    reversion: {{opening: 0, labour: 0}}
    chambers:
      - name: house
        members: members.csv
        shock_scale: 0.1
        {groups}
        blocs:
          - name: party
            ideal: {{opening: {{dist: normal, mu: 0.5, sigma: 0.1}}, labour: 1.0}}
            spread: {{opening: {spread}, labour: 0.0}}
    votes:
      - {{name: passage, chamber: house}}
{evidence}
"""
GROUPS = "groups: {column: state, spread: {opening: {dist: half_normal, sigma: 0.3}}}"
# veterans of states A and B vote on the earlier deals; the newcomers (no earlier vote) are
# one in A, one in B, one in C (a state with no veteran) and one with no state at all
VETERANS = {"A": 6, "B": 6}
NEWCOMERS = [("newA", "A"), ("newB", "B"), ("newC", "C"), ("nostate", "")]
EARLIER = [1.0, 0.8, 0.9, 1.0]  # opening of four earlier deals against the status quo


def _members() -> pd.DataFrame:
    rows = [(f"{s}{i}", s) for s, n in VETERANS.items() for i in range(n)] + NEWCOMERS
    return pd.DataFrame({"name": [r[0] for r in rows], "bloc": "party", "state": [r[1] for r in rows]})


def _write(tmp_path: Path, *, groups: str = GROUPS, spread: str = "0.0", evidence: str = "") -> Path:
    _members().assign(key=lambda t: t["name"]).to_csv(tmp_path / "members.csv", index=False)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(groups=groups, spread=spread, evidence=evidence))
    return path


def test_layout_groups_members_by_their_state(tmp_path: Path) -> None:
    layout = build_layout(load_scenario(_write(tmp_path)))
    assert layout.groups == ("us.house.A", "us.house.B", "us.house.C")
    group = dict(zip((m.rsplit(".", 1)[-1] for m in layout.members), layout.member_group, strict=True))
    assert group["A0"] == group["newA"] == 0 and group["B5"] == group["newB"] == 1
    assert group["newC"] == 2 and group["nostate"] == -1


def test_members_of_a_state_share_its_shift_a_priori(tmp_path: Path) -> None:
    layout = build_layout(load_scenario(_write(tmp_path)))
    prior = draw_prior(build_model(layout), 2000, seed=5)["prior"].to_dataset()
    ideal = prior[mv.MEMBER_IDEAL].to_numpy()[0]  # (draw, member, issue)
    bloc = prior[mv.BLOC_IDEAL].to_numpy()[0][:, 0]  # (draw, issue)
    shift = prior[mv.GROUP_SHIFT].to_numpy()[0]  # (draw, group, issue)
    index = {m.rsplit(".", 1)[-1]: k for k, m in enumerate(layout.members)}
    # the bloc's spread is 0: a member's position is the bloc's plus its state's shift, exactly
    np.testing.assert_allclose(ideal[:, index["newA"], 0], bloc[:, 0] + shift[:, 0, 0], atol=1e-12)
    np.testing.assert_array_equal(ideal[:, index["A3"]], ideal[:, index["newA"]])
    np.testing.assert_array_equal(ideal[:, index["nostate"]], bloc)
    # only the issue with a spread moves; the shift's variance is E[σ²] = 0.3² for σ ~ HN(0.3)
    assert np.all(shift[:, :, 1] == 0.0)
    assert shift[:, :, 0].var() == pytest.approx(0.09, rel=0.15)


def test_groups_are_checked_against_the_member_table(tmp_path: Path) -> None:
    path = _write(tmp_path, groups="groups: {column: district, spread: {opening: 0.2}}")
    with pytest.raises(ScenarioError, match=r"missing column 'district'") as info:
        load_scenario(path)
    assert "members.csv" in str(info.value) and "\n" not in str(info.value)
    path = _write(tmp_path, groups="groups: {column: state, spread: {openness: 0.2}}")
    with pytest.raises(ScenarioError, match=r"unknown issue 'openness'.*did you mean 'opening'"):
        load_scenario(path)
    path = _write(tmp_path, groups="groups: {column: state, spread: {opening: -0.2}}")
    with pytest.raises(ScenarioError, match=r"a spread must lie in"):
        load_scenario(path)


EVIDENCE = """
evidence:
  draws: 500
  tune: 500
  earlier_deals:
    - side: us
      chamber: house
      votes: votes.csv
      member_key: key
      deals:
{deals}
"""


@pytest.mark.slow
def test_a_newcomer_borrows_from_the_veterans_of_its_state(tmp_path: Path) -> None:
    # A's veterans voted for every earlier deal, B's against: the posterior puts A's shift above
    # B's, so A's newcomer stands above B's; C's newcomer and the member with no state keep the
    # party's position
    rows = [
        (f"v{k}", f"{state}{i}", "X", state, "Yea" if state == "A" else "Nay")
        for k in range(len(EARLIER))
        for state, n in VETERANS.items()
        for i in range(n)
    ]
    pd.DataFrame(rows, columns=["vote_id", "member_id", "party", "state", "position"]).to_csv(
        tmp_path / "votes.csv", index=False
    )
    deals = "\n".join(
        f"        - {{vote_id: v{k}, deal: {{opening: {x}, labour: 0}}}}" for k, x in enumerate(EARLIER)
    )
    path = _write(tmp_path, spread="0.05", evidence=EVIDENCE.format(deals=deals))
    scenario = load_scenario(path)
    layout = build_layout(scenario)
    assert scenario.spec.evidence is not None
    model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sample_posterior(model, draws=500, tune=500, chains=2, var_names=[mv.MEMBER_IDEAL], seed=7)
    ideal = fit["posterior"][mv.MEMBER_IDEAL].to_numpy()[..., 0].reshape(-1, len(layout.members))
    index = {m.rsplit(".", 1)[-1]: k for k, m in enumerate(layout.members)}
    mean = {name: ideal[:, index[name]].mean() for name in ("newA", "newB", "newC", "nostate")}
    # an earlier deal at opening x passes a member's own test when its position exceeds x/2
    assert mean["newA"] > 0.55 > 0.45 > mean["newB"], mean
    assert mean["newA"] - mean["newB"] > 0.2, mean
    assert mean["newC"] == pytest.approx(mean["nostate"], abs=0.06), mean
    assert mean["newB"] < mean["newC"] < mean["newA"], mean
