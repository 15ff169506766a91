"""``forecast.project``: scenarios x posterior draws -> a :class:`Projection` of gap metrics."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast import bounds
from forecast.core import ProjectionInputs, World
from forecast.engine import DEFAULT_CHUNK, check_starts, project_chunk
from forecast.errors import InputError, ScenarioError, UsageError
from forecast.evaluation import Evaluator, InProcessEvaluator, Posterior, prepare
from forecast.io import write_atomic
from forecast.metrics import BINDING, FLAGS, METRICS, UNITS, binding_shares
from forecast.quantiles import QUANTILES, quantile_column
from forecast.scenarios import Scenario, list_scenarios, load_scenario

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

#: Storage types of ``value`` in ``draws.parquet``.
DRAWS_DTYPES = ("float64", "float32")
#: What :meth:`Projection.plot` draws besides a metric's fan chart.
PLOTS = ("stocks", "cn_additions", "what_binds", "attribution")


@dataclass(frozen=True)
class Projection:
    """Gap metrics for every scenario, posterior draw and year.

    Attributes
    ----------
    scenarios : list of Scenario
    years : numpy.ndarray
        History (identical across scenarios before each start year) then projection.
    values : dict of str to numpy.ndarray
        Metric name -> array of shape (scenario, draw, year).
    seed : int
    horizon : int
    meta : dict
        ``first_limited_year``: the first year the physical limits apply.
    world : forecast.core.World, optional
        The model's world the scenarios were projected on (for :func:`forecast.attribute`).
    """

    scenarios: list[Scenario]
    years: np.ndarray
    values: dict[str, np.ndarray]
    seed: int
    horizon: int
    meta: dict = field(default_factory=dict)
    world: World | None = field(default=None, repr=False, compare=False)

    @property
    def names(self) -> list[str]:
        """Scenario names, in order."""
        return [s.name for s in self.scenarios]

    @property
    def n_draws(self) -> int:
        """Number of posterior draws."""
        return self.values["us_h100e"].shape[1]

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise ScenarioError(f"scenario {name!r} is not in this projection: {self.names}")
        return self.names.index(name)

    def summary(self, quantiles: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """Tidy summary: ``scenario, year, metric, mean, q05, q25, q50, q75, q95``.

        Binding limits appear as ``binding_<flow>_<limit>`` rows whose ``mean`` is the share
        of draws in which that limit binds, and ``years_behind_censored`` as the share of
        draws whose lag is censored (quantile columns empty: a share has none). The
        ``years_behind`` statistics are over the uncensored draws.
        """
        quantiles = bounds.check_levels(quantiles, "quantiles")
        frames = []
        index = {
            "scenario": np.repeat(self.names, len(self.years)),
            "year": np.tile(self.years, len(self.names)),
        }
        for metric in METRICS:
            values = self.uncensored(metric)
            with warnings.catch_warnings():  # a year where every draw is censored: NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                qs = np.nanquantile(values, quantiles, axis=1)  # (q, scenario, year)
                mean = np.nanmean(values, axis=1)
            frames.append(pd.DataFrame({
                **index, "metric": metric, "mean": mean.ravel(),
                **{quantile_column(q): qs[i].ravel() for i, q in enumerate(quantiles)},
            }))  # fmt: skip
        for flag in FLAGS:
            frames.append(pd.DataFrame({
                **index, "metric": flag, "mean": self.values[flag].mean(axis=1).ravel(),
                **{quantile_column(q): np.nan for q in quantiles},
            }))  # fmt: skip
        for name, limits in BINDING.items():
            for limit, share in binding_shares(self.values[name], limits).items():
                frames.append(pd.DataFrame({
                    **index, "metric": f"{name}_{limit}", "mean": share.ravel(),
                    **{quantile_column(q): np.nan for q in quantiles},
                }))  # fmt: skip
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["scenario", "metric", "year"], ignore_index=True)

    def uncensored(self, metric: str) -> np.ndarray:
        """A metric's values, with ``years_behind`` NaN where it is censored (a bound)."""
        values = self.values[metric]
        if metric == "years_behind":
            return np.where(self.values["years_behind_censored"] > 0, np.nan, values)
        return values

    @property
    def draws(self) -> pd.DataFrame:
        """Long table of every value: ``scenario, draw, year, metric, value``."""
        n_s, n_d, n_t = self.values["us_h100e"].shape
        frames = [
            pd.DataFrame(
                {
                    "scenario": np.repeat(self.names, n_d * n_t),
                    "draw": np.tile(np.repeat(np.arange(n_d), n_t), n_s),
                    "year": np.tile(self.years, n_s * n_d),
                    "metric": metric,
                    "value": self.values[metric].ravel(),
                }
            )
            for metric in (*METRICS, *BINDING, *FLAGS)
        ]
        return pd.concat(frames, ignore_index=True)

    def compare(
        self,
        a: str,
        b: str,
        metric: str | None = None,
        year: int | None = None,
        quantiles: Sequence[float] = QUANTILES,
    ) -> pd.DataFrame:
        """Paired-draw differences ``a - b`` with intervals.

        Returns
        -------
        pandas.DataFrame
            ``scenario_a, scenario_b, year, metric, mean, q05..q95, p_positive`` (the posterior
            probability that ``a`` exceeds ``b``).
        """
        quantiles = bounds.check_levels(quantiles, "quantiles")
        metrics = [metric] if metric else list(METRICS)
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ScenarioError(f"unknown metric {unknown[0]!r}; known: {', '.join(METRICS)}")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int | np.integer)):
            raise ScenarioError(f"year must be a whole number, got {year!r}")
        years = self.years if year is None else np.array([year])
        if year is not None and year not in self.years:
            raise ScenarioError(f"year {year} is outside {self.years[0]}..{self.years[-1]}")
        cols = np.searchsorted(self.years, years)
        ia, ib = self._index(a), self._index(b)
        rows = []
        for m in metrics:
            diff = self.values[m][ia][:, cols] - self.values[m][ib][:, cols]  # (draw, year)
            qs = np.quantile(diff, quantiles, axis=0)
            rows.append(
                pd.DataFrame(
                    {
                        "scenario_a": a,
                        "scenario_b": b,
                        "year": years,
                        "metric": m,
                        "mean": diff.mean(axis=0),
                        **{quantile_column(q): qs[i] for i, q in enumerate(quantiles)},
                        "p_positive": (diff > 0).mean(axis=0),
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)

    def _repr_html_(self) -> str:
        """The report's headline table (median and 90 % interval), for notebooks."""
        from forecast.report.content import headline  # matplotlib loads only here
        from forecast.report.render import table_html

        note = (
            f"<p>Projection: {len(self.names)} scenarios, {self.n_draws} draws, "
            f"{int(self.years[0])}–{self.horizon}, seed {self.seed}</p>"
        )
        return note + table_html(headline(self))

    def plot(self, metric: str, scenarios: Sequence[str] | None = None) -> Figure:
        """One of the report's figures of this projection, as a matplotlib Figure.

        Parameters
        ----------
        metric : str
            A metric of :data:`forecast.metrics.METRICS` (a fan chart), or one of
            :data:`PLOTS` (``stocks``, ``cn_additions``, ``what_binds``, ``attribution``).
        scenarios : sequence of str, optional
            Scenario names to draw (default: all; ``attribution`` draws all but the base).

        Returns
        -------
        matplotlib.figure.Figure
            Drawn on an Agg canvas; pyplot's state is untouched (display it in a notebook by
            making it the cell's value).

        Raises
        ------
        ScenarioError
            For an unknown metric or scenario.
        """
        from forecast.report import figures  # matplotlib loads only here

        if not isinstance(metric, str):
            raise UsageError(f"metric must be a metric or plot name, got {metric!r:.60}")
        scenarios = None if scenarios is None else _scenario_names(scenarios)

        limited = self.meta.get("first_limited_year")
        cutoff = limited - 1 if limited is not None else None
        if metric in figures.METRIC_INFO:
            return figures.plot_fan(self, metric, scenarios, cutoff=cutoff).figure
        if metric == "stocks":
            return figures.plot_stocks(self, None, scenarios, cutoff=cutoff).figure
        if metric == "cn_additions":
            return figures.plot_additions(self, scenarios)
        if metric == "what_binds":
            return figures.plot_binding(self, scenarios)
        if metric == "attribution":
            chosen = self if scenarios is None else self.subset(["status_quo", *scenarios])
            return figures.plot_attribution(chosen)
        known = ", ".join([*figures.METRIC_INFO, *PLOTS])
        raise ScenarioError(f"cannot plot {metric!r}; known: {known}")

    def subset(self, scenarios: Sequence[str]) -> Projection:
        """The same projection with only ``scenarios`` (in that order; repeats dropped)."""
        names = list(dict.fromkeys(_scenario_names(scenarios)))
        rows = [self._index(name) for name in names]
        values = {m: v[rows] for m, v in self.values.items()}
        chosen = [self.scenarios[i] for i in rows]
        return replace(self, scenarios=chosen, values=values)

    def to_xarray(self) -> xr.Dataset:
        """Every value as an :class:`xarray.Dataset` over ``(scenario, draw, year)``.

        Metrics and flags are float variables with a ``unit`` attribute; the binding limits
        (``binding_us``...) are codes whose ``limits`` attribute names each code (0, 1, ...).
        The seed, horizon and scenario descriptions are attributes.
        """
        import xarray as xr

        coords = {"scenario": self.names, "draw": np.arange(self.n_draws), "year": self.years}
        dims = ("scenario", "draw", "year")
        variables = {}
        for name, array in self.values.items():
            attrs = {"unit": UNITS[name]} if name in UNITS else {}
            if name in BINDING:
                attrs = {"limits": list(BINDING[name])}
            variables[name] = xr.Variable(dims, array, attrs)
        attrs = {"seed": self.seed, "horizon": self.horizon, **self.meta}
        dataset = xr.Dataset(variables, coords=coords, attrs=attrs)
        dataset["description"] = ("scenario", [s.description for s in self.scenarios])
        return dataset

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`summary` as CSV, atomically."""
        return write_atomic(path, lambda tmp: self.summary().to_csv(tmp, index=False))

    def to_parquet(self, path: str | Path, dtype: str = "float64") -> Path:
        """Write :attr:`draws` as Parquet, atomically, streamed: one row group per metric,
        so memory holds one metric's rows rather than the whole long table.

        Parameters
        ----------
        path : str or Path
        dtype : {"float64", "float32"}
            Storage type of ``value``; float32 halves the values and keeps about 7
            significant digits (the binding codes and flags are small whole numbers, exact
            either way).
        """
        check_draws_dtype(dtype)
        import pyarrow as pa
        import pyarrow.parquet as pq

        n_s, n_d, n_t = self.values["us_h100e"].shape
        schema = pa.schema([("scenario", pa.string()), ("draw", pa.int64()),
                            ("year", pa.int64()), ("metric", pa.string()),
                            ("value", pa.from_numpy_dtype(np.dtype(dtype)))])  # fmt: skip
        scenario = pa.array(np.repeat(np.array(self.names, dtype=object), n_d * n_t))
        draw = pa.array(np.tile(np.repeat(np.arange(n_d, dtype=np.int64), n_t), n_s))
        year = pa.array(np.tile(np.asarray(self.years, dtype=np.int64), n_s * n_d))

        def write(tmp: Path) -> None:
            with pq.ParquetWriter(tmp, schema) as writer:
                for metric in (*METRICS, *BINDING, *FLAGS):
                    value = pa.array(self.values[metric].astype(dtype, copy=False).ravel())
                    name = pa.array(np.full(n_s * n_d * n_t, metric, dtype=object))
                    columns = [scenario, draw, year, name, value]
                    writer.write_table(pa.Table.from_arrays(columns, schema=schema))

        return write_atomic(path, write)


def _scenario_names(scenarios: object) -> list[str]:
    """Scenario names given as one name or a sequence of names; a UsageError otherwise."""
    if isinstance(scenarios, str):
        return [scenarios]
    if isinstance(scenarios, Iterable) and not isinstance(scenarios, bytes | dict):
        names = list(scenarios)
        if all(isinstance(name, str) for name in names):
            return names
    raise UsageError(f"scenarios must be scenario names, got {scenarios!r:.60}")


def check_draws_dtype(dtype: object) -> str:
    """``dtype`` if it is one of :data:`DRAWS_DTYPES`, else raise :class:`InputError`."""
    if not isinstance(dtype, str) or dtype not in DRAWS_DTYPES:
        known = ", ".join(DRAWS_DTYPES)
        raise InputError(f"draws dtype must be one of {known}, got {dtype!r}")
    return dtype


def resolve_scenarios(scenarios: Iterable[Scenario | str | Path] | None) -> list[Scenario]:
    """Load every scenario given by name or path (default: the library); names must differ.

    One name, path or Scenario counts as a list of one.

    Raises
    ------
    ScenarioError
        For an invalid scenario or a repeated name.
    InputError
        For more scenarios than :data:`forecast.bounds.SCENARIOS` allows, or none.
    """
    if scenarios is None:
        return list_scenarios()
    if isinstance(scenarios, str | Path | Scenario):
        scenarios = [scenarios]
    try:
        items = list(scenarios)
    except TypeError:
        raise ScenarioError(
            f"scenarios must be names, paths or Scenarios, got {type(scenarios).__name__}"
        ) from None
    resolved = [s if isinstance(s, Scenario) else load_scenario(s) for s in items]
    bounds.SCENARIOS.check(len(resolved), "number of scenarios")
    names = [s.name for s in resolved]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"scenario names must be unique; repeated: {', '.join(dupes)}")
    return resolved


def _check_size(n_scenarios: int, world: World) -> None:
    """Refuse a projection larger than :data:`forecast.bounds.PROJECTION_CELLS`."""
    bounds.PROJECTION_CELLS.check_total(
        "projection", scenarios=n_scenarios, draws=world.n_draws, years=len(world.years)
    )


def _project_chunk(world: World, scenarios: list[Scenario], seed: int, threads: int | None):
    """One evaluator task: a chunk of scenarios on the shared world."""
    return project_chunk(scenarios, world, seed, threads=threads)


def project(
    fit: Posterior | ProjectionInputs,
    scenarios: Iterable[Scenario | str | Path] | None = None,
    *,
    horizon: int = 2035,
    draws: int | None = None,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    evaluator: Evaluator | None = None,
) -> Projection:
    """Project scenarios over posterior draws to ``horizon``.

    Parameters
    ----------
    fit : Fit or ProjectionInputs
        A fitted model (its ``projection_inputs`` are used) or the inputs themselves.
    scenarios : iterable of Scenario, name or path, optional
        Default: the whole shipped library.
    horizon : int
        Last projected year.
    draws : int, optional
        Number of posterior draws to use (default: all).
    seed : int
        Drives the choice of draws, the random-walk innovations and the lever distributions
        (:func:`forecast.evaluation.prepare`).
    chunk_size : int
        Scenarios projected at a time (memory vs. overhead): one evaluator task each.
    evaluator : forecast.evaluation.Evaluator, optional
        Where the chunks run (default: in this process); results do not depend on it.

    Returns
    -------
    Projection

    Raises
    ------
    ScenarioError
        For an invalid or repeated scenario, or a start year outside the data and horizon.
    InputError
        For an argument outside :mod:`forecast.bounds`, a ``fit`` that is neither a fitted
        model nor projection inputs, or a projection too large.
    """
    bounds.check_projection(horizon=horizon, draws=draws, seed=seed)
    bounds.check_positive(chunk_size, "chunk_size")
    resolved = resolve_scenarios(scenarios)
    prepared = prepare(fit, horizon, seed, draws)
    base = prepared.world
    _check_size(len(resolved), base)
    check_starts(resolved, base, horizon)
    evaluator = evaluator if evaluator is not None else InProcessEvaluator()
    tasks = [resolved[i : i + chunk_size] for i in range(0, len(resolved), chunk_size)]
    task = functools.partial(_project_chunk, seed=seed, threads=evaluator.threads)
    with evaluator:
        chunks = dict(evaluator.map(task, tasks, shared=base, name="project"))
    ordered = [chunks[i] for i in range(len(tasks))]
    values = {m: np.concatenate([c[m] for c in ordered], axis=0) for m in ordered[0]}
    limited = base.years[base.limited]
    meta = {"first_limited_year": int(limited[0])} if limited.size else {}
    return Projection(resolved, base.years, values, seed, horizon, meta, base)
