"""The report's assumptions: every prior in a scenario with its source, and data provenance.

Priors are found by type, not by a hand-kept list of fields: every schema field whose
annotation admits a prior (:data:`riskmodel.spec.priors.Prior`) is listed, so a prior added to
the schema later appears in the report without a change here.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from riskmodel.spec.priors import Elicited, Fixed
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.schema import Scenario

__all__ = ["appendix_context", "describe_prior", "prior_rows", "provenance"]

_SYMBOLS = {"mu": "μ", "sigma": "σ", "alpha": "α", "beta": "β"}
_NAMES = {
    "normal": "Normal",
    "half_normal": "HalfNormal",
    "log_normal": "LogNormal",
    "truncated_normal": "TruncatedNormal",
    "beta": "Beta",
    "gamma": "Gamma",
    "uniform": "Uniform",
}
# Fields that only matter for one kind of chamber; left at their defaults they are noise.
_REFERENDUM_ONLY = {"turnout", "campaign_shock"}
_NOT_REFERENDUM = {"absence", "shock_scale"}


def _number(value: float) -> str:
    return f"{value:g}"


def describe_prior(prior: Any) -> str:
    """One line for a prior: ``Normal(μ=5, σ=2)``, ``0.9 (fixed)``, ``90% in [0.05, 0.2] (gamma)``."""
    if isinstance(prior, bool):
        return str(prior)
    if isinstance(prior, int | float):
        return f"{_number(prior)} (fixed)"
    if isinstance(prior, Fixed):
        return f"{_number(prior.value)} (fixed)"
    if isinstance(prior, Elicited):
        lo, hi = prior.between
        return f"{prior.mass:.0%} between {_number(lo)} and {_number(hi)} ({prior.family}, max. entropy)"
    if isinstance(prior, BaseModel) and hasattr(prior, "dist"):
        fields = prior.model_dump(exclude={"dist", "source", "judgement"}, exclude_none=True)
        inner = ", ".join(f"{_SYMBOLS.get(k, k)}={_number(v)}" for k, v in fields.items())
        return f"{_NAMES.get(prior.dist, prior.dist)}({inner})"
    if isinstance(prior, BaseModel) and hasattr(prior, "dirichlet"):
        weights = ", ".join(f"{k}={_number(v)}" for k, v in prior.dirichlet.items())
        return f"Dirichlet({weights})"
    if isinstance(prior, dict):
        return "fixed weights " + ", ".join(f"{k}={_number(v)}" for k, v in prior.items())
    return str(prior)


def _admits_prior(annotation: Any) -> bool:
    """Whether a field annotation admits a prior (searches unions, dicts and Annotated)."""
    if annotation is Elicited:
        return True
    return any(_admits_prior(arg) for arg in typing.get_args(annotation))


def _prior_fields(model: BaseModel) -> Iterator[tuple[str, Any, bool]]:
    """Yield ``(field name, value, set in the file)`` for each prior-bearing field."""
    for name, info in type(model).model_fields.items():
        if _admits_prior(info.annotation):
            yield name, getattr(model, name), name in model.model_fields_set


def _basis(prior: Any) -> tuple[str, str]:
    """``(basis, source)``: basis is 'judgement' unless the prior cites a source and is not one."""
    source = getattr(prior, "source", None) or ""
    if getattr(prior, "judgement", False) or not source:
        return "judgement", source
    return "source", source


def _rows_for(entity: str, model: BaseModel, *, kind: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for field, value, is_set in _prior_fields(model):
        if kind == "referendum" and field in _NOT_REFERENDUM and not is_set:
            continue
        if kind not in (None, "referendum") and field in _REFERENDUM_ONLY and not is_set:
            continue
        label = field.replace("_", " ")
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for issue, prior in items:
            basis, source = _basis(prior)
            rows.append(
                {
                    "entity": entity,
                    "parameter": label if issue is None else f"{label}: {issue}",
                    "prior": describe_prior(prior),
                    "basis": basis if is_set else "package default",
                    "source": source,
                    "default": not is_set,
                }
            )
    salience = getattr(model, "salience", "absent")
    if salience != "absent":
        rows.append(
            {
                "entity": entity,
                "parameter": "salience",
                "prior": "equal weights" if salience is None else describe_prior(salience),
                "basis": "judgement" if salience is not None else "package default",
                "source": "",
                "default": salience is None,
            }
        )
    return rows


def prior_rows(spec: Scenario) -> list[dict[str, Any]]:
    """Every prior of a scenario, in file order, with its basis and source.

    Parameters
    ----------
    spec
        A validated scenario.

    Returns
    -------
    list of dict
        Keys ``entity``, ``parameter``, ``prior`` (one line), ``basis`` (``source``,
        ``judgement`` or ``package default``), ``source`` (text from the file) and
        ``default`` (True when the file leaves the parameter at the package default).
    """
    rows: list[dict[str, Any]] = []
    for link in spec.links:
        rows += _rows_for(f"link {link.issues[0]} × {link.issues[1]}", link)
    for side in spec.sides:
        for chamber in side.chambers:
            where = f"{side.name} / {chamber.name}"
            rows += _rows_for(where, chamber, kind=chamber.kind)
            for bloc in chamber.blocs:
                rows += _rows_for(f"{where} / {bloc.name}", bloc)
        for lobby in side.lobbies:
            rows += _rows_for(f"{side.name} / lobby {lobby.name}", lobby)
        if side.public is not None:
            rows += _rows_for(f"{side.name} / public", side.public)
        if side.chief is not None:
            rows += _rows_for(f"{side.name} / chief", side.chief)
    return rows


def provenance(scenario: LoadedScenario) -> dict[str, Any]:
    """Where the scenario's numbers come from: cited sources, sourced entities, member tables.

    Returns
    -------
    dict
        ``sources`` (key, text) from the scenario's ``sources:``; ``entities`` (kind, name,
        label, source) for every issue, deal, side, chamber, bloc, vote and lobby that cites
        one; ``member_tables`` (side, chamber, file, rows).
    """
    spec = scenario.spec
    entities: list[dict[str, str]] = []

    def add(kind: str, name: str, item: Any) -> None:
        source = getattr(item, "source", None)
        if source:
            entities.append(
                {"kind": kind, "name": name, "label": getattr(item, "label", None) or "", "source": source}
            )

    for deal in spec.deals:
        add("deal", deal.name, deal)
    for link in spec.links:
        add("link", " × ".join(link.issues), link)
    for side in spec.sides:
        add("side", side.name, side)
        for chamber in side.chambers:
            add("chamber", f"{side.name} / {chamber.name}", chamber)
            for bloc in chamber.blocs:
                add("bloc", f"{side.name} / {chamber.name} / {bloc.name}", bloc)
        for vote in side.votes:
            add("vote", f"{side.name} / {vote.name}", vote)
        for lobby in side.lobbies:
            add("lobby", f"{side.name} / {lobby.name}", lobby)
        for what, item in (("public", side.public), ("chief", side.chief)):
            if item is not None:
                add(what, f"{side.name} / {what}", item)
    tables = []
    for side in spec.sides:
        for chamber in side.chambers:
            table = scenario.member_tables.get((side.name, chamber.name))
            if chamber.members is not None:
                rows = 0 if table is None else len(table)
                tables.append(
                    {"side": side.name, "chamber": chamber.name, "file": chamber.members, "rows": rows}
                )
    return {
        "sources": [{"key": key, "text": text} for key, text in spec.sources.items()],
        "entities": entities,
        "member_tables": tables,
    }


def appendix_context(loaded: LoadedScenario | None, title: str | None = None) -> dict[str, Any]:
    """What the appendix shows: the scenario's priors with their basis, defaults and provenance.

    Parameters
    ----------
    loaded
        The scenario behind the results; None when it could not be loaded (the appendix then
        says so).
    title
        The report's title (the appendix document's ``<title>``); the scenario's by default.

    Returns
    -------
    dict
        ``{"title": ..., "assumptions": ...}``, the keys of the report context the appendix reads.
    """
    spec = loaded.spec if loaded is not None else None
    rows = prior_rows(spec) if spec is not None else []
    chosen = [r for r in rows if not r["default"]]
    return {
        "title": title or (spec.title if spec is not None else None) or "riskmodel report",
        "assumptions": {
            "available": loaded is not None,
            "priors": chosen,
            "prior_groups": [
                {"entity": entity, "rows": list(group)}
                for entity, group in itertools.groupby(chosen, key=lambda r: r["entity"])
            ],
            "defaults": [r for r in rows if r["default"]],
            "provenance": provenance(loaded) if loaded is not None else None,
        },
    }
