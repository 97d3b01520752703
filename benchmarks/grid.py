"""Grid-path throughput, win-set map time and memory, sensitivity and stress time: new code vs old.

Every figure is measured in fresh subprocesses of this run, once with this checkout and once with
each baseline checkout given by ``--baseline`` (a directory holding an older ``riskmodel``
package, e.g. ``git archive <commit> | tar -x -C DIR``), and printed with the ratio to it:

- a random grid of ``--deals`` deals (default 10⁵) on the bundled USMCA scenario through the
  whole pipeline (``evaluate_deals``, results reduction without vote detail): evaluations per
  second (world × member × deal per second);
- the win-set map ``riskmodel winset`` of ``--map`` × ``--map`` deals (default 1000) with its
  plots: wall time, CPU time (every thread of the child process: less sensitive to a busy
  machine than wall time) and peak resident memory (VmHWM of the child process);
- the sensitivity analysis of the bundled scenario and its 15-unit stress test
  (data/shocks/usmca_2019.yaml), serial: wall time.

Run: ``python benchmarks/grid.py --baseline /tmp/base [--baseline /tmp/base2] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "data/scenarios/usmca_2019.yaml"
SHOCKS = ROOT / "data/shocks/usmca_2019.yaml"

_PEAK = """
def high_water_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent process
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

GRID = (
    """
import json, time, numpy as np
from riskmodel.spec.scenario import load_scenario
from riskmodel.pipeline import sample_worlds, evaluate_deals
"""
    + _PEAK
    + """
sim = sample_worlds(load_scenario(SCENARIO), n_worlds=4000, n_replicates=20, seed=1)
layout = sim.layout
rng = np.random.default_rng(0)
deals = layout.issue_low + layout.issue_span * rng.random((N_DEALS, len(layout.issues)))
evaluate_deals(sim, deals[:50], vote_detail=False, keep_conditional=False)  # compile outside the timing
start = time.perf_counter()
res = evaluate_deals(sim, deals, vote_detail=False, keep_conditional=False)
seconds = time.perf_counter() - start
evals = sim.worlds.n_worlds * len(layout.members) * N_DEALS
digest = float(res["agreement_probability"].sum())
print(json.dumps({"seconds": seconds, "rate": evals / seconds, "peak_mb": high_water_mb(), "check": digest}))
"""
)

SENSITIVITY = """
import json, time
from riskmodel.spec.scenario import load_scenario
from riskmodel.pipeline import sample_worlds
from riskmodel.analyses.sensitivity import analyse_sensitivity
from riskmodel.analyses.stress import stress_test
from riskmodel.spec.shockcheck import load_shocks
scenario = load_scenario(SCENARIO)
sim = sample_worlds(scenario, seed=1)
shock_set = load_shocks(SHOCKS, scenario)
analyse_sensitivity(sim)  # compile and warm every cache outside the timing
start = time.perf_counter()
analyse_sensitivity(sim)
sensitivity = time.perf_counter() - start
stress_test(sim, shock_set)
start = time.perf_counter()
stress_test(sim, shock_set)
stress = time.perf_counter() - start
print(json.dumps({"sensitivity": sensitivity, "stress": stress}))
"""


def run_python(root: Path, code: str, **extra_env: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter importing riskmodel from ``root``; its last line is JSON."""
    env = {**os.environ, "PYTHONPATH": str(root), **extra_env}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=False
    )
    if out.returncode:
        raise RuntimeError(f"{root}: {out.stderr.strip().splitlines()[-1:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def winset_map(root: Path, grid: int) -> dict[str, float]:
    """Wall time and VmHWM of ``riskmodel winset`` with plots, in a child process."""
    code = (
        "import sys, time, runpy, json\n"
        + _PEAK
        + f"sys.argv = ['riskmodel', 'winset', {str(SCENARIO)!r}, '--x', 'auto_rvc', '--y',"
        f" 'labour_enforcement', '--grid', '{grid}', '--out', OUT]\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    runpy.run_module('riskmodel', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(json.dumps({'seconds': time.perf_counter() - start, 'cpu_s': time.process_time(),"
        " 'peak_mb': high_water_mb()}))\n"
    )
    with tempfile.TemporaryDirectory() as out:
        # older checkouts estimate a map's memory as a run keeping every deal's vote detail and
        # refuse 1000×1000 under the default limit (half the machine): lift it for them
        return run_python(root, code.replace("OUT", repr(out)), RISKMODEL_MEMORY_LIMIT="64GiB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--baseline", action="append", type=Path, default=[], help="older checkout (repeatable)"
    )
    parser.add_argument("--deals", type=int, default=100_000, help="deals of the pipeline grid")
    parser.add_argument("--map", type=int, default=1000, help="points per axis of the win-set map")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per checkout, alternating; the median is reported"
    )
    parser.add_argument("--quick", action="store_true", help="10⁴ deals and a 300×300 map")
    parser.add_argument("--skip", action="append", default=[], choices=["grid", "map", "sensitivity"])
    parser.add_argument(
        "--dask",
        type=int,
        default=0,
        metavar="ROWS",
        help="also map 10⁵ × ROWS deals on 2 local Dask workers",
    )
    args = parser.parse_args()
    n_deals, grid = (10_000, 300) if args.quick else (args.deals, args.map)
    roots = [("this checkout", ROOT)] + [(str(path), path.resolve()) for path in args.baseline]

    def table(title: str, measure, fields: list[tuple[str, str, bool]]) -> None:
        print(title, flush=True)
        runs: dict[str, list[dict[str, float]]] = {}
        for _ in range(args.repeat):  # roots alternate, so a busy spell on the machine hits them all
            for name, root in roots:
                try:
                    figures = measure(root)
                except RuntimeError as exc:  # an old checkout without the feature
                    print(f"  {name}: not measured ({exc})")
                    continue
                print(f"    {name}: {figures} (load {os.getloadavg()[0]:.1f})", flush=True)
                runs.setdefault(name, []).append(figures)
        # each figure's median over the runs (a busy spell on a shared machine only adds time)
        rows = [
            (name, {key: statistics.median(run[key] for run in runs[name]) for key in runs[name][0]})
            for name, _ in roots
            if name in runs
        ]
        for key, unit, higher_better in fields:
            new = rows[0][1][key]
            for name, figures in rows:
                ratio = new / figures[key] if higher_better else figures[key] / new
                print(f"  {key:<12}{figures[key]:>14.4g} {unit:<10} {name:<40} this checkout: {ratio:5.2f}×")

    if "grid" not in args.skip:
        code = GRID.replace("SCENARIO", repr(str(SCENARIO))).replace("N_DEALS", str(n_deals))
        table(
            f"{n_deals:,}-deal grid through evaluate_deals, USMCA, 4,000 worlds",
            lambda root: run_python(root, code),
            [("rate", "evals/s", True), ("seconds", "s", False), ("peak_mb", "MB", False)],
        )
    if "map" not in args.skip:
        table(
            f"win-set map {grid}×{grid} with plots (riskmodel winset)",
            lambda root: winset_map(root, grid),
            [("seconds", "s", False), ("cpu_s", "CPU s", False), ("peak_mb", "MB", False)],
        )
    if "sensitivity" not in args.skip:
        code = SENSITIVITY.replace("SCENARIO", repr(str(SCENARIO))).replace("SHOCKS", repr(str(SHOCKS)))
        table(
            "sensitivity and the 15-unit stress test of the bundled scenario, serial",
            lambda root: run_python(root, code),
            [("sensitivity", "s", False), ("stress", "s", False)],
        )
    if args.dask:
        dask_grid(args.dask)


DASK = (
    """
import json, time, numpy as np
from distributed import LocalCluster, Client
from riskmodel.analyses.winset import compute_winset
from riskmodel.spec.scenario import load_scenario
from riskmodel.pipeline import sample_worlds
"""
    + _PEAK
    + """
def worker_peak_mb(dask_worker=None):
    return high_water_mb()
sim = sample_worlds(load_scenario(SCENARIO), n_worlds=400, n_replicates=20, seed=1)
options = dict(x="auto_rvc", y="labour_enforcement", quantiles=False)
# the map's first and last rows (y exactly at either end of its range), serially: 2 x N_X deals
start = time.perf_counter()
serial = compute_winset(sim, grid=(N_X, 2), **options)
serial_rate = 2 * N_X / (time.perf_counter() - start)
with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=BUDGET, dashboard_address=None) as cluster:
    with Client(cluster) as client:
        start = time.perf_counter()
        full = compute_winset(sim, grid=(N_X, N_Y), client=client, **options)
        seconds = time.perf_counter() - start
        peaks = client.run(worker_peak_mb)
ends = full.isel(y=[0, N_Y - 1])
same = bool(np.array_equal(ends["y"], serial["y"])) and all(
    np.array_equal(ends[name].to_numpy(), serial[name].to_numpy(), equal_nan=True)
    for name in serial.data_vars if "y" in serial[name].dims
)
print(json.dumps({"seconds": seconds, "rate": N_X * N_Y / seconds, "serial_rate": serial_rate,
                  "worker_peak_mb": max(peaks.values()), "client_peak_mb": high_water_mb(), "same": same}))
"""
)
DASK_BUDGET = "1.5GB"


def dask_grid(n_rows: int, n_cols: int = 100_000) -> None:
    """A map of ``n_cols × n_rows`` deals (10⁷ by default) on a 2-worker local cluster, a memory limit each.

    The baseline is the serial map of its first and last rows (2 × 10⁵ deals) in the same run:
    deals per second, and those rows' results bit for bit.
    """
    code = DASK.replace("SCENARIO", repr(str(SCENARIO))).replace("BUDGET", repr(DASK_BUDGET))
    figures = run_python(ROOT, code.replace("N_X", str(n_cols)).replace("N_Y", str(n_rows)))
    print(
        f"{n_cols * n_rows:,}-deal map on 2 Dask workers (limit {DASK_BUDGET} each), 400 worlds: "
        f"{figures['seconds']:.0f} s, {figures['rate']:.3g} deals/s = "
        f"{figures['rate'] / figures['serial_rate']:.2f}× the serial rate on its first and last rows; "
        f"worker peak {figures['worker_peak_mb']:,.0f} MB, client peak {figures['client_peak_mb']:,.0f} MB; "
        f"those rows bit-identical to serial: {figures['same']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
