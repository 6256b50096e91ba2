"""One look for every figure and the HTML page: the Okabe-Ito palette and matplotlib settings.

Importing this module does not import matplotlib; :func:`rc` returns plain settings for
``matplotlib.rc_context``.

Example:
    >>> OKABE_ITO["blue"], len(PALETTE)
    ('#0072B2', 7)
    >>> len(rc()["axes.prop_cycle"])
    7
"""

from __future__ import annotations

from typing import Any

__all__ = ["BOTTLENECK_COLOURS", "INK", "MUTED", "OKABE_ITO", "PALETTE", "SEQUENTIAL_CMAP", "rc"]

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008), by name.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: Categorical colours in the order figures use them (yellow, weak on white, left out).
PALETTE: tuple[str, ...] = tuple(OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple",
                                                         "sky", "black"))

#: Text and neutral greys shared by the figures and the page.
INK = "#1F2933"
MUTED = "#6B7280"

#: Sequential colour map for continuous quantities (model size): perceptually uniform, colour-blind safe.
SEQUENTIAL_CMAP = "viridis"

#: Colour of each Effective-Frontier bottleneck in the bottleneck map.
BOTTLENECK_COLOURS: dict[str, str] = {
    "capacity": OKABE_ITO["blue"],
    "coverage": OKABE_ITO["orange"],
    "optimisation": OKABE_ITO["green"],
    "none": "#BBBBBB",
}


def rc() -> dict[str, Any]:
    """matplotlib settings of every figure (use with ``matplotlib.rc_context(rc())``)."""
    from cycler import cycler

    return {
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": 9.5,
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 9.5,
        "axes.edgecolor": "#9AA5B1",
        "axes.labelcolor": INK,
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "grid.color": "#E4E7EB",
        "grid.linewidth": 0.7,
        "xtick.color": "#52606D",
        "ytick.color": "#52606D",
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "svg.fonttype": "path",
        "svg.hashsalt": "scalinglaws",
        "text.color": INK,
    }
