"""Analyses run many small engine calls on one kernel thread, and restore the thread count after."""

from __future__ import annotations

import numba
import pytest

from riskmodel.analyses.threads import SERIAL_WORK, kernel_threads


def test_small_units_use_one_thread_and_the_count_is_restored() -> None:
    before = numba.get_num_threads()
    with kernel_threads(SERIAL_WORK - 1) as threads:
        assert threads == 1 and numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with kernel_threads(SERIAL_WORK) as threads:
        assert threads == before and numba.get_num_threads() == before


def test_the_count_is_restored_when_the_block_fails() -> None:
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError), kernel_threads(1):
        raise RuntimeError("unit failed")
    assert numba.get_num_threads() == before
