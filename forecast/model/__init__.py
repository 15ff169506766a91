"""The Bayesian stock-flow model of US and China AI compute (PyMC).

``config`` holds the assumptions (priors, interventions, series links), ``observations`` turns a
dataset into the measurement design, ``stockflow`` is the model and its numpy simulator,
``fitting`` holds the model object (:class:`StockFlowModel`: configuration, build, fit, save,
load), samples it and wraps the result in a :class:`Fit`; ``cache`` stores fits as NetCDF.
"""

from forecast.model.config import ModelConfig, model_config
from forecast.model.fitting import (
    DEFAULT_SAMPLER,
    SAMPLERS,
    Fit,
    FitSettings,
    FitWarning,
    ProjectionInputs,
    StockFlowModel,
    fit,
)

__all__ = [
    "DEFAULT_SAMPLER",
    "SAMPLERS",
    "Fit",
    "FitSettings",
    "FitWarning",
    "ModelConfig",
    "ProjectionInputs",
    "StockFlowModel",
    "fit",
    "model_config",
]
