"""Property tests over the public Python API: any argument ends in a result or in one of the
documented errors, never in another exception.

The documented family (:mod:`forecast.errors`): :class:`forecast.DataError`,
:class:`forecast.ScenarioError`, :class:`forecast.FitError`, :class:`forecast.UsageError` and
:class:`forecast.OutputError`, all :class:`forecast.ComputeGapError`. A ``TypeError``,
``ValueError``, ``KeyError`` or ``AttributeError`` escaping (or a bare ``ModelError``) fails.
No example fits the Bayesian model: projections use a synthetic fit, and every
``run_scenarios`` call has an argument that fails before fitting.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecast
from forecast import (
    ComputeGapError,
    DataError,
    FitError,
    OutputError,
    ScenarioError,
    UsageError,
    parse_period,
)
from forecast.backtest import AutoForecaster
from forecast.baselines import History, NaiveForecaster, SarimaxForecaster
from forecast.priors import DISTRIBUTIONS
from forecast.registry import MODELS
from forecast.sweeps import sweep_from_dict
from tests.helpers.sweeps import SMALL
from tests.helpers.synthetic import SyntheticFit

SHIPPED = forecast.load_dataset()
SERIES = "msft_capex_usd_bn"
FIT = SyntheticFit(n_draws=20)
PROJECTION = forecast.project(FIT, ["status_quo", "tighten"], horizon=2030, draws=5)
FAMILY = (DataError, ScenarioError, FitError, UsageError, OutputError)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
FEW = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

junk = st.one_of(
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.binary(max_size=3),
    st.lists(st.integers(), max_size=3),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.sampled_from([object(), len, Path("/"), "\x00", np.int64(3), np.nan, (), SHIPPED]),
)
#: Every parameter name a distribution takes now or took in old scenario files.
PARAMETERS = sorted({n for forms in DISTRIBUTIONS.values() for f in forms for n in f}
                    | {"a", "b", "low", "high"})  # fmt: skip
anything = st.one_of(st.none(), junk)
#: Anything but the name of a registered model (``bayes`` would fit, ``auto`` backtest).
not_a_model = anything.filter(lambda v: not (isinstance(v, str) and v in MODELS))
years = st.one_of(st.integers(1900, 2200), anything)
names = st.one_of(st.sampled_from(["status_quo", "tighten", "leaky"]), st.text(max_size=8))
lever_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.text(max_size=4),
    st.lists(st.lists(st.one_of(st.integers(2000, 2040), st.floats()), max_size=2), max_size=3),
    st.fixed_dictionaries(
        {"dist": st.sampled_from([*DISTRIBUTIONS, "nope"])},
        optional={k: st.floats(allow_nan=True, allow_infinity=True) for k in PARAMETERS},
    ),
)
scenario_dicts = st.fixed_dictionaries(
    {"name": names, "description": st.text(max_size=8)},
    optional={
        "extends": st.one_of(names, anything),
        "start": years,
        "levers": st.dictionaries(
            st.sampled_from(["leakage", "hbm_cap", "bogus", "utilization"]),
            lever_values,
            max_size=3,
        ),
        "rationale": st.one_of(st.dictionaries(st.text(max_size=5), st.text(max_size=5)), anything),
    },
)
levels = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.lists(st.floats(0.01, 0.99), min_size=1, max_size=3, unique=True).map(sorted),
    anything,
)
#: Cheap models (no ``auto``, no ``bayes``) and things that are not models.
cheap_models = st.one_of(
    st.sampled_from(
        ["naive", "nope", "", NaiveForecaster(seed=1), SarimaxForecaster(order=(0, 1, 0))]
    ),
    not_a_model,
)


def documented(call, *args, **kwargs) -> object:
    """Call; an error of the documented family with a message is a pass, anything else fails."""
    try:
        return call(*args, **kwargs)
    except ComputeGapError as err:
        assert isinstance(err, FAMILY), f"{type(err).__name__} is outside the documented family"
        assert str(err)
        return None


def one_bad(valid: dict, strategies: dict) -> st.SearchStrategy[dict]:
    """Keyword arguments: ``valid`` with one of them, at random, drawn from ``strategies``
    (checks run in turn, so an early bad argument would hide a later one)."""
    return st.sampled_from(sorted(strategies)).flatmap(
        lambda name: strategies[name].map(lambda value: {**valid, name: value})
    )


@FAST
@given(data_dir=st.one_of(st.none(), st.text(max_size=6), anything), until=years)
def test_load_dataset(data_dir, until) -> None:
    documented(forecast.load_dataset, data_dir, until=until)


@FAST
@given(data_dir=anything)
def test_validate_dir(data_dir) -> None:
    problems = documented(forecast.validate_dir, data_dir)
    assert problems is None or isinstance(problems, list)


@FAST
@given(
    arguments=one_bad(
        {"dataset": SHIPPED, "series_id": SERIES, "horizon": 2, "model": "naive"},
        {
            "dataset": anything,
            "series_id": st.one_of(st.just("clusters_us_share"), anything),
            "horizon": st.one_of(st.integers(-3, 60), anything),
            "model": st.one_of(st.sampled_from(["ets", "nope", ""]), not_a_model),
            "fallback": st.one_of(st.booleans(), st.just(NaiveForecaster()), anything),
            "seed": st.one_of(st.integers(), anything),
        },
    )
)
def test_forecast_series(arguments) -> None:
    frame = documented(forecast.forecast_series, **arguments)
    assert frame is None or len(frame) == arguments["horizon"]


@FAST
@given(
    name=st.one_of(st.sampled_from(["naive", "ets", "sarimax", "ucm", "auto"]), not_a_model),
    seed=st.one_of(st.integers(-5, 2**33), anything),
)
def test_get_forecaster(name, seed) -> None:
    forecaster = documented(forecast.get_forecaster, name, seed=seed)
    assert forecaster is None or isinstance(forecaster, forecast.Forecaster)


@FEW
@given(
    arguments=one_bad(
        {"data": SHIPPED, "series": [SERIES], "models": ["naive"], "origins": [2022], "horizon": 1},
        {
            "data": anything,
            "series": st.one_of(st.just(SERIES), anything),
            "models": st.one_of(cheap_models, st.lists(cheap_models, max_size=3)),
            "origins": st.one_of(st.just(2023), st.lists(years, max_size=2), junk),
            "horizon": st.one_of(st.integers(-1, 60), anything),
            "seed": st.one_of(st.integers(-2, 2**33), anything),
            "fallback": st.one_of(st.booleans(), anything),
        },
    )
)
def test_backtest(arguments) -> None:
    result = documented(forecast.backtest, **arguments)
    assert result is None or isinstance(result, forecast.BacktestResult)


@FAST
@given(
    arguments=one_bad(
        {},
        {
            "order": st.one_of(
                st.tuples(st.integers(-1, 4), st.integers(-1, 2), st.integers(-1, 4)), anything
            ),
            "shape": st.one_of(st.sampled_from(["step", "ramp"]), anything),
            "max_events": st.one_of(st.integers(-1, 3), anything),
            "event_kinds": anything,
            "seed": st.one_of(st.integers(-1, 2**33), anything),
            "n_draws": st.one_of(st.integers(-1, 30_000), anything),
            "calibrate": st.one_of(st.booleans(), anything),
            "alias": st.one_of(st.text(max_size=5), anything),
        },
    ),
    candidates=st.one_of(st.tuples(st.sampled_from(["naive", "ets", "nope"])), anything),
)
def test_forecaster_configuration(arguments, candidates) -> None:
    made = documented(SarimaxForecaster, **arguments)
    assert made is None or (isinstance(made.alias, str) and made.alias)
    documented(AutoForecaster, candidates=candidates)


@FAST
@given(
    dataset=st.one_of(st.just(SHIPPED), anything),
    series=st.one_of(st.just(SERIES), anything),
    fitted=st.booleans(),
    horizon=st.one_of(st.integers(-2, 60), anything),
    levels=levels,
)
def test_fit_and_predict(dataset, series, fitted, horizon, levels) -> None:
    forecaster = NaiveForecaster()
    history = documented(History.of, dataset, series)
    if fitted:
        documented(forecaster.fit, history if history is not None else series)
    frame = documented(forecaster.predict, horizon, levels)
    assert frame is None or len(frame) == horizon


@FAST
@given(
    arguments=one_bad(
        {"fit": FIT, "scenarios": ["status_quo"], "horizon": 2030, "draws": 5},
        {
            "fit": anything,
            "scenarios": st.one_of(st.none(), names, st.lists(names, max_size=3), anything),
            "horizon": st.one_of(st.integers(2020, 2100), years),
            "draws": st.one_of(st.none(), st.integers(1, 50), st.integers(-5, 30_000), anything),
            "seed": st.one_of(st.integers(0, 2**32 - 1), st.integers(-5, 2**33), anything),
            "chunk_size": st.one_of(st.integers(-1, 20), anything),
        },
    )
)
def test_project(arguments) -> None:
    projection = documented(forecast.project, **arguments)
    if projection is not None:
        assert not projection.summary().empty


@FAST
@given(raw=st.one_of(scenario_dicts, anything))
def test_scenario_from_dict(raw) -> None:
    scenario = documented(forecast.scenario_from_dict, raw)
    if scenario is not None:
        documented(forecast.project, FIT, [scenario], horizon=2030, draws=5)


@FAST
@given(
    name=st.one_of(names, anything), directory=st.one_of(st.none(), st.text(max_size=5), anything)
)
def test_load_and_list_scenarios(name, directory) -> None:
    documented(forecast.load_scenario, name, directory)
    documented(forecast.list_scenarios, directory)


@FAST
@given(changes=st.dictionaries(st.sampled_from(sorted(SMALL)), anything, max_size=3))
def test_sweep_from_dict(changes) -> None:
    documented(sweep_from_dict, {**SMALL, **changes})


@FAST
@given(
    a=st.one_of(names, anything),
    b=names,
    metric=st.one_of(st.none(), st.text(max_size=6), anything),
    year=st.one_of(st.none(), years),
    quantiles=levels,
)
def test_compare(a, b, metric, year, quantiles) -> None:
    documented(PROJECTION.compare, a, b, metric=metric, year=year, quantiles=quantiles)


@FAST
@given(
    quantiles=levels,
    scenarios=st.one_of(names, st.lists(names, max_size=2), anything),
    metric=st.one_of(st.text(max_size=3), anything),
)
def test_projection_methods(quantiles, scenarios, metric) -> None:
    documented(PROJECTION.summary, quantiles)
    documented(PROJECTION.subset, scenarios)
    documented(PROJECTION.plot, metric, scenarios)  # no metric has 3 characters or fewer


@FAST
@given(
    arguments=one_bad(
        {"projection": PROJECTION, "scenario": "tighten"},
        {
            "projection": anything,
            "scenario": st.one_of(names, anything),
            "base": st.one_of(names, anything),
            "year": years,
            "metric": st.one_of(st.sampled_from(["cn_h100e", "years_behind"]), anything),
            "quantiles": levels,
        },
    )
)
def test_attribute(arguments) -> None:
    documented(forecast.attribute, **arguments)


@FEW
@given(
    arguments=one_bad(
        {
            "scenarios": ["status_quo"],
            "horizon": 2030,
            "draws": 5,
            "out": None,
            "fit_options": {"draws": 10},
            "data_dir": "/nonexistent",
        },
        {
            name: anything
            for name in (
                "scenarios",
                "data_dir",
                "until",
                "horizon",
                "seed",
                "draws",
                "out",
                "overwrite",
                "fit_options",
                "xlsx",
            )
        },
    )
)
def test_run_scenarios_refuses_before_fitting(arguments) -> None:
    """One argument at random; the data directory does not exist (or, when the data directory
    is the argument, is not a dataset), so no example reaches the fit."""
    data_dir = arguments["data_dir"]
    if data_dir is None or Path(str(data_dir)).is_dir():
        arguments["data_dir"] = "/nonexistent"
    assert documented(forecast.run_scenarios, **arguments) is None


@FEW
@given(
    arguments=one_bad(
        {
            "scenarios": ["status_quo"],
            "horizon": 2030,
            "draws": 5,
            "quiet": True,
            "fit_options": {"draws": 10},
            "data_dir": "/nonexistent",
        },
        {
            name: anything
            for name in (
                "scenarios",
                "data_dir",
                "until",
                "horizon",
                "seed",
                "draws",
                "out",
                "overwrite",
                "fit_options",
            )
        },
    )
)
def test_report_refuses_before_fitting(arguments, tmp_path_factory) -> None:
    """As :func:`test_run_scenarios_refuses_before_fitting`; ``out`` is a fresh directory
    unless it is the argument drawn."""
    from forecast.report import report

    data_dir = arguments["data_dir"]
    if data_dir is None or Path(str(data_dir)).is_dir():
        arguments["data_dir"] = "/nonexistent"
    arguments.setdefault("out", tmp_path_factory.mktemp("report") / "out")
    assert documented(report, **arguments) is None


@FAST
@given(text=anything)
def test_parse_period(text) -> None:
    """A bad label is a UsageError, which is still the ValueError documented before."""
    try:
        parse_period(text)
    except UsageError as err:
        assert isinstance(err, ValueError) and str(err)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    samples=st.one_of(st.integers(-2, 40), anything),
    draws=st.one_of(st.none(), anything),
    chunk_size=st.one_of(st.integers(-2, 5000), anything),
    seed=years,
    method=st.sampled_from(["sobol", "lhs", "morris"]),
)
def test_sweep_arguments(samples, draws, chunk_size, seed, method) -> None:
    spec = sweep_from_dict(SMALL)
    with tempfile.TemporaryDirectory() as scratch:
        documented(
            forecast.sweep, spec, FIT.inputs, samples=samples, method=method, draws=draws,
            seed=seed, chunk_size=chunk_size, processes=False, workers=1,
            out=Path(scratch) / "out",
        )  # fmt: skip
