"""Compile Level-I agreement rules and nested sides into engine expressions over side outcomes.

The expressions reuse the procedure algebra (:mod:`riskmodel.worlds.arrays`): a
:class:`~riskmodel.worlds.arrays.VoteRef` here indexes a side, not a vote, and is evaluated on the
``(S, ...)`` array of sides' ratification outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from riskmodel.model.layout import Layout
from riskmodel.spec.multilateral import evaluated_sides, nested_order, top_level_sides
from riskmodel.spec.multischema import (
    Agreement,
    AgreementAll,
    AgreementAny,
    AgreementAtLeast,
    AgreementNot,
    Weighted,
)
from riskmodel.worlds.arrays import All, AtLeast, Expression, Not, VoteRef, WeightedCount

__all__ = ["compile_agreement", "deal_agreements", "deal_rule", "default_agreement", "nested_rules"]


def compile_agreement(rule: Agreement, sides: Mapping[str, int], parties: Sequence[str]) -> Expression:
    """Compile a validated rule; a ``weighted`` clause counts only the sides in ``parties``."""
    match rule:
        case str():
            return VoteRef(sides[rule])
        case AgreementAll(all=items):
            return All(*(compile_agreement(item, sides, parties) for item in items))
        case AgreementAny(any=items):
            return AtLeast(1, tuple(compile_agreement(item, sides, parties) for item in items))
        case AgreementNot(not_=item):
            return Not(compile_agreement(item, sides, parties))
        case AgreementAtLeast(at_least=spec):
            return AtLeast(spec.k, tuple(compile_agreement(item, sides, parties) for item in spec.of))
        case Weighted(weighted=spec):
            clauses = tuple(
                (VoteRef(sides[name]), float(w)) for name, w in spec.weights.items() if name in parties
            )
            share = not isinstance(spec.threshold, int)
            return WeightedCount(clauses, float(spec.threshold), share, spec.polarity == "for")
    raise TypeError(f"not an agreement rule: {rule!r}")


def _side_index(layout: Layout) -> dict[str, int]:
    return {name: s for s, name in enumerate(layout.sides)}


def default_agreement(layout: Layout) -> Expression | None:
    """The rule of a deal with no ``parties`` or ``agreement`` of its own.

    ``None`` (every side must ratify, the engine's fast path) when the scenario has neither a
    top-level agreement nor nested sides, so such scenarios run exactly as they always did.
    """
    spec = layout.scenario.spec
    top = top_level_sides(spec)
    if spec.agreement is not None:
        return compile_agreement(spec.agreement, _side_index(layout), top)
    if len(top) == len(layout.sides):
        return None
    return All(*(VoteRef(_side_index(layout)[name]) for name in top))


def deal_agreements(layout: Layout) -> list[Expression | None]:
    """One rule per named deal (``None`` where the default rule applies unchanged)."""
    spec = layout.scenario.spec
    sides = _side_index(layout)
    out: list[Expression | None] = []
    for deal, parties in zip(spec.deals, layout.deal_parties, strict=True):
        if deal.agreement is not None:
            out.append(compile_agreement(deal.agreement, sides, parties))
        elif deal.parties is None:
            out.append(None)
        elif spec.agreement is not None:
            out.append(compile_agreement(spec.agreement, sides, parties))
        else:
            out.append(All(*(VoteRef(sides[name]) for name in parties)))
    return out


def nested_rules(layout: Layout) -> tuple[tuple[int, Expression], ...]:
    """``(side, rule over its members)`` for every nested side, members before their union."""
    spec = layout.scenario.spec
    sides = _side_index(layout)
    by_name = {side.name: side for side in spec.sides}
    out = []
    for name in nested_order(spec):
        side = by_name[name]
        members = list(side.members or [])
        rule = (
            compile_agreement(side.agreement, sides, members)
            if side.agreement is not None
            else All(*(VoteRef(sides[m]) for m in members))
        )
        out.append((sides[name], rule))
    return tuple(out)


def deal_rule(layout: Layout, deal: str) -> tuple[Expression | None, set[str] | None]:
    """The Level-I rule and the evaluated sides of a named deal, for grids around it.

    ``(None, None)`` when the deal binds every side under the default rule.
    """
    if deal not in layout.deals:
        return None, None
    index = layout.deals.index(deal)
    parties = layout.deal_parties[index]
    rule = deal_agreements(layout)[index]
    if len(parties) == len(layout.sides) and rule is None:
        return None, None
    return rule, evaluated_sides(layout.scenario.spec, parties)
