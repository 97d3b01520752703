"""A scenario fitted again with other sampler settings: its model built and compiled once.

A refit (:mod:`riskmodel.backtest.scenario_runner`) writes the scenario again with more draws,
a longer warm-up and a higher target acceptance rate. Those are sampler settings of the
``evidence:`` block; the PyMC model and nutpie's compiled logp do not depend on them, and
building and compiling them again costs about 17 s a refit. :class:`ScenarioModels` keeps
each model with its evidence attached, and the cache of its compiled samplers, under
:func:`model_key`: everything the model is built from, so a scenario that differs in anything
but its sampler settings gets a model of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING

from riskmodel.spec.multilateral import scenario_digest
from riskmodel.spec.scenario import LoadedScenario

if TYPE_CHECKING:
    import pymc as pm

    from riskmodel.model.layout import Layout

__all__ = ["SAMPLER_SETTINGS", "ScenarioModels", "model_key"]

SAMPLER_SETTINGS = ("draws", "tune", "chains", "method", "target_accept")
"""Fields of the ``evidence:`` block that steer the sampler and do not enter the model."""


def model_key(scenario: LoadedScenario) -> str:
    """SHA-256 of what a scenario's model with its evidence is built from, sampler settings aside.

    The scenario itself, its member tables and the bytes of every votes file its evidence reads
    (found as :func:`riskmodel.model.evidence.add_evidence` finds them: relative to the
    scenario's folder). The scenario's digest
    (:func:`riskmodel.spec.multilateral.scenario_digest`) does not cover the votes files, so it
    is not enough on its own.
    """
    spec, evidence = scenario.spec, scenario.spec.evidence
    if evidence is not None:  # the sampler settings at their defaults, whatever the file says
        defaults = {name: type(evidence).model_fields[name].default for name in SAMPLER_SETTINGS}
        spec = spec.model_copy(update={"evidence": evidence.model_copy(update=defaults)})
    hasher = hashlib.sha256(scenario_digest(spec, scenario.member_tables).encode())
    if evidence is not None:
        base = scenario.path.parent if scenario.path is not None else Path.cwd()
        files = [item.votes for item in evidence.rollcalls] + [item.votes for item in evidence.earlier_deals]
        for name in files:
            hasher.update(name.encode())
            hasher.update((base / name).read_bytes())
    return hasher.hexdigest()


class ScenarioModels:
    """Models with their evidence attached, by :func:`model_key`, each with its compiled samplers.

    Keep one for the fits of one scenario (a forecast and its refits): a model lives as long
    as this object, so keep it no longer than its fits need.
    """

    def __init__(self) -> None:
        self._models: dict[str, tuple[pm.Model, dict[Hashable, object]]] = {}
        self.builds = 0
        """Models built so far: a refit that found its model leaves it unchanged."""

    def fitted(self, scenario: LoadedScenario, layout: Layout) -> tuple[pm.Model, dict[Hashable, object]]:
        """The scenario's model with its evidence, and the cache for ``sample_posterior``'s compiled model."""
        from riskmodel.model.evidence import add_evidence
        from riskmodel.model.priors import build_model

        assert scenario.spec.evidence is not None
        key = model_key(scenario)
        if key not in self._models:
            model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
            self._models[key] = (model, {})
            self.builds += 1
        return self._models[key]
