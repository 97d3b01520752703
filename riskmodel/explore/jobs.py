"""Background jobs: slow work (win-set maps, levers, reports) off the request threads.

Each job runs in its own daemon thread, at most ``workers`` at a time, so the page keeps
answering probability updates while a map is computed, and Ctrl-C is never held up by a job.
The page polls a job by its id and shows its progress.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from riskmodel.errors import RiskmodelError
from riskmodel.explore.state import DealError

__all__ = ["Job", "JobRunner", "SupersededError"]

log = logging.getLogger("riskmodel.explore")


class SupersededError(Exception):
    """Raised inside a job that a newer job of its kind has superseded."""


@dataclass
class Job:
    """One piece of background work and what the page can know of it."""

    id: str
    kind: str
    status: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancelled: bool = False

    def progress(self, done: int, total: int) -> None:
        """Record ``done`` of ``total`` steps (called from the job's thread); stop if superseded."""
        if self.cancelled:
            raise SupersededError(self.id)
        self.done, self.total = done, total

    def step(self, message: str) -> None:
        """Record what the job is doing now."""
        self.message = message

    def view(self) -> dict[str, Any]:
        """The job as the page sees it: status, progress, elapsed seconds, result or error."""
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "elapsed": round(end - self.started, 2),
            "result": self.result if self.status == "done" else None,
            "error": self.error,
        }


class JobRunner:
    """Start, look up and cache background jobs.

    Parameters
    ----------
    workers
        Jobs running at the same time (others wait their turn).
    keep
        Finished jobs remembered (the oldest are forgotten first; cached results with them).
    """

    def __init__(self, workers: int = 2, keep: int = 64) -> None:
        self.slots = threading.BoundedSemaphore(workers)
        self.keep = keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.by_key: dict[Hashable, str] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count(1)

    def submit(
        self, kind: str, key: Hashable | None, work: Callable[[Job], Any], *, supersede: bool = False
    ) -> Job:
        """Run ``work(job)`` in the background, or return the job already made for ``key``.

        With ``supersede``, unfinished jobs of the same kind are cancelled: the page only wants
        the levers of the deal it shows now, not of every deal a slider passed through.
        """
        with self.lock:
            if key is not None and key in self.by_key and self.by_key[key] in self.jobs:
                cached = self.jobs[self.by_key[key]]
                if cached.status not in ("failed", "superseded") and not cached.cancelled:
                    return cached
            if supersede:
                for other in self.jobs.values():
                    if other.kind == kind and other.status in ("queued", "running"):
                        other.cancelled = True
            job = Job(id=f"{kind}-{next(self.ids)}", kind=kind)
            self.jobs[job.id] = job
            if key is not None:
                self.by_key[key] = job.id
            while len(self.jobs) > self.keep:
                self.jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job, work), name=job.id, daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if it is still remembered."""
        with self.lock:
            return self.jobs.get(job_id)

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        with self.slots:
            job.started = time.monotonic()
            try:
                if job.cancelled:
                    raise SupersededError(job.id)
                job.status = "running"
                job.result = work(job)
                job.status = "done"
            except SupersededError:
                job.status = "superseded"
            except (DealError, RiskmodelError) as exc:
                job.error, job.status = str(exc), "failed"
            except Exception:  # a bug must reach the log, never the page as a traceback
                log.exception("job %s failed", job.id)
                job.error, job.status = "internal error (see the server's log)", "failed"
            finally:
                job.finished = time.monotonic()
