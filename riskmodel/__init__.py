"""riskmodel: forecast whether an international agreement survives domestic ratification.

Putnam's two-level game with Bayesian priors on every Level II preference: sample possible
worlds with PyMC, push every candidate deal through a vectorised vote engine, and report the
probability that each side ratifies it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("riskmodel")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
