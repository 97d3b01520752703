"""The report of ``riskmodel run --report``, built in a child process that starts with the run.

A run spends its first seconds importing PyMC and numba and sampling, on one core. The report
needs none of that: it needs WeasyPrint, matplotlib and the report's templates, and its
appendix depends on the scenario alone (:mod:`riskmodel.report.printing`). So the run forks a
child as soon as the scenario is loaded; on the machine's other core, the child imports the
report's libraries and lays out the appendix while the parent samples. When the outcomes are
computed the parent hands them over in memory (no re-reading of ``results.nc``) and goes on
saving them; the child draws the figures (a second child, forked then, draws two thirds of the
vote charts meanwhile), renders the page and prints the rest of the PDF, and sends both back.
The parent writes the two files, after the results, each atomically.

The report is the same, byte for byte, as ``riskmodel report results.nc`` writes from the
saved file (tests/test_report_worker.py). Where a child cannot be forked safely (not Linux, or
a process that already runs other threads, such as a test runner), or the child is lost, the
report is built in the process itself, the same way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import xarray as xr

    from riskmodel.report.files import BuiltReport
    from riskmodel.spec.scenario import LoadedScenario

__all__ = ["ReportWorker", "can_fork", "outcomes"]


def outcomes(results: xr.DataTree | xr.Dataset) -> xr.Dataset:
    """The outcome Dataset of results in memory, as :func:`riskmodel.io.load_results` reads it.

    Parameters
    ----------
    results
        The DataTree that ``results.nc`` is saved from
        (:func:`riskmodel.results.datatree.results_tree`), or the outcome Dataset itself.

    Returns
    -------
    xarray.Dataset
        The ``outcomes`` group with the root's attrs under its own, as the loader returns it.
    """
    import xarray as xr

    from riskmodel.io import OUTCOMES_GROUP

    if isinstance(results, xr.Dataset):
        return results
    if OUTCOMES_GROUP in results.children:
        dataset = results[OUTCOMES_GROUP].to_dataset()
        dataset.attrs = {**results.attrs, **dataset.attrs}
        return dataset
    return results.to_dataset()


def can_fork() -> bool:
    """Whether a child can be forked safely here: on Linux, from a process with no other Python thread.

    Forking copies only the calling thread; a lock another Python thread holds (the import lock,
    a logging handler's) would stay locked in the child for ever. The command line forks before
    it starts any thread of its own. Native helper threads (OpenBLAS's pool, jemalloc's
    background thread, numba's workers) may exist: their libraries prepare for fork
    (``pthread_atfork``), and the child uses none of them.
    """
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return threading.active_count() == 1


def _start(process: multiprocessing.process.BaseProcess) -> None:
    with warnings.catch_warnings():
        # Python warns of any other thread; only native helpers can run here (see can_fork)
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        process.start()


def _preload_shared() -> None:
    """Import, before the fork, what the run and the report both load, so the child inherits it.

    xarray imports its array back-ends (dask, and through it parts of SciPy) on its first
    conversion of an array, ~0.35 s of CPU that both processes would otherwise spend.
    """
    import numpy as np
    import xarray as xr

    xr.DataArray(np.zeros(1)).to_numpy()


def _reply(connection: Connection, outcome: tuple[str, Any]) -> None:
    """Send an outcome back; an exception that cannot be pickled goes as its text."""
    try:
        connection.send(outcome)
    except OSError:  # the reader is gone (its run failed): nobody to tell
        return
    except Exception:
        kind, value = outcome
        text = "".join(traceback.format_exception(value)) if isinstance(value, BaseException) else repr(value)
        with contextlib.suppress(OSError):
            connection.send((kind, RuntimeError(text)))


CHARTS_APART = 2 / 3
"""Share of the vote charts a second child draws while the first draws the rest of the report's
figures (its summary and heat map, then the first vote charts): about even work for the two."""


def _their_votes(dataset: xr.Dataset) -> list[str]:
    """The vote charts the second child draws: the last ones, when there are enough to share."""
    if "support_quantile" not in dataset:
        return []
    votes = [str(v) for v in dataset["vote"].to_numpy()]
    theirs = votes[round(len(votes) * (1 - CHARTS_APART)) :]
    return theirs if len(theirs) >= 2 else []


def _draw_charts(outcomes_in: Connection, charts_out: Connection, charts_in: Connection) -> None:
    """The second child: wait for the outcomes, draw its share of the vote charts, send them."""
    charts_in.close()  # the first child's end
    from riskmodel.report.context import vote_figure

    try:
        dataset, _ = outcomes_in.recv()
        _reply(charts_out, ("built", {vote: vote_figure(dataset, vote) for vote in _their_votes(dataset)}))
    except EOFError:  # the run failed before its outcomes existed
        pass
    except BaseException as exc:
        _reply(charts_out, ("failed", exc))
    finally:
        outcomes_in.close()
        charts_out.close()


class _ChartsApart(Mapping[str, str]):
    """Vote charts drawn by a second child, received when first asked for (or drawn here).

    The second child is forked once the first has imported matplotlib, before the outcomes
    exist, and receives them from the run itself: its charts are drawn even while the first
    child is still laying out the appendix.
    """

    def __init__(self, outcomes_in: Connection) -> None:
        self._dataset: xr.Dataset | None = None
        self._votes: list[str] = []
        self._charts: dict[str, str] | None = None
        context = multiprocessing.get_context("fork")
        self._connection, charts_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_draw_charts,
            args=(outcomes_in, charts_out, self._connection),
            name="riskmodel-charts",
            daemon=True,
        )
        _start(self._process)
        charts_out.close()
        outcomes_in.close()

    def bind(self, dataset: xr.Dataset) -> _ChartsApart:
        """The outcomes the second child was sent: its charts are those of their votes."""
        self._dataset, self._votes = dataset, _their_votes(dataset)
        return self

    def _received(self) -> dict[str, str]:
        if self._charts is None:
            try:
                kind, value = self._connection.recv()
            except (EOFError, OSError):
                kind, value = "lost", None
            self.close()
            if kind == "failed":
                raise value
            if kind == "built":
                self._charts = value
            else:  # the second child was lost: the charts are drawn here
                from riskmodel.report.context import vote_figure

                assert self._dataset is not None  # bind() comes first
                self._charts = {vote: vote_figure(self._dataset, vote) for vote in self._votes}
        return self._charts

    def close(self) -> None:
        """Release the pipe and the second child."""
        self._connection.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def __getitem__(self, vote: str) -> str:
        return self._received()[vote]

    def __iter__(self) -> Iterator[str]:
        return iter(self._votes)

    def __len__(self) -> int:
        return len(self._votes)

    def __contains__(self, vote: object) -> bool:
        return vote in self._votes


def _serve(
    connection: Connection,
    outcomes_in: Connection,
    parent_ends: tuple[Connection, Connection],
    loaded: LoadedScenario,
) -> None:
    """The child: lay out the appendix, wait for the outcomes, build the report, send it back."""
    for end in parent_ends:  # the run's ends of the pipes: a run that dies must read as EOF here
        end.close()
    from riskmodel.collector import collecting_new_objects

    with contextlib.suppress(KeyboardInterrupt), collecting_new_objects():
        appendix: Any = None
        charts: _ChartsApart | None = None
        early: BaseException | None = None
        try:
            from riskmodel.report.assumptions import appendix_context
            from riskmodel.report.build import build_report
            from riskmodel.report.printing import print_appendix
            from riskmodel.report.render import weasyprint_modules

            charts = _ChartsApart(outcomes_in)  # before WeasyPrint is loaded: it draws no PDF
            weasyprint_modules()
            # the imports above are the long-lived heap: collections walk only what comes after
            with collecting_new_objects():
                appendix = print_appendix(appendix_context(loaded))
        except BaseException as exc:  # reported when the parent asks for the report
            early = exc
        finally:
            outcomes_in.close()
        try:
            request = connection.recv()
        except EOFError:  # the parent has gone (its run failed): nothing to build
            return
        try:
            if early is not None:
                raise early
            dataset, results_file = request
            with collecting_new_objects():
                built = build_report(
                    dataset,
                    scenario=loaded,
                    results_file=results_file,
                    appendix=appendix,
                    vote_figures=charts.bind(dataset) if charts is not None else None,
                )
        except BaseException as exc:
            _reply(connection, ("failed", exc))
        else:
            _reply(connection, ("built", built))
        finally:
            connection.close()
            if charts is not None:
                charts.close()


class ReportWorker:
    """Builds the report of a run in a child process started before the run samples.

    Parameters
    ----------
    loaded
        The run's scenario.

    Examples
    --------
    >>> with ReportWorker(loaded) as worker:  # doctest: +SKIP
    ...     results = evaluate_deals(sample_worlds(loaded))
    ...     worker.submit(results, results_file=out / "results.nc")
    ...     save_results(results, out / "results.nc")
    ...     built = worker.result()
    """

    def __init__(self, loaded: LoadedScenario) -> None:
        self._loaded = loaded
        self._request: tuple[xr.Dataset, Path] | None = None
        self._sender: threading.Thread | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._charts: Connection | None = None
        if can_fork():
            _preload_shared()
            context = multiprocessing.get_context("fork")
            parent_end, child_end = context.Pipe()
            outcomes_in, to_charts = context.Pipe(duplex=False)
            process = context.Process(
                target=_serve,
                args=(child_end, outcomes_in, (parent_end, to_charts), loaded),
                name="riskmodel-report",
            )
            # not a daemon, so that it may fork the second child of the vote charts; close()
            # ends it whatever happens to the run
            _start(process)
            child_end.close()
            outcomes_in.close()
            self._process, self._connection, self._charts = process, parent_end, to_charts

    @property
    def forked(self) -> bool:
        """Whether the report is being built in a child process."""
        return self._process is not None

    def submit(self, results: xr.DataTree | xr.Dataset, *, results_file: str | Path) -> None:
        """Hand the run's outcomes to the child (in the background: the caller goes on at once).

        Parameters
        ----------
        results
            The results tree (or the outcome Dataset) the run saves.
        results_file
            Where the results are saved; the report names it and looks beside it for analyses.
        """
        self._request = (outcomes(results), Path(results_file))
        if self._connection is not None:
            # a request larger than the pipe's buffer blocks until the child reads it, which it
            # does once the appendix is laid out: send from a thread so the parent goes on saving
            self._sender = threading.Thread(
                target=self._send, args=(self._request, self._charts, self._connection), daemon=True
            )
            self._sender.start()

    @staticmethod
    def _send(request: tuple[xr.Dataset, Path], *connections: Connection | None) -> None:
        # the second child reads at once; the first only when its appendix is laid out
        for connection in connections:
            with contextlib.suppress(OSError):  # a child is gone: its part is built without it
                if connection is not None:
                    connection.send(request)

    def result(self) -> BuiltReport:
        """Wait for the report of the submitted outcomes (built here if the child was lost).

        Raises
        ------
        RiskmodelError
            As :func:`riskmodel.report.build_report` (e.g. WeasyPrint missing).
        """
        if self._request is None:
            raise RuntimeError("submit() the results before asking for their report")
        if self._connection is not None:
            if self._sender is not None:
                self._sender.join()
            try:
                kind, value = self._connection.recv()
            except (EOFError, OSError):
                kind, value = "lost", None
            self.close()
            if kind == "built":
                return value
            if kind == "failed":
                raise value
        from riskmodel.report.build import build_report

        dataset, results_file = self._request
        return build_report(dataset, scenario=self._loaded, results_file=results_file)

    def close(self) -> None:
        """Stop the child if it is still running (a run that failed) and release the pipes."""
        for connection in (self._connection, self._charts):
            if connection is not None:
                connection.close()
        self._connection = self._charts = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None

    def __enter__(self) -> ReportWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
