"""Members' ideal points from their chamber's roll calls held before a day: the ideology input.

A backtest's scenario takes each member's ideology from the congress's own roll calls in the
member's chamber dated strictly before the target vote's day: the posterior mode of the 1-D
IRT model (:func:`riskmodel.inference.irt_kernel.posterior_mode`, L-BFGS on the fast float32
gradient — seconds for a House congress, where a full posterior fit takes a minute or more on a
busy machine), oriented so that Republicans sit on the positive side. A point estimate is
enough here: the scenario standardises the ideal points within each party and learns how they
load onto trade positions from the earlier deals. Members absent from those roll calls (or with
fewer than ``MIN_VOTES`` of them) get no ideal point and take their party's mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.backtest.archive import RollCallArchive
from riskmodel.errors import RiskmodelError
from riskmodel.inference.irt_kernel import posterior_mode
from riskmodel.model.irt import vote_matrix

__all__ = ["MIN_ROLLCALLS", "MIN_VOTES", "ideal_points_before"]

MIN_ROLLCALLS = 20
"""Fewer informative roll calls than this before the day: no ideal points (all take the mean)."""
MIN_VOTES = 10
"""A member with fewer yea/nay votes than this among them gets no ideal point."""


def ideal_points_before(
    archive: RollCallArchive, congress: int, chamber: str, day: pd.Timestamp, *, min_minority: float = 0.025
) -> pd.Series:
    """Ideal points (``member_id`` → float) from ``chamber``'s roll calls of ``congress`` before ``day``.

    Parameters
    ----------
    archive
        The roll-call data.
    congress, chamber
        Whose roll calls (``chamber`` is ``"h"`` or ``"s"``, as in the archive).
    day
        Only roll calls dated strictly before this day are used.
    min_minority
        Lopsided roll calls (minority share below this) carry no information and are dropped.

    Returns
    -------
    pandas.Series
        Empty when fewer than :data:`MIN_ROLLCALLS` informative roll calls precede the day.
    """
    votes = archive.member_votes(congress)
    earlier = votes[(votes["chamber"] == chamber) & (votes["date"] < day.normalize())]
    try:
        matrix = vote_matrix(earlier, min_minority=min_minority, min_votes=MIN_VOTES)
    except RiskmodelError:  # too few roll calls so far this congress
        return pd.Series(dtype=np.float64)
    if matrix.shape[1] < MIN_ROLLCALLS:
        return pd.Series(dtype=np.float64)
    theta = posterior_mode(matrix)[: matrix.shape[0]]
    republican = matrix.party == "R"
    if republican.any() and theta[republican].mean() < theta.mean():
        theta = -theta
    theta = (theta - theta.mean()) / (theta.std() + 1e-12)
    return pd.Series(theta, index=pd.Index(matrix.members, name="member_id"), dtype=np.float64)
