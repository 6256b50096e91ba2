"""Plots and reports. Importing this package is cheap; matplotlib loads only with :mod:`.plots`.

- :mod:`scalinglaws.report.plots`: every figure (fits, plans, and the other capabilities' charts).
- :class:`Report` / :func:`write_report`: the self-contained HTML report with ``report.json`` beside it;
  it has sections for fits (``FitResult``), forecasts (``ForecastSet``) and backtests (``BacktestResult``);
  add sections for new result types with :func:`register_section_builder`.

Example:
    >>> from scalinglaws.report import Prediction
    >>> Prediction(7e10, 1.4e12, "70B").compute
    5.88e+23
"""

from scalinglaws.report.curves import PlotError, Prediction
from scalinglaws.report.document import FORMAT, Report, Section, register_section_builder, write_report

__all__ = [
    "FORMAT",
    "PlotError",
    "Prediction",
    "Report",
    "Section",
    "register_section_builder",
    "write_report",
]
