"""Sensitivity analysis and a 200-shock stress sweep on the bundled USMCA scenario.

Prints, with a baseline measured in the same run (sampling the worlds and evaluating the
named deals, i.e. ``riskmodel run`` without the report):

- the time of the full sensitivity analysis (tornado, Sobol indices, pivotality, whip list)
  of every constituency for every named deal;
- the time of a 200-unit stress sweep (183 shocks of every kind and 17 combinations,
  generated from the scenario) serially and on a local Dask cluster, and whether the two
  give bit-identical numbers.

The machine may be shared: compare the ratios, and read the absolute times with that in mind.

Run: ``python benchmarks/stress.py [--quick] [--workers 2] [--no-serial]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from riskmodel.analyses.sensitivity import analyse_sensitivity
from riskmodel.analyses.stress import dask_client, stress_test
from riskmodel.model.layout import Layout
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.scenario import load_scenario
from riskmodel.spec.shockcheck import load_shocks

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "data" / "scenarios" / "usmca_2019.yaml"


def _short(name: str) -> str:
    return name.split(".", 1)[1]


def generate_shocks(layout: Layout, n_units: int = 200) -> dict:
    """Shocks of every kind for a scenario, then combinations of them up to ``n_units`` units."""
    spec = layout.scenario.spec
    issues = {issue.name: issue.range[1] - issue.range[0] for issue in spec.issues}
    shocks: list[dict] = []
    for bloc, side in zip(layout.blocs, layout.bloc_side, strict=True):
        for issue, span in issues.items():
            for sign in (-1, 1):
                shocks.append(
                    {
                        "name": f"{_short(bloc)}_{issue}_{'up' if sign > 0 else 'down'}",
                        "kind": "shift_bloc",
                        "side": layout.sides[side],
                        "bloc": _short(bloc),
                        "issue": issue,
                        "by": 0.1 * sign * span,
                    }
                )
    for lobby, side in zip(layout.lobbies, layout.lobby_side, strict=True):
        common = {"side": layout.sides[side], "lobby": _short(lobby)}
        shocks.append({"name": f"{_short(lobby)}_flips", "kind": "flip_lobby", **common})
        for factor, word in ((0.5, "halved"), (2.0, "doubled")):
            shocks.append(
                {"name": f"{_short(lobby)}_{word}", "kind": "scale_lobby", "factor": factor, **common}
            )
    for side in layout.publics:
        for by in (-0.1, -0.05, 0.05, 0.1):
            name = f"{side}_approval_{'up' if by > 0 else 'down'}_{round(abs(by) * 100)}"
            shocks.append({"name": name, "kind": "shift_approval", "side": side, "by": by})
    for kind, actors in (("shift_public", layout.publics), ("shift_chief", layout.chiefs)):
        for side in actors:
            for issue, span in issues.items():
                for sign in (-1, 1):
                    shocks.append(
                        {
                            "name": f"{side}_{kind.split('_')[1]}_{issue}_{'up' if sign > 0 else 'down'}",
                            "kind": kind,
                            "side": side,
                            "issue": issue,
                            "by": 0.1 * sign * span,
                        }
                    )
    for side_spec in spec.sides:
        for chamber in side_spec.chambers:
            blocs = sorted((b for b in chamber.blocs if b.seats), key=lambda b: -(b.seats or 0))
            if len(blocs) >= 2:
                for seats in (2, 5, 10):
                    if (blocs[0].seats or 0) >= seats:
                        shocks.append(
                            {
                                "name": f"{blocs[0].name}_loses_{seats}",
                                "kind": "move_seats",
                                "side": side_spec.name,
                                "from_bloc": blocs[0].name,
                                "to_bloc": blocs[1].name,
                                "seats": seats,
                            }
                        )
        for vote in side_spec.votes:
            kinds = {c.name: c.kind for c in side_spec.chambers}
            if kinds[vote.chamber] == "legislature":
                for threshold in ("three_fifths", "two_thirds"):
                    shocks.append(
                        {
                            "name": f"{vote.name}_{threshold}",
                            "kind": "set_threshold",
                            "side": side_spec.name,
                            "vote": vote.name,
                            "threshold": threshold,
                        }
                    )
            if side_spec.procedure is not None and len(side_spec.votes) > 1:
                shocks.append(
                    {
                        "name": f"no_{vote.name}",
                        "kind": "remove_veto",
                        "side": side_spec.name,
                        "vote": vote.name,
                    }
                )
        shocks.append(
            {
                "name": f"{side_spec.name}_court",
                "kind": "add_veto",
                "side": side_spec.name,
                "player": "court",
                "ideal": {
                    issue: {"dist": "normal", "mu": (lo + hi) / 2, "sigma": (hi - lo) / 4}
                    for issue, (lo, hi) in ((i.name, i.range) for i in spec.issues)
                },
            }
        )
    shocks = shocks[: n_units - min(17, n_units // 10)]
    rng = np.random.default_rng(0)
    combinations = []
    while len(shocks) + len(combinations) < n_units:
        picked = rng.choice(len(shocks), size=3, replace=False)
        members = [shocks[i]["name"] for i in sorted(picked)]
        players = [shocks[i].get("player") for i in picked if shocks[i]["kind"] == "add_veto"]
        if len(players) == len(set(players)) or len({shocks[i]["side"] for i in picked}) == 3:
            combinations.append({"name": f"combo_{len(combinations) + 1:02d}", "shocks": members})
    return {"shocks": shocks, "combinations": combinations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 worlds and 40 units")
    parser.add_argument("--workers", type=int, default=2, help="local Dask workers")
    parser.add_argument("--no-serial", action="store_true", help="skip the serial sweep")
    args = parser.parse_args()
    n_worlds, n_units = (1000, 40) if args.quick else (4000, 200)
    figures: dict[str, float | int | bool | str] = {
        "worlds": n_worlds,
        "units": n_units,
        "workers": args.workers,
    }

    scenario = load_scenario(SCENARIO)
    started = time.perf_counter()
    simulation = sample_worlds(scenario, n_worlds=n_worlds, n_replicates=20, seed=20_190_101)
    figures["sample_s"] = time.perf_counter() - started
    started = time.perf_counter()
    evaluate_deals(simulation)
    figures["evaluate_s"] = time.perf_counter() - started
    baseline = figures["sample_s"] + figures["evaluate_s"]
    members, draws = len(simulation.layout.members), simulation.worlds.n_draws
    print(f"USMCA: {members} members, {n_worlds} worlds ({draws} draws × 20)")
    print(
        f"baseline (sample worlds + evaluate the 3 deals): {baseline:.1f} s "
        f"(sampling {figures['sample_s']:.1f} s, evaluation {figures['evaluate_s']:.2f} s)"
    )

    started = time.perf_counter()
    sensitivity = analyse_sensitivity(simulation)
    figures["sensitivity_s"] = time.perf_counter() - started
    print(
        f"sensitivity, {sensitivity.sizes['constituency']} constituencies × "
        f"{sensitivity.sizes['deal']} deals: "
        f"{figures['sensitivity_s']:.1f} s = {figures['sensitivity_s'] / baseline:.2f} × baseline"
    )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shocks.yaml"
        path.write_text(yaml.safe_dump(generate_shocks(simulation.layout, n_units), sort_keys=False))
        shock_set = load_shocks(path, scenario)
    assert len(shock_set.units()) == n_units
    serial = None
    if not args.no_serial:
        started = time.perf_counter()
        serial = stress_test(simulation, shock_set)
        figures["sweep_serial_s"] = time.perf_counter() - started
        print(
            f"stress sweep, {n_units} units, serial: {figures['sweep_serial_s']:.1f} s "
            f"= {figures['sweep_serial_s'] / baseline:.2f} × baseline"
        )
    started = time.perf_counter()
    with dask_client(n_workers=args.workers) as client:
        figures["cluster_start_s"] = time.perf_counter() - started
        sweep_started = time.perf_counter()
        on_dask = stress_test(simulation, shock_set, client=client)
        figures["sweep_dask_s"] = time.perf_counter() - sweep_started
    figures["sweep_dask_total_s"] = time.perf_counter() - started
    print(
        f"stress sweep, {n_units} units, local Dask cluster of {args.workers}: "
        f"{figures['sweep_dask_s']:.1f} s (+ {figures['cluster_start_s']:.1f} s to start and warm it) "
        f"= {figures['sweep_dask_total_s'] / baseline:.2f} × baseline"
    )
    if serial is not None:
        xr.testing.assert_identical(serial, on_dask)
        figures["bit_identical"] = True
        print(
            "serial and Dask sweeps bit-identical: yes; "
            f"speed-up {figures['sweep_serial_s'] / figures['sweep_dask_s']:.2f}× (cluster start excluded)"
        )
    worst = on_dask["shock"].to_numpy()[np.argsort(on_dask["rank"].to_numpy())[:3]]
    print(f"most dangerous: {', '.join(map(str, worst))}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
