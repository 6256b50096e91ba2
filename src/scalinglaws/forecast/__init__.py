"""Neural forecasts of downstream accuracy over training (after NeuNeu, arXiv 2601.19831).

* :mod:`~scalinglaws.forecast.data`: trajectories, training samples with augmentation, the synthetic prior
  (numpy only);
* :mod:`~scalinglaws.forecast.neural`: the transformer with its quantile head, save/load, the shipped
  weights (torch);
* :mod:`~scalinglaws.forecast.reference`: cross-run reference features (a task's logistic law in loss,
  the run's loss placed between the training runs' loss curves; numpy only);
* :mod:`~scalinglaws.forecast.ensemble`: several forecasters as one (averaged quantiles) and
  :func:`~scalinglaws.forecast.ensemble.load_forecaster`, which reads either kind (torch);
* :mod:`~scalinglaws.forecast.train`: the seeded CPU training recipe (torch);
* :mod:`~scalinglaws.forecast.baselines`: the forecaster and the logistic law as backtest methods;
* :mod:`~scalinglaws.forecast.profile`: per-word validation losses of a Hugging Face checkpoint;
* :mod:`~scalinglaws.forecast.api`: :func:`~scalinglaws.forecast.api.forecast_evals` and a plot.
* :mod:`~scalinglaws.forecast.result`: :class:`~scalinglaws.forecast.result.ForecastSet`, forecasts with
  their setting (what the report shows), and its JSON round trip.

Importing this package does not import torch.

Example:
    >>> from scalinglaws.errors import ScalingLawsError
    >>> from scalinglaws.forecast import ForecastError
    >>> issubclass(ForecastError, ScalingLawsError)
    True
"""

from __future__ import annotations

from scalinglaws.forecast.errors import ForecastError, ProfileError

__all__ = ["ForecastError", "ProfileError"]
