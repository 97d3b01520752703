"""Named deals with their parties: per-draw outcomes under each deal's own Level-I rule.

Sensitivity and stress tests compare modified worlds with the base ones, deal by deal. A deal
among a subset of sides (``deals[].parties``), with its own ``agreement:``, or evaluated after
the deals its sides' ``reversion_if`` entries wait for, is not "every side ratifies in these
worlds": its agreement is its own rule over its parties, and sides it does not bind are not
evaluated for it (docs/design.md, "Multilateral and nested games"). This module gives those
analyses the same per-draw outcomes the results hold, and the masks that set non-evaluated
sides to NaN.

A scenario that uses none of these keys takes :func:`riskmodel.results.perdraw.per_draw_outcomes`
unchanged, so its numbers stay bit for bit what they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.engine import KernelInput, evaluate_chunks, evaluate_in_order
from riskmodel.model.layout import Layout
from riskmodel.results.perdraw import per_draw_outcomes
from riskmodel.spec.multilateral import deal_order, evaluated_sides
from riskmodel.worlds.agreement import deal_agreements
from riskmodel.worlds.arrays import Expression, Worlds

__all__ = ["DealParties", "deal_parties", "mask_outcomes", "party_outcomes"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DealParties:
    """Some named deals of a layout, with the sides each evaluates and its Level-I rule.

    Attributes
    ----------
    names
        The deals, in the order of the analysis.
    index
        ``(N,)`` their positions among the layout's named deals.
    agreements
        One Level-I rule per deal (``None``: the scenario's default rule).
    evaluated
        ``(S, N)`` sides evaluated for each deal (its parties and their nested members).
    party
        ``(S, N)`` sides that are the deal's parties.
    """

    names: list[str]
    index: npt.NDArray[np.int64]
    agreements: list[Expression | None]
    evaluated: BoolArray
    party: BoolArray

    @property
    def restricted(self) -> bool:
        """Whether some deal leaves a side unevaluated (the results then carry ``party``)."""
        return not bool(self.evaluated.all())

    def outcome_mask(self) -> BoolArray:
        """``(S + 1, N)`` which outcomes (sides, then the agreement) each deal evaluates."""
        return np.concatenate([self.evaluated, np.ones((1, len(self.names)), dtype=bool)])

    def masked(self, values: FloatArray) -> FloatArray:
        """``values`` ``(..., S + 1, N)`` with outcomes a deal does not evaluate set to NaN."""
        return np.where(self.outcome_mask(), values, np.nan)


def deal_parties(layout: Layout, names: Sequence[str]) -> DealParties:
    """The parties, evaluated sides and Level-I rules of the named deals ``names``."""
    spec = layout.scenario.spec
    index = np.array([layout.deals.index(name) for name in names], dtype=np.int64)
    rules = deal_agreements(layout)
    evaluated = np.zeros((len(layout.sides), len(names)), dtype=bool)
    party = np.zeros_like(evaluated)
    for n, j in enumerate(index.tolist()):
        parties = layout.deal_parties[j]
        for name in evaluated_sides(spec, parties):
            evaluated[layout.sides.index(name), n] = True
        for name in parties:
            party[layout.sides.index(name), n] = True
    return DealParties(list(names), index, [rules[j] for j in index.tolist()], evaluated, party)


def party_outcomes(
    layout: Layout,
    worlds: Worlds,
    deals: DealParties,
    *,
    which: Sequence[int] | None = None,
    prepared: KernelInput | None = None,
) -> FloatArray:
    """Per-draw p_e ``(S + 1, D, n)`` of the deals (or of ``deals`` positions ``which``).

    Rows are the sides, in layout order, then the deal's agreement under its own rule. Every
    side's row is a number (the engine evaluates all of them in one pass); use
    :meth:`DealParties.masked` on whatever is reported. Deals whose sides' reversions depend on
    other deals are evaluated after those deals, in the same worlds, as in the results.
    ``prepared`` is the engine's kernel input for ``worlds`` when the caller has built it
    (not with ``reversion_if``, whose worlds change from deal to deal).
    """
    chosen = list(range(len(deals.names))) if which is None else list(which)
    values = layout.deal_values[deals.index[chosen]]
    plain = all(deals.agreements[n] is None for n in chosen)
    if prepared is not None and worlds.sequences:
        raise ValueError("worlds with reversion_if sequences are prepared by the engine, deal by deal")
    if plain and not worlds.sequences and prepared is None:
        return per_draw_outcomes(layout, worlds, values)
    if worlds.sequences:
        # a later deal's worlds depend on whether the earlier ones were agreed: run them all
        chunks = evaluate_in_order(
            worlds,
            layout.to_unit(layout.deal_values),
            deal_agreements(layout),
            deal_order(layout.scenario.spec),
        )
        columns = deals.index[chosen]
    else:
        # the chunks of per_draw_outcomes when the agreements are plain, and the same sums below
        chunks = evaluate_chunks(
            worlds,
            layout.to_unit(values),
            agreements=None if plain else [deals.agreements[n] for n in chosen],
            prepared=prepared,
        )
        columns = np.arange(len(chosen))
    n_deals = len(layout.deals) if worlds.sequences else len(chosen)
    n_sides = len(layout.sides)
    out = np.zeros((n_sides + 1, worlds.n_draws, n_deals))
    for chunk in chunks:
        part = chunk.deal_slice
        out[:n_sides, :, part] = chunk.side_ratified.sum(axis=2)
        out[n_sides, :, part] = chunk.agreed.sum(axis=1)
    return out[..., columns] / worlds.n_replicates


def mask_outcomes(
    result: xr.Dataset, deals: DealParties, variables: Sequence[str] | None = None
) -> xr.Dataset:
    """An analysis Dataset with ``variables`` NaN where a deal does not evaluate the side.

    ``variables`` have dims ``outcome`` (sides, then the agreement) and ``deal`` (by default,
    every data variable that has both); ``party`` and ``evaluated`` (side, deal) are added.
    """
    if variables is None:
        variables = [str(n) for n, v in result.data_vars.items() if {"outcome", "deal"} <= set(v.dims)]
    keep = xr.DataArray(deals.outcome_mask(), dims=("outcome", "deal"))
    for name in variables:
        result[name] = result[name].where(keep)
    sides = result["outcome"].to_numpy()[:-1].tolist()
    result["party"] = xr.DataArray(deals.party, dims=("side", "deal"), coords={"side": sides})
    result["evaluated"] = xr.DataArray(deals.evaluated, dims=("side", "deal"), coords={"side": sides})
    return result
