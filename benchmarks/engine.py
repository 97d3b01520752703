"""Engine throughput and memory, against NumPy baselines measured in the same run.

Shape (issue 2): 4,000 worlds × 535 members × 1,000 deals, three issues and one linked pair.
Prints evaluations per second (world × member × deal per second) for

- the engine's fused numba kernel (the production path, ``riskmodel.engine.count_yes``), with the
  worlds split as 4,000 draws × 1 replicate and as 200 draws × 20 replicates;
- a naive NumPy broadcast baseline (net gain of every world × member × deal by broadcasting);
- a NumPy matrix-product baseline (coefficients @ features, then compare and count);

and the peak resident memory of a 100,000-deal grid evaluated through the whole pipeline
(``evaluate_deals`` with results reduction), measured in a fresh subprocess.

Run: ``make bench`` or ``python benchmarks/engine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from riskmodel.engine import count_yes
from riskmodel.worlds.arrays import Worlds, deal_features
from riskmodel.worlds.gains import gain_coefficients

ROOT = Path(__file__).resolve().parent.parent
N_MEMBERS, N_ISSUES = 535, 3
PAIRS = np.array([[0, 1]])


def make_worlds(n_draws: int, n_replicates: int, seed: int = 0) -> Worlds:
    rng = np.random.default_rng(seed)
    ideal = rng.uniform(0, 1, (n_draws, N_MEMBERS, N_ISSUES))
    salience = rng.dirichlet(np.ones(N_ISSUES), (n_draws, N_MEMBERS))
    coef = gain_coefficients(
        ideal, salience, np.full(N_ISSUES, 0.5), rng.uniform(-0.3, 0.3, (n_draws, 1, 1)), PAIRS
    )
    shocks = (rng.standard_normal((n_draws, n_replicates, N_MEMBERS)) * 0.1).astype(np.float32)
    chamber = np.repeat([0, 1], [435, 100]).astype(np.int64)
    features = coef.shape[-1]
    return Worlds(
        member_coef=coef,
        member_shock=shocks,
        member_chamber=chamber,
        present=np.tile(np.array([435, 100]), (n_draws, n_replicates, 1)),
        seats=np.array([435, 100]),
        link_pairs=PAIRS,
        referendum_chambers=np.zeros(0, dtype=np.int64),
        referendum_coef=np.zeros((n_draws, 0, features)),
        referendum_var=np.zeros((n_draws, 0, N_ISSUES, N_ISSUES)),
        referendum_reversion=np.zeros((0, N_ISSUES)),
        referendum_noise=np.zeros((n_draws, 0)),
        referendum_campaign=np.zeros((n_draws, n_replicates, 0)),
        referendum_turnout_ok=np.zeros((n_draws, 0), dtype=bool),
    )


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def naive_broadcast(worlds: Worlds, features: np.ndarray) -> np.ndarray:
    """Every world × member × deal by broadcasting: (W, M, N, F) products."""
    coef = np.repeat(worlds.member_coef, worlds.n_replicates, axis=0)  # (W, M, F)
    shock = worlds.member_shock.reshape(-1, N_MEMBERS)  # (W, M)
    gain = (coef[:, :, None, :] * features[None, None, :, :]).sum(axis=-1) + shock[:, :, None]
    yes = gain > 0
    return np.stack([yes[:, worlds.member_chamber == c].sum(axis=1) for c in range(2)], axis=-1)


def matrix_product(worlds: Worlds, features: np.ndarray, *, block: int = 50) -> np.ndarray:
    """Coefficients (D·M, F) @ features (F, n), then compare against each replicate's shock.

    Deals go in blocks of ``block`` so the (D·M, n) product stays near 1 GB.
    """
    n_draws, _, n_features = worlds.member_coef.shape
    flat = worlds.member_coef.reshape(-1, n_features)
    counts = np.zeros((n_draws, worlds.n_replicates, features.shape[0], 2), dtype=np.int32)
    for start in range(0, features.shape[0], block):
        part = slice(start, start + block)
        base = (flat @ features[part].T).reshape(n_draws, N_MEMBERS, -1)
        for r in range(worlds.n_replicates):
            yes = base + worlds.member_shock[:, r, :, None] > 0
            for c in range(2):
                counts[:, r, part, c] = yes[:, worlds.member_chamber == c].sum(axis=1)
    return counts


def grid_memory(n_deals: int) -> dict[str, float]:
    """Peak RSS of a fresh process that evaluates an n-deal grid on the bundled scenario."""
    code = f"""
import json, time, numpy as np
from riskmodel.spec.scenario import load_scenario
from riskmodel.pipeline import sample_worlds, evaluate_deals
scenario = load_scenario({str(ROOT / "data/scenarios/usmca_2019.yaml")!r})
sim = sample_worlds(scenario, n_worlds=4000, n_replicates=20, seed=1)
def high_water_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent process
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = high_water_mb()
layout = sim.layout
rng = np.random.default_rng(0)
lo, hi = layout.issue_low, layout.issue_low + layout.issue_span
deals = lo + (hi - lo) * rng.random(({n_deals}, len(layout.issues)))
start = time.perf_counter()
res = evaluate_deals(sim, deals, vote_detail=False, keep_conditional=False)
elapsed = time.perf_counter() - start
peak = high_water_mb()
summary = {{"peak_mb": peak, "before_mb": before, "seconds": elapsed, "members": len(layout.members)}}
print(json.dumps(summary))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller shapes (smoke run)")
    parser.add_argument("--grid-only", action="store_true", help="only the large-grid memory measurement")
    args = parser.parse_args()
    n_worlds, n_deals = (800, 100) if args.quick else (4000, 1000)
    baseline_deals = 2 if args.quick else 5
    grid_deals = 10_000 if args.quick else 100_000

    if args.grid_only:
        report_grid(grid_deals)
        return
    rng = np.random.default_rng(1)
    features = deal_features(rng.uniform(0, 1, (n_deals, N_ISSUES)), PAIRS)
    print(f"Shape: {n_worlds:,} worlds × {N_MEMBERS} members × {n_deals:,} deals (engine: float32 kernel)")
    rows = []

    worlds_r1 = make_worlds(n_worlds, 1)
    count_yes(worlds_r1, features[:2])  # JIT compile outside the timing
    baseline_features = features[:baseline_deals]
    naive_s = best_of(1, lambda: naive_broadcast(worlds_r1, baseline_features))
    naive_rate = n_worlds * N_MEMBERS * baseline_deals / naive_s
    # Same counts as the float64 baseline, up to members within float32 rounding of indifference
    difference = naive_broadcast(worlds_r1, baseline_features) - count_yes(worlds_r1, baseline_features)[:, 0]
    assert np.abs(difference).max() <= 1 and np.mean(difference != 0) < 1e-3, "engine disagrees with baseline"
    rows.append(("naive NumPy broadcast (baseline)", naive_rate))
    matmul_s = best_of(1, lambda: matrix_product(worlds_r1, features))
    rows.append(("NumPy matrix product", n_worlds * N_MEMBERS * n_deals / matmul_s))
    kernel_s = best_of(3, lambda: count_yes(worlds_r1, features))
    rows.append(
        (
            "engine kernel, 4,000 draws × 1 replicate" if not args.quick else "engine kernel, R=1",
            n_worlds * N_MEMBERS * n_deals / kernel_s,
        )
    )
    worlds_r20 = make_worlds(n_worlds // 20, 20)
    kernel20_s = best_of(3, lambda: count_yes(worlds_r20, features))
    rows.append(
        (
            "engine kernel, 200 draws × 20 replicates" if not args.quick else "engine kernel, R=20",
            n_worlds * N_MEMBERS * n_deals / kernel20_s,
        )
    )

    print(f"{'method':<44}{'evaluations/s':>16}{'× baseline':>12}")
    for name, rate in rows:
        print(f"{name:<44}{rate:>16.3e}{rate / naive_rate:>12.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (baselines included): {rss:,.0f} MB")

    report_grid(grid_deals)


def report_grid(grid_deals: int) -> None:
    if (ROOT / "data/scenarios/usmca_2019.yaml").is_file():
        grid = grid_memory(grid_deals)
        print(
            f"{grid_deals:,}-deal grid on the bundled USMCA scenario "
            f"({grid['members']} members, 4,000 worlds), "
            f"full pipeline: {grid['seconds']:.1f} s, peak RSS {grid['peak_mb']:,.0f} MB "
            f"(after sampling {grid['before_mb']:,.0f} MB; limit 2,048 MB)"
        )


if __name__ == "__main__":
    main()
