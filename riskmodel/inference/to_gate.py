"""Sampling to the convergence gate: stop a running nutpie sampler at the first checkpoint that passes.

nutpie samples in the background (``blocking=False``); its progress callback says how many
draws every chain has finished. At each checkpoint (a number of kept draws per chain) the
first ``checkpoint`` draws of every chain are judged, and the fit stops at the first
checkpoint whose draws pass. The chains are deterministic given the seed, and the first
``k`` draws of a longer run are the draws of a run of ``k`` (nutpie's adaptation depends on
the warm-up alone), so where a fit stops, and what it keeps, depends on the seed alone, never
on how fast the machine ran. A trace with divergent transitions stops at once: the gate
wants none, and every longer run holds the same ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr

__all__ = ["Progress", "Verdict", "complete_draws", "kept_groups", "sample_to_gate"]

Verdict = Literal["passed", "more", "hopeless"]
"""A checkpoint's judgement: stop and keep it, go on, or stop (no longer run can pass)."""


class Progress:
    """Kept draws every chain has finished, from nutpie's progress callback (no trace copies)."""

    def __init__(self, tune: int) -> None:
        self.tune = tune
        self.kept = 0

    def __call__(self, chains: Any) -> None:
        """Take nutpie's per-chain progress (``finished_draws`` counts warm-up draws too)."""
        self.kept = max(0, min(int(chain.finished_draws) for chain in chains) - self.tune)


def kept_groups(tree: xr.DataTree) -> xr.DataTree:
    """The tree's ``posterior`` and ``sample_stats`` only (no warm-up groups)."""
    return xr.DataTree.from_dict(
        {name: tree[name].to_dataset() for name in ("posterior", "sample_stats") if name in tree.children}
    )


def complete_draws(tree: xr.DataTree) -> int:
    """Draws that every chain has finished (a chain behind the others is padded with NaN)."""
    if "posterior" not in tree.children:
        return 0
    posterior = tree["posterior"].to_dataset()
    floats = [name for name in posterior.data_vars if np.issubdtype(posterior[name].dtype, np.floating)]
    if not floats:
        return int(posterior.sizes.get("draw", 0))
    values = posterior[floats[0]].to_numpy()  # (chain, draw, ...)
    done = np.isfinite(values.reshape(values.shape[0], values.shape[1], -1)).all(axis=(0, 2))
    return int(np.argmin(done)) if not done.all() else int(done.size)


def _finished(sampler: Any) -> bool:
    try:
        return bool(sampler.is_finished)
    except TimeoutError:  # nutpie 0.16 raises instead of answering False while chains run
        return False


def sample_to_gate(
    sampler: Any,
    progress: Progress,
    checkpoints: Sequence[int],
    judge: Callable[[xr.DataTree], Verdict],
) -> tuple[xr.DataTree, int | None]:
    """The trace, and the checkpoint it stopped at (``None``: it ran to its end).

    ``sampler`` is nutpie's background sampler, started with the most draws the fit may take
    and ``progress`` as its progress callback; ``checkpoints`` are increasing draw counts below
    that. ``judge`` looks at each checkpoint's first draws (the chains paused meanwhile): a
    checkpoint that passes, or after which no longer run can pass, cancels the chains;
    otherwise the sampler runs on to its end. When the sampler finished before a checkpoint
    was judged (a fast machine), the remaining checkpoints are judged on the whole trace, so
    the result never depends on timing.
    """
    current: xr.DataTree | None = None
    finished: xr.DataTree | None = None  # the sampler's whole trace, once `wait` handed it over
    for checkpoint in checkpoints:
        # wait until every chain has the checkpoint's draws; the chains pause while their
        # draws are copied and judged, so the judging does not compete with them for the cores
        paused = False
        while current is None or complete_draws(kept_groups(current)) < checkpoint:
            if _finished(sampler):
                current = finished = sampler.wait()
                break
            if progress.kept >= checkpoint:
                sampler.pause()
                paused = True
                current = sampler.inspect()
                if complete_draws(kept_groups(current)) >= checkpoint:
                    break
                sampler.resume()
                paused = False
            time.sleep(0.2)
        assert current is not None
        if judge(kept_groups(current.isel(draw=slice(0, checkpoint)))) != "more":
            if not _finished(sampler):
                sampler.cancel()
            return current, checkpoint
        if paused:
            sampler.resume()
    # the whole trace: a copy taken at a checkpoint is not it, even when the sampler has
    # finished since (chains run unevenly: a copy may hold one chain's draws beyond another's)
    return (finished if finished is not None else sampler.wait()), None
