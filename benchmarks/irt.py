"""IRT benchmark: one House congress, three samplers, in one run.

Samplers:

* ``kernel`` — nutpie on the hand-written, vectorised log density and gradient
  (:mod:`riskmodel.inference.irt_kernel`), low-rank mass-matrix adaptation (the default for stand-alone fits);
* ``nutpie`` — nutpie on the PyMC model compiled by PyTensor's numba backend;
* ``pymc`` — PyMC's own NUTS (C backend).

The full congress (all roll calls with a minority of at least 2.5%, Voteview's rule) is fitted
with the kernel; the two PyMC-graph samplers take far longer on it, so all three are also run
on a random subset of ``--subset`` roll calls, and the ratios are taken there. Wall time
includes compilation; ESS/s is the minimum bulk ESS over the identified quantities
(standardised ideal points, cutpoints and discriminations) per second of wall time.

    .venv/bin/python benchmarks/irt.py                       # 109th House, full + 300-roll-call subset
    .venv/bin/python benchmarks/irt.py --samplers kernel     # only the fast path
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from riskmodel.backtest.archive import RollCallArchive
from riskmodel.inference.irt_kernel import fit_irt_kernel
from riskmodel.inference.sampling import convergence_gate, sample_posterior
from riskmodel.model.irt import VoteMatrix, build_irt_model, vote_matrix

IDENTIFIED = ["irt_ideal", "irt_cut", "irt_slope"]


def _fit(matrix: VoteMatrix, sampler: str, draws: int, tune: int) -> tuple[float, object]:
    started = time.perf_counter()
    if sampler == "kernel":
        fit = fit_irt_kernel(matrix, draws=draws, tune=tune, chains=2, seed=1)
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
    return (
        f"{label:22} {sampler:7} {wall:8.1f} {ratio:>9} {gate.min_ess_bulk:9.0f} {gate.min_ess_tail:9.0f} "
        f"{gate.max_rhat:7.3f} {gate.min_ess_bulk / wall:7.2f}  all: {gate.status}; "
        f"ideal points: {ideal_gate.status}"
    )


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
    parser.add_argument("--draws", type=int, default=1500, help="per chain, full congress")
    parser.add_argument("--tune", type=int, default=700, help="per chain, full congress")
    parser.add_argument("--subset-draws", type=int, default=500, help="per chain, subset comparison")
    parser.add_argument("--subset-tune", type=int, default=500, help="per chain, subset comparison")
    parser.add_argument("--samplers", default="kernel,nutpie,pymc")
    args = parser.parse_args()
    samplers = args.samplers.split(",")

    archive = RollCallArchive(args.data)
    votes = archive.member_votes(args.congress)
    votes = votes[votes["chamber"] == args.chamber]
    full = vote_matrix(votes, min_minority=args.min_minority, seed=1)
    subset = vote_matrix(votes, min_minority=args.min_minority, max_rollcalls=args.subset, seed=1)
    print(
        f"{args.chamber}{args.congress}: {full.shape[0]} members × {full.shape[1]} roll calls "
        f"({int(full.observed.sum()):,} votes); 2 chains × ({args.tune} tune + {args.draws} draws); "
        f"subset: 2 chains × ({args.subset_tune} + {args.subset_draws})"
    )
    print(
        f"{'data':22} {'sampler':7} {'wall s':>8} {'speed-up':>9} {'min bulk':>9} {'min tail':>9} "
        f"{'max R̂':>7} {'ESS/s':>7}  convergence gate"
    )
    if "kernel" in samplers:
        wall, fit = _fit(full, "kernel", args.draws, args.tune)
        print(_row(f"full ({full.shape[1]} roll calls)", "kernel", wall, fit, None), flush=True)
    baseline: float | None = None
    for sampler in ["pymc", "nutpie", "kernel"]:
        if sampler not in samplers:
            continue
        wall, fit = _fit(subset, sampler, args.subset_draws, args.subset_tune)
        print(_row(f"subset ({subset.shape[1]} roll calls)", sampler, wall, fit, baseline), flush=True)
        baseline = wall if baseline is None else baseline
    print("speed-up: wall time of the first sampler on the subset (PyMC's NUTS) over this one's.")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
