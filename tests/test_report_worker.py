"""``run --report``: the report built from the outcomes in memory, in a child process, as from the file.

The run hands its outcomes to the report without writing and re-reading them, and builds the
report in a child forked before the run samples; the PDF's appendix is laid out on its own.
Whichever way it is built, the report must be the report ``riskmodel report results.nc``
writes, byte for byte.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from riskmodel.io import load_results, save_results
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.report import build_report, write_report
from riskmodel.report.apart import HEAD_START, ChartsApart, charts_apart
from riskmodel.report.assumptions import appendix_context
from riskmodel.report.charts import vote_figure
from riskmodel.report.context import build_report_context
from riskmodel.report.render import render_html
from riskmodel.report.worker import ReportWorker, can_fork, outcomes
from riskmodel.results.datatree import results_tree
from riskmodel.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


FRESH = "RISKMODEL_TEST_FRESH_PROCESS"


def _run_elsewhere(test: str) -> bool:
    """Run a forking test in a fresh interpreter when this one cannot fork (other threads run).

    Returns True when the test ran (and passed) there; False when it should run here.
    """
    if can_fork():
        return False
    if sys.platform != "linux" or os.environ.get(FRESH):
        pytest.skip("no fork here (not Linux, or another Python thread runs)")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::{test}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, **{FRESH: "1"}, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-2000:]
    return True


@pytest.fixture(scope="module")
def toy_run(toy_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The toy scenario run as `riskmodel run` runs it: the results tree in memory and saved."""
    loaded = load_scenario(toy_path)
    simulation = sample_worlds(loaded, n_worlds=300, n_replicates=10, seed=7)
    results = evaluate_deals(simulation)
    results.attrs["scenario_file"] = str(toy_path.resolve())
    tree = results_tree(results, simulation.draws)
    path = save_results(tree, tmp_path_factory.mktemp("toy_run") / "results.nc")
    reference = build_report(path, scenario=loaded)
    return {"loaded": loaded, "tree": tree, "path": path, "reference": reference}


def test_outcomes_in_memory_are_what_the_loader_reads(toy_run: dict) -> None:
    memory, disk = outcomes(toy_run["tree"]), load_results(toy_run["path"])
    xr.testing.assert_equal(memory, disk)
    assert {k: str(v) for k, v in memory.attrs.items()} == {k: str(v) for k, v in disk.attrs.items()}


def test_the_report_from_memory_is_the_report_from_the_file(toy_run: dict) -> None:
    built = build_report(outcomes(toy_run["tree"]), scenario=toy_run["loaded"], results_file=toy_run["path"])
    reference = toy_run["reference"]
    assert built.html == reference.html
    assert built.pdf == reference.pdf
    assert str(toy_run["path"]) in built.html  # the file is named, not "(in memory)"


def test_a_forked_worker_builds_the_same_report(toy_run: dict) -> None:
    if _run_elsewhere("test_a_forked_worker_builds_the_same_report"):
        return
    with ReportWorker(toy_run["loaded"]) as worker:
        assert worker.forked
        worker.submit(toy_run["tree"], results_file=toy_run["path"])
        built = worker.result()
    assert built == toy_run["reference"]
    assert not [p for p in multiprocessing.active_children() if p.name == "riskmodel-report"]


def test_a_lost_child_is_replaced_by_building_the_report_here(toy_run: dict) -> None:
    with ReportWorker(toy_run["loaded"]) as worker:
        for child in multiprocessing.active_children():
            if child.name == "riskmodel-report":
                child.kill()
                child.join()
        worker.submit(toy_run["tree"], results_file=toy_run["path"])
        built = worker.result()
    assert built == toy_run["reference"]


def test_a_lost_context_child_leaves_the_report_to_the_run(toy_run: dict) -> None:
    if _run_elsewhere("test_a_lost_context_child_leaves_the_report_to_the_run"):
        return
    with ReportWorker(toy_run["loaded"]) as worker:
        assert worker.forked
        (builder,) = [p for p in multiprocessing.active_children() if p.name == "riskmodel-context"]
        builder.kill()
        builder.join()
        worker.submit(toy_run["tree"], results_file=toy_run["path"])
        built = worker.result()
    assert built == toy_run["reference"]


def test_the_report_child_prints_from_plain_values_alone(toy_run: dict, tmp_path: Path) -> None:
    """What the report child does, in a fresh interpreter: no pandas, xarray nor matplotlib, same PDF."""
    context = build_report_context(
        outcomes(toy_run["tree"]), scenario=toy_run["loaded"], results_file=toy_run["path"]
    )
    given = tmp_path / "given.pickle"
    given.write_bytes(pickle.dumps((appendix_context(toy_run["loaded"]), context, render_html(context))))
    code = f"""
import pickle, sys
from pathlib import Path
from riskmodel.report.printing import finish_report, print_appendix
appendix_of, context, page = pickle.loads(Path({str(given)!r}).read_bytes())
built = finish_report(context, page, appendix=print_appendix(appendix_of))
Path({str(tmp_path / "report.pdf")!r}).write_bytes(built.pdf)
Path({str(tmp_path / "report.html")!r}).write_text(built.html)
print(sorted(m for m in ("pandas", "xarray", "matplotlib", "numba", "scipy") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "report.pdf").read_bytes() == toy_run["reference"].pdf
    assert (tmp_path / "report.html").read_text() == toy_run["reference"].html


def test_the_charts_child_draws_the_last_charts_enough_to_share_the_work() -> None:
    def votes(n: int, detail: bool = True) -> xr.Dataset:
        data = {"support_quantile": (("vote",), np.zeros(n))} if detail else {}
        return xr.Dataset(data, coords={"vote": [f"v{i}" for i in range(n)]})

    # the summary and the heat map weigh HEAD_START charts: the child takes (n + HEAD_START) / 2
    assert HEAD_START == 5
    assert charts_apart(votes(1)) == ["v0"]
    assert charts_apart(votes(6)) == [f"v{i}" for i in range(6)]
    assert charts_apart(votes(20)) == [f"v{i}" for i in range(8, 20)]
    assert charts_apart(votes(6, detail=False)) == []


def test_charts_drawn_apart_are_the_charts_drawn_here(toy_run: dict) -> None:
    if _run_elsewhere("test_charts_drawn_apart_are_the_charts_drawn_here"):
        return
    dataset = outcomes(toy_run["tree"])
    here = {vote: vote_figure(dataset, vote) for vote in charts_apart(dataset)}
    assert here
    charts = ChartsApart()
    assert dict(charts.send(dataset)) == here
    lost = ChartsApart()
    assert lost.pid is not None
    os.kill(lost.pid, signal.SIGKILL)
    assert dict(lost.send(dataset)) == here  # drawn here instead


def test_the_worker_reports_the_childs_error(toy_run: dict, tmp_path: Path) -> None:
    if _run_elsewhere("test_the_worker_reports_the_childs_error"):
        return
    gone = tmp_path / "gone.nc"  # the folder's analyses are read: a results file in a missing folder is fine
    with ReportWorker(toy_run["loaded"]) as worker:
        worker.submit(toy_run["tree"].drop_nodes("outcomes"), results_file=gone)
        with pytest.raises(Exception, match="not riskmodel results"):
            worker.result()


def test_a_run_that_fails_leaves_no_child_behind(toy_run: dict) -> None:
    """A run that ends before its outcomes exist stops both children (the context child by EOF)."""
    if _run_elsewhere("test_a_run_that_fails_leaves_no_child_behind"):
        return
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    worker = ReportWorker(toy_run["loaded"])
    deadline = time.monotonic() + 120
    while len({p.pid for p in me.children(recursive=True)} - before) < 2:  # the context child too
        assert time.monotonic() < deadline, "the report's children did not start"
        time.sleep(0.05)
    started = {p.pid for p in me.children(recursive=True)} - before
    worker.close()
    deadline = time.monotonic() + 60
    # by pid: a child whose parent was stopped is no longer among ours, yet may still run
    while any(_running(pid) for pid in started):
        assert time.monotonic() < deadline, "a child of the report outlived the run"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    psutil = pytest.importorskip("psutil")
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_appendix_pages_are_numbered_apart(toy_run: dict, tmp_path: Path) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(toy_run["reference"].pdf)
    pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True)
    texts = pages.stdout.split("\f")[:-1]
    main = [re.search(r"(?<!appendix, )page (\d+) of (\d+)", t) for t in texts]
    appendix = [re.search(r"appendix, page (\d+) of (\d+)", t) for t in texts]
    n_main = sum(m is not None for m in main)
    assert n_main >= 2 and all(m is not None for m in main[:n_main])
    assert all(a is not None for a in appendix[n_main:]) and len(texts) > n_main
    assert [int(m.group(1)) for m in main[:n_main]] == list(range(1, n_main + 1))
    assert {int(m.group(2)) for m in main[:n_main]} == {n_main}
    n_appendix = len(texts) - n_main
    assert [int(a.group(1)) for a in appendix[n_main:]] == list(range(1, n_appendix + 1))
    assert {int(a.group(2)) for a in appendix[n_main:]} == {n_appendix}
    assert "Appendix: assumptions and data" in texts[n_main]  # the appendix starts its own pages


@pytest.mark.slow
def test_run_report_writes_what_the_report_command_writes(toy_path: Path, tmp_path: Path) -> None:
    """The command as a user types it (a fresh process, so the child is forked) against `report`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = tmp_path / "run"
    options = ["--worlds", "300", "--replicates", "10", "--seed", "7", "--out", str(run), "--report"]
    subprocess.run(
        [sys.executable, "-m", "riskmodel", "run", str(toy_path), *options],
        check=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
    )
    again = tmp_path / "again"
    written = write_report(run / "results.nc", html=again / "report.html", pdf=again / "report.pdf")
    assert written.warnings == []
    assert (run / "report.html").read_bytes() == (again / "report.html").read_bytes()
    assert (run / "report.pdf").read_bytes() == (again / "report.pdf").read_bytes()
