"""Condition a scenario's PyMC model on evidence: roll calls, declared positions, polls.

Everything is added inside ``with model:`` to the model :func:`riskmodel.model.priors.build_model`
built, as potentials and observed variables over its named deterministics:

* **roll calls** → a 2PL IRT (:mod:`riskmodel.model.irt`) whose linked members' ideology is
  ``bloc shift + ρ·member_z[:, issue] + √(1 − ρ²)·η``: the roll calls move ``member_z`` and
  through it ``member_ideal`` (issue position = loading × ideology + bloc offset);
* **ideology** → members' ideal points (e.g. from an IRT fit of their earlier roll calls), tied
  to one issue's standardised position with a learned correlation per bloc
  (:func:`riskmodel.model.spatial.ideology_loglik`): loading × ideal point + bloc offset;
* **earlier deals** → each member's recorded vote on a deal with known terms, through the
  engine's net gain (:mod:`riskmodel.model.spatial`);
* **declared positions** → for each member, P(yes) = Φ(Δ_i(deal) / shock scale) from the same
  net gain the engine uses, and a statement matches the vote with probability ``reliability``
  (``undecided`` is likelier the closer the member is to indifference: 4·p·(1 − p));
* **polls** → approve ~ Binomial(n / design effect, share), the share being the public's
  probability of preferring the deal to the reversion, as a referendum computes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from riskmodel.errors import ScenarioError, did_you_mean
from riskmodel.model import variables as mv
from riskmodel.model.gain_graph import member_net_gain, public_share
from riskmodel.model.irt import ideal_point_terms, vote_matrix
from riskmodel.model.layout import Layout
from riskmodel.model.priors import scalar_variable
from riskmodel.model.spatial import (
    IdeologyInput,
    deal_vote_gain,
    earlier_votes_loglik,
    ideology_inputs,
    ideology_loglik,
    member_deviation_gain,
    vote_common_shocks,
)
from riskmodel.spec.evidence import (
    DeclaredPositions,
    EarlierDeals,
    Evidence,
    IdeologyEvidence,
    Poll,
    RollCallEvidence,
)
from riskmodel.spec.priors import prior_support
from riskmodel.spec.rollcalls import RollCallDataError, read_clerk_member_votes, read_voteview_votes

__all__ = ["add_evidence", "check_evidence", "declared_loglik", "poll_loglik", "read_member_votes"]


def read_member_votes(path: str | Path) -> pd.DataFrame:
    """Member votes in either layout as ``vote_id, member_id, party, vote``."""
    header = pd.read_csv(path, nrows=0).columns
    if "cast_code" in header:
        votes = read_voteview_votes(path)
        return pd.DataFrame(
            {
                "vote_id": votes["chamber"].str[0]
                + votes["rollnumber"].astype(str)
                + "-"
                + votes["congress"].astype(str),
                "member_id": votes["icpsr"].astype(str),
                "party": "",
                "vote": votes["vote"],
            }
        )
    return read_clerk_member_votes(path)[["vote_id", "member_id", "party", "vote"]]


def check_evidence(layout: Layout, evidence: Evidence) -> None:
    """Check the names evidence refers to; raise a :class:`ScenarioError` naming the item."""
    file = str(layout.scenario.path or "<scenario>")
    sides = {spec.name: spec for spec in layout.side_specs}

    def fail(where: str, message: str) -> None:
        raise ScenarioError(message, file=file, location=f"evidence.{where}")

    Item = RollCallEvidence | IdeologyEvidence | EarlierDeals | DeclaredPositions | Poll
    groups: tuple[tuple[str, Sequence[Item]], ...] = (
        ("rollcalls", evidence.rollcalls),
        ("ideology", evidence.ideology),
        ("earlier_deals", evidence.earlier_deals),
        ("declared", evidence.declared),
        ("polls", evidence.polls),
    )
    for kind, items in groups:
        for k, item in enumerate(items):
            where = f"{kind}[{k}]"
            if item.side not in sides:
                fail(f"{where}.side", f"unknown side '{item.side}'{did_you_mean(item.side, sides)}")
            chambers = [c.name for c in sides[item.side].chambers]
            chamber = getattr(item, "chamber", None)
            if chamber is not None and chamber not in chambers:
                fail(f"{where}.chamber", f"unknown chamber '{chamber}'{did_you_mean(chamber, chambers)}")
            deal = getattr(item, "deal", None)
            if deal is not None and deal not in layout.deals:
                fail(f"{where}.deal", f"unknown deal '{deal}'{did_you_mean(deal, layout.deals)}")
            if isinstance(item, RollCallEvidence):
                _check_loaded_column(layout, item, item.member_key, f"{where}.member_key", where, fail)
            if isinstance(item, EarlierDeals):
                _check_earlier_deals(layout, item, where, fail)
            if isinstance(item, IdeologyEvidence):
                _check_ideology(layout, item, where, fail)
            if isinstance(item, DeclaredPositions):
                members = layout.member_index(item.side, item.chamber)
                for name in item.positions:
                    if name not in members:
                        fail(
                            f"{where}.positions.{name}",
                            f"unknown member '{name}'{did_you_mean(name, members)}",
                        )
            if isinstance(item, Poll) and item.side not in layout.publics:
                fail(f"{where}.side", f"side '{item.side}' declares no public to poll")


def _add_rollcalls(model: pm.Model, layout: Layout, item: RollCallEvidence, k: int) -> None:
    base = layout.scenario.path.parent if layout.scenario.path is not None else Path.cwd()
    try:
        votes = read_member_votes(base / item.votes)
    except RollCallDataError as exc:
        raise ScenarioError(str(exc), location=f"evidence.rollcalls[{k}].votes") from None
    matrix = vote_matrix(votes, anchor=item.anchor, min_minority=item.min_minority, min_votes=5)
    table = layout.scenario.member_tables[(item.side, item.chamber)]
    members = layout.member_index(item.side, item.chamber)
    key_to_member = {
        str(key): members[str(name)]
        for key, name in zip(table[item.member_key], table["name"], strict=True)
        if str(key)
    }
    rows = np.array([key_to_member.get(m, -1) for m in matrix.members])
    linked = rows >= 0
    issue = layout.issues.index(item.issue)
    prefix = f"rollcall{k}"
    with model:
        rho = scalar_variable(f"{prefix}_loading", item.loading)
        blocs = layout.member_bloc[rows[linked]]
        unique_blocs, bloc_pos = np.unique(blocs, return_inverse=True)
        shift = pm.Normal(f"{prefix}_bloc_shift", 0.0, 1.5, shape=len(unique_blocs))
        eta = pm.Normal(f"{prefix}_ideology_own", 0.0, 1.0, shape=len(rows))
        z = model[mv.MEMBER_Z][rows[linked], issue]
        raw = eta
        raw = pt.set_subtensor(
            raw[np.flatnonzero(linked)], shift[bloc_pos] + rho * z + pt.sqrt(1 - rho**2) * eta[linked]
        )
        _, loglik = ideal_point_terms(matrix, n_dims=item.dims, prefix=prefix, ideal_raw=raw)
        pm.Potential(f"{prefix}_loglik", loglik)


def _check_loaded_column(
    layout: Layout,
    item: RollCallEvidence | IdeologyEvidence,
    column: str,
    field: str,
    where: str,
    fail: Any,
) -> bool:
    """Check the issue, the loading's prior and the member-table column an item reads.

    Returns whether the column exists (``fail`` may collect errors rather than raise).
    """
    if item.issue not in layout.issues:
        fail(f"{where}.issue", f"unknown issue '{item.issue}'{did_you_mean(item.issue, layout.issues)}")
    lo, hi = prior_support(item.loading)
    if lo < -1 or hi > 1:
        fail(f"{where}.loading", "a loading is a correlation: its prior must lie in [-1, 1]")
    table = layout.scenario.member_tables.get((item.side, item.chamber))
    if table is None or column not in table.columns:
        columns = [] if table is None else list(table.columns)
        fail(
            field,
            f"the member table of {item.side}.{item.chamber} has no column '{column}'"
            f"{did_you_mean(column, columns)}",
        )
        return False
    return True


def _check_ideology(layout: Layout, item: IdeologyEvidence, where: str, fail: Any) -> None:
    if not _check_loaded_column(layout, item, item.column, f"{where}.column", where, fail):
        return
    table = layout.scenario.member_tables[(item.side, item.chamber)]
    cells = table[item.column].fillna("").astype(str).str.strip()
    bad = cells[(cells != "") & pd.to_numeric(cells, errors="coerce").isna()]
    if len(bad):
        row = int(bad.index[0])
        fail(
            f"{where}.column",
            f"member '{table['name'].iloc[row]}' has ideal point '{bad.iloc[0]}' in column "
            f"'{item.column}'; expected a number or a blank cell",
        )


def _add_ideology(model: pm.Model, data: IdeologyInput | None) -> None:
    # the loadings and the non-centred positions were built with the model
    # (:func:`riskmodel.model.priors.build_model`); what is left is the likelihood of the ideal
    # points of members whose position on the issue an earlier item already ties to theirs
    if data is None or not data.centred.any():
        return
    rows, k = data.centred, data.k
    with model:
        z = model[mv.MEMBER_Z][data.index[rows], data.issue]
        loading = model[f"ideology{k}_loading"][data.bloc[rows]]
        pm.Potential(f"ideology{k}_loglik", ideology_loglik(z, data.x[rows], loading))


def _check_earlier_deals(layout: Layout, item: EarlierDeals, where: str, fail: Any) -> None:
    table = layout.scenario.member_tables.get((item.side, item.chamber))
    if table is None or item.member_key not in table.columns:
        columns = [] if table is None else list(table.columns)
        fail(
            f"{where}.member_key",
            f"the member table of {item.side}.{item.chamber} has no column '{item.member_key}'"
            f"{did_you_mean(item.member_key, columns)}",
        )
    for j, deal in enumerate(item.deals):
        for part in ("deal", "reversion"):
            for issue in getattr(deal, part):
                if issue not in layout.issues:
                    fail(
                        f"{where}.deals[{j}].{part}.{issue}",
                        f"unknown issue '{issue}'{did_you_mean(issue, layout.issues)}",
                    )


def _add_earlier_deals(model: pm.Model, layout: Layout, item: EarlierDeals, k: int) -> None:
    base = layout.scenario.path.parent if layout.scenario.path is not None else Path.cwd()
    where = f"evidence.earlier_deals[{k}]"
    try:
        votes = read_member_votes(base / item.votes)
    except RollCallDataError as exc:
        raise ScenarioError(str(exc), location=f"{where}.votes") from None
    table = layout.scenario.member_tables[(item.side, item.chamber)]
    members = layout.member_index(item.side, item.chamber)
    key_to_member = {
        str(key): members[str(name)]
        for key, name in zip(table[item.member_key], table["name"], strict=True)
        if str(key)
    }
    side = layout.sides.index(item.side)
    by_vote = {str(v): rows for v, rows in votes.groupby("vote_id", sort=False)}
    points, reversions, yeas, members_of, vote_of = [], [], [], [], []
    with model:
        for j, earlier in enumerate(item.deals):
            if earlier.vote_id not in by_vote:
                raise ScenarioError(
                    f"vote '{earlier.vote_id}' is not in {item.votes}"
                    f"{did_you_mean(earlier.vote_id, by_vote)}",
                    file=str(layout.scenario.path or "<scenario>"),
                    location=f"{where}.deals[{j}].vote_id",
                )
            rows = by_vote[earlier.vote_id]
            member = rows["member_id"].astype(str).map(key_to_member)
            keep = member.notna().to_numpy() & rows["vote"].notna().to_numpy()
            if not keep.any():
                continue
            index = member.to_numpy()[keep].astype(np.int64)
            reversion = layout.reversion[side].copy()
            for issue, value in earlier.reversion.items():
                reversion[layout.issues.index(issue)] = value
            point = reversion.copy()
            for issue, value in earlier.deal.items():
                point[layout.issues.index(issue)] = value
            points.append(np.broadcast_to(layout.to_unit(point), (len(index), len(point))))
            reversions.append(np.broadcast_to(layout.to_unit(reversion), (len(index), len(point))))
            yeas.append(rows["vote"].to_numpy()[keep])
            members_of.append(index)
            vote_of.append(np.full(len(index), len(members_of) - 1))
        if not members_of:
            raise ScenarioError(
                f"no member of {item.side}.{item.chamber} has a recorded yea or nay in {item.votes} "
                f"(is member_key '{item.member_key}' the id the file uses?)",
                file=str(layout.scenario.path or "<scenario>"),
                location=f"{where}.member_key",
            )
        # every earlier vote's rows in one graph (a deal and a reversion per row)
        index = np.concatenate(members_of)
        unit = (np.concatenate(points), np.concatenate(reversions))
        gain = deal_vote_gain(model, layout, *unit, index)
        centre = gain - member_deviation_gain(model, layout, *unit, index)
        scale = model[mv.CHAMBER_SHOCK_SCALE][layout.member_chamber[index]]
        common = vote_common_shocks(
            model, layout, index, np.concatenate(vote_of), len(members_of), f"earlier{k}", centre
        )
        loglik = earlier_votes_loglik(gain + common, scale, np.concatenate(yeas))
        pm.Potential(f"earlier{k}_loglik", loglik)


def _add_declared(model: pm.Model, layout: Layout, item: DeclaredPositions, k: int) -> None:
    members = layout.member_index(item.side, item.chamber)
    names = list(item.positions)
    index = np.array([members[name] for name in names])
    said = np.array([item.positions[name] for name in names])
    deal = layout.deal_values[layout.deals.index(item.deal)]
    with model:
        reliability = scalar_variable(f"declared{k}_reliability", item.reliability)
        gain = member_net_gain(model, layout, layout.to_unit(deal), index)
        chamber = layout.member_chamber[index]
        scale = model[mv.CHAMBER_SHOCK_SCALE][chamber]
        p_yes = 0.5 * (1 + pt.erf(gain / (scale * np.sqrt(2.0))))
        pm.Potential(f"declared{k}_loglik", declared_loglik(p_yes, said, reliability))


def _add_poll(model: pm.Model, layout: Layout, item: Poll, k: int) -> None:
    deal = layout.to_unit(layout.deal_values[layout.deals.index(item.deal)])
    with model:
        noise = scalar_variable(f"poll{k}_noise", item.noise)
        share = public_share(model, layout, deal, layout.publics.index(item.side), noise)
        pm.Deterministic(f"poll{k}_share", share)
        n = item.sample_size / item.design_effect
        pm.Potential(f"poll{k}_loglik", poll_loglik(share, item.approve / item.design_effect, n))


def declared_loglik(p_yes: Any, said: npt.ArrayLike, reliability: Any) -> Any:
    """Log-likelihood of stated positions given each member's probability of voting yes.

    A ``yes`` (``no``) matches the eventual vote with probability ``reliability``:
    P(say yes) = r·p + (1 − r)(1 − p). ``undecided`` has likelihood 4·p·(1 − p): it says the
    member is near indifference, not which way they lean.
    """
    said = np.asarray(said)
    p_yes = pt.clip(p_yes, 1e-9, 1 - 1e-9)
    like = pt.switch(
        said == "yes",
        reliability * p_yes + (1 - reliability) * (1 - p_yes),
        pt.switch(
            said == "no", reliability * (1 - p_yes) + (1 - reliability) * p_yes, 4 * p_yes * (1 - p_yes)
        ),
    )
    return pt.sum(pt.log(like))


def poll_loglik(share: Any, approve: float, sample_size: float) -> Any:
    """Binomial log-likelihood (up to a constant) of ``approve`` of ``sample_size`` approving."""
    return approve * pt.log(share) + (sample_size - approve) * pt.log1p(-share)


def add_evidence(model: pm.Model, layout: Layout, evidence: Evidence) -> pm.Model:
    """Attach every evidence item to the scenario's model (in place) and return it."""
    check_evidence(layout, evidence)
    for k, rollcalls in enumerate(evidence.rollcalls):
        _add_rollcalls(model, layout, rollcalls, k)
    for data in ideology_inputs(layout):
        _add_ideology(model, data)
    for k, earlier in enumerate(evidence.earlier_deals):
        _add_earlier_deals(model, layout, earlier, k)
    for k, declared in enumerate(evidence.declared):
        _add_declared(model, layout, declared, k)
    for k, poll in enumerate(evidence.polls):
        _add_poll(model, layout, poll, k)
    return model
