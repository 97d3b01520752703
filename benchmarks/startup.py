"""Command-line latency: ``--help``, ``validate`` and ``run`` (warm, with the report, cold).

Every command runs in a fresh interpreter, as a user would type it, and is timed against
baselines measured in the same run on the same machine:

- Python's own start-up (``python -c pass``);
- ``python -c "import numpy"`` (the floor of any scientific Python command);
- optionally the same commands on an older checkout (``--base PATH``: its package directory
  is put first on ``PYTHONPATH``), for before/after ratios.

Each figure is the median of ``--repeat`` runs (the machine may be shared: read the ratios).
Peak memory is the child's maximum resident set (``VmHWM``), read with ``/usr/bin/time -f %M``
when that program exists.

"Cold" runs point numba's cache (``NUMBA_CACHE_DIR``) and riskmodel's cache of elicited priors
(``XDG_CACHE_HOME``) at empty temporary folders, so nothing compiled or fitted before is reused;
the user's own caches are left alone.

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


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """Wall seconds and peak resident MB (None when /usr/bin/time is missing) of one command."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        command = [TIME, "-f", "%M", "-o", report.name, *argv] if TIME else argv
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        peak = None
        if TIME:
            lines = [line for line in Path(report.name).read_text().splitlines() if line.strip().isdigit()]
            peak = int(lines[-1]) / 1024 if lines else None
    return wall, peak


def median_of(repeat: int, argv: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    runs = [timed(argv, env) for _ in range(repeat)]
    peaks = [peak for _, peak in runs if peak is not None]
    return statistics.median(wall for wall, _ in runs), (max(peaks) if peaks else None)


def environment(pythonpath: Path, *, cold: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    if cold is not None:
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

    rows: list[tuple[str, str, float, float | None]] = []
    env = environment(ROOT)
    startup, startup_mb = median_of(fast, [python, "-c", "pass"], env)
    numpy_s, numpy_mb = median_of(fast, [python, "-c", "import numpy"], env)
    rows += [("baseline", "python -c pass", startup, startup_mb)]
    rows += [("baseline", 'python -c "import numpy"', numpy_s, numpy_mb)]

    with tempfile.TemporaryDirectory(prefix="riskmodel-bench-") as scratch:
        out = Path(scratch) / "out"
        for label, tree in trees:
            env = environment(tree)
            cli = [python, "-m", "riskmodel"]
            rows.append((label, "riskmodel --help", *median_of(fast, [*cli, "--help"], env)))
            rows.append(
                (label, "riskmodel validate", *median_of(fast, [*cli, "validate", str(SCENARIO)], env))
            )
            run = [*cli, "run", str(SCENARIO), "--out", str(out)]
            timed(run, env)  # warms numba's cache and the prior cache of this tree
            rows.append((label, "riskmodel run (warm, 4,000 worlds)", *median_of(slow, run, env)))
            if not args.no_report:
                rows.append(
                    (label, "riskmodel run --report (warm)", *median_of(slow, [*run, "--report"], env))
                )
            colds = []
            for attempt in range(slow):
                cold = Path(scratch) / f"cold-{label.replace(' ', '-')}-{attempt}"
                colds.append(timed(run, environment(tree, cold=cold)))
            peaks = [peak for _, peak in colds if peak is not None]
            rows.append(
                (
                    label,
                    "riskmodel run (cold: empty caches)",
                    statistics.median(wall for wall, _ in colds),
                    max(peaks) if peaks else None,
                )
            )

    print(
        f"{'tree':<10} {'command':<40} {'wall s':>8} {'× python':>9} {'× numpy':>8} "
        f"{'× base':>7} {'peak MB':>8}"
    )
    base_of = {command: wall for label, command, wall, _ in rows if label == "base"}
    for label, command, wall, peak in rows:
        versus = f"{wall / base_of[command]:6.2f}×" if label != "base" and command in base_of else ""
        memory = f"{peak:8.0f}" if peak is not None else f"{'—':>8}"
        print(
            f"{label:<10} {command:<40} {wall:8.3f} {wall / startup:8.1f}× {wall / numpy_s:7.1f}× "
            f"{versus:>7} {memory}"
        )
    print(
        "Targets: --help ≤ 5× and validate ≤ 12× `import numpy`; warm run < 2 s (< 3.5 s with the "
        "report); cold run < 5 s. × base < 1 is faster than the base checkout."
    )


if __name__ == "__main__":
    main()
