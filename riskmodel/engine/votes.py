"""Vote thresholds: the one place where the votes a rule needs are computed.

Every other part of riskmodel — the engine's chunks and grid sweeps, side payments,
pivotality, fact sheets, backtests and the numbers a report draws — calls these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from riskmodel.worlds.arrays import VoteRule, Worlds

__all__ = ["full_attendance_needed", "needed_counts", "needed_votes", "referendum_outcomes", "vote_outcomes"]


def needed_votes(rule: VoteRule, base: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Smallest count that carries the vote, given the base (members voting, or seats).

    ``majority`` needs strictly more than half of the base (an exact tie passes only with a
    tie-breaker); other fractions need at least that share, rounded up; an absolute count is
    itself. At least one vote is always needed, so a vote where nobody is present fails.
    """
    base = np.asarray(base, dtype=np.int64)
    if rule.count is not None:
        return np.full_like(base, rule.count)
    assert rule.fraction is not None
    num, den = rule.fraction.numerator, rule.fraction.denominator
    if rule.strict:  # more than num/den of the base; an exact tie passes only with a tie-breaker
        needed = (base * num) // den + 1
        if rule.ties_pass:
            needed = np.where((base * num) % den == 0, needed - 1, needed)
    else:
        needed = -((-base * num) // den)  # ceil(base * num / den) in integers
    return np.maximum(needed, 1)


def full_attendance_needed(rule: VoteRule, seats: int) -> float:
    """Votes needed when every member votes (the share itself for a referendum, ``seats == 0``)."""
    if seats == 0 and rule.count is None:
        assert rule.fraction is not None
        return float(rule.fraction)
    return float(needed_votes(rule, np.int64(seats)))


def vote_outcomes(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    yes: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    share: npt.NDArray[np.float64],
    abstain: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply each vote's threshold to the counts: ``(passed, support, margin)``, each (V, D, R, N).

    ``abstain`` ``(D, R, N, C)`` counts members who abstain (chambers with an abstention band):
    they are left out of the votes against, and out of the base of ``relative_to: present``.
    """
    n_draws, n_replicates, n_deals = yes.shape[:3]
    shape = (len(rules), n_draws, n_replicates, n_deals)
    passed = np.zeros(shape, dtype=bool)
    support = np.zeros(shape)
    margin = np.zeros(shape)
    referendum_outcomes(worlds, rules, share, passed, support, margin)
    referendum = set(worlds.referendum_chambers.tolist())
    for v, rule in enumerate(rules):
        if rule.chamber in referendum:
            continue
        present = worlds.present[:, :, rule.chamber][:, :, None].astype(np.int64)  # (D, R, 1)
        ayes = yes[..., rule.chamber].astype(np.int64)
        if abstain is None:
            count = ayes if rule.polarity_for else present - ayes
            needed = needed_votes(rule, _base(worlds, rule))[:, :, None]  # (D, R, 1)
        else:
            decided = present - abstain[..., rule.chamber]  # yes + no, (D, R, N)
            count = ayes if rule.polarity_for else decided - ayes
            if rule.relative_to_present:
                needed = needed_votes(rule, decided)
            else:
                needed = needed_votes(rule, _base(worlds, rule))[:, :, None]
        passed[v] = count >= needed
        support[v] = count
        margin[v] = count - needed
    return passed, support, margin


def referendum_outcomes(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    share: npt.NDArray[np.float64],
    passed: npt.NDArray[np.bool_],
    support: npt.NDArray[np.float64] | None = None,
    margin: npt.NDArray[np.float64] | None = None,
) -> None:
    """Write the referendum votes' ``(passed, support, margin)`` (V, D, R, N) in place.

    ``share`` ``(D, R, N, Q)`` is the yes share of each referendum; other votes are left alone, and
    so are support and margin when not given (a map needs only whether the vote passed).
    """
    ref_slot = {int(c): q for q, c in enumerate(worlds.referendum_chambers)}
    for v, rule in enumerate(rules):
        if rule.chamber not in ref_slot:
            continue
        q = ref_slot[rule.chamber]
        s = share[..., q]
        yes_share = s if rule.polarity_for else 1.0 - s
        fraction = 1.0 if rule.fraction is None else float(rule.fraction)
        ok = worlds.referendum_turnout_ok[:, q][:, None, None]
        carried = yes_share > fraction if rule.strict else yes_share >= fraction
        passed[v] = carried & ok
        if support is not None:
            support[v] = yes_share
        if margin is not None:
            margin[v] = yes_share - fraction


def needed_counts(worlds: Worlds, rules: Sequence[VoteRule]) -> npt.NDArray[np.int64]:
    """Votes each vote needs in each world, ``(V, D, R)``: it depends on who is present, not on the deal."""
    out = np.zeros((len(rules), worlds.n_draws, worlds.n_replicates), dtype=np.int64)
    referendum = set(worlds.referendum_chambers.tolist())
    for v, rule in enumerate(rules):
        if rule.chamber in referendum:
            continue
        out[v] = needed_votes(rule, _base(worlds, rule))
    return out


def _base(worlds: Worlds, rule: VoteRule) -> npt.NDArray[np.int64]:
    """``(D, R)`` what a counted vote's threshold is a share of: the members voting, or every seat."""
    present = worlds.present[:, :, rule.chamber].astype(np.int64)
    if rule.relative_to_seats:
        return np.full_like(present, worlds.seats[rule.chamber])
    return present
