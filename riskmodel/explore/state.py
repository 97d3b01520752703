"""The explorer's state: one scenario's worlds, sampled once, and every deal evaluated on them.

Every number the page shows comes from the same functions as ``riskmodel run``:
:func:`riskmodel.pipeline.evaluate_deals` on the worlds of :func:`riskmodel.pipeline.sample_worlds`
(same seed, same worlds), reduced by :func:`riskmodel.results.tables.summary_table`; nothing is
approximated or interpolated for the page.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.model.layout import Layout
from riskmodel.pipeline import Simulation, evaluate_deals
from riskmodel.report.rating import RATING_BANDS, risk_rating
from riskmodel.results.tables import summary_table

__all__ = ["DealError", "Explorer", "slider_step"]

FloatArray = npt.NDArray[np.float64]
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
"""A number as the page writes it (no Python-only forms such as ``1_000`` or ``nan``)."""
CURRENT = "current"
"""The name the deal being edited carries in its results."""


class DealError(ValueError):
    """A request the explorer refuses: the message says what was expected; ``status`` is HTTP's."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def slider_step(span: float) -> float:
    """A round slider step giving 100 to 1,000 positions over an issue's range."""
    return float(10.0 ** math.floor(math.log10(span / 100.0)))


def _format(value: float) -> str:
    return f"{value:.3f}"


@dataclass
class Explorer:
    """Sampled worlds of one scenario and what the page needs to edit deals on them.

    Attributes
    ----------
    simulation
        The worlds, sampled once by :func:`riskmodel.pipeline.sample_worlds`.
    scenario_path
        The scenario file the worlds were sampled from.
    out_dir
        Folder where new scenario files and reports are written (never overwriting).
    """

    simulation: Simulation
    scenario_path: Path
    out_dir: Path

    def __post_init__(self) -> None:
        # the engine's scratch arrays are per call, but one evaluation at a time keeps the
        # latency of each predictable on a small machine
        self.lock = threading.Lock()

    @property
    def layout(self) -> Layout:
        """The scenario's layout (entity names and issue ranges)."""
        return self.simulation.layout

    def config(self) -> dict[str, Any]:
        """What the page needs to build its controls: issues, deals, reversions, sides, votes."""
        layout = self.layout
        spec = layout.scenario.spec
        issues = []
        for k, issue in enumerate(spec.issues):
            low, span = float(layout.issue_low[k]), float(layout.issue_span[k])
            issues.append(
                {
                    "name": issue.name,
                    "label": issue.label or issue.name,
                    "unit": issue.unit,
                    "low": low,
                    "high": low + span,
                    "step": slider_step(span),
                }
            )
        deals = [
            {
                "name": deal.name,
                "label": deal.label or deal.name,
                "values": dict(zip(layout.issues, values, strict=True)),
            }
            for deal, values in zip(spec.deals, layout.deal_values.tolist(), strict=True)
        ]
        sides = [
            {
                "name": side.name,
                "label": side.label or side.name,
                "reversion": dict(zip(layout.issues, layout.reversion[s].tolist(), strict=True)),
            }
            for s, side in enumerate(layout.side_specs)
        ]
        worlds = self.simulation.worlds
        return {
            "title": spec.title or spec.name,
            "scenario": spec.name,
            "scenario_file": str(self.scenario_path),
            "seed": self.simulation.seed,
            "n_worlds": worlds.n_worlds,
            "n_draws": worlds.n_draws,
            "n_replicates": worlds.n_replicates,
            "evidence": self.simulation.evidence,
            "issues": issues,
            "deals": deals,
            "sides": sides,
            "rating_bands": [{"lower": b.lower, "label": b.label, "risk": b.risk} for b in RATING_BANDS],
            "out_dir": str(self.out_dir),
        }

    # -----------------------------------------------------------------------------------------
    # Validation: every value a request carries is checked here before any computation.
    # -----------------------------------------------------------------------------------------

    def issue_index(self, name: object, what: str = "issue") -> int:
        """Index of an issue, or a :class:`DealError` naming the scenario's issues."""
        issues = self.layout.issues
        if not isinstance(name, str) or name not in issues:
            raise DealError(
                f"{what}: unknown issue {name!r:.60}; the scenario's issues are: {', '.join(issues)}"
            )
        return int(issues.index(name))

    def named_deal(self, name: object) -> FloatArray:
        """Values of a named deal, or a :class:`DealError` naming the scenario's deals."""
        deals = self.layout.deals
        if not isinstance(name, str) or name not in deals:
            raise DealError(f"deal: unknown deal {name!r:.60}; the scenario's deals are: {', '.join(deals)}")
        return np.asarray(self.layout.deal_values[deals.index(name)], dtype=np.float64)

    def parse_deal(self, values: Mapping[str, object]) -> FloatArray:
        """A deal from ``{issue: value}`` (numbers or numeric text), every issue given and in range."""
        layout = self.layout
        if not isinstance(values, Mapping):
            raise DealError("values: expected an object mapping each issue to a number")
        for name in values:
            self.issue_index(name, "values")
        deal = np.empty(len(layout.issues))
        for k, name in enumerate(layout.issues):
            if name not in values:
                raise DealError(f"values: missing a value for issue '{name}'")
            deal[k] = self._number(
                name, values[name], float(layout.issue_low[k]), float(layout.issue_span[k])
            )
        return deal

    def _number(self, name: str, raw: object, low: float, span: float) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise DealError(f"{name}: expected a number, got {type(raw).__name__}")
        if isinstance(raw, str):
            if len(raw) > 40 or not NUMBER.match(raw):
                raise DealError(f"{name}: expected a number, got {raw!r:.50}")
            value = float(raw)
        else:
            value = float(raw)
        high = low + span
        if not math.isfinite(value) or not low <= value <= high:
            raise DealError(f"{name}: {raw!r} is outside the issue's range [{low:g}, {high:g}]")
        return value

    # -----------------------------------------------------------------------------------------
    # Evaluation.
    # -----------------------------------------------------------------------------------------

    def results(self, deal: FloatArray) -> xr.Dataset:
        """The results Dataset of one deal on the worlds: what ``riskmodel run`` computes for it."""
        with self.lock:
            return evaluate_deals(self.simulation, deal[None, :], [CURRENT])

    def evaluate(self, deal: FloatArray) -> dict[str, Any]:
        """P(ratify) ± MCSE per side and for the agreement, with ratings and every vote's counts."""
        started = time.perf_counter()
        results = self.results(deal)
        payload = evaluation_payload(self.layout, results)
        payload["deal"] = dict(zip(self.layout.issues, deal.tolist(), strict=True))
        payload["elapsed_ms"] = (time.perf_counter() - started) * 1000.0
        return payload


def evaluation_payload(layout: Layout, results: xr.Dataset) -> dict[str, Any]:
    """The page's view of a one-deal results Dataset, numbers as ``riskmodel run`` prints them."""
    table = summary_table(results)
    labels = {side.name: side.label or side.name for side in layout.side_specs}
    labels["joint"] = "Agreement (every side)"
    outcomes = []
    for row in table.to_dict("records"):
        p, mcse = float(row["probability"]), float(row["mcse"])
        outcomes.append(
            {
                "side": row["side"],
                "label": labels[str(row["side"])],
                "probability": p,
                "mcse": mcse,
                "text": f"{_format(p)} ± {_format(mcse)}",
                "rating": risk_rating(p, mcse),
                "pe_median": float(row["conditional_median"]),
                "pe_interval": [float(row["conditional_q05"]), float(row["conditional_q95"])],
            }
        )
    return {
        "outcomes": outcomes,
        "votes": vote_payload(results),
        "n_worlds": int(results.attrs["n_worlds"]),
    }


def vote_payload(results: xr.Dataset) -> list[dict[str, Any]]:
    """Each vote of one deal: P(passes) ± MCSE, its rule, and the distribution of its count."""
    # plain arrays, read once: per-vote xarray indexing would cost more than the engine
    column = {name: results[name].to_numpy() for name in ("vote_probability", "vote_mcse", "support_mean")}
    quantiles = results["support_quantile"].to_numpy()[:, :, 0]  # (quantile, vote)
    histogram = results["support_histogram"].to_numpy()[:, 0, :]  # (vote, count)
    coords = {
        name: results[name].to_numpy().tolist()
        for name in (
            "vote",
            "vote_side",
            "vote_chamber",
            "vote_rule",
            "vote_kind",
            "chamber_seats",
            "vote_needed_full",
        )
    }
    votes = []
    for v, name in enumerate(coords["vote"]):
        seats, kind = int(coords["chamber_seats"][v]), str(coords["vote_kind"][v])
        entry: dict[str, Any] = {
            "name": name,
            "side": coords["vote_side"][v],
            "chamber": coords["vote_chamber"][v],
            "rule": coords["vote_rule"][v],
            "kind": kind,
            "seats": seats,
            "needed": float(coords["vote_needed_full"][v]),
            "probability": float(column["vote_probability"][v, 0]),
            "mcse": float(column["vote_mcse"][v, 0]),
            "mean": float(column["support_mean"][v, 0]),
            "quantiles": quantiles[:, v].tolist(),
        }
        if kind == "count":
            entry["histogram"] = histogram[v, : seats + 1].tolist()
        votes.append(entry)
    return votes
