"""Processes of the report apart from the run: starting them, their replies, the vote charts' child.

Helpers of :mod:`riskmodel.report.worker`. The context child draws the summary plot and the
heat map while a child of its own (:class:`ChartsApart`), forked once matplotlib is imported,
draws the last vote charts: the two halves of the figures take about as long, on the two cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import xarray as xr

__all__ = ["HEAD_START", "ChartsApart", "charts_apart", "receive", "reply", "start_process"]

HEAD_START = 5
"""The summary plot and the heat map take about as long to draw as this many vote charts
(bundled scenario): the charts child draws the last ``(votes + HEAD_START) / 2`` charts."""


def start_process(process: multiprocessing.process.BaseProcess) -> None:
    """Start a forked process, from a process whose other threads are native helpers only."""
    with warnings.catch_warnings():
        # Python warns of any other thread; only native helpers can run here (see worker.can_fork)
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        process.start()


def reply(connection: Connection, outcome: tuple[str, Any]) -> None:
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


def receive(connection: Connection) -> tuple[str, Any]:
    """A child's outcome, ``("lost", None)`` when it died without one."""
    try:
        kind, value = connection.recv()
    except (EOFError, OSError):
        return "lost", None
    return kind, value


def charts_apart(dataset: xr.Dataset) -> list[str]:
    """The vote charts the charts child draws: the last ones (none without vote detail)."""
    if "support_quantile" not in dataset:
        return []
    votes = [str(v) for v in dataset["vote"].to_numpy()]
    share = min(len(votes), round((len(votes) + HEAD_START) / 2))
    return votes[len(votes) - share :]


def _draw_charts(outcomes_in: Connection, charts_out: Connection, closing: tuple[Connection, ...]) -> None:
    """The charts child: wait for the outcomes, draw its share of the vote charts, send them."""
    for end in closing:  # its parent's ends: a process that dies must read as EOF
        end.close()
    from riskmodel.report.charts import vote_figure

    try:
        dataset = outcomes_in.recv()
        reply(charts_out, ("built", {vote: vote_figure(dataset, vote) for vote in charts_apart(dataset)}))
    except EOFError:  # its parent failed or was stopped before the outcomes existed
        pass
    except BaseException as exc:
        reply(charts_out, ("failed", exc))
    finally:
        outcomes_in.close()
        charts_out.close()


class ChartsApart(Mapping[str, str]):
    """Vote charts drawn by a child process, received when first asked for (or drawn here).

    Parameters
    ----------
    closing
        The calling process's other pipe ends, which the child must not keep open.
    """

    def __init__(self, closing: tuple[Connection, ...] = ()) -> None:
        self._dataset: xr.Dataset | None = None
        self._votes: list[str] = []
        self._charts: dict[str, str] | None = None
        context = multiprocessing.get_context("fork")
        outcomes_in, self._outcomes = context.Pipe(duplex=False)
        self._connection, charts_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_draw_charts,
            args=(outcomes_in, charts_out, (self._outcomes, self._connection, *closing)),
            name="riskmodel-charts",
            daemon=True,
        )
        start_process(self._process)
        outcomes_in.close()
        charts_out.close()

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def send(self, dataset: xr.Dataset) -> ChartsApart:
        """Hand the outcomes to the child; its charts are those of :func:`charts_apart`."""
        self._dataset, self._votes = dataset, charts_apart(dataset)
        with contextlib.suppress(OSError):  # the child is gone: its charts are drawn here
            self._outcomes.send(dataset)
        self._outcomes.close()
        return self

    def _received(self) -> dict[str, str]:
        if self._charts is None:
            kind, value = receive(self._connection)
            self.close()
            if kind == "failed":
                raise value
            if kind == "built":
                self._charts = value
            else:  # the child was lost: the charts are drawn here
                from riskmodel.report.charts import vote_figure

                assert self._dataset is not None  # send() comes first
                self._charts = {vote: vote_figure(self._dataset, vote) for vote in self._votes}
        return self._charts

    def close(self) -> None:
        """Release the pipes and the child."""
        self._outcomes.close()
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
