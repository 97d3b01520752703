"""Figures as self-contained data URIs (no files, no network), ready for the HTML and the PDF."""

from __future__ import annotations

import base64
import io
import sys
from typing import Any, Literal

from matplotlib.figure import Figure

__all__ = ["FigureFormat", "figure_uri"]

FigureFormat = Literal["png", "svg"]

_MIME = {"png": "image/png", "svg": "image/svg+xml"}


def figure_uri(fig: Figure, *, fmt: FigureFormat = "png", dpi: int = 120) -> str:
    """Render a figure to a ``data:`` URI and release it.

    Parameters
    ----------
    fig
        The figure (built by a ``plot_*`` function).
    fmt
        ``png`` (default; rendered by Agg) or ``svg``.
    dpi
        Resolution of PNG output.

    Returns
    -------
    str
        ``data:image/png;base64,...`` or ``data:image/svg+xml;base64,...``. An SVG inside an
        ``<img>`` cannot run scripts or load anything, whatever text it holds.
    """
    if fmt not in _MIME:
        raise ValueError(f"figure format must be one of {sorted(_MIME)}, got {fmt!r}")
    buffer = io.BytesIO()
    # No creation date or software tag: the same results give the same bytes.
    metadata = {"Software": None} if fmt == "png" else {"Date": None}
    # zlib's fastest level: the same pixels, a file ~4% larger, a quarter less time per figure
    # (the PDF re-compresses the pixels its own way, so only the HTML is larger)
    extra: dict[str, Any] = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white", **extra)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # a figure made through pyplot stays registered until closed
        pyplot.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:{_MIME[fmt]};base64,{encoded}"
