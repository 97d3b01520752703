"""Cross-reference checks and helpers of multilateral scenarios: parties, agreements, nesting, sequences.

A deal binds its ``parties`` (default: every top-level side, one that is not a member of a nested
side); its Level-I ``agreement`` is a rule over those parties' ratification (default: all of
them). A nested side ratifies when its own votes (if any) pass and its agreement over its member
sides holds. ``reversion_if`` makes a side's reversion depend on whether earlier deals are agreed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn

from riskmodel.errors import did_you_mean
from riskmodel.spec.multischema import (
    Agreement,
    AgreementAll,
    AgreementAny,
    AgreementAtLeast,
    AgreementNot,
    Weighted,
)
from riskmodel.spec.priors import Fixed, prior_support
from riskmodel.spec.schema import Scenario, Side

__all__ = [
    "NEW_KEY_DEFAULTS",
    "agreement_leaves",
    "check_multilateral",
    "deal_order",
    "deal_parties",
    "digest_dump",
    "evaluated_sides",
    "member_weights",
    "nested_order",
    "scenario_digest",
    "table_votes",
    "top_level_sides",
]

Fail = Callable[[tuple[Any, ...], str], NoReturn]

NEW_KEY_DEFAULTS: dict[str, Any] = {
    "parties": None,
    "agreement": None,
    "weight": 1,
    "block": False,
    "reversion": None,
    "common_shock": 0.0,
    "abstention": None,
    "reversion_if": [],
}
"""Keys added for multilateral games, with their defaults: left out of the scenario digest at
their default so that scenarios that do not use them keep the digest they always had."""


def member_weights(table: Any, bloc_weight: Mapping[str, int]) -> list[int]:
    """Votes of each row of a member table: its ``weight`` column, else its bloc's weight."""
    if "weight" in table.columns:
        return [int(w) for w in table["weight"]]
    return [int(bloc_weight.get(b, 1)) for b in table["bloc"]]


def table_votes(table: Any, bloc_weight: Mapping[str, int]) -> int:
    """Total votes of a member table's rows."""
    return sum(member_weights(table, bloc_weight))


def top_level_sides(spec: Scenario) -> list[str]:
    """Sides that are not a member of a nested side, in file order."""
    nested = {m for side in spec.sides for m in side.members or []}
    return [side.name for side in spec.sides if side.name not in nested]


def deal_parties(spec: Scenario) -> list[list[str]]:
    """Each deal's parties (its ``parties``, or every top-level side), in file order."""
    default = top_level_sides(spec)
    return [list(deal.parties) if deal.parties is not None else default for deal in spec.deals]


def evaluated_sides(spec: Scenario, parties: Sequence[str]) -> set[str]:
    """The parties and, transitively, the members of nested parties: the sides a deal evaluates."""
    members = {side.name: side.members or [] for side in spec.sides}
    out: set[str] = set()
    stack = list(parties)
    while stack:
        name = stack.pop()
        if name not in out:
            out.add(name)
            stack.extend(members.get(name, []))
    return out


def agreement_leaves(rule: Agreement) -> Iterator[str]:
    """Side names a rule refers to (bare leaves and weighted keys)."""
    match rule:
        case str():
            yield rule
        case AgreementAll(all=items) | AgreementAny(any=items):
            for item in items:
                yield from agreement_leaves(item)
        case AgreementNot(not_=item):
            yield from agreement_leaves(item)
        case AgreementAtLeast(at_least=spec):
            for item in spec.of:
                yield from agreement_leaves(item)
        case Weighted(weighted=spec):
            yield from spec.weights


def nested_order(spec: Scenario) -> list[str]:
    """Nested sides ordered so that every member comes before the side it belongs to."""
    members = {side.name: side.members for side in spec.sides if side.members is not None}
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done or name not in members:
            return
        for member in members[name] or []:
            visit(member)
        done.append(name)

    for name in members:
        visit(name)
    return done


def deal_order(spec: Scenario) -> list[int]:
    """Deal indices ordered so that every deal a ``reversion_if`` refers to is evaluated first."""
    depends = _deal_dependencies(spec)
    order: list[int] = []

    def visit(d: int) -> None:
        if d in order:
            return
        for e in sorted(depends[d]):
            visit(e)
        order.append(d)

    for d in range(len(spec.deals)):
        visit(d)
    return order


def _deal_dependencies(spec: Scenario) -> list[set[int]]:
    deal_index = {deal.name: d for d, deal in enumerate(spec.deals)}
    sides = {side.name: side for side in spec.sides}
    out = []
    for parties in deal_parties(spec):
        needs = {
            deal_index[entry.ratified]
            for name in evaluated_sides(spec, parties)
            for entry in sides[name].reversion_if
            if entry.ratified in deal_index
        }
        out.append(needs)
    return out


def check_multilateral(spec: Scenario, fail: Fail, issue_values: Callable[..., None]) -> None:
    """Check the multilateral keys of a schema-valid scenario; ``fail`` raises on the first problem."""
    sides = {side.name: side for side in spec.sides}
    side_names = list(sides)
    owner: dict[str, str] = {}
    for s, side in enumerate(spec.sides):
        path = ("sides", s)
        _side_shape(side, path, fail)
        for i, member in enumerate(side.members or []):
            if member not in sides:
                fail((*path, "members", i), f"unknown side '{member}'{did_you_mean(member, side_names)}")
            if member == side.name:
                fail((*path, "members", i), f"side '{side.name}' cannot be a member of itself")
            if member in owner:
                fail(
                    (*path, "members", i),
                    f"side '{member}' is already a member of '{owner[member]}' (one nested side at most)",
                )
            owner[member] = side.name
    for s, side in enumerate(spec.sides):
        _no_cycle(spec, s, fail)
        if side.agreement is not None:
            if side.members is None:
                fail(("sides", s, "agreement"), "an agreement over members needs 'members:' (a nested side)")
            _rule(side.agreement, ("sides", s, "agreement"), list(side.members), "member", fail)
        for j, entry in enumerate(side.reversion_if):
            epath = ("sides", s, "reversion_if", j)
            deals = [deal.name for deal in spec.deals]
            if entry.ratified not in deals:
                fail(
                    (*epath, "ratified"),
                    f"unknown deal '{entry.ratified}'{did_you_mean(entry.ratified, deals)}",
                )
            issue_values({**(side.reversion or {}), **entry.then}, (*epath, "then"), in_range=True)
        for c, chamber in enumerate(side.chambers):
            cpath = ("sides", s, "chambers", c)
            _nonnegative(chamber.common_shock, (*cpath, "common_shock"), "a common shock scale", fail)
            if chamber.abstention is not None:
                _nonnegative(
                    chamber.abstention.band, (*cpath, "abstention", "band"), "an abstention band", fail
                )
            for b, bloc in enumerate(chamber.blocs):
                bpath = (*cpath, "blocs", b)
                _nonnegative(bloc.common_shock, (*bpath, "common_shock"), "a common shock scale", fail)
                issues = [issue.name for issue in spec.issues]
                for key in bloc.reversion or {}:
                    if key not in issues:
                        fail((*bpath, "reversion", key), f"unknown issue '{key}'{did_you_mean(key, issues)}")
        _nonnegative(side.common_shock, ("sides", s, "common_shock"), "a common shock scale", fail)
    if spec.agreement is not None:
        _rule(spec.agreement, ("agreement",), side_names, "side", fail)
    for d, (deal, parties) in enumerate(zip(spec.deals, deal_parties(spec), strict=True)):
        dpath = ("deals", d)
        seen: set[str] = set()
        for i, name in enumerate(deal.parties or []):
            if name not in sides:
                fail((*dpath, "parties", i), f"unknown side '{name}'{did_you_mean(name, side_names)}")
            if name in seen:
                fail((*dpath, "parties", i), f"side '{name}' is listed twice")
            seen.add(name)
        if deal.agreement is not None:
            _rule(deal.agreement, (*dpath, "agreement"), parties, "party", fail)
        elif spec.agreement is not None:
            _rule(spec.agreement, dpath, parties, "party", fail, top_level=True)
    for d in range(len(spec.deals)):
        _no_deal_cycle(spec, d, fail)


def _side_shape(side: Side, path: tuple[Any, ...], fail: Fail) -> None:
    nested = side.members is not None
    if not nested and not side.chambers:
        fail((*path, "chambers"), "a side needs at least one chamber (or 'members:' for a nested side)")
    if not nested and not side.votes:
        fail((*path, "votes"), "a side needs at least one vote (or 'members:' for a nested side)")
    if nested and not side.members:
        fail((*path, "members"), "a nested side needs at least one member side")
    needs_reversion = side.chambers or side.votes or side.public or side.chief or side.lobbies
    if side.reversion is None and needs_reversion:
        fail(path, "missing required key 'reversion' (what the side gets if the deal fails)")
    if side.chambers and not side.votes:
        fail((*path, "votes"), "a side with chambers needs at least one vote")


def _nonnegative(prior: Any, path: tuple[Any, ...], what: str, fail: Fail) -> None:
    lo, _ = prior_support(prior)
    if lo < 0:
        shown = prior.value if isinstance(prior, Fixed) else prior
        fail(path, f"{what} must lie in >= 0; this prior allows values outside it ({shown})")


def _rule(
    rule: Agreement,
    path: tuple[Any, ...],
    allowed: Sequence[str],
    what: str,
    fail: Fail,
    *,
    top_level: bool = False,
) -> None:
    """Check a rule's leaves against ``allowed`` names.

    ``top_level``: the scenario's default rule applied to one deal; problems are reported at the
    deal (``path``), and a weighted clause may list sides that are not parties (they do not count).
    """

    def at(*keys: Any) -> tuple[Any, ...]:
        return path if top_level else (*path, *keys)

    def sub(items: Sequence[Agreement], *keys: Any) -> None:
        for i, item in enumerate(items):
            _rule(item, at(*keys, i), allowed, what, fail, top_level=top_level)

    match rule:
        case str():
            if rule not in allowed:
                if top_level:
                    fail(
                        path,
                        f"the agreement names '{rule}', which is not a {what} of this deal "
                        "(give this deal its own 'agreement:')",
                    )
                fail(
                    path,
                    f"'{rule}' is not a {what}{did_you_mean(rule, allowed)}; "
                    f"expected one of: {', '.join(allowed)}",
                )
        case AgreementAll(all=items):
            sub(items, "all")
        case AgreementAny(any=items):
            sub(items, "any")
        case AgreementNot(not_=item):
            _rule(item, at("not"), allowed, what, fail, top_level=top_level)
        case AgreementAtLeast(at_least=spec):
            if not 1 <= spec.k <= len(spec.of):
                fail(
                    at("at_least", "k"), f"k = {spec.k} must lie in [1, {len(spec.of)}] (the clauses listed)"
                )
            sub(spec.of, "at_least", "of")
        case Weighted(weighted=spec):
            for name in spec.weights if not top_level else ():
                if name not in allowed:
                    fail(
                        at("weighted", "weights", name),
                        f"weight for '{name}', which is not a {what}{did_you_mean(name, allowed)}; "
                        f"expected weights of: {', '.join(allowed)}",
                    )
            total = sum(w for name, w in spec.weights.items() if name in allowed)
            if total <= 0:
                fail(at("weighted", "weights"), f"no weight is given to any {what} of this deal")
            if isinstance(spec.threshold, int) and spec.threshold > total:
                fail(
                    at("weighted", "threshold"),
                    f"threshold {spec.threshold} is above the total weight {total:g}",
                )


def _no_cycle(spec: Scenario, s: int, fail: Fail) -> None:
    members = {side.name: side.members or [] for side in spec.sides}
    start = spec.sides[s].name
    stack: list[tuple[str, tuple[str, ...]]] = [(m, (start, m)) for m in members[start]]
    while stack:
        name, trail = stack.pop()
        if name == start:
            fail(("sides", s, "members"), f"nested sides form a cycle: {' -> '.join(trail)}")
        if len(trail) > len(members) + 1:
            continue
        stack.extend((m, (*trail, m)) for m in members.get(name, []))


def _no_deal_cycle(spec: Scenario, d: int, fail: Fail) -> None:
    depends = _deal_dependencies(spec)
    names = [deal.name for deal in spec.deals]
    stack: list[tuple[int, tuple[int, ...]]] = [(e, (d, e)) for e in depends[d]]
    while stack:
        e, trail = stack.pop()
        if e == d:
            where = _reversion_if_path(spec, d, trail[1])
            fail(
                where,
                "reversion_if forms a cycle of deals: "
                + " -> ".join(names[i] for i in trail)
                + " (each deal waits for the other)",
            )
        if len(trail) > len(names) + 1:
            continue
        stack.extend((f, (*trail, f)) for f in depends[e])


def _reversion_if_path(spec: Scenario, d: int, needed: int) -> tuple[Any, ...]:
    target = spec.deals[needed].name
    evaluated = evaluated_sides(spec, deal_parties(spec)[d])
    for s, side in enumerate(spec.sides):
        for j, entry in enumerate(side.reversion_if):
            if side.name in evaluated and entry.ratified == target:
                return ("sides", s, "reversion_if", j, "ratified")
    return ("deals", d)


def scenario_digest(spec: Scenario, tables: Mapping[tuple[str, str], Any]) -> str:
    """SHA-256 of the canonical scenario and its member tables: identifies the inputs of a run."""
    dump = digest_dump(spec.model_dump(mode="json", by_alias=True))
    hasher = hashlib.sha256(json.dumps(dump, sort_keys=True).encode())
    for key in sorted(tables):
        hasher.update("/".join(key).encode())
        hasher.update(tables[key].to_csv(index=False).encode())
    return hasher.hexdigest()


def digest_dump(dump: Mapping[str, Any]) -> Any:
    """The scenario dump without multilateral keys left at their defaults (see NEW_KEY_DEFAULTS)."""
    return _strip(dump)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _strip(item)
            for key, item in value.items()
            if not (key in NEW_KEY_DEFAULTS and _same(item, NEW_KEY_DEFAULTS[key]))
            # a side's new 'members' key (a chamber's 'members' is its member table, an old key)
            and not (key == "members" and item is None and "reversion_if" in value)
        }
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and bool(a == b)
