"""The run's numba kernel compiled in a second process while the first one samples.

A first run after installing or clearing numba's cache compiles the fused kernel, seconds of
one core; until the run evaluates deals it is busy with other things (importing PyMC, fitting
elicited priors, drawing worlds) that do not need the kernel. :func:`start_priming` starts
``python -m riskmodel.engine.prime`` to compile the kernel into numba's on-disk cache on the
machine's other core, and :func:`wait_for_priming` waits for it before the first evaluation,
which then loads the kernel from the cache as any later run would. Loading from the cache or
compiling in the same process gives the same machine code, so no number can change; when the
kernel is cached already nothing is started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np

from riskmodel.engine.fused import compile_kernel, kernel_cached

__all__ = ["main", "start_priming", "wait_for_priming"]

# the priming process of this interpreter, if one is running
_child: list[subprocess.Popen[bytes]] = []
# set once the kernel is known to be cached (or being cached): later runs need not read the index
_settled: list[bool] = []


def start_priming() -> bool:
    """Start compiling the fused kernel into numba's cache in the background, if it is not there.

    Returns whether a process was started. Nothing is started when numba's JIT is disabled,
    when the kernel is cached already, or once this interpreter has started a priming process
    or found the kernel cached (numba's index is then not read again).
    """
    if _child or _settled or getattr(numba.config, "DISABLE_JIT", False) or kernel_cached():
        _settled[:] = [True]
        return False
    env = dict(os.environ)
    # the child must compile this checkout's kernel: numba's cache is keyed by the source file
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "riskmodel.engine.prime"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=root,
        )
    except OSError:  # no process to spare: the run compiles the kernel itself
        return False
    _child.append(child)
    _settled[:] = [True]
    return True


def wait_for_priming(timeout: float = 600.0) -> None:
    """Wait for the priming process, if any (stopped after ``timeout`` seconds: the caller compiles)."""
    while _child:
        child = _child.pop()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv: list[str] | None = None) -> None:
    """Compile the fused kernel into numba's cache; ``--draw-statistics`` adds the reduction kernel.

    The draw statistics summarise large chunks and win-set maps (a run's few deals are
    summarised with NumPy); installation compiles both, a run's priming only the first.
    """
    args = sys.argv[1:] if argv is None else argv
    compile_kernel()
    if "--draw-statistics" in args:
        from riskmodel.engine.draw_stats import draw_statistics  # a run's priming needs none of it

        # a call as the results make it (int32 counts, int replicates, flags): the same signature
        counts = np.zeros((1, 4, 1), dtype=np.int32)
        draw_statistics(counts, 1, mcse=True, pairwise=True, quantiles=(0.5,))


if __name__ == "__main__":
    main()
