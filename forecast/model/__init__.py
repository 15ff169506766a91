"""The Bayesian stock-flow model of US and China AI compute (PyMC).

``config`` holds the assumptions (priors, interventions, series links), ``observations`` turns a
dataset into the measurement design, ``stockflow`` is the model and its numpy simulator,
``fitting`` samples it and wraps the result in a :class:`Fit`, ``cache`` stores fits as NetCDF.
"""

from forecast.model.config import ModelConfig, model_config
from forecast.model.fitting import (
    DEFAULT_SAMPLER,
    SAMPLERS,
    Fit,
    FitWarning,
    ProjectionInputs,
    fit,
)

__all__ = [
    "DEFAULT_SAMPLER",
    "SAMPLERS",
    "Fit",
    "FitWarning",
    "ModelConfig",
    "ProjectionInputs",
    "fit",
    "model_config",
]
