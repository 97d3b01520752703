"""Win-set map speed and memory on the bundled USMCA scenario (issue 4).

Prints, for 4,000 worlds (200 draws × 20 replicates) of ``data/scenarios/usmca_2019.yaml``
(``tests/fixtures/toy.yaml`` when it is absent):

- the time to sample the worlds (PyMC; not part of the map);
- the time of a 101×101 map with the row sweep (``compute_winset(method="sweep")``, the default;
  target < 30 s), against the engine path (``method="engine"``: every grid deal through
  ``evaluate_chunks``) measured in the same run on the first ``--engine-rows`` rows of the same
  map and extrapolated linearly (the engine's cost is linear in deals), and the check that the
  two paths agree on those rows;
- the peak resident memory of a 1,000×1,000 map (1,000,000 deals) in a fresh subprocess (its
  ``VmHWM``: ``getrusage``'s ``ru_maxrss`` would carry this process's peak across ``exec`` on
  Linux), with the high-water mark just before the map for comparison.

Run: ``python benchmarks/winset.py [--quick] [--big-worlds N]``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from riskmodel.analyses.winset import compute_winset
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
USMCA = ROOT / "data/scenarios/usmca_2019.yaml"
TOY = ROOT / "tests/fixtures/toy.yaml"


def big_map(pickled: Path, x: str, y: str, grid: int) -> dict[str, float]:
    """Peak resident memory of a fresh process that loads the worlds and maps a grid × grid map."""
    code = f"""
import json, pickle, time
from riskmodel.analyses.winset import compute_winset
from riskmodel.pipeline import Simulation

def high_water_mb():
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak across exec
    with open("/proc/self/status") as status:
        line = next(row for row in status if row.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

with open({str(pickled)!r}, "rb") as handle:
    layout, worlds, seed = pickle.load(handle)
# compute_winset needs only the layout and the worlds (the PyMC model does not pickle)
simulation = Simulation(layout=layout, model=None, draws=None, worlds=worlds, seed=seed)
compute_winset(simulation, x={x!r}, y={y!r}, grid=3)  # compile and warm up
before = high_water_mb()
start = time.perf_counter()
winset = compute_winset(simulation, x={x!r}, y={y!r}, grid={grid})
elapsed = time.perf_counter() - start
peak = high_water_mb()
print(json.dumps({{"peak_mb": peak, "before_mb": before, "seconds": elapsed,
                  "result_mb": winset.nbytes / 2**20, "n_worlds": simulation.worlds.n_worlds}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller shapes (smoke run)")
    parser.add_argument("--big-worlds", type=int, default=None, help="worlds for the 1,000×1,000 map")
    parser.add_argument("--engine-rows", type=int, default=11, help="rows of the map run through the engine")
    args = parser.parse_args()
    n_worlds, grid, big = (800, 41, 201) if args.quick else (4000, 101, 1000)
    big_worlds = args.big_worlds or n_worlds
    path = USMCA if USMCA.is_file() else TOY
    scenario = load_scenario(path)
    x, y = scenario.spec.issues[0].name, scenario.spec.issues[1].name

    start = time.perf_counter()
    simulation = sample_worlds(scenario, n_worlds=n_worlds, n_replicates=20, seed=1)
    sampled = time.perf_counter() - start
    n_members = len(simulation.layout.members)
    worlds = simulation.worlds
    print(
        f"Scenario {path.name}: {n_members} members, {worlds.n_worlds:,} worlds "
        f"({worlds.n_draws} draws × {worlds.n_replicates} replicates)"
    )
    print(f"sampling the worlds (PyMC, not part of the map): {sampled:.1f} s")

    compute_winset(simulation, x=x, y=y, grid=3)  # JIT compile outside the timing
    compute_winset(simulation, x=x, y=y, grid=3, method="engine")
    start = time.perf_counter()
    sweep = compute_winset(simulation, x=x, y=y, grid=grid)
    sweep_s = time.perf_counter() - start
    rows = min(args.engine_rows, grid)
    y_range = (float(sweep["y"][0]), float(sweep["y"][rows - 1]))
    start = time.perf_counter()
    engine = compute_winset(simulation, x=x, y=y, grid=(grid, rows), y_range=y_range, method="engine")
    engine_s = (time.perf_counter() - start) * grid / rows
    part = compute_winset(simulation, x=x, y=y, grid=(grid, rows), y_range=y_range)
    disagree = float(
        np.mean(engine["agreement_probability"].to_numpy() != part["agreement_probability"].to_numpy())
    )
    worst = float(np.abs(engine["agreement_probability"] - part["agreement_probability"]).max())
    evaluations = simulation.worlds.n_worlds * n_members * grid * grid
    print(f"{grid}×{grid} map, {x} × {y} (target < 30 s):")
    print(
        f"  row sweep (default):          {sweep_s:7.1f} s  {evaluations / sweep_s:.2e} world·member·deal/s"
    )
    print(
        f"  engine (every deal; {rows} rows, ×{grid / rows:.1f}): {engine_s:7.1f} s  "
        f"{evaluations / engine_s:.2e} world·member·deal/s  → sweep is {engine_s / sweep_s:.1f}× faster"
    )
    print(f"  sweep vs engine on those rows: {disagree:.2%} of deals differ, largest |ΔP| {worst:.2g}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process so far: {rss:,.0f} MB")

    if big_worlds != n_worlds:
        simulation = sample_worlds(scenario, n_worlds=big_worlds, n_replicates=20, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        pickled = Path(folder) / "simulation.pkl"
        pickled.write_bytes(pickle.dumps((simulation.layout, simulation.worlds, simulation.seed)))
        result = big_map(pickled, x, y, big)
    print(
        f"{big:,}×{big:,} map ({big * big:,} deals, {result['n_worlds']:,.0f} worlds) in a fresh process: "
        f"{result['seconds']:.1f} s, peak RSS {result['peak_mb']:,.0f} MB "
        f"(before the map {result['before_mb']:,.0f} MB; "
        f"the map Dataset itself {result['result_mb']:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
