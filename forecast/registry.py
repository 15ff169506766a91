"""The forecaster registry: model names (``naive``, ``ets``, ``sarimax``, ``ucm``, ``auto``,
``bayes``) and the factories that make them.

The baselines are registered here. A model defined above the baselines registers itself when
its module is imported (:func:`register`): ``auto`` (model choice, :mod:`forecast.backtest`)
and ``bayes`` (the Bayesian model, :mod:`forecast.model.predict`). The registry knows those
modules by name (:data:`PROVIDERS`) and imports one the first time its model is asked for, so
the imports stay one-way: the baselines import neither the registry nor what registers here,
and PyMC loads only when ``bayes`` is used.
"""

from __future__ import annotations

import importlib
import reprlib
from collections.abc import Callable, Iterator, Mapping

from forecast import bounds
from forecast.baselines import BASELINES, Forecaster
from forecast.errors import InputError

#: Models registered by the module that defines them, imported on first use.
PROVIDERS: dict[str, str] = {"auto": "forecast.backtest", "bayes": "forecast.model.predict"}


class Registry(Mapping[str, Callable[..., Forecaster]]):
    """Model name -> factory (a forecaster class, or a callable taking ``seed=``).

    Looking up a name in :data:`PROVIDERS` imports its module first (which registers it).
    Iterating lists every name, whether its module is imported yet or not: those registered
    directly in registration order, then those of :data:`PROVIDERS`.
    """

    def __init__(self, providers: Mapping[str, str]) -> None:
        self._factories: dict[str, Callable[..., Forecaster]] = {}
        self._providers = dict(providers)

    def register(self, name: str, factory: Callable[..., Forecaster]) -> None:
        """Register ``factory`` as ``name`` (replacing an earlier one of that name).

        Raises
        ------
        UsageError
            If the name is not a non-empty string or the factory is not callable.
        """
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"a model name must be non-empty text, got {reprlib.repr(name)}")
        if not callable(factory):
            raise InputError(f"model {name!r}: the factory must be callable, got {factory!r}")
        self._factories[name] = factory

    def __getitem__(self, name: str) -> Callable[..., Forecaster]:
        if name not in self._factories and name in self._providers:
            importlib.import_module(self._providers[name])
        return self._factories[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._factories or name in self._providers)

    def __iter__(self) -> Iterator[str]:
        yield from (name for name in self._factories if name not in self._providers)
        yield from self._providers

    def __len__(self) -> int:
        return len(self._factories.keys() | self._providers.keys())


#: Every model name and its factory (called with ``seed=``).
MODELS = Registry(PROVIDERS)
for _baseline in BASELINES:
    MODELS.register(_baseline.name, _baseline)
register = MODELS.register


def get_forecaster(name: str, *, seed: int = 0) -> Forecaster:
    """A new forecaster of the model registered as ``name``, its draws seeded by ``seed``.

    Raises
    ------
    UsageError
        An unknown name (the message lists the valid names), or a seed outside
        :data:`forecast.bounds.SEED`. (An :class:`forecast.InputError`, so also a
        ``ModelError`` as before.)
    """
    if name not in MODELS:  # also refuses non-strings
        raise InputError(f"unknown model {reprlib.repr(name)}; valid models: {', '.join(MODELS)}")
    return MODELS[name](seed=bounds.SEED.check(seed, "seed"))
