"""Stress-test charts (the report's name for the ranking chart of :mod:`riskmodel.plots.sensitivity`)."""

from __future__ import annotations

from riskmodel.plots.sensitivity import plot_stress_ranking

__all__ = ["plot_stress", "plot_stress_ranking"]

plot_stress = plot_stress_ranking
"""``plot_stress(stress, *, top=20, ax=None) -> (fig, ax)``: the largest effects, either way."""
