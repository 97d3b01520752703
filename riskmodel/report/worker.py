"""The report of ``riskmodel run --report``, built in child processes that start with the run.

A run spends its first second importing numba and xarray and sampling, on one core. The report
needs none of that: it needs WeasyPrint, matplotlib and the report's templates, and its
appendix depends on the scenario alone (:mod:`riskmodel.report.printing`). So the run forks two
children as soon as the scenario is loaded. The report child imports WeasyPrint and lays out the
appendix while the parent samples; the context child imports matplotlib and the report's
modules and waits. When the outcomes are computed the parent hands them to both in memory (no
re-reading of ``results.nc``) and goes on saving them; the context child draws every figure and
renders the page (:func:`riskmodel.report.build_report_context`), and the report child prints
the rest of the PDF from that context beside its appendix and sends page and PDF back. The
parent writes the two files, after the results, each atomically.

The report is the same, byte for byte, as ``riskmodel report results.nc`` writes from the
saved file (tests/test_report_worker.py). Where a child cannot be forked safely (not Linux, or
a process that already runs other threads, such as a test runner), or a child is lost, its
part is built in the process that needs it, the same way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import traceback
import warnings
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

    That is xarray, with its check for Dask arrays deferred as the run defers it
    (:func:`riskmodel.results.lazydask.defer_dask_array_check`): xarray would otherwise import
    Dask, and through it parts of SciPy, on its first conversion of an array (~0.35 s of CPU
    in each process), although neither process ever holds a Dask array.
    """
    from riskmodel.results.lazydask import defer_dask_array_check

    defer_dask_array_check()


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


def _build_context(
    outcomes_in: Connection, context_out: Connection, others: tuple[Connection, ...], loaded: LoadedScenario
) -> None:
    """The context child: import matplotlib, wait for the outcomes, build the report's context and page.

    Everything of the report but the PDF: every figure, the tables, the HTML page. They go to the
    report child, which prints the PDF around the appendix it has laid out meanwhile.
    """
    for end in others:  # the other processes' ends: a process that dies must read as EOF
        end.close()
    try:
        from riskmodel.report.context import build_report_context
        from riskmodel.report.render import render_html

        dataset, results_file = outcomes_in.recv()
        context = build_report_context(dataset, scenario=loaded, results_file=results_file)
        _reply(context_out, ("built", (context, render_html(context))))
    except EOFError:  # the run failed before its outcomes existed
        pass
    except BaseException as exc:
        _reply(context_out, ("failed", exc))
    finally:
        outcomes_in.close()
        context_out.close()


def _received_context(context_in: Connection) -> tuple[dict[str, Any], str] | None:
    """The context child's context and page; None when it was lost (the report is then built here)."""
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


def _serve(
    connection: Connection,
    context_in: Connection,
    others: tuple[Connection, ...],
    loaded: LoadedScenario,
) -> None:
    """The report child: lay out the appendix, then print the PDF of the context child's context."""
    for end in others:  # the other processes' ends: a process that dies must read as EOF
        end.close()
    from riskmodel.collector import collecting_new_objects

    with contextlib.suppress(KeyboardInterrupt), collecting_new_objects():
        appendix: Any = None
        early: BaseException | None = None
        try:
            # WeasyPrint only: matplotlib, the figures and the page are the context child's
            from riskmodel.report.assumptions import appendix_context
            from riskmodel.report.printing import finish_report, print_appendix
            from riskmodel.report.render import weasyprint_modules

            weasyprint_modules()
            # the imports above are the long-lived heap: collections walk only what comes after
            with collecting_new_objects():
                appendix = print_appendix(appendix_context(loaded))
        except BaseException as exc:  # reported when the parent asks for the report
            early = exc
        try:
            request = connection.recv()
        except EOFError:  # the parent has gone (its run failed): nothing to build
            context_in.close()
            return
        try:
            if early is not None:
                context_in.close()
                raise early
            received = _received_context(context_in)
            with collecting_new_objects():
                if received is None:  # the context child was lost: the whole report is built here
                    from riskmodel.report.build import build_report

                    dataset, results_file = request
                    built = build_report(
                        dataset, scenario=loaded, results_file=results_file, appendix=appendix
                    )
                else:
                    built = finish_report(*received, appendix=appendix)
        except BaseException as exc:
            _reply(connection, ("failed", exc))
        else:
            _reply(connection, ("built", built))
        finally:
            connection.close()


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
        self._context: Connection | None = None
        self._context_process: multiprocessing.process.BaseProcess | None = None
        if can_fork():
            _preload_shared()
            context = multiprocessing.get_context("fork")
            parent_end, child_end = context.Pipe()
            outcomes_in, to_context = context.Pipe(duplex=False)
            context_in, context_out = context.Pipe(duplex=False)  # context and page, to the report child
            ends = (parent_end, child_end, outcomes_in, to_context, context_in, context_out)
            # the report child first: WeasyPrint and the appendix are the longest chain
            process = context.Process(
                target=_serve,
                args=(
                    child_end,
                    context_in,
                    tuple(e for e in ends if e not in (child_end, context_in)),
                    loaded,
                ),
                name="riskmodel-report",
                daemon=True,
            )
            _start(process)
            builder = context.Process(
                target=_build_context,
                args=(
                    outcomes_in,
                    context_out,
                    tuple(e for e in ends if e not in (outcomes_in, context_out)),
                    loaded,
                ),
                name="riskmodel-context",
                daemon=True,
            )
            _start(builder)
            for end in (child_end, outcomes_in, context_in, context_out):
                end.close()
            self._process, self._connection, self._context = process, parent_end, to_context
            self._context_process = builder

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
                target=self._send, args=(self._request, self._context, self._connection), daemon=True
            )
            self._sender.start()

    @staticmethod
    def _send(request: tuple[xr.Dataset, Path], *connections: Connection | None) -> None:
        # the context child reads at once; the report child only when its appendix is laid out
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
        """Stop the children if they are still running (a run that failed) and release the pipes."""
        for connection in (self._connection, self._context):
            if connection is not None:
                connection.close()
        self._connection = self._context = None
        for process in (self._process, self._context_process):
            if process is not None:
                if process.is_alive():
                    process.terminate()
                process.join()
        self._process = self._context_process = None

    def __enter__(self) -> ReportWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
