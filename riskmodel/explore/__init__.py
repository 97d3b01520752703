"""The live what-if explorer: ``riskmodel explore SCENARIO`` serves a page on 127.0.0.1.

:class:`~riskmodel.explore.state.Explorer` holds the worlds sampled once and evaluates any deal
on them; :func:`riskmodel.explore.app.create_app` (imported from its module, so this package
does not load Starlette) serves the page and its JSON API.
"""

from riskmodel.explore.state import DealError, Explorer

__all__ = ["DealError", "Explorer"]
