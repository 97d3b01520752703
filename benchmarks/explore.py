"""Explorer update speed on the bundled USMCA scenario (issue 14).

Samples 4,000 worlds (200 draws × 20 replicates) of ``data/scenarios/usmca_2019.yaml`` once,
then measures, server-side, the time of one probability update of the page for random deals:

- ``evaluate``: :meth:`riskmodel.explore.Explorer.evaluate` (the engine on every world, the
  results reduced as ``riskmodel run`` does, the page's payload built);
- ``GET /api/evaluate``: the same through the ASGI app (validation, JSON), in process;
- the same request while a win-set map is computed in the background (the page stays responsive).

Each is printed as median and 95th percentile, in milliseconds and as a ratio to a baseline
measured in the same run: one engine evaluation of the scenario's named deals through the plain
API (``evaluate_deals(simulation)``). Target: each update < 100 ms.

Run: ``python benchmarks/explore.py [--updates N] [--worlds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from starlette.testclient import TestClient

from riskmodel.explore import Explorer
from riskmodel.explore.app import create_app
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
USMCA = ROOT / "data/scenarios/usmca_2019.yaml"


def elapsed_ms(action: Callable[[], object]) -> float:
    """Milliseconds of one call of ``action``."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000.0


def summary(name: str, values: list[float], baseline: list[float]) -> None:
    """Median and p95 in ms, and as ratios to the baseline timed in the same iterations.

    The machine is shared: timing the baseline and the update alternately, in one loop, puts
    both under the same load, and the ratio of medians is what compares across machines.
    """
    median, p95 = statistics.median(values), float(np.percentile(values, 95))
    base_median, base_p95 = statistics.median(baseline), float(np.percentile(baseline, 95))
    print(
        f"{name:<42} median {median:7.1f} ms ({median / base_median:5.2f}× baseline)   "
        f"p95 {p95:7.1f} ms ({p95 / base_p95:5.2f}× baseline p95)   n={len(values)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200, help="random deals per measurement")
    parser.add_argument("--worlds", type=int, default=4000)
    args = parser.parse_args()

    started = time.perf_counter()
    simulation = sample_worlds(load_scenario(USMCA), n_worlds=args.worlds, n_replicates=20, seed=20_190_101)
    print(f"sampled {simulation.worlds.n_worlds:,} worlds in {time.perf_counter() - started:.1f} s")
    layout = simulation.layout
    rng = np.random.default_rng(1)
    deals = layout.issue_low + rng.random((args.updates, len(layout.issues))) * layout.issue_span
    with tempfile.TemporaryDirectory() as folder:
        explorer = Explorer(simulation=simulation, scenario_path=USMCA, out_dir=Path(folder))
        explorer.evaluate(deals[0])  # compile the kernels: the command does this before serving
        evaluate_deals(simulation)

        with TestClient(create_app(explorer), base_url="http://127.0.0.1") as client:

            def query(i: int) -> str:
                return "&".join(f"{name}={float(deals[i, k])!r}" for k, name in enumerate(layout.issues))

            def request(i: int) -> dict:
                response = client.get(f"/api/evaluate?{query(i)}")
                assert response.status_code == 200, response.text
                return response.json()

            baseline: list[float] = []
            direct: list[float] = []
            http: list[float] = []
            reported: list[float] = []
            for i in range(args.updates):
                baseline.append(elapsed_ms(lambda: evaluate_deals(simulation)))
                direct.append(elapsed_ms(lambda: explorer.evaluate(deals[i])))  # noqa: B023 - called at once
                started = time.perf_counter()
                reported.append(request(i)["elapsed_ms"])
                http.append((time.perf_counter() - started) * 1000.0)
            print(
                f"baseline: evaluate_deals(simulation) on the {len(layout.deals)} named deals, "
                f"median {statistics.median(baseline):.1f} ms, p95 {np.percentile(baseline, 95):.1f} ms"
            )
            summary("Explorer.evaluate", direct, baseline)
            summary("GET /api/evaluate (round trip in process)", http, baseline)
            summary("GET /api/evaluate (server-side elapsed_ms)", reported, baseline)

            job = client.post("/api/map", json={"x": layout.issues[0], "y": layout.issues[1]}).json()
            during: list[float] = []
            during_base: list[float] = []
            while job["status"] in ("queued", "running"):
                during_base.append(elapsed_ms(lambda: evaluate_deals(simulation)))
                during.append(request(len(during) % args.updates)["elapsed_ms"])
                job = client.get(f"/api/jobs/{job['id']}").json()
            print(f"win-set map ({layout.issues[0]} × {layout.issues[1]}) took {job['elapsed']:.1f} s")
            summary("server-side update while the map computes", during, during_base)


if __name__ == "__main__":
    main()
