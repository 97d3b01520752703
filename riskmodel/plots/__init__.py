"""Plots of riskmodel results: ``plot_*(data, *, ax=None) -> (fig, ax)``.

Plots draw what they are given and compute nothing. They build figures with
:class:`matplotlib.figure.Figure` (no pyplot state, Agg for raster output), so they are safe to
call from a server, a test or a report. One module per analysis, e.g.
:mod:`riskmodel.plots.votes` for ratification risk and vote counts.
"""
