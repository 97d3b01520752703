"""`riskmodel sensitivity` and the serial `riskmodel stress` of the bundled scenario, end to end.

Each command runs in a fresh interpreter (imports, sampling, analysis, writing: what a user
waits for), on this checkout and on every ``--baseline`` checkout, alternating checkouts within
each repetition so a busy machine slows them alike. Printed per checkout: the median wall time
of each command over the repetitions, the time of `riskmodel run` on the same worlds (the shared
start-up: imports, sampling, evaluation, writing results), the command's own part (its time
minus that of `run`), and every time as a ratio against the first baseline. The files the
commands write are compared variable by variable (NumPy ``array_equal``, NaN equal to NaN) with
the first baseline's.

Run: ``python benchmarks/sensitivity.py --baseline /tmp/old --repeat 3`` (make the baseline with
``git archive <commit> | tar -x -C /tmp/old``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "data/scenarios/usmca_2019.yaml"
SHOCKS = "data/shocks/usmca_2019.yaml"
COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "run": (["run", SCENARIO], None),
    "sensitivity": (["sensitivity", SCENARIO], "sensitivity.nc"),
    "stress": (["stress", SCENARIO, "--shocks", SHOCKS, "--serial"], "stress.nc"),
}


def _time(checkout: Path, args: list[str], out: Path) -> float:
    """Wall time of ``python -m riskmodel ARGS --out OUT`` run from ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "riskmodel", *args, "--out", str(out)],
        cwd=checkout,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _differences(path: Path, reference: Path) -> list[str]:
    """Variables (data and coordinates) of two netCDF files that are not equal bit for bit."""
    with xr.open_dataset(path) as new, xr.open_dataset(reference) as old:
        names = sorted({*new.variables, *old.variables}, key=str)
        differ = []
        for name in names:
            if name not in new.variables or name not in old.variables:
                differ.append(f"{name} (missing)")
                continue
            a, b = new[name].to_numpy(), old[name].to_numpy()
            nan_ok = a.dtype.kind in "fc" and b.dtype.kind in "fc"
            if a.shape != b.shape or not np.array_equal(a, b, equal_nan=nan_ok):
                differ.append(str(name))
        return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="append", default=[], type=Path, help="old checkout")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--skip", action="append", default=[], choices=sorted(COMMANDS))
    args = parser.parse_args()
    checkouts = [ROOT, *(path.resolve() for path in args.baseline)]
    commands = {name: spec for name, spec in COMMANDS.items() if name not in args.skip}
    times: dict[tuple[int, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        outs = [Path(folder) / f"checkout{i}" for i in range(len(checkouts))]
        # once untimed: a fresh checkout compiles its numba kernels into its cache on first use
        for i, checkout in enumerate(checkouts):
            for command, _ in commands.values():
                _time(checkout, command, outs[i])
        for repetition in range(args.repeat):
            print(f"repetition {repetition + 1}/{args.repeat}; load {os.getloadavg()[0]:.2f}", flush=True)
            for name, (command, _) in commands.items():
                # alternate the order of the checkouts from one repetition to the next
                order = list(range(len(checkouts)))
                order = order if repetition % 2 == 0 else order[::-1]
                for i in order:
                    times.setdefault((i, name), []).append(_time(checkouts[i], command, outs[i]))
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        median = {key: statistics.median(values) for key, values in times.items()}
        for i, checkout in enumerate(checkouts):
            label = "this checkout" if i == 0 else f"baseline {checkout}"
            print(f"\n{label}")
            for name in commands:
                spread = ", ".join(f"{t:.2f}" for t in times[(i, name)])
                line = f"  {name:<12} {median[(i, name)]:6.2f} s (runs {spread})"
                if len(checkouts) > 1:
                    line += f"  × {median[(i, name)] / median[(1, name)]:.2f} of baseline"
                if name != "run" and "run" in commands:
                    own = median[(i, name)] - median[(i, "run")]
                    line += f"; minus run: {own:.2f} s"
                print(line)
        if len(checkouts) > 1:
            print()
            for _, written in commands.values():
                if written is None:
                    continue
                differ = _differences(outs[0] / written, outs[1] / written)
                verdict = "bit-identical" if not differ else f"DIFFER: {', '.join(differ)}"
                print(f"{written}: {verdict} to the first baseline's")
        if len(checkouts) > 1 and "run" in commands:
            for name in commands:
                if name == "run":
                    continue
                own = [median[(i, name)] - median[(i, "run")] for i in (0, 1)]
                if own[0] > 0:
                    print(f"{name}, own part (minus run): × {own[1] / own[0]:.2f} faster than the baseline")


if __name__ == "__main__":
    main()
