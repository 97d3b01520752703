"""IRT benchmark: one House congress, the fast path against an older checkout and PyMC, in one run.

Samplers:

* ``kernel`` — nutpie on the hand-written float32 log density and gradient
  (:mod:`riskmodel.inference.irt_kernel`, :mod:`riskmodel.inference.irt_fast`), diagonal mass matrix;
* ``nutpie`` — nutpie on the PyMC model compiled by PyTensor's numba backend;
* ``pymc`` — PyMC's own NUTS (C backend).

The full congress (all roll calls with a minority of at least 2.5%, Voteview's rule) is fitted
with ``fit_irt_kernel``'s defaults. With ``--base PATH`` the same fit is also run by an older
checkout (its own defaults) in a fresh interpreter, taking turns with this tree's fit (never
concurrently) ``--repeat`` times: the same-run baseline of the speed-up. Every full-fit row gives
the load average when it started, the convergence gate (max R-hat, min bulk and tail ESS,
divergences), ESS/s (min bulk ESS per second of wall time, mode search and compilation
included) and leapfrog steps per kept draw (= gradient evaluations per draw). The gradient itself
is timed before the fits, the float64 kernel (the old hot path, still the reference) against the
float32 one, alternating: with the steps per draw it gives the wall time on a quiet machine.
The two PyMC-graph samplers take far longer on the full congress, so all three are also run on a
random subset of ``--subset`` roll calls, and their ratios are taken there.

    .venv/bin/python benchmarks/irt.py                         # 109th House, full + 300-roll-call subset
    .venv/bin/python benchmarks/irt.py --samplers kernel       # only the fast path
    .venv/bin/python benchmarks/irt.py --base /tmp/old-checkout --repeat 2  # plus the old code, alternating
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
from riskmodel.inference.irt_fast import logp_grad32, vote_codes
from riskmodel.inference.irt_kernel import (
    IDENTIFIED,
    fit_irt_kernel,
    kernel_data,
    logp_and_grad,
    posterior_mode,
)
from riskmodel.inference.sampling import convergence_gate, sample_posterior
from riskmodel.model.irt import VoteMatrix, build_irt_model, vote_matrix

HEADER = (
    f"{'data':22} {'sampler':7} {'load':>5} {'wall s':>7} {'speed-up':>9} {'draws':>6} {'steps/draw':>10} "
    f"{'min bulk':>9} {'min tail':>9} {'max R̂':>7} {'div':>4} {'ESS/s':>7}  convergence gate"
)


def _load() -> str:
    return f"{os.getloadavg()[0]:5.2f}"


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


def _summary(fit: object, wall: float) -> dict[str, object]:
    gate = convergence_gate(fit, var_names=IDENTIFIED)  # type: ignore[arg-type]
    stats = fit["sample_stats"]  # type: ignore[index]
    return {
        "wall": wall,
        "kept": int(fit["posterior"].sizes["draw"]),  # type: ignore[index]
        "steps": float(stats["n_steps"].mean()) if "n_steps" in stats else float("nan"),
        "bulk": gate.min_ess_bulk,
        "tail": gate.min_ess_tail,
        "rhat": gate.max_rhat,
        "div": gate.divergences,
        "status": gate.status,
    }


def _format(label: str, sampler: str, load: str, r: dict[str, object], baseline: float | None) -> str:
    wall = float(r["wall"])  # type: ignore[arg-type]
    ratio = "" if baseline is None else f"{baseline / wall:8.2f}×"
    return (
        f"{label:22} {sampler:7} {load} {wall:7.1f} {ratio:>9} {r['kept']:6d} {r['steps']:10.1f} "
        f"{r['bulk']:9.0f} {r['tail']:9.0f} {r['rhat']:7.4f} {r['div']:4d} "
        f"{float(r['bulk']) / wall:7.2f}  {r['status']}"  # type: ignore[arg-type]
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
print(json.dumps(dict(wall=wall, kept=int(fit["posterior"].sizes["draw"]),
                      steps=float(fit["sample_stats"]["n_steps"].mean()), bulk=gate.min_ess_bulk,
                      tail=gate.min_ess_tail, rhat=gate.max_rhat, div=gate.divergences, status=gate.status)))
"""


def _base_fit(base: Path, args: argparse.Namespace) -> dict[str, object]:
    """The full-congress fit by an older checkout, in a fresh interpreter run from its own folder."""
    code = _BASE_FIT.format(
        data=str(args.data.resolve()),
        congress=args.congress,
        chamber=args.chamber,
        min_minority=args.min_minority,
        identified=IDENTIFIED,
    )
    env = dict(os.environ, PYTHONPATH=str(base))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=base, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the base checkout's fit failed:\n{done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _gradient_times(matrix: VoteMatrix, rounds: int = 5, calls: int = 200) -> tuple[float, float]:
    """Seconds per gradient: the float64 reference (the old hot path) and the float32 kernel, alternating."""
    x = posterior_mode(matrix)
    data, codes = kernel_data(matrix), vote_codes(matrix)
    grad = np.empty_like(x)
    logp_and_grad(x, data)
    logp_grad32(x, *codes, grad)
    old, new = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            logp_and_grad(x, data)
        old.append((time.perf_counter() - started) / calls)
        started = time.perf_counter()
        for _ in range(calls):
            logp_grad32(x, *codes, grad)
        new.append((time.perf_counter() - started) / calls)
    return min(old), min(new)


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
    parser.add_argument(
        "--draws", type=int, default=None, help="per chain, full congress (default: the library's)"
    )
    parser.add_argument(
        "--tune", type=int, default=None, help="per chain, full congress (default: the library's)"
    )
    parser.add_argument("--base", type=Path, default=None, help="older checkout: same full fit, same run")
    parser.add_argument("--repeat", type=int, default=1, help="full fits of each checkout, taking turns")
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
        f"subset: 2 chains × ({args.subset_tune} + {args.subset_draws}); load = 1-minute load average"
    )
    if "kernel" in samplers:
        load = _load()
        old, new = _gradient_times(full)
        print(
            f"gradient (load {load}): float64 reference {old * 1e3:.3f} ms, float32 {new * 1e3:.3f} ms "
            f"({old / new:.2f}× faster), best of 5 × 200 calls each, alternating"
        )
    print(HEADER)
    full_label = f"full ({full.shape[1]} roll calls)"
    walls: dict[str, list[float]] = {"base": [], "kernel": []}
    for _ in range(args.repeat if not args.quick else 0):
        if args.base is not None:
            load = _load()
            result = _base_fit(args.base, args)
            walls["base"].append(float(result["wall"]))  # type: ignore[arg-type]
            print(_format(full_label, "base", load, result, None), flush=True)
        if "kernel" in samplers:
            load = _load()
            wall, fit = _fit(full, "kernel", args.draws, args.tune)
            walls["kernel"].append(wall)
            base_wall = walls["base"][-1] if walls["base"] else None
            row = _format(full_label, "kernel", load, _summary(fit, wall), base_wall)
            grads = fit.attrs.get("gradient_evaluations")  # type: ignore[attr-defined]
            print(f"{row}; {grads:,} gradient evaluations with warm-up", flush=True)
    if walls["base"] and walls["kernel"]:
        base_median, kernel_median = np.median(walls["base"]), np.median(walls["kernel"])
        print(
            f"full congress, median wall: base {base_median:.1f} s, kernel {kernel_median:.1f} s "
            f"({base_median / kernel_median:.2f}×)"
        )
    baseline: float | None = None
    for sampler in ["pymc", "nutpie", "kernel"]:
        if sampler not in samplers:
            continue
        wall, fit = _fit(subset, sampler, args.subset_draws, args.subset_tune)
        label = f"subset ({subset.shape[1]} roll calls)"
        print(_format(label, sampler, _load(), _summary(fit, wall), baseline), flush=True)
        baseline = wall if baseline is None else baseline
    print(
        "speed-up: wall time of the base checkout (full congress, same round) or of PyMC's NUTS "
        "(subset) over this one's; draws: kept per chain; steps/draw: leapfrog steps per kept draw."
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
