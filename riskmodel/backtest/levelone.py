"""Level-I records of fact sheets: a deal's parties and agreement rule, evaluated on what was recorded.

A multilateral scenario decides a deal by a rule over its parties' ratification (``all``,
``any``, ``not``, ``at_least``, ``weighted``). A fact sheet may record, for a deal, which parties
consented (or did not object) and whether the deal passed, and the weight tables (population,
votes per state) of its ``weighted`` clauses. :func:`check_level_one` checks both against the
scenario: the recorded consents must pass or fail the scenario's own rule as the record says,
and every cited weight table must be the weights of one of the scenario's clauses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LevelOneRecord",
    "WeightTable",
    "agreement_holds",
    "check_level_one",
    "deal_rule",
    "evaluated_sides",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class LevelOneRecord(_Model):
    """A recorded Level-I decision: which parties ratified (consented, or did not object) and the result."""

    deal: str
    date: dt.date
    ratified: list[str]
    refused: list[str] = Field(default_factory=list)
    passed: bool
    source: str
    note: str | None = None


class WeightTable(_Model):
    """Weights of a ``weighted`` agreement clause (a population, votes per state), as cited."""

    values: dict[str, Annotated[float, Field(gt=0)]]
    unit: str
    date: dt.date
    source: str


def _plain(value: Any) -> Any:
    """A spec node as plain YAML data (the keys as written in scenario files)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def _top_level(spec: Any) -> list[str]:
    inner = {m for side in spec.sides for m in (getattr(side, "members", None) or [])}
    return [side.name for side in spec.sides if side.name not in inner]


def deal_rule(spec: Any, deal: Any) -> tuple[list[str], Any]:
    """A deal's parties and its Level-I rule as plain data (defaults: top-level sides; all of them)."""
    parties = list(getattr(deal, "parties", None) or _top_level(spec))
    rule = getattr(deal, "agreement", None) or getattr(spec, "agreement", None)
    return parties, _plain(rule) if rule is not None else {"all": parties}


def evaluated_sides(spec: Any, parties: list[str]) -> set[str]:
    """The parties and, through nested sides, all of their members."""
    members = {side.name: list(getattr(side, "members", None) or []) for side in spec.sides}
    seen: set[str] = set()
    todo = list(parties)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(members.get(name, []))
    return seen


def agreement_holds(rule: Any, ratified: set[str], parties: set[str]) -> bool:
    """Evaluate a Level-I rule (plain data) on the set of sides that ratified.

    A ``weighted`` clause counts only its listed sides that are parties: the weight of those that
    ratify (``polarity: for``) or do not (``against``) must reach the threshold, an absolute
    weight (integer) or a share of the listed parties' total weight (fraction).
    """
    if isinstance(rule, str):
        return rule in ratified
    ((kind, arg),) = rule.items()
    if kind == "all":
        return all(agreement_holds(r, ratified, parties) for r in arg)
    if kind == "any":
        return any(agreement_holds(r, ratified, parties) for r in arg)
    if kind == "not":
        return not agreement_holds(arg, ratified, parties)
    if kind == "at_least":
        return sum(agreement_holds(r, ratified, parties) for r in arg["of"]) >= arg["k"]
    if kind == "weighted":
        weights = {s: float(w) for s, w in arg["weights"].items() if s in parties}
        count_for = arg.get("polarity", "for") == "for"
        counted = sum(w for s, w in weights.items() if (s in ratified) == count_for)
        threshold = arg["threshold"]
        need = threshold if isinstance(threshold, int) else threshold * sum(weights.values())
        return counted >= need
    raise ValueError(f"unknown agreement rule {kind!r}")


def _weighted_clauses(rule: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(rule, dict):
        ((kind, arg),) = rule.items()
        if kind == "weighted":
            yield arg
        elif kind in ("all", "any"):
            for r in arg:
                yield from _weighted_clauses(r)
        elif kind == "not":
            yield from _weighted_clauses(arg)
        elif kind == "at_least":
            for r in arg["of"]:
                yield from _weighted_clauses(r)


def check_level_one(
    spec: Any,
    level_one: list[LevelOneRecord],
    weights: Mapping[str, WeightTable],
    cite: Callable[[str, str], None],
) -> list[str]:
    """Disagreements between a scenario's Level-I rules and recorded decisions and weight tables.

    Parameters
    ----------
    spec
        The scenario spec.
    level_one, weights
        The fact sheet's ``level_one`` records and ``weights`` tables.
    cite
        Called with (where, source key) for every source the records cite.
    """
    problems: list[str] = []
    deals = {d.name: d for d in spec.deals}
    for k, record in enumerate(level_one):
        where = f"level_one[{k}] ({record.deal})"
        cite(where, record.source)
        if record.deal not in deals:
            problems.append(f"{where}: deal '{record.deal}' is not in the scenario")
            continue
        parties, rule = deal_rule(spec, deals[record.deal])
        listed = record.ratified + record.refused
        if sorted(listed) != sorted(parties):
            problems.append(
                f"{where}: the record lists {sorted(listed)}, the deal's parties are {sorted(parties)}"
            )
            continue
        held = agreement_holds(rule, set(record.ratified), set(parties))
        if held != record.passed:
            problems.append(
                f"{where}: under the scenario's agreement rule the record {'passes' if held else 'fails'}, "
                f"but the record says passed={record.passed}"
            )
    rules = [getattr(spec, "agreement", None)] + [getattr(d, "agreement", None) for d in spec.deals]
    rules += [getattr(side, "agreement", None) for side in spec.sides]
    clauses = [dict(c["weights"]) for r in rules if r is not None for c in _weighted_clauses(_plain(r))]
    for name, table in weights.items():
        cite(f"weights.{name}", table.source)
        if not any(
            c.keys() == table.values.keys() and all(abs(c[s] - table.values[s]) < 1e-9 for s in c)
            for c in clauses
        ):
            problems.append(f"weights.{name}: no weighted agreement clause of the scenario has these weights")
    return problems
