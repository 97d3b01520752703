"""The win-set map's rows: evaluated a block at a time (serially or as Dask tasks) and reduced as they come.

Each block of rows becomes small per-deal pieces (counts, MCSE, quantiles) and per-world win-set
sizes; a :class:`Reducer` puts them together. The packed row sweep
(:func:`riskmodel.engine.sweep_map.sweep_map_counts`) counts in its kernel; the other methods
reduce full outcome chunks here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from riskmodel.engine import ChunkOutcome, evaluate_chunks
from riskmodel.engine.draw_stats import draw_statistics
from riskmodel.engine.sweep import SweepChunk, sweep_chunks
from riskmodel.engine.sweep_map import map_supported, sweep_map_counts
from riskmodel.results.collect import QUANTILES
from riskmodel.results.mcse import MIN_DRAWS_PER_CHAIN, mcse
from riskmodel.worlds.arrays import Expression, Worlds

__all__ = [
    "MapTask",
    "Method",
    "Piece",
    "Progress",
    "Reducer",
    "map_rows",
    "reduce_chunk",
    "reduce_counts",
    "run_map",
]

Progress = Callable[[int, int], None]
Method = Literal["sweep", "engine"]


class Reducer:
    """Per-deal probabilities and per-world win-set sizes, filled in chunk by chunk."""

    def __init__(self, n_sides: int, n_deals: int, n_draws: int, n_replicates: int, quantiles: bool):
        self.side_count = np.zeros((n_sides, n_deals), dtype=np.int64)
        self.joint_count = np.zeros(n_deals, dtype=np.int64)
        self.side_mcse = np.zeros((n_sides, n_deals))
        self.joint_mcse = np.zeros(n_deals)
        n_q = len(QUANTILES) if quantiles else 0
        self.side_q = np.zeros((n_q, n_sides, n_deals))
        self.joint_q = np.zeros((n_q, n_deals))
        self.side_size = np.zeros((n_sides, n_draws, n_replicates), dtype=np.int64)
        self.joint_size = np.zeros((n_draws, n_replicates), dtype=np.int64)

    def put(self, piece: Piece) -> None:
        """Store one chunk's reduction (sizes are integer sums: the order of chunks cannot matter)."""
        part, side_count, joint_count, side_mcse, joint_mcse, side_q, joint_q, side_size, joint_size = piece
        self.side_count[:, part], self.joint_count[part] = side_count, joint_count
        self.side_mcse[:, part], self.joint_mcse[part] = side_mcse, joint_mcse
        if self.side_q.shape[0]:
            self.side_q[:, :, part], self.joint_q[:, part] = side_q, joint_q
        self.side_size += side_size
        self.joint_size += joint_size


Piece = tuple[Any, ...]


def reduce_counts(
    part: slice,
    per_draw: npt.NDArray[np.int32],
    size: npt.NDArray[np.int64],
    n_replicates: int,
    chains: int | None,
    quantiles: bool,
) -> Piece:
    """One chunk's reduction from its per-draw counts ``(S + 1, D, n)`` (sides, then the agreement).

    The MCSE and quantiles are those ``mcse`` and ``numpy.quantile`` give for ``per_draw /
    n_replicates`` of each side (axis 1 of ``(S, D, n)``) and of the agreement (axis 0 of
    ``(D, n)``), computed by :func:`riskmodel.engine.draw_stats.draw_statistics` with the same
    floating-point operations.
    """
    n_sides, n_draws = per_draw.shape[0] - 1, per_draw.shape[1]
    q = QUANTILES if quantiles else ()
    exact = chains is None and n_draws >= MIN_DRAWS_PER_CHAIN
    # mcse() sums a side's draws in order when several sides share the block, pairwise otherwise
    side_total, side_mcse, side_q = draw_statistics(
        per_draw[:n_sides], n_replicates, mcse=exact, pairwise=n_sides == 1, quantiles=q
    )
    joint_total, joint_mcse, joint_q = draw_statistics(
        per_draw[n_sides:], n_replicates, mcse=exact, pairwise=True, quantiles=q
    )
    if not exact:
        side_mcse = mcse(per_draw[:n_sides] / n_replicates, chains, axis=1)
        joint_mcse = mcse(per_draw[n_sides] / n_replicates, chains, axis=0)[None]
    return (
        part,
        side_total,
        joint_total[0],
        side_mcse,
        joint_mcse[0],
        side_q if quantiles else None,
        joint_q[:, 0] if quantiles else None,
        size[:n_sides],
        size[n_sides],
    )


def reduce_chunk(chunk: ChunkOutcome | SweepChunk, chains: int | None, quantiles: bool, offset: int) -> Piece:
    """One chunk's per-deal counts, MCSE, quantiles and per-world sizes (small: no world × deal array)."""
    part = slice(chunk.deal_slice.start + offset, chunk.deal_slice.stop + offset)
    outcomes = np.concatenate([chunk.side_ratified, chunk.agreed[None]])  # (S + 1, D, R, n)
    per_draw = np.count_nonzero(outcomes, axis=2).astype(np.int32)
    size = np.count_nonzero(outcomes, axis=3).astype(np.int64)
    return reduce_counts(part, per_draw, size, chunk.agreed.shape[1], chains, quantiles)


@dataclass(frozen=True)
class MapTask:
    """Everything a block of map rows needs, sent once to every Dask worker."""

    worlds: Worlds
    method: Method
    base_unit: npt.NDArray[np.float64]
    x_index: int
    y_index: int
    x_unit: npt.NDArray[np.float64]
    y_unit: npt.NDArray[np.float64]
    rule: Expression | None
    chunk_size: int | None
    quantiles: bool


def map_rows(task: MapTask, row0: int, row1: int) -> list[Piece]:
    """Reduced chunks of map rows ``row0:row1`` (deals ``row0 * n_x`` to ``row1 * n_x``).

    Every row is evaluated on its own and every deal's reduction is its own, so the pieces are
    the same whichever rows share a task.
    """
    worlds, n_x = task.worlds, task.x_unit.size
    chains = None if worlds.independent_draws else worlds.chains
    chunks: Iterable[ChunkOutcome | SweepChunk]
    # the rows of this task on the base deal, for either sweep
    rows: dict[str, Any] = {
        "base_unit": task.base_unit,
        "x_index": task.x_index,
        "y_index": task.y_index,
        "x_unit": task.x_unit,
        "y_unit": task.y_unit[row0:row1],
        "chunk_size": task.chunk_size,
        "agreement": task.rule,
    }
    if task.method == "sweep" and map_supported(worlds):
        counted = sweep_map_counts(worlds, worlds.vote_rules, worlds.procedures, **rows)
        offset = row0 * n_x
        return [
            reduce_counts(
                slice(c.deal_slice.start + offset, c.deal_slice.stop + offset),
                c.per_draw,
                c.size,
                worlds.n_replicates,
                chains,
                task.quantiles,
            )
            for c in counted
        ]
    elif task.method == "sweep":
        chunks = sweep_chunks(worlds, worlds.vote_rules, worlds.procedures, **rows)
    else:
        deals = np.tile(task.base_unit, ((row1 - row0) * n_x, 1))
        deals[:, task.x_index] = np.tile(task.x_unit, row1 - row0)
        deals[:, task.y_index] = np.repeat(task.y_unit[row0:row1], n_x)
        rules = None if task.rule is None else [task.rule] * len(deals)
        chunks = evaluate_chunks(worlds, deals, chunk_size=task.chunk_size, agreements=rules)
    return [reduce_chunk(chunk, chains, task.quantiles, row0 * n_x) for chunk in chunks]


def run_map(
    task: MapTask, reducer: Reducer, client: Any, progress: Progress | None, rows_per_task: int | None
) -> None:
    """Evaluate the map's rows serially (a block at a time) or as Dask tasks, reducing as they come."""
    n_x, n_y = task.x_unit.size, task.y_unit.size
    if rows_per_task is None:  # serial: blocks small enough for a smooth progress bar
        rows_per_task = max(1, -(-n_y // (64 if client is None else 16)))
    blocks = [(r, min(r + rows_per_task, n_y)) for r in range(0, n_y, rows_per_task)]
    done = 0

    def finished(pieces: list[Piece]) -> None:
        nonlocal done
        for piece in pieces:
            reducer.put(piece)
            done += piece[0].stop - piece[0].start
        if progress is not None:
            progress(done, n_x * n_y)

    if client is None:
        for row0, row1 in blocks:
            finished(map_rows(task, row0, row1))
        return
    from distributed import as_completed

    shared = client.scatter(task, broadcast=True)
    futures = [client.submit(map_rows, shared, row0, row1, pure=False) for row0, row1 in blocks]
    for future in as_completed(futures):
        finished(future.result())
        future.release()
