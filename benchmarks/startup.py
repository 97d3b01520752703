"""Command-line latency: ``--help``, ``validate`` and ``run`` (warm, with the report, cold).

Every command runs in a fresh interpreter, as a user would type it, and is timed against
baselines measured in the same run on the same machine:

- Python's own start-up (``python -c pass``);
- ``python -c "import numpy"`` (the floor of any scientific Python command);
- optionally the same commands on an older checkout (``--base PATH``: its package directory
  is put first on ``PYTHONPATH``), for before/after ratios.

Each figure is the median of ``--repeat`` runs, the trees taking turns so that a busy machine
slows them alike (the machine may be shared: read the ratios).
Peak memory is the child's maximum resident set (``VmHWM``) and CPU time its user + system
seconds, read with ``/usr/bin/time -f "%M %U %S"`` when that program exists. On a busy machine
the wall time waits for a core while the CPU time barely moves: read both.

"Cold" runs point numba's cache (``NUMBA_CACHE_DIR``) and riskmodel's cache of elicited priors
(``XDG_CACHE_HOME``) at empty temporary folders, so nothing compiled or fitted before is reused;
the user's own caches are left alone. Matplotlib keeps its font list under ``XDG_CACHE_HOME``
too; that list belongs to matplotlib's installation, not to riskmodel, so cold runs keep
reading it from where it is (``MPLCONFIGDIR``).

Each tree's warm, report and cold runs write their own results; at the end every results.nc
is compared with this tree's warm run, variable by variable in every group (the numbers must
not depend on the cache, the report or the checkout).

Run: ``python benchmarks/startup.py [--quick] [--base /path/to/old/checkout]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "scenarios" / "usmca_2019.yaml"
TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


Measured = tuple[float, float | None, float | None]
"""Wall seconds, peak resident MB and CPU seconds (None when /usr/bin/time is missing)."""


def timed(argv: list[str], env: dict[str, str]) -> Measured:
    """Wall seconds, peak resident MB and CPU seconds of one command."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        command = [TIME, "-f", "%M %U %S", "-o", report.name, *argv] if TIME else argv
        started = time.perf_counter()
        # `python -m` puts the working folder first on sys.path: run in the tree being measured
        cwd = env.get("PYTHONPATH", str(ROOT))
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        peak = cpu = None
        if TIME:
            fields = Path(report.name).read_text().split()[-3:]
            if len(fields) == 3:
                peak, cpu = int(fields[0]) / 1024, float(fields[1]) + float(fields[2])
    return wall, peak, cpu


def summary(measured: list[Measured]) -> Measured:
    """Median wall and CPU seconds, largest peak memory, of repeated runs of one command."""
    peaks = [peak for _, peak, _ in measured if peak is not None]
    cpus = [cpu for _, _, cpu in measured if cpu is not None]
    return (
        statistics.median(wall for wall, _, _ in measured),
        max(peaks) if peaks else None,
        statistics.median(cpus) if cpus else None,
    )


def interleaved(
    repeat: int, argv_of: dict[str, list[str]], env_of: dict[str, dict[str, str]]
) -> dict[str, Measured]:
    """Median wall and CPU time and peak memory of each tree's command, the trees taking turns.

    Taking turns spreads whatever else the machine is doing evenly over the trees compared.
    """
    runs: dict[str, list[Measured]] = {label: [] for label in argv_of}
    for _ in range(repeat):
        for label, argv in argv_of.items():
            runs[label].append(timed(argv, env_of[label]))
    return {label: summary(measured) for label, measured in runs.items()}


def slug(label: str) -> str:
    return label.replace(" ", "-")


def result_differences(path: Path, reference: Path) -> list[str]:
    """Variables and attributes of two results.nc files that differ (NaN equals NaN).

    Every group of the DataTree is compared; attributes that name the run rather than its
    numbers (the scenario file's path) are left out.
    """
    import numpy as np
    import xarray as xr

    with xr.open_datatree(path, engine="h5netcdf") as a, xr.open_datatree(reference, engine="h5netcdf") as b:
        if set(a.groups) != set(b.groups):
            return [f"groups {sorted(set(a.groups) ^ set(b.groups))}"]
        found = []
        for group in a.groups:
            left, right = a[group].to_dataset().load(), b[group].to_dataset().load()
            for name in sorted(set(left.variables) | set(right.variables), key=str):
                if name not in left.variables or name not in right.variables:
                    found.append(f"{group}:{name} (missing)")
                    continue
                x, y = left[name].to_numpy(), right[name].to_numpy()
                nan = x.dtype.kind in "fc"
                if x.dtype != y.dtype or x.shape != y.shape or not np.array_equal(x, y, equal_nan=nan):
                    found.append(f"{group}:{name}")
            attrs = [dict(left.attrs), dict(right.attrs)]
            for attr in attrs:
                attr.pop("scenario_file", None)
            if str(attrs[0]) != str(attrs[1]):
                found.append(f"{group}: attributes")
    return found


def environment(pythonpath: Path, *, cold: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    if cold is not None:
        cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        env.setdefault("MPLCONFIGDIR", str(cache_home / "matplotlib"))
        env["NUMBA_CACHE_DIR"] = str(cold / "numba")
        env["XDG_CACHE_HOME"] = str(cold / "xdg")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run of each slow command")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each fast command (median)")
    parser.add_argument("--base", type=Path, default=None, help="an older checkout to compare with")
    parser.add_argument("--no-report", action="store_true", help="skip `run --report` (needs WeasyPrint)")
    args = parser.parse_args()
    python = sys.executable
    fast = max(1, args.repeat)
    slow = 1 if args.quick else 3
    trees = [("this tree", ROOT)] + ([("base", args.base.resolve())] if args.base else [])

    rows: list[tuple[str, str, Measured]] = []
    env = environment(ROOT)
    baselines = interleaved(
        fast,
        {"pass": [python, "-c", "pass"], "numpy": [python, "-c", "import numpy"]},
        {"pass": env, "numpy": env},
    )
    startup, numpy_s = baselines["pass"][0], baselines["numpy"][0]
    rows += [("baseline", "python -c pass", baselines["pass"])]
    rows += [("baseline", 'python -c "import numpy"', baselines["numpy"])]

    with tempfile.TemporaryDirectory(prefix="riskmodel-bench-") as scratch:
        env_of = {label: environment(tree) for label, tree in trees}
        cli = [python, "-m", "riskmodel"]
        outputs: dict[str, Path] = {}

        def run(label: str, kind: str = "warm") -> list[str]:
            # each tree and kind of run writes its own results, compared at the end
            out = outputs.setdefault(f"{label} ({kind})", Path(scratch) / f"out-{slug(label)}-{kind}")
            return [*cli, "run", str(SCENARIO), "--out", str(out)]

        for label in env_of:
            timed(run(label), env_of[label])  # warms numba's cache and the prior cache of each tree
        commands = [
            ("riskmodel --help", {label: [*cli, "--help"] for label in env_of}, fast),
            ("riskmodel validate", {label: [*cli, "validate", str(SCENARIO)] for label in env_of}, fast),
            ("riskmodel run (warm, 4,000 worlds)", {label: run(label) for label in env_of}, slow),
        ]
        if not args.no_report:
            report = {label: [*run(label, "report"), "--report"] for label in env_of}
            commands.append(("riskmodel run --report (warm)", report, slow))
        numpy_near: dict[str, float] = {}
        for name, argv_of, repeat in commands:
            # `import numpy` takes its turn too, so each command has a baseline measured beside it
            with_numpy = {**argv_of, "numpy": [python, "-c", "import numpy"]}
            measured = interleaved(repeat, with_numpy, {**env_of, "numpy": env})
            numpy_near[name] = measured["numpy"][0]
            rows += [(label, name, measured[label]) for label in env_of]
        colds: dict[str, list[Measured]] = {label: [] for label in env_of}
        cold_numpy: list[Measured] = []
        for attempt in range(slow):
            for label, tree in trees:
                cold = Path(scratch) / f"cold-{slug(label)}-{attempt}"
                colds[label].append(timed(run(label, "cold"), environment(tree, cold=cold)))
            cold_numpy.append(timed([python, "-c", "import numpy"], env))
        cold_name = "riskmodel run (cold: empty caches)"
        numpy_near[cold_name] = summary(cold_numpy)[0]
        rows += [(label, cold_name, summary(measured)) for label, measured in colds.items()]
        reference = outputs["this tree (warm)"] / "results.nc"
        differences = {
            name: result_differences(folder / "results.nc", reference)
            for name, folder in outputs.items()
            if name != "this tree (warm)"
        }

    print(
        f"{'tree':<10} {'command':<40} {'wall s':>8} {'× python':>9} {'× numpy':>8} "
        f"{'× base':>7} {'cpu s':>7} {'cpu × base':>10} {'peak MB':>8}"
    )
    base_of = {command: measured for label, command, measured in rows if label == "base"}
    for label, command, (wall, peak, cpu) in rows:
        base = base_of.get(command) if label != "base" else None
        versus = f"{wall / base[0]:6.2f}×" if base is not None else ""
        cpu_versus = f"{cpu / base[2]:9.2f}×" if base is not None and cpu and base[2] else ""
        print(
            f"{label:<10} {command:<40} {wall:8.3f} {wall / startup:8.1f}× "
            f"{wall / numpy_near.get(command, numpy_s):7.1f}× {versus:>7} "
            f"{cpu if cpu is not None else float('nan'):7.2f} {cpu_versus:>10} "
            f"{peak if peak is not None else float('nan'):8.0f}"
        )
    for name, found in differences.items():
        verdict = "identical" if not found else "DIFFERENT: " + ", ".join(found)
        print(f"results.nc of {name} against this tree's warm run: {verdict}")
    print(
        "Targets: --help ≤ 5× and validate ≤ 12× `import numpy`; warm run < 2 s (< 3.5 s with the "
        "report); cold run < 5 s. × base < 1 is faster than the base checkout. × numpy is against "
        "`import numpy` timed in turn with the command. CPU is user + system seconds of the "
        "command and its children."
    )


if __name__ == "__main__":
    main()
