"""IRT benchmark: one House congress, three samplers, in one run.

Samplers:

* ``kernel`` — nutpie on the hand-written, vectorised log density and gradient
  (:mod:`riskmodel.inference.irt_kernel`), low-rank mass-matrix adaptation (the default for stand-alone fits);
* ``nutpie`` — nutpie on the PyMC model compiled by PyTensor's numba backend;
* ``pymc`` — PyMC's own NUTS (C backend).

The full congress (all roll calls with a minority of at least 2.5%, Voteview's rule) is fitted
with the kernel and ``fit_irt_kernel``'s defaults (mode start, 500 warm-up and 1,500 kept draws
per chain); with ``--base PATH`` the same fit is also run by an older checkout in a
subprocess (its own defaults: a fixed 1,500 draws after 700 of warm-up), the same-run baseline
of the speed-up. The two PyMC-graph samplers take far longer on the full congress, so all three
are also run on a random subset of ``--subset`` roll calls, and their ratios are taken there.
Wall time includes compilation; ESS/s is the minimum bulk ESS over the identified quantities
(standardised ideal points, cutpoints and discriminations) per second of wall time.

    .venv/bin/python benchmarks/irt.py                         # 109th House, full + 300-roll-call subset
    .venv/bin/python benchmarks/irt.py --samplers kernel       # only the fast path
    .venv/bin/python benchmarks/irt.py --base /tmp/old-checkout  # plus the old code, same run
    .venv/bin/python benchmarks/irt.py --quick                 # 100-roll-call subset only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from riskmodel.backtest.archive import RollCallArchive
from riskmodel.inference.irt_kernel import fit_irt_kernel
from riskmodel.inference.sampling import convergence_gate, sample_posterior
from riskmodel.model.irt import VoteMatrix, build_irt_model, vote_matrix

IDENTIFIED = ["irt_ideal", "irt_cut", "irt_slope"]


def _fit(matrix: VoteMatrix, sampler: str, draws: int | None, tune: int | None) -> tuple[float, object]:
    started = time.perf_counter()
    if sampler == "kernel":
        sizes = {key: value for key, value in (("draws", draws), ("tune", tune)) if value is not None}
        fit = fit_irt_kernel(matrix, chains=2, seed=1, **sizes)  # type: ignore[arg-type]
    else:
        fit = sample_posterior(
            build_irt_model(matrix),
            draws=draws,
            tune=tune,
            chains=2,
            sampler=sampler,  # type: ignore[arg-type]
            var_names=IDENTIFIED,
            seed=1,
        )
    return time.perf_counter() - started, fit


def _row(label: str, sampler: str, wall: float, fit: object, baseline: float | None) -> str:
    gate = convergence_gate(fit, var_names=IDENTIFIED)  # type: ignore[arg-type]
    ideal_gate = convergence_gate(fit, var_names=["irt_ideal"])  # type: ignore[arg-type]
    ratio = "" if baseline is None else f"{baseline / wall:8.2f}×"
    kept = int(fit["posterior"].sizes["draw"])  # type: ignore[index]
    return (
        f"{label:22} {sampler:7} {wall:8.1f} {ratio:>9} {kept:6d} {gate.min_ess_bulk:9.0f} "
        f"{gate.min_ess_tail:9.0f} {gate.max_rhat:7.3f} {gate.min_ess_bulk / wall:7.2f}  all: {gate.status}; "
        f"ideal points: {ideal_gate.status}"
    )


_BASE_FIT = """
import json, time, numpy as np
from pathlib import Path
np.seterr(all="ignore")
from riskmodel.backtest.archive import RollCallArchive
from riskmodel.inference.irt_kernel import fit_irt_kernel
from riskmodel.inference.sampling import convergence_gate
from riskmodel.model.irt import vote_matrix
votes = RollCallArchive(Path({data!r})).member_votes({congress})
votes = votes[votes["chamber"] == {chamber!r}]
matrix = vote_matrix(votes, min_minority={min_minority}, seed=1)
started = time.perf_counter()
fit = fit_irt_kernel(matrix, chains=2, seed=1)
wall = time.perf_counter() - started
gate = convergence_gate(fit, var_names={identified!r})
print(json.dumps(dict(wall=wall, kept=int(fit["posterior"].sizes["draw"]), bulk=gate.min_ess_bulk,
                      tail=gate.min_ess_tail, rhat=gate.max_rhat, status=gate.status)))
"""


def _base_row(base: Path, args: argparse.Namespace, label: str) -> tuple[str, float]:
    """The full-congress fit by an older checkout, in a fresh interpreter."""
    code = _BASE_FIT.format(
        data=str(args.data),
        congress=args.congress,
        chamber=args.chamber,
        min_minority=args.min_minority,
        identified=IDENTIFIED,
    )
    env = dict(os.environ, PYTHONPATH=str(base))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the base checkout's fit failed:\n{done.stderr[-2000:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    row = (
        f"{label:22} {'base':7} {r['wall']:8.1f} {'':>9} {r['kept']:6d} {r['bulk']:9.0f} {r['tail']:9.0f} "
        f"{r['rhat']:7.3f} {r['bulk'] / r['wall']:7.2f}  all: {r['status']}"
    )
    return row, float(r["wall"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/rollcalls"
    )
    parser.add_argument("--congress", type=int, default=109)
    parser.add_argument("--chamber", default="h")
    parser.add_argument("--min-minority", type=float, default=0.025)
    parser.add_argument("--subset", type=int, default=300, help="roll calls in the three-sampler comparison")
    parser.add_argument("--draws", type=int, default=None, help="per chain, full congress (default: 1500)")
    parser.add_argument("--tune", type=int, default=None, help="per chain, full congress (default: 500)")
    parser.add_argument("--base", type=Path, default=None, help="older checkout: same full fit, same run")
    parser.add_argument("--quick", action="store_true", help="only a 100-roll-call subset (smoke run)")
    parser.add_argument("--subset-draws", type=int, default=500, help="per chain, subset comparison")
    parser.add_argument("--subset-tune", type=int, default=500, help="per chain, subset comparison")
    parser.add_argument("--samplers", default="kernel,nutpie,pymc")
    args = parser.parse_args()
    samplers = args.samplers.split(",")
    if args.quick:
        args.subset, args.subset_draws, args.subset_tune = 100, 300, 300

    archive = RollCallArchive(args.data)
    votes = archive.member_votes(args.congress)
    votes = votes[votes["chamber"] == args.chamber]
    full = vote_matrix(votes, min_minority=args.min_minority, seed=1)
    subset = vote_matrix(votes, min_minority=args.min_minority, max_rollcalls=args.subset, seed=1)
    print(
        f"{args.chamber}{args.congress}: {full.shape[0]} members × {full.shape[1]} roll calls "
        f"({int(full.observed.sum()):,} votes); 2 chains × ({args.tune or 'default'} tune + "
        f"{args.draws or 'default'} draws); "
        f"subset: 2 chains × ({args.subset_tune} + {args.subset_draws})"
    )
    print(
        f"{'data':22} {'sampler':7} {'wall s':>8} {'speed-up':>9} {'draws':>6} "
        f"{'min bulk':>9} {'min tail':>9} "
        f"{'max R̂':>7} {'ESS/s':>7}  convergence gate"
    )
    full_label = f"full ({full.shape[1]} roll calls)"
    base_wall: float | None = None
    if args.base is not None and not args.quick:
        row, base_wall = _base_row(args.base, args, full_label)
        print(row, flush=True)
    if "kernel" in samplers and not args.quick:
        wall, fit = _fit(full, "kernel", args.draws, args.tune)
        print(_row(full_label, "kernel", wall, fit, base_wall), flush=True)
    baseline: float | None = None
    for sampler in ["pymc", "nutpie", "kernel"]:
        if sampler not in samplers:
            continue
        wall, fit = _fit(subset, sampler, args.subset_draws, args.subset_tune)
        print(_row(f"subset ({subset.shape[1]} roll calls)", sampler, wall, fit, baseline), flush=True)
        baseline = wall if baseline is None else baseline
    print(
        "speed-up: wall time of the base checkout (full congress) or of PyMC's NUTS (subset) over "
        "this one's; draws: kept per chain."
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
