"""The vote engine: worlds and deals in, yes counts, vote and side outcomes out.

Pure NumPy plus numba kernels; it imports nothing of riskmodel but the input contract
:mod:`riskmodel.worlds.arrays` — never pydantic, YAML, pandas, PyMC or plotting.
"""

from riskmodel.engine.chunks import ChunkOutcome, evaluate_chunks
from riskmodel.engine.kernel import KernelInput, count_yes, member_gain, member_votes, prepare
from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.referendum import referendum_share
from riskmodel.engine.sequence import evaluate_in_order
from riskmodel.engine.votes import (
    full_attendance_needed,
    needed_counts,
    needed_votes,
    vote_outcomes,
)
from riskmodel.engine.weighted import count_weighted

__all__ = [
    "ChunkOutcome",
    "KernelInput",
    "count_weighted",
    "count_yes",
    "evaluate_chunks",
    "evaluate_in_order",
    "evaluate_procedure",
    "full_attendance_needed",
    "member_gain",
    "member_votes",
    "needed_counts",
    "needed_votes",
    "prepare",
    "referendum_share",
    "vote_outcomes",
]
