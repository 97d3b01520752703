"""The report of ``riskmodel run --report``, built in child processes that start with the run.

A run spends its first second importing pandas, numba and xarray and sampling, on one core. The
report needs none of that for its PDF: WeasyPrint, the templates and, for the appendix, the
scenario's priors and sources (:mod:`riskmodel.report.printing`). So the command forks the
report child first, before it loads the scenario: the child imports WeasyPrint meanwhile, then
lays out the appendix from the plain values the run sends once the scenario is loaded. Then the
run forks the context child, which imports matplotlib and the report's modules and waits. When
the outcomes are computed the run hands them over in memory (no re-reading of ``results.nc``)
and goes on saving them; the context child draws every figure and renders the page
(:func:`riskmodel.report.build_report_context`), and the report child prints the rest of the
PDF from that context beside its appendix and sends page and PDF back. The run writes the two
files, after the results, each atomically.

The report is the same, byte for byte, as ``riskmodel report results.nc`` writes from the
saved file (tests/test_report_worker.py). Where a child cannot be forked safely (not Linux, or
a process that already runs other threads, such as a test runner), or a child is lost, the
report is built in the run's process, the same way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskmodel.report.apart import ChartsApart, receive, reply, start_process

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


def _preload_shared() -> None:
    """Import, before the fork, what the run and the report both load, so the child inherits it.

    That is xarray, with its check for Dask arrays deferred as the run defers it
    (:func:`riskmodel.results.lazydask.defer_dask_array_check`): xarray would otherwise import
    Dask, and through it parts of SciPy, on its first conversion of an array (~0.35 s of CPU
    in each process), although neither process ever holds a Dask array.
    """
    from riskmodel.results.lazydask import defer_dask_array_check

    defer_dask_array_check()


def _build_context(
    outcomes_in: Connection, context_out: Connection, others: tuple[Connection, ...], loaded: LoadedScenario
) -> None:
    """The context child: import matplotlib, wait for the outcomes, build the report's context and page.

    Everything of the report but the PDF: every figure, the tables, the HTML page. They go to the
    report child, which prints the PDF around the appendix it has laid out meanwhile.
    """
    for end in others:  # the other processes' ends: a process that dies must read as EOF
        end.close()
    charts: ChartsApart | None = None
    try:
        from riskmodel.report.context import build_report_context
        from riskmodel.report.render import render_html

        # forked once matplotlib is imported: the charts child draws the last vote charts
        charts = ChartsApart(closing=(outcomes_in, context_out))
        dataset, results_file = outcomes_in.recv()
        context = build_report_context(
            dataset, scenario=loaded, results_file=results_file, vote_figures=charts.send(dataset)
        )
        reply(context_out, ("built", (context, render_html(context))))
    except EOFError:  # the run failed before its outcomes existed
        pass
    except BaseException as exc:
        reply(context_out, ("failed", exc))
    finally:
        outcomes_in.close()
        context_out.close()
        if charts is not None:
            charts.close()


def _received_context(context_in: Connection) -> tuple[dict[str, Any], str] | None:
    """The context child's context and page; None when it was lost."""
    try:
        kind, value = context_in.recv()
    except (EOFError, OSError):
        return None
    finally:
        context_in.close()
    if kind == "failed":
        raise value
    context, page = value
    return context, page


def _serve(connection: Connection, context_in: Connection, others: tuple[Connection, ...]) -> None:
    """The report child: import WeasyPrint, lay out the appendix, print the PDF of the context child.

    It is forked before the run loads its scenario and needs neither pandas, xarray nor
    matplotlib: the appendix's context comes from the run, the rest from the context child (all
    plain Python values). If the context child is lost, the run is told, and builds the report.
    """
    for end in others:  # the other processes' ends: a process that dies must read as EOF
        end.close()
    from riskmodel.collector import collecting_new_objects

    with contextlib.suppress(KeyboardInterrupt), collecting_new_objects():
        try:
            try:
                from riskmodel.report.printing import finish_report, print_appendix
                from riskmodel.report.render import weasyprint_modules

                weasyprint_modules()
                appendix_of = connection.recv()  # the appendix's context, once the run has its scenario
                # the imports above are the long-lived heap: collections walk only what comes after
                with collecting_new_objects():
                    appendix = print_appendix(appendix_of)
                received = _received_context(context_in)
            except EOFError:  # the run failed before it needed its report: nothing to build
                return
            except BaseException as exc:  # e.g. WeasyPrint missing: the run reports it
                reply(connection, ("failed", exc))
                return
            if received is None:  # the context child was lost: the run builds the report
                reply(connection, ("lost", None))
                return
            try:
                with collecting_new_objects():
                    built = finish_report(*received, appendix=appendix)
            except BaseException as exc:
                reply(connection, ("failed", exc))
            else:
                reply(connection, ("built", built))
        finally:
            connection.close()
            context_in.close()


class ReportWorker:
    """Builds the report of a run in two child processes started before the run samples.

    Parameters
    ----------
    loaded
        The run's scenario; or None, to fork the report child at once and give the scenario
        to :meth:`start` once it is loaded.

    Examples
    --------
    >>> with ReportWorker() as worker:  # doctest: +SKIP
    ...     loaded = load_scenario(path)
    ...     worker.start(loaded)
    ...     results = evaluate_deals(sample_worlds(loaded))
    ...     worker.submit(results, results_file=out / "results.nc")
    ...     save_results(results, out / "results.nc")
    ...     built = worker.result()
    """

    def __init__(self, loaded: LoadedScenario | None = None) -> None:
        self._loaded: LoadedScenario | None = None
        self._request: tuple[xr.Dataset, Path] | None = None
        self._senders: list[threading.Thread] = []
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._context: Connection | None = None
        self._context_process: multiprocessing.process.BaseProcess | None = None
        self._context_out: Connection | None = None
        if can_fork():
            context = multiprocessing.get_context("fork")
            parent_end, child_end = context.Pipe()
            context_in, context_out = context.Pipe(duplex=False)  # context and page, to the report child
            process = context.Process(
                target=_serve,
                args=(child_end, context_in, (parent_end, context_out)),
                name="riskmodel-report",
                daemon=True,
            )
            start_process(process)
            child_end.close()
            context_in.close()
            self._process, self._connection, self._context_out = process, parent_end, context_out
        if loaded is not None:
            self.start(loaded)

    def start(self, loaded: LoadedScenario) -> None:
        """Give the run's scenario: the report child lays out the appendix, the context child starts.

        Parameters
        ----------
        loaded
            The run's scenario, loaded and checked.
        """
        self._loaded = loaded
        if self._connection is None or self._context_out is None:
            return
        from riskmodel.report.assumptions import appendix_context

        appendix_of = appendix_context(loaded)
        if can_fork():
            _preload_shared()
            context = multiprocessing.get_context("fork")
            outcomes_in, to_context = context.Pipe(duplex=False)
            builder = context.Process(
                target=_build_context,
                args=(outcomes_in, self._context_out, (self._connection, to_context), loaded),
                name="riskmodel-context",
                # not a daemon, so that it may fork the charts child; close() ends it whatever happens
                daemon=False,
            )
            start_process(builder)
            outcomes_in.close()
            self._context, self._context_process = to_context, builder
        self._context_out.close()  # the context child's end (or nobody's: the report child then reads EOF)
        self._context_out = None
        # the report child reads it once WeasyPrint is imported: a large scenario's would block here
        self._send_later(appendix_of, self._connection)

    def _send_later(self, message: object, *connections: Connection | None) -> None:
        sender = threading.Thread(target=self._send, args=(message, *connections), daemon=True)
        sender.start()
        self._senders.append(sender)

    @property
    def forked(self) -> bool:
        """Whether the report is being built in child processes."""
        return self._process is not None and self._context_process is not None

    def submit(self, results: xr.DataTree | xr.Dataset, *, results_file: str | Path) -> None:
        """Hand the run's outcomes to the context child (in the background: the caller goes on).

        Parameters
        ----------
        results
            The results tree (or the outcome Dataset) the run saves.
        results_file
            Where the results are saved; the report names it and looks beside it for analyses.
        """
        self._request = (outcomes(results), Path(results_file))
        if self._context is not None:
            self._send_later(self._request, self._context)

    @staticmethod
    def _send(message: object, *connections: Connection | None) -> None:
        for connection in connections:
            with contextlib.suppress(OSError):  # a child is gone: its part is built without it
                if connection is not None:
                    connection.send(message)

    def result(self) -> BuiltReport:
        """Wait for the report of the submitted outcomes (built here if a child was lost).

        Raises
        ------
        RiskmodelError
            As :func:`riskmodel.report.build_report` (e.g. WeasyPrint missing).
        """
        if self._request is None or self._loaded is None:
            raise RuntimeError("start() and submit() before asking for the report")
        if self._connection is not None:
            for sender in self._senders:
                sender.join()
            kind, value = receive(self._connection)
            self.close()
            if kind == "built":
                return value
            if kind == "failed":
                raise value
        from riskmodel.report.build import build_report

        dataset, results_file = self._request
        return build_report(dataset, scenario=self._loaded, results_file=results_file)

    def close(self) -> None:
        """Stop the children if they are still running (a run that failed) and release the pipes."""
        for connection in (self._connection, self._context, self._context_out):
            if connection is not None:
                connection.close()
        self._connection = self._context = self._context_out = None
        for process in (self._process, self._context_process):
            if process is not None:
                if process.is_alive():
                    process.terminate()
                process.join()
        self._process = self._context_process = None
        for sender in self._senders:  # their pipes are closed: they end at once
            sender.join()
        self._senders = []

    def __enter__(self) -> ReportWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
