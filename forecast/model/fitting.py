"""HOW the model is fit: the model object, samplers, the diagnostic gate, the cache and the
:class:`Fit` object.

:class:`StockFlowModel` is the model as an object: its configuration (the defaults merged with
the user's), ``build`` (the PyMC model), ``fit`` (sample, or load the cached fit) and
``save``/``load`` (one self-checking NetCDF file carrying the configuration hash, the package
version, the sampler settings and the data fingerprint; the fit cache's entries are such
files). :func:`fit` is a thin call of it.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast import bounds
from forecast._version import __version__
from forecast.core import HISTORY, ProjectionInputs
from forecast.data import Dataset
from forecast.errors import FitError, InputError, OutputError
from forecast.model import cache
from forecast.model.config import ModelConfig, model_config
from forecast.model.observations import Design, build_design
from forecast.quantiles import BAND, MEDIAN, QUANTILES, quantile_column

if TYPE_CHECKING:
    import pymc as pm
    from arviz import InferenceData

#: Samplers that can run the model; ``fit(sampler=...)`` takes one of these names.
SAMPLERS = ("pymc", "nutpie", "numpyro")
#: The sampler used unless asked otherwise (fastest that passes the gate across seeds:
#: see benchmarks/bench_fit.py and the README).
DEFAULT_SAMPLER = "numpyro"
#: The diagnostic gate a fit must pass.
MAX_R_HAT = 1.01
MIN_ESS_BULK = 400
MAX_DIVERGENCES = 0
#: Target acceptance of the second run of a fit that had divergent transitions.
RETRY_TARGET_ACCEPT = 0.98
#: (country, channel, stock variable, flow variable) of the tidy stock/flow table.
CHANNELS = (
    ("US", "total", "us_h100e", "us_add"),
    ("CN", "licensed", "cn_licensed_h100e", "cn_add_licensed"),
    ("CN", "leakage", "cn_leakage_h100e", "cn_add_leakage"),
    ("CN", "domestic", "cn_domestic_h100e", "cn_add_domestic"),
)


class FitWarning(UserWarning):
    """A fit missed the diagnostic gate (divergences, R-hat or ESS)."""


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings (part of the cache key)."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 0
    sampler: str = DEFAULT_SAMPLER
    target_accept: float = 0.95

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise InputError(f"unknown sampler {self.sampler!r}; choose one of {SAMPLERS}")
        for bound in (bounds.FIT_DRAWS, bounds.TUNE, bounds.CHAINS, bounds.SEED):
            bound.check(getattr(self, bound.name))
        if isinstance(self.target_accept, bool) or not (
            isinstance(self.target_accept, int | float) and 0 < self.target_accept < 1
        ):
            raise InputError(f"target_accept must lie in (0, 1), got {self.target_accept!r}")


#: Posterior scalars of the forward dynamics, by name in :data:`forecast.core.DYNAMICS`.
_POSTERIOR_DYNAMICS = {
    "retirement": "retirement",
    "us_capex_slope_sd": "us_capex_slope_sd",
    "us_capex_level_sd": "us_capex_level_sd",
    "price_decline": "price_decline",
    "cn_demand_growth": "cn_demand_growth",
    "cn_demand_sd": "cn_demand_sd",
    "domestic_growth_sd": "domestic_growth_sd",
}


def _quantile_frame(draws: np.ndarray, index: dict) -> pd.DataFrame:
    """``index`` columns plus mean and quantiles over axis 0 of ``draws``."""
    qs = np.quantile(draws, QUANTILES, axis=0)
    return pd.DataFrame(
        {
            **index,
            "mean": draws.mean(axis=0),
            **{quantile_column(q): qs[i] for i, q in enumerate(QUANTILES)},
        }
    )


@dataclass
class Fit:
    """A fitted model.

    Attributes
    ----------
    idata : arviz.InferenceData
        Posterior (free variables and the stored quantities) and sample stats.
    design : Design
        The measurement design the model was built from.
    config : ModelConfig
    settings : dict
        Sampler settings (:class:`FitSettings` as a dict).
    cache_path : pathlib.Path or None
        Where the posterior is cached (or the file it was loaded from).
    from_cache : bool
        True when the posterior was loaded rather than sampled.
    seconds : float
        Wall time of this call (sampling incl. compilation, or loading).
    data_fingerprint : str or None
        :attr:`Dataset.fingerprint` of the data fitted (None when not known).
    """

    idata: InferenceData
    design: Design
    config: ModelConfig
    settings: dict
    cache_path: Path | None = None
    from_cache: bool = False
    seconds: float = 0.0
    _diagnostics: pd.DataFrame | None = field(default=None, repr=False)
    data_fingerprint: str | None = None

    @property
    def free_variables(self) -> list[str]:
        """Names of the sampled (free) variables."""
        return [
            str(v) for v in self.idata.posterior.attrs.get("free_variables", "").split(",") if v
        ]

    @property
    def divergences(self) -> int:
        """Number of divergent transitions after tuning."""
        return int(self.idata.sample_stats["diverging"].sum())

    def diagnostics(self) -> pd.DataFrame:
        """Convergence diagnostics per free parameter element.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter, r_hat, ess_bulk, ess_tail``; ``attrs["divergences"]`` holds
            the number of divergent transitions.
        """
        if self._diagnostics is None:
            import arviz as az

            table = az.summary(self.idata, var_names=self.free_variables, kind="diagnostics")
            table = table.rename_axis("parameter").reset_index()
            self._diagnostics = table[["parameter", "r_hat", "ess_bulk", "ess_tail"]]
        table = self._diagnostics.copy()
        table.attrs["divergences"] = self.divergences
        return table

    def failures(self) -> list[str]:
        """What misses the gate: divergences and the parameters with bad R-hat or ESS."""
        table = self.diagnostics()
        bad = table[(table["r_hat"] > MAX_R_HAT) | (table["ess_bulk"] < MIN_ESS_BULK)]
        found = [
            f"{r.parameter} (r_hat {r.r_hat:.3f}, ess_bulk {r.ess_bulk:.0f})"
            for r in bad.itertuples()
        ]
        if self.divergences > MAX_DIVERGENCES:
            found.insert(0, f"{self.divergences} divergent transitions")
        return found

    @property
    def passed(self) -> bool:
        """True when the fit passes the diagnostic gate."""
        return not self.failures()

    def summary(self) -> pd.DataFrame:
        """ArviZ summary (mean, sd, HDI, diagnostics) of the free scalar parameters."""
        import arviz as az

        scalars = [v for v in self.free_variables if self.idata.posterior[v].ndim == 2]
        return az.summary(self.idata, var_names=scalars)

    def posterior_draws(self, name: str) -> np.ndarray:
        """Posterior draws of ``name`` with chains stacked: (draw, ...)."""
        values = self.idata.posterior[name].values
        return values.reshape(-1, *values.shape[2:])

    def stocks_flows(self) -> pd.DataFrame:
        """Posterior of the latent stocks and flows by country, channel and year.

        Returns
        -------
        pandas.DataFrame
            ``country, channel, measure ("stock"/"flow"), year, mean, q05, q25, q50, q75,
            q95`` in H100e (China's ``total`` is the sum of its three channels).
        """
        rows = [(c, ch, m, self.posterior_draws(name)) for c, ch, *names in CHANNELS
                for m, name in zip(("stock", "flow"), names)]  # fmt: skip
        for measure in ("stock", "flow"):
            china = sum(d for c, _, m, d in rows if c == "CN" and m == measure)
            rows.append(("CN", "total", measure, china))
        frames = [
            _quantile_frame(draws, {"country": c, "channel": ch, "measure": m,
                                    "year": self.design.years})
            for c, ch, m, draws in rows
        ]  # fmt: skip
        return pd.concat(frames, ignore_index=True)

    def observation_check(self) -> pd.DataFrame:
        """Each observation next to the posterior of what the model says it should be.

        Returns
        -------
        pandas.DataFrame
            The design's observations (natural scale) with the posterior mean and 5-95 %
            quantiles of the measured quantity (without observation noise).
        """
        predicted = self.posterior_draws("obs_mean")
        predicted = np.where(self.design.obs.log, np.exp(predicted), predicted)
        frame = self.design.obs.frame()
        qs = np.quantile(predicted, [BAND[0], MEDIAN, BAND[1]], axis=0)
        return frame.assign(model_q05=qs[0], model_q50=qs[1], model_q95=qs[2])

    def projection_inputs(self, n_draws: int | None = None, seed: int = 0) -> ProjectionInputs:
        """Posterior draws for the forward model (see :class:`ProjectionInputs`).

        Parameters
        ----------
        n_draws : int, optional
            Number of draws (default: all); chosen at random with ``seed``, without
            replacement when possible.
        seed : int
            Chooses the draws and draws the world's priors (:func:`draw_world`).
        """
        from forecast.model.stockflow import domestic_push, draw_world

        total = self.posterior_draws("us_h100e").shape[0]
        pick_seed, world_seed = np.random.SeedSequence(seed).spawn(2)
        pick = np.arange(total)
        if n_draws is not None:
            rng = np.random.default_rng(pick_seed)
            pick = rng.choice(total, size=int(n_draws), replace=int(n_draws) > total)
        hist = {name: self.posterior_draws(name)[pick] for name in HISTORY}
        dynamics = {k: self.posterior_draws(v)[pick] for k, v in _POSTERIOR_DYNAMICS.items()}
        dynamics["us_capex_slope"] = self.posterior_draws("us_capex_slope")[pick, -1]
        dynamics["domestic_price_factor"] = np.exp(
            self.posterior_draws("domestic_price_ratio")[pick]
        )
        effects = self._effects(pick)
        hist["domestic_push_log"], dynamics["domestic_push_growth"] = domestic_push(
            effects, self.design
        )
        base_growth = self.posterior_draws("domestic_growth")[pick]
        dynamics["domestic_growth"] = base_growth + dynamics["domestic_push_growth"]
        rng = np.random.default_rng(world_seed)
        dynamics.update(draw_world(self.config, self.design.anchors, len(pick), rng))
        return ProjectionInputs(
            self.design.years.copy(), self.design.n_full, hist, dynamics,
            dict(self.design.anchors), dict(self.design.wafer_plan),
        )  # fmt: skip

    def _effects(self, pick: np.ndarray) -> np.ndarray:
        """Intervention effects of the chosen draws, (draw, intervention)."""
        if not self.design.interventions:
            return np.zeros((len(pick), 0))
        return self.posterior_draws("effects")[pick]


def _configure_jax(directory: Path) -> None:
    """Single-threaded XLA (faster and steadier on few cores) and a persistent compile cache."""
    if "jax" not in sys.modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (
                f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            ).strip()
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def sample_model(model: pm.Model, settings: FitSettings, directory: Path | None = None):
    """Run the chosen NUTS sampler on ``model``.

    Parameters
    ----------
    model : pymc.Model
    settings : FitSettings
    directory : pathlib.Path, optional
        Cache directory (JAX's compilation cache goes under ``jax/``); default
        :func:`forecast.model.cache.cache_dir`.

    Returns
    -------
    arviz.InferenceData
        With posterior and sample_stats.
    """
    import pymc as pm

    seed = int(np.random.SeedSequence(settings.seed).generate_state(1)[0])
    kwargs = {}
    if settings.sampler == "numpyro":
        _configure_jax(directory or cache.cache_dir())
        kwargs["nuts_sampler_kwargs"] = {"chain_method": "parallel"}
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*BLAS.*")
        return pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=min(settings.chains, os.cpu_count() or 1),
            target_accept=settings.target_accept,
            random_seed=seed,
            nuts_sampler=settings.sampler,
            progressbar=False,
            compute_convergence_checks=False,
            **kwargs,
        )


def _slim(idata: InferenceData, model: pm.Model) -> InferenceData:
    """Keep only what the Fit needs (posterior, sample_stats), tagged with the free variables."""
    import arviz as az

    slim = az.InferenceData(posterior=idata.posterior, sample_stats=idata.sample_stats)
    slim.posterior.attrs["free_variables"] = ",".join(v.name for v in model.free_RVs)
    return slim


#: Attributes a saved fit carries besides the cache key, its groups and its checksum.
CONFIG_ATTR = "compute_gap_config_key"
VERSION_ATTR = "compute_gap_version"
SETTINGS_ATTR = "compute_gap_settings"
DATA_ATTR = "compute_gap_data"


def _check_dataset(dataset: object) -> None:
    if not isinstance(dataset, Dataset):
        raise InputError(f"fit needs a Dataset (see load_dataset), got {type(dataset).__name__}")


def _fit_settings(settings: FitSettings | dict | None) -> FitSettings:
    """``settings``, or the defaults with a dict of changes merged in."""
    if isinstance(settings, FitSettings):
        return settings
    if settings is not None and not isinstance(settings, dict):
        raise InputError(f"settings must be a FitSettings or a dict, got {settings!r:.60}")
    known = [f.name for f in fields(FitSettings)]
    unknown = sorted(repr(k) for k in (settings or {}) if k not in known)
    if unknown:
        raise InputError(f"settings: unknown field(s) {', '.join(unknown)}; valid: {known}")
    return FitSettings(**(settings or {}))


def _minor(version: str) -> str:
    """``major.minor`` of a version string."""
    return ".".join(str(version).split(".")[:2])


class StockFlowModel:
    """The Bayesian stock-flow model as an object: configuration, build, fit, save, load.

    Parameters
    ----------
    config : ModelConfig or dict, optional
        A configuration, or overrides merged into the default (:func:`model_config`).
    settings : FitSettings or dict, optional
        Sampler settings, or changes merged into the default :class:`FitSettings`.

    Attributes
    ----------
    config : ModelConfig
        The default configuration merged with the user's.
    settings : FitSettings

    Examples
    --------
    >>> model = StockFlowModel({"priors": {"retirement": {"mu": 0.25}}}, {"seed": 3})
    >>> result = model.fit(load_dataset())                     # doctest: +SKIP
    >>> model.save(result, "fit.nc")                           # doctest: +SKIP
    >>> model.load("fit.nc", load_dataset()).idata             # doctest: +SKIP
    """

    def __init__(
        self, config: ModelConfig | dict | None = None, settings: FitSettings | dict | None = None
    ) -> None:
        self.config = config if isinstance(config, ModelConfig) else model_config(config)
        self.settings = _fit_settings(settings)

    def __repr__(self) -> str:
        return f"StockFlowModel(config {self.config_key[:12]}, {self.settings})"

    @property
    def config_key(self) -> str:
        """The configuration hash (:meth:`ModelConfig.key`), as in the cache key."""
        return self.config.key()

    def design(self, dataset: Dataset) -> Design:
        """The measurement design of ``dataset`` under this configuration."""
        _check_dataset(dataset)
        return build_design(dataset, self.config)

    def build(self, dataset: Dataset) -> pm.Model:
        """The PyMC model of ``dataset`` (:func:`forecast.model.stockflow.build_model`)."""
        from forecast.model.stockflow import build_model

        return build_model(self.design(dataset), self.config)

    def fit(
        self,
        dataset: Dataset,
        *,
        refit: bool = False,
        cache_dir: str | os.PathLike | None = None,
        retry: bool = True,
    ) -> Fit:
        """Fit the model to ``dataset`` with :attr:`settings`, or load the cached fit.

        Parameters and gate as :func:`fit` (``refit``, ``cache_dir``, ``retry``); the cache
        entry is the file :meth:`save` writes, under the same key as always.
        """
        return self._fit(dataset, refit, cache_dir, retry, stacklevel=3)

    def _fit(self, dataset, refit, cache_dir, retry, stacklevel: int) -> Fit:
        """:meth:`fit`; warnings point ``stacklevel`` frames up."""
        from forecast.model.stockflow import build_model

        design = self.design(dataset)
        directory = cache.cache_dir(cache_dir)
        cache.prepare(directory)  # a bad --cache-dir fails now, not after sampling
        settings = asdict(self.settings)
        key = cache.cache_key(dataset.fingerprint, self.config.key(), settings)
        path = cache.cache_path(key, directory)
        start = time.perf_counter()
        idata = None if refit else cache.load(key, path)
        loaded = idata is not None
        if not loaded:
            model = build_model(design, self.config)
            idata = _slim(sample_model(model, self.settings, directory), model)
        result = Fit(idata, design, self.config, settings, path, loaded,
                     data_fingerprint=dataset.fingerprint)  # fmt: skip
        if not loaded:
            self.save(result, path)  # the cache entry: key equal to ``key``
        result.seconds = time.perf_counter() - start
        if retry and result.divergences and self.settings.target_accept < RETRY_TARGET_ACCEPT:
            warnings.warn(
                f"{result.divergences} divergent transitions at target_accept "
                f"{self.settings.target_accept}: sampling again at {RETRY_TARGET_ACCEPT}",
                FitWarning,
                stacklevel=stacklevel,
            )
            again = replace(self.settings, target_accept=RETRY_TARGET_ACCEPT)
            return StockFlowModel(self.config, again)._fit(
                dataset, refit, cache_dir, False, stacklevel + 1
            )
        if not result.passed:
            warnings.warn(
                "fit misses the diagnostic gate (0 divergences, r_hat <= 1.01, ess_bulk >= 400): "
                + "; ".join(result.failures()[:10]),
                FitWarning,
                stacklevel=stacklevel,
            )
        return result

    def save(self, fit: Fit, path: str | os.PathLike) -> Path:
        """Write ``fit`` to ``path`` as one self-checking NetCDF file (the cache's format).

        The file carries the fit's configuration hash, the package version, the sampler
        settings and the data fingerprint, and the cache key of those (so a saved fit
        copied into the cache is found there).

        Raises
        ------
        UsageError
            If ``fit`` is not a :class:`Fit` or ``path`` not a path.
        OutputError
            If the file cannot be written.
        """
        if not isinstance(fit, Fit):
            raise InputError(f"save needs a Fit, got {type(fit).__name__}")
        if not isinstance(path, str | os.PathLike):
            raise InputError(f"path must be a file path, got {path!r:.60}")
        fingerprint = fit.data_fingerprint or ""
        key = cache.cache_key(fingerprint, fit.config.key(), fit.settings)
        attrs = _file_attrs(fit.config, fit.settings, fingerprint)
        try:
            return cache.save(fit.idata, key, Path(path), attrs)
        except OSError as err:
            raise OutputError(f"{path}: cannot be written ({err.strerror or err})") from None

    def load(self, path: str | os.PathLike, dataset: Dataset, *, strict: bool = True) -> Fit:
        """The fit saved at ``path`` (by :meth:`save`, or a cache entry), for ``dataset``.

        Parameters
        ----------
        path : path
        dataset : Dataset
            The data fitted (its design is rebuilt under this model's configuration).
        strict : bool
            Refuse a file whose configuration hash differs from this model's, whose package
            version differs in major.minor, or whose data fingerprint differs from
            ``dataset``'s; False loads it anyway.

        Returns
        -------
        Fit
            With the stored posterior and settings, ``from_cache`` True and ``cache_path``
            the file.

        Raises
        ------
        UsageError
            If ``path`` is not an existing file or ``dataset`` not a Dataset.
        FitError
            If the file is unreadable, damaged or incomplete, or (``strict``) was saved
            with another configuration, package version or data; the message names the
            file and what differs.
        """
        _check_dataset(dataset)
        if not isinstance(path, str | os.PathLike) or not Path(path).is_file():
            raise InputError(f"path must be a saved fit's file, got {path!r:.80} (no such file)")
        path = Path(path)
        start = time.perf_counter()
        idata, attrs = cache.read(path)
        differences = []
        stored = str(attrs.get(CONFIG_ATTR, ""))
        if stored != self.config.key():
            differences.append(
                f"configuration hash {stored[:12] or 'missing'} (this model's: "
                f"{self.config.key()[:12]})"
            )
        version = str(attrs.get(VERSION_ATTR, ""))
        if _minor(version) != _minor(__version__):
            differences.append(f"package version {version or 'missing'} (this: {__version__})")
        data = str(attrs.get(DATA_ATTR, ""))
        if data != dataset.fingerprint:
            differences.append(
                f"data fingerprint {data[:12] or 'missing'} (this dataset's: "
                f"{dataset.fingerprint[:12]})"
            )
        if differences and strict:
            raise FitError(
                f"{path}: saved with another {'; another '.join(differences)}; "
                "pass strict=False to load it anyway"
            )
        try:
            settings = json.loads(str(attrs.get(SETTINGS_ATTR, "{}")))
        except json.JSONDecodeError as err:
            raise FitError(f"{path}: attribute {SETTINGS_ATTR} is not JSON ({err})") from None
        return Fit(idata, self.design(dataset), self.config, settings, path, True,
                   time.perf_counter() - start, data_fingerprint=data or None)  # fmt: skip


def _file_attrs(config: ModelConfig, settings: dict, fingerprint: str) -> dict:
    """The attributes of a saved fit (see :meth:`StockFlowModel.save`)."""
    return {
        CONFIG_ATTR: config.key(),
        VERSION_ATTR: __version__,
        SETTINGS_ATTR: json.dumps(settings, sort_keys=True),
        DATA_ATTR: fingerprint,
    }


def fit(
    dataset: Dataset,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    refit: bool = False,
    cache_dir: str | os.PathLike | None = None,
    config: ModelConfig | dict | None = None,
    target_accept: float = 0.95,
    retry: bool = True,
) -> Fit:
    """Fit the Bayesian stock-flow model to ``dataset`` (or load the cached fit).

    Parameters
    ----------
    dataset : Dataset
    draws, tune, chains : int
        NUTS draws kept and tuning steps per chain, and the number of chains.
    seed : int
        The one seed; the sampler's seed is derived from it.
    sampler : {"numpyro", "nutpie", "pymc"}
    refit : bool
        Sample even if a cached fit exists (and overwrite it).
    cache_dir : path, optional
        Default: ``$COMPUTE_GAP_CACHE`` or the user cache directory.
    config : ModelConfig or dict, optional
        A configuration, or overrides merged into the default (:func:`model_config`).
    target_accept : float
        NUTS target acceptance rate.
    retry : bool
        A fit with divergent transitions is run again (once, cached likewise) with
        ``target_accept`` :data:`RETRY_TARGET_ACCEPT` (smaller steps), the usual remedy;
        the returned fit's ``settings`` say which ran.

    Returns
    -------
    Fit
        Warns with :class:`FitWarning` (naming the offending parameters) if the fit misses
        the gate: any divergence, R-hat > 1.01 or bulk ESS < 400.
    """
    _check_dataset(dataset)
    settings = dict(draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler,
                    target_accept=target_accept)  # fmt: skip
    model = StockFlowModel(config, settings)
    return model._fit(dataset, refit, cache_dir, retry, stacklevel=3)


def check_fit_options(options: object) -> dict:
    """``options`` as keyword arguments of :func:`fit` other than the dataset and seed (None
    gives none); a :class:`forecast.UsageError` for anything else, before any work.

    Their values are checked by :func:`fit` itself, before it samples.
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InputError(
            f"fit_options must be a dict of forecast.fit's options, got {options!r:.60}"
        )
    valid = sorted(set(inspect.signature(fit).parameters) - {"dataset", "seed"})
    unknown = sorted(repr(key) for key in options if key not in valid)
    if unknown:
        raise InputError(f"fit_options: unknown option(s) {', '.join(unknown)}; valid: {valid}")
    return dict(options)
