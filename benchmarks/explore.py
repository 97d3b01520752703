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


def timings(action: Callable[[int], object], n: int) -> list[float]:
    """Milliseconds of ``action(i)`` for i in 0..n-1."""
    out = []
    for i in range(n):
        started = time.perf_counter()
        action(i)
        out.append((time.perf_counter() - started) * 1000.0)
    return out


def summary(name: str, values: list[float], baseline: float) -> None:
    median = statistics.median(values)
    p95 = float(np.percentile(values, 95))
    print(
        f"{name:<42} median {median:7.1f} ms ({median / baseline:5.2f}× baseline)   "
        f"p95 {p95:7.1f} ms ({p95 / baseline:5.2f}× baseline)   n={len(values)}"
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

        baseline_times = timings(lambda i: evaluate_deals(simulation), args.updates)
        baseline = statistics.median(baseline_times)
        print(f"baseline: evaluate_deals(simulation) on the {len(layout.deals)} named deals, "
              f"median {baseline:.1f} ms")  # fmt: skip
        summary("Explorer.evaluate", timings(lambda i: explorer.evaluate(deals[i]), args.updates), baseline)

        with TestClient(create_app(explorer), base_url="http://127.0.0.1") as client:

            def query(i: int) -> str:
                return "&".join(f"{name}={float(deals[i, k])!r}" for k, name in enumerate(layout.issues))

            def request(i: int) -> None:
                response = client.get(f"/api/evaluate?{query(i)}")
                assert response.status_code == 200, response.text

            summary("GET /api/evaluate", timings(request, args.updates), baseline)
            server_side = [client.get(f"/api/evaluate?{query(i)}").json()["elapsed_ms"] for i in range(50)]
            summary("  (server-reported elapsed_ms)", server_side, baseline)

            job = client.post("/api/map", json={"x": layout.issues[0], "y": layout.issues[1]}).json()
            during: list[float] = []
            while job["status"] in ("queued", "running"):
                started = time.perf_counter()
                request(len(during) % args.updates)
                during.append((time.perf_counter() - started) * 1000.0)
                job = client.get(f"/api/jobs/{job['id']}").json()
            print(f"win-set map ({layout.issues[0]} × {layout.issues[1]}) took {job['elapsed']:.1f} s")
            summary("GET /api/evaluate while the map computes", during, baseline)


if __name__ == "__main__":
    main()
