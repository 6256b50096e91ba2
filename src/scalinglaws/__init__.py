"""scalinglaws: fit, forecast and plan with neural scaling laws.

Importing the package is cheap: heavy dependencies (torch, dask, matplotlib) load only where used.

Example:
    >>> import scalinglaws
    >>> isinstance(scalinglaws.__version__, str)
    True
"""

from __future__ import annotations

__version__ = "0.1.0"
