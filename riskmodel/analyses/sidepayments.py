"""Side payments: the chief buys the cheapest missing votes, world by world.

For one deal, every member's net gain in every world is ``member_coef @ features + shock``; a
member votes for the deal iff it is positive. A member voting against can be bought for a
price set by a pluggable cost model of its *shortfall* (how far its net gain is below zero,
in utility units); by default the price is the shortfall itself. In each world, each vote's
price is the sum of the cheapest purchases that carry it (for a vote *for* the deal) or defeat
it (for a vote *against* the deal, such as a veto override); the side's price is the cheapest
way to make its procedure hold. Ratification with budget B is then "price ≤ B", so one array
of prices per world gives the whole curve of probability against budget and the budget needed
for any target probability.

Simplifications (documented in the results' attributes too):

- Referendum voters cannot be bought: a referendum counts as it falls in each world.
- Absent members cannot be bought (they do not vote).
- Purchases only move members toward the deal; a chief never buys votes against it.
- Votes are priced one at a time. In a conjunction (``all``) of votes, votes of the same chamber
  share purchases — the cheapest members first, so the sets bought are nested and the price is
  the largest of their prices — and votes of different chambers add up. Inside ``any`` the
  cheapest clause is taken; inside ``at_least k`` (k below the number of clauses) the k
  cheapest clauses are added, an upper bound when two of them are votes of one chamber.
- Budgets are in the model's utility units (unit-scale issues), one budget per chief.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.analyses.winset import resolve_deal
from riskmodel.engine import (
    count_yes,
    evaluate_procedure,
    member_gain,
    prepare,
    referendum_share,
    vote_outcomes,
)
from riskmodel.errors import RiskmodelError
from riskmodel.model.layout import Layout
from riskmodel.pipeline import Simulation
from riskmodel.worlds.arrays import AtLeast, Expression, Not, VoteRef, deal_features

__all__ = ["CostModel", "budget_needed", "linear_cost", "side_payments"]

CostModel = Callable[[npt.NDArray[np.float64], npt.NDArray[np.int64]], npt.NDArray[np.float64]]
"""``cost(shortfall (D, R, m), members (m,)) -> price (D, R, m)``: price of buying each member.

``shortfall`` ≥ 0 is how far the member's net gain is below zero; ``members`` are the
members' indices in ``layout.members`` (so a price may depend on the member or its bloc).
"""


def linear_cost(
    shortfall: npt.NDArray[np.float64], members: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """The default cost model: a member's price is its shortfall (utility units)."""
    return shortfall


def _vote_prices(
    gain: npt.NDArray[np.float64],
    chamber_members: npt.NDArray[np.int64],
    need: npt.NDArray[np.int64],
    cost_model: CostModel,
) -> npt.NDArray[np.float64]:
    """Price ``(D, R)`` of buying ``need`` (D, R) more members of a chamber toward the deal."""
    gains = gain[:, :, chamber_members]
    buyable = np.isfinite(gains) & (gains <= 0.0)
    price = np.asarray(cost_model(np.where(buyable, -gains, 0.0), chamber_members), dtype=np.float64)
    if price.shape != gains.shape:
        raise RiskmodelError(f"the cost model returned shape {price.shape}, expected {gains.shape}")
    price = np.sort(np.where(buyable, price, np.inf), axis=-1)
    total = np.concatenate([np.zeros((*price.shape[:2], 1)), np.cumsum(price, axis=-1)], axis=-1)
    index = np.minimum(need, price.shape[-1])[..., None]
    out = np.take_along_axis(total, index, axis=-1)[..., 0]
    return np.where(need > price.shape[-1], np.inf, out)


def _combine(
    expression: Expression,
    want: bool,
    pass_price: npt.NDArray[np.float64],
    fail_price: npt.NDArray[np.float64],
    chamber_of_vote: list[int],
) -> npt.NDArray[np.float64]:
    """Cheapest price ``(D, R)`` of making the expression evaluate to ``want``."""
    match expression:
        case VoteRef(vote=v):
            return pass_price[v] if want else fail_price[v]
        case Not(clause=clause):
            return _combine(clause, not want, pass_price, fail_price, chamber_of_vote)
        case AtLeast(k=k, clauses=clauses):
            n = len(clauses)
            needed = k if want else n - k + 1  # clauses that must go the wanted way
            shape = pass_price.shape[1:]
            if needed <= 0:
                return np.zeros(shape)
            if needed > n:
                return np.full(shape, np.inf)
            wanted: list[bool] = [want] * n
            if needed == n:
                return _conjunction(clauses, wanted, pass_price, fail_price, chamber_of_vote)
            prices = np.stack(
                [
                    _combine(c, w, pass_price, fail_price, chamber_of_vote)
                    for c, w in zip(clauses, wanted, strict=True)
                ]
            )
            return np.sort(prices, axis=0)[:needed].sum(axis=0)
    raise TypeError(f"not an expression: {expression!r}")


def _conjunction(
    clauses: tuple[Expression, ...],
    wanted: list[bool],
    pass_price: npt.NDArray[np.float64],
    fail_price: npt.NDArray[np.float64],
    chamber_of_vote: list[int],
) -> npt.NDArray[np.float64]:
    """Every clause must go the wanted way: same-chamber votes share purchases (max), others add."""
    by_chamber: dict[int, npt.NDArray[np.float64]] = {}
    total = np.zeros(pass_price.shape[1:])
    for clause, want in zip(clauses, wanted, strict=True):
        vote, polarity = clause, want
        while isinstance(vote, Not):
            vote, polarity = vote.clause, not polarity
        price = _combine(clause, want, pass_price, fail_price, chamber_of_vote)
        if isinstance(vote, VoteRef):
            chamber = chamber_of_vote[vote.vote]
            by_chamber[chamber] = np.maximum(by_chamber.get(chamber, 0.0), price)
        else:
            total = total + price
    for price in by_chamber.values():
        total = total + price
    return total


def side_payments(
    simulation: Simulation,
    deal: str | npt.ArrayLike | None = None,
    *,
    cost_model: CostModel = linear_cost,
    budgets: npt.ArrayLike | None = None,
    target: float = 0.9,
) -> xr.Dataset:
    """Price, in every world, the cheapest votes each chief must buy to ratify one deal.

    Parameters
    ----------
    simulation
        Sampled worlds.
    deal
        A named deal, deal values ``(K,)`` in issue units, or ``None`` for the first named deal.
    cost_model
        Price of a member from its shortfall (:data:`CostModel`); :func:`linear_cost` by default.
    budgets
        Budgets at which to report the probabilities; by default 41 points from 0 to the
        largest finite price needed.
    target
        Probability for which the budget needed is reported.

    Returns
    -------
    xarray.Dataset
        ``ratification_cost(side, world)`` and ``vote_cost(vote, world)`` (∞ when no purchase
        can do it), ``agreement_cost(world)`` (every chief pays with the same budget: the
        largest side price), ``ratification_probability(side, budget)``,
        ``agreement_probability(budget)``, ``agreement_probability_one_payer(side, budget)``
        (only that side's chief pays), ``budget_needed(side)``, ``budget_needed_agreement``,
        ``budget_needed_one_payer(side)`` (∞ when out of reach) and
        ``ratification_probability_unpaid(side)`` (the procedure on unbought votes).
    """
    layout = simulation.layout
    worlds = simulation.worlds
    if not 0.0 < target <= 1.0:
        raise RiskmodelError(f"target must be in (0, 1], got {target}")
    if deal is None or isinstance(deal, str):
        deal_name, values = resolve_deal(layout, deal)
    else:
        deal_name, values = "custom", np.asarray(deal, dtype=np.float64).reshape(-1)
        if values.shape != (len(layout.issues),):
            raise RiskmodelError(f"a deal needs {len(layout.issues)} values, got {values.shape[0]}")
    unit = layout.to_unit(values)[None]
    features = deal_features(unit, worlds.link_pairs)
    prepared = prepare(worlds)
    # the member's net gain with its shock, in the engine's float32: > 0 exactly when it votes yes
    gain = (member_gain(worlds, features, prepared=prepared)[:, 0, None, :] - prepared.neg_shocks).astype(
        np.float64
    )
    yes = count_yes(worlds, features, prepared=prepared)
    passed, _, margin = vote_outcomes(
        worlds, worlds.vote_rules, yes, referendum_share(worlds, unit, features)
    )
    passed, margin = passed[..., 0], margin[..., 0]
    n_votes = len(layout.votes)
    pass_price = np.where(passed, 0.0, np.inf)
    fail_price = np.where(passed, np.inf, 0.0)
    referendum = set(layout.referendum_chambers.tolist())
    for v, rule in enumerate(worlds.vote_rules):
        if rule.chamber in referendum:
            continue
        members = np.flatnonzero(layout.member_chamber == rule.chamber)
        if rule.polarity_for:  # buy the missing yes votes
            need = np.maximum(-np.rint(margin[v]), 0).astype(np.int64)
            pass_price[v] = _vote_prices(gain, members, need, cost_model)
        else:  # buy members voting against until the vote against the deal falls short
            need = np.where(passed[v], np.rint(margin[v]) + 1, 0).astype(np.int64)
            fail_price[v] = _vote_prices(gain, members, need, cost_model)
    chamber_of_vote = [rule.chamber for rule in worlds.vote_rules]
    side_cost = np.stack(
        [_combine(expr, True, pass_price, fail_price, chamber_of_vote) for expr in worlds.procedures]
    ).reshape(len(layout.sides), -1)
    unpaid = np.stack([evaluate_procedure(expr, passed) for expr in worlds.procedures]).reshape(
        len(layout.sides), -1
    )
    vote_cost = np.where(
        np.array([rule.polarity_for for rule in worlds.vote_rules])[:, None, None], pass_price, fail_price
    ).reshape(n_votes, -1)
    party = _parties(layout, deal_name)
    _one_vote_each(layout, party)
    # the agreement needs every party: each chief pays with the same budget, the largest party price
    agreement_cost = side_cost[party].max(axis=0)
    one_payer = np.stack(
        [
            np.where(
                np.delete(np.where(party[:, None], side_cost, 0.0), s, axis=0).max(axis=0, initial=0.0)
                == 0.0,
                side_cost[s],
                np.inf,
            )
            if party[s]
            else np.full(side_cost.shape[1], np.nan)
            for s in range(len(layout.sides))
        ]
    )
    if budgets is None:
        finite = side_cost[np.isfinite(side_cost)]
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        budget = np.linspace(0.0, top, 41)
    else:
        budget = np.sort(np.asarray(budgets, dtype=np.float64).reshape(-1))

    def within(cost: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return (cost[..., None] <= budget).mean(axis=-2)

    data = {
        "ratification_cost": (("side", "world"), side_cost),
        "agreement_cost": (("world",), agreement_cost),
        "vote_cost": (("vote", "world"), vote_cost),
        "ratification_probability": (("side", "budget"), within(side_cost)),
        "agreement_probability": (("budget",), within(agreement_cost)),
        "agreement_probability_one_payer": (("side", "budget"), within(one_payer)),
        "budget_needed": (("side",), budget_needed(side_cost, target)),
        "budget_needed_agreement": ((), budget_needed(agreement_cost, target)),
        "budget_needed_one_payer": (("side",), budget_needed(one_payer, target)),
        "ratification_probability_unpaid": (("side",), unpaid.mean(axis=-1)),
        "deal_value": (("issue",), values),
    }
    coords = {
        "side": layout.sides,
        "party": ("side", party),
        "vote": layout.votes,
        "budget": budget,
        "world": np.arange(worlds.n_worlds),
        "issue": layout.issues,
    }
    attrs = {
        "deal": deal_name,
        "target": target,
        "cost_model": getattr(cost_model, "__name__", type(cost_model).__name__),
        "budget_unit": "utility (net-gain) units on unit-scale issues",
        "n_worlds": worlds.n_worlds,
        "seed": -1 if simulation.seed is None else simulation.seed,
        "simplifications": (
            "referendum voters and absent members cannot be bought; purchases move members toward "
            "the deal only; same-chamber votes in a conjunction share purchases, other votes are "
            "priced separately and added"
        ),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _one_vote_each(layout: Layout, party: npt.NDArray[np.bool_]) -> None:
    """Refuse parties with weighted or abstaining chambers: prices buy one vote per member."""
    for c, chamber in enumerate(layout.chamber_specs):
        if not party[layout.chamber_side[c]]:
            continue
        in_chamber = layout.member_chamber == c
        weighted = layout.member_weight is not None and bool(np.any(layout.member_weight[in_chamber] != 1))
        if weighted or chamber.abstention is not None:
            raise RiskmodelError(
                f"side payments buy one vote per member: chamber '{layout.chambers[c]}' has vote weights "
                "or abstention and is not priced"
            )


def _parties(layout: Layout, deal: str) -> npt.NDArray[np.bool_]:
    """``(S,)`` the sides a named deal binds (every side for a custom deal).

    Prices combine per side; a deal whose agreement is a Level-I rule other than "all parties",
    or that binds a nested side, is refused rather than priced as if every side had to ratify.
    """
    spec = layout.scenario.spec
    if deal not in layout.deals:
        return np.ones(len(layout.sides), dtype=bool)
    index = layout.deals.index(deal)
    parties = layout.deal_parties[index]
    nested = {side.name for side in spec.sides if side.members is not None}
    if spec.deals[index].agreement is not None or spec.agreement is not None or nested & set(parties):
        raise RiskmodelError(
            f"side payments price deals that need all of their parties; '{deal}' has a Level-I "
            "agreement rule or a nested party"
        )
    return np.array([side in parties for side in layout.sides])


def budget_needed(cost: npt.ArrayLike, target: float) -> npt.NDArray[np.float64]:
    """Smallest budget B with P(price ≤ B) ≥ target over worlds (last axis); ∞ if out of reach."""
    prices = np.sort(np.asarray(cost, dtype=np.float64), axis=-1)
    n = prices.shape[-1]
    index = min(max(int(np.ceil(target * n - 1e-9)) - 1, 0), n - 1)
    return np.asarray(prices[..., index], dtype=np.float64)
