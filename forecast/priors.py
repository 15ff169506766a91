"""One distribution type, :class:`Prior`, for model priors, lever distributions and sweep ranges.

A prior is a distribution name with named parameters::

    Prior("beta", alpha=2, beta=5)          Prior("beta", mu=0.2, sigma=0.05)
    Prior("lognormal", mu=-2.5, sigma=0.5)  Prior("lognormal", median=0.08, sigma=0.5)
    Prior("normal", mu=0, sigma=1)          Prior("halfnormal", sigma=1)
    Prior("uniform", lower=0, upper=1)      Prior("triangular", lower=0, mode=0.3, upper=1)
    Prior("truncnormal", mu=0, sigma=1, lower=-1, upper=2)

The names say what a number is, so ``beta`` given by its shape parameters and ``beta`` given
by its mean and standard deviation cannot be mistaken for one another. A prior validates its
parameters when it is made, draws numpy samples (:meth:`Prior.sample`) and creates a PyMC
variable (:meth:`Prior.create_variable`; PyMC is imported only there). In TOML files and dicts
the same prior is written ``{dist = "beta", alpha = 2, beta = 5}`` (:meth:`Prior.parse`,
:meth:`Prior.to_dict`).

This module is a leaf: it imports numpy and the standard library only (SciPy, PyMC and
``statistics`` inside the methods that need them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from forecast.errors import InputError

#: Every distribution and its accepted parameterisations (names in this order).
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "normal": (("mu", "sigma"),),
    "halfnormal": (("sigma",),),
    "lognormal": (("mu", "sigma"), ("median", "sigma")),
    "beta": (("alpha", "beta"), ("mu", "sigma")),
    "uniform": (("lower", "upper"),),
    "triangular": (("lower", "mode", "upper"),),
    "truncnormal": (("mu", "sigma", "lower", "upper"),),
}
#: The PyMC distribution behind each name.
_PYMC = {
    "normal": "Normal", "halfnormal": "HalfNormal", "lognormal": "LogNormal", "beta": "Beta",
    "uniform": "Uniform", "triangular": "Triangular", "truncnormal": "TruncatedNormal",
}  # fmt: skip


class DeprecatedFormWarning(FutureWarning):
    """An input file or argument uses an old form that still works but will be removed."""


def _positive(p: dict, *names: str) -> list[str]:
    return [f"{name} must be > 0" for name in names if not np.all(p[name] > 0)]


def _constraints(dist: str, p: dict) -> list[str]:
    """What is wrong with finite parameter values (empty if nothing)."""
    if dist == "beta" and "alpha" in p:
        return (
            []
            if np.all(p["alpha"] > 0) and np.all(p["beta"] > 0)
            else ["beta needs alpha > 0 and beta > 0"]
        )
    if dist == "beta":
        inside = np.all((0 < p["mu"]) & (p["mu"] < 1)) and np.all(
            (p["sigma"] > 0) & (p["sigma"] ** 2 < p["mu"] * (1 - p["mu"]))
        )
        return [] if inside else ["beta needs 0 < mu < 1 and 0 < sigma < sqrt(mu * (1 - mu))"]
    if dist in ("uniform", "triangular"):
        middle = p.get("mode", p["lower"])
        if not np.all((p["lower"] <= middle) & (middle <= p["upper"])):
            order = "lower <= mode <= upper" if dist == "triangular" else "lower <= upper"
            return [f"{dist} needs {order}"]
        return []
    problems = _positive(p, "sigma")
    if dist == "lognormal" and "median" in p:
        problems += _positive(p, "median")
    if dist == "truncnormal" and not np.all(p["lower"] < p["upper"]):
        problems.append("truncnormal needs lower < upper")
    return problems


def _number(value: object) -> float | tuple[float, ...] | None:
    """A parameter value as a float (or a tuple of floats); None if it is not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        items = [_number(v) for v in value]
        if all(isinstance(v, float) for v in items):
            return tuple(items)
    return None


def _expected(dist: str) -> str:
    return " or ".join(str(list(names)) for names in DISTRIBUTIONS[dist])


def check(dist: object, params: Mapping[str, object]) -> list[str]:
    """Every problem with a distribution name and its parameters (empty if valid).

    Messages name the distribution and the parameters; the caller adds where they come from.
    """
    if dist not in DISTRIBUTIONS:
        return [f"unknown distribution {dist!r} (known: {', '.join(DISTRIBUTIONS)})"]
    given = sorted(params)
    if not any(sorted(names) == given for names in DISTRIBUTIONS[dist]):
        return [f"{dist} takes parameters {_expected(dist)}, got {given}"]
    numbers = {k: _number(v) for k, v in params.items()}
    if any(v is None for v in numbers.values()):
        return [f"{dist} parameters must be numbers, got {dict(params)}"]
    arrays = {k: np.asarray(v, dtype=float) for k, v in numbers.items()}
    if not all(np.isfinite(v).all() for v in arrays.values()):
        return [f"{dist} parameters must be finite numbers, got {numbers}"]
    try:
        np.broadcast_shapes(*(v.shape for v in arrays.values()))
    except ValueError:
        return [f"{dist} parameters must have the same length, got {numbers}"]
    return [f"{message}, got {_show(numbers)}" for message in _constraints(dist, arrays)]


def _show(params: Mapping[str, object]) -> str:
    def one(value: object) -> str:
        if isinstance(value, tuple):
            return "[" + ", ".join(f"{v:g}" for v in value) + "]"
        return f"{value:g}"

    return ", ".join(f"{k}={one(v)}" for k, v in params.items())


@dataclass(frozen=True, init=False)
class Prior:
    """A distribution with named parameters.

    Parameters
    ----------
    dist : str
        One of :data:`DISTRIBUTIONS`.
    source : str, optional
        Where the numbers come from, or the reasoning behind them (not part of equality).
    **params : float or sequence of float
        One parameterisation of ``dist`` (:data:`DISTRIBUTIONS`); sequences make a vector of
        independent variables (see :meth:`stack`).

    Raises
    ------
    InputError
        For an unknown distribution, missing or unknown parameters, values that are not
        finite numbers, or values outside their domain (``sigma > 0``, ``lower <= upper``...).

    Examples
    --------
    >>> Prior("beta", alpha=2, beta=5).describe()
    'beta(alpha=2, beta=5)'
    """

    dist: str
    parameters: tuple[tuple[str, float | tuple[float, ...]], ...]
    source: str = field(default="", compare=False)

    def __init__(self, dist: str, /, *, source: str = "", **params: object) -> None:
        problems = check(dist, params)
        if problems:
            raise InputError(f"Prior({dist!r}): {'; '.join(problems)}")
        order = next(n for n in DISTRIBUTIONS[dist] if sorted(n) == sorted(params))
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "parameters", tuple((k, _number(params[k])) for k in order))
        object.__setattr__(self, "source", str(source))

    @classmethod
    def parse(cls, raw: Mapping, where: str) -> tuple[Prior | None, list[str]]:
        """A prior from its dict form ``{"dist": NAME, PARAM: VALUE, ...}``.

        Parameters
        ----------
        raw : Mapping
            As read from TOML.
        where : str
            Prefix of every message (file field, e.g. ``levers.leakage``).

        Returns
        -------
        (Prior or None, list of str)
            The prior (None if invalid) and every problem found.
        """
        params = {k: v for k, v in raw.items() if k != "dist"}
        problems = check(raw.get("dist"), params)
        if problems:
            return None, [f"{where}: {message}" for message in problems]
        return cls(raw["dist"], **params), []

    @classmethod
    def stack(cls, priors: Sequence[Prior]) -> Prior:
        """One prior over a vector: the parameters of ``priors`` (same parameterisation) side by
        side, e.g. normal effects of several interventions."""
        if not priors:
            return cls("normal", mu=(), sigma=())
        dist, names = priors[0].dist, priors[0].names
        if any(p.dist != dist or p.names != names for p in priors):
            raise InputError(f"Prior.stack needs one parameterisation, got {priors}")
        return cls(dist, **{k: tuple(float(p[k]) for p in priors) for k in names})

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in their parameterisation's order."""
        return tuple(k for k, _ in self.parameters)

    @property
    def params(self) -> dict[str, float | tuple[float, ...]]:
        """Parameter values by name."""
        return dict(self.parameters)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.parameters)
        return f"Prior({self.dist!r}{args})"

    def __getitem__(self, name: str) -> float | tuple[float, ...]:
        return self.params[name]

    def with_params(self, **changes: object) -> Prior:
        """The same distribution with some parameters changed (a full set may switch between
        parameterisations, e.g. a beta's ``mu, sigma`` for ``alpha, beta``)."""
        if any(sorted(changes) == sorted(n) for n in DISTRIBUTIONS.get(self.dist, ())):
            return Prior(self.dist, source=self.source, **changes)
        return Prior(self.dist, source=self.source, **{**self.params, **changes})

    def _array(self, name: str) -> np.ndarray | float:
        value = self.params[name]
        return np.asarray(value) if isinstance(value, tuple) else value

    def _canonical(self) -> dict:
        """The parameters PyMC and numpy take: ``mu``/``sigma`` of a lognormal, shapes of a
        beta."""
        p = {k: self._array(k) for k in self.names}
        if self.dist == "lognormal" and "median" in p:
            return {"mu": np.log(p["median"]), "sigma": p["sigma"]}
        if self.dist == "beta" and "mu" in p:
            mean, sd = p["mu"], p["sigma"]
            common = mean * (1.0 - mean) / sd**2 - 1.0
            return {"alpha": mean * common, "beta": (1.0 - mean) * common}
        return p

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None):
        """Numpy draws.

        Parameters
        ----------
        rng : numpy.random.Generator
        size : int or tuple of int, optional
            As numpy's ``size`` (None: one draw per element of the parameters).

        Returns
        -------
        float or numpy.ndarray
        """
        c = self._canonical()
        if self.dist == "normal":
            return rng.normal(c["mu"], c["sigma"], size)
        if self.dist == "lognormal":
            return rng.lognormal(c["mu"], c["sigma"], size)
        if self.dist == "beta":
            return rng.beta(c["alpha"], c["beta"], size)
        if self.dist == "halfnormal":
            return np.abs(rng.normal(0.0, c["sigma"], size))
        if self.dist == "uniform":
            return rng.uniform(c["lower"], c["upper"], size)
        if self.dist == "triangular":
            if np.all(c["lower"] == c["upper"]):  # a point (numpy refuses a zero-width one)
                return np.full(size if size is not None else np.shape(c["lower"]), c["lower"])
            return rng.triangular(c["lower"], c["mode"], c["upper"], size)
        from scipy import stats

        low, high = (c["lower"] - c["mu"]) / c["sigma"], (c["upper"] - c["mu"]) / c["sigma"]
        return stats.truncnorm(low, high, c["mu"], c["sigma"]).rvs(size, random_state=rng)

    def create_variable(self, name: str, *, dims: str | Sequence[str] | None = None, **kwargs):
        """A PyMC random variable of this distribution in the current model context.

        Parameters
        ----------
        name : str
        dims : str or sequence of str, optional
            Passed to PyMC (with any other keyword arguments).

        Returns
        -------
        pytensor.tensor.TensorVariable
        """
        import pymc as pm

        c = self._canonical()
        if self.dist == "triangular":
            c = {"lower": c["lower"], "c": c["mode"], "upper": c["upper"]}
        if dims is not None:
            kwargs["dims"] = dims
        return getattr(pm, _PYMC[self.dist])(name, **c, **kwargs)

    def support(self) -> tuple[float, float]:
        """The smallest and largest value a draw can take (infinite where unbounded)."""
        if self.dist in ("uniform", "triangular", "truncnormal"):
            return float(np.min(self["lower"])), float(np.max(self["upper"]))
        if self.dist == "beta":
            return 0.0, 1.0
        if self.dist in ("lognormal", "halfnormal"):
            return 0.0, math.inf
        return -math.inf, math.inf

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of a scalar prior (0 < q < 1)."""
        from statistics import NormalDist  # ~5 ms to import: only when asked

        standard = NormalDist()
        c = {k: float(v) for k, v in self._canonical().items()}
        if self.dist == "normal":
            return c["mu"] + c["sigma"] * standard.inv_cdf(q)
        if self.dist == "lognormal":
            log = c["mu"] + c["sigma"] * standard.inv_cdf(q)
            return math.exp(log) if log < 700 else math.inf
        if self.dist == "halfnormal":
            return c["sigma"] * standard.inv_cdf((1.0 + q) / 2.0)
        if self.dist == "uniform":
            return c["lower"] + q * (c["upper"] - c["lower"])
        if self.dist == "triangular":
            low, mode, high = c["lower"], c["mode"], c["upper"]
            if high == low:
                return low
            split = (mode - low) / (high - low)
            if q < split:
                return low + math.sqrt(q * (high - low) * (mode - low))
            return high - math.sqrt((1 - q) * (high - low) * (high - mode))
        if self.dist == "beta":
            from scipy import special

            return float(special.betaincinv(c["alpha"], c["beta"], q))
        from scipy import stats

        low, high = (c["lower"] - c["mu"]) / c["sigma"], (c["upper"] - c["mu"]) / c["sigma"]
        return float(stats.truncnorm(low, high, c["mu"], c["sigma"]).ppf(q))

    def describe(self) -> str:
        """Short text, e.g. ``beta(alpha=2, beta=5)``."""
        return f"{self.dist}({_show(self.params)})"

    def to_dict(self) -> dict:
        """The dict (TOML) form: ``{"dist": "beta", "alpha": 2.0, "beta": 5.0}``."""
        return {"dist": self.dist, **{k: list(v) if isinstance(v, tuple) else v
                                      for k, v in self.parameters}}  # fmt: skip
