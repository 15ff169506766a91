"""Property tests over the public Python API: any argument ends in a result or in one of the
documented errors (:class:`forecast.ComputeGapError` and its subclasses; ``ValueError``
where documented), never in another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecast
from forecast import ComputeGapError, parse_period
from forecast.priors import DISTRIBUTIONS
from forecast.sweeps import sweep_from_dict
from tests.synthetic import SyntheticFit
from tests.test_sweep import SMALL

SHIPPED = forecast.load_dataset()
FIT = SyntheticFit(n_draws=20)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
#: Every parameter name a distribution takes now or took in old scenario files.
PARAMETERS = sorted({n for forms in DISTRIBUTIONS.values() for f in forms for n in f}
                    | {"a", "b", "low", "high"})  # fmt: skip
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


def documented(call, *args, **kwargs) -> object:
    """Call; a documented error is a pass, anything else fails the test."""
    try:
        return call(*args, **kwargs)
    except ComputeGapError as err:
        assert str(err)
        return None


@FAST
@given(data_dir=st.one_of(st.none(), st.text(max_size=6), anything), until=years)
def test_load_dataset(data_dir, until) -> None:
    documented(forecast.load_dataset, data_dir, until=until)


@FAST
@given(
    series=st.one_of(st.sampled_from(["msft_capex_usd_bn"]), anything),
    horizon=st.one_of(st.integers(-3, 60), anything),
    model=st.sampled_from(["naive", "ets", "nope", ""]),
    seed=st.one_of(st.integers(), anything),
)
def test_forecast_series(series, horizon, model, seed) -> None:
    documented(forecast.forecast_series, SHIPPED, series, horizon, model, seed=seed)


@FAST
@given(
    scenarios=st.one_of(st.none(), names, st.lists(names, max_size=3), anything),
    horizon=st.one_of(st.integers(2020, 2100), years),
    draws=st.one_of(st.none(), st.integers(1, 50), st.integers(-5, 30_000), anything),
    seed=st.one_of(st.integers(0, 2**32 - 1), st.integers(-5, 2**33), anything),
)
def test_project(scenarios, horizon, draws, seed) -> None:
    projection = documented(
        forecast.project, FIT, scenarios, horizon=horizon, draws=draws, seed=seed
    )
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
    a=names,
    b=names,
    metric=st.one_of(st.none(), st.text(max_size=6)),
    year=st.one_of(st.none(), years),
)
def test_compare(a, b, metric, year) -> None:
    projection = forecast.project(FIT, ["status_quo", "tighten"], horizon=2030, draws=5)
    documented(projection.compare, a, b, metric=metric, year=year)


@FAST
@given(text=anything)
def test_parse_period_raises_value_error(text) -> None:
    try:
        parse_period(text)
    except ValueError:
        pass


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
        try:
            forecast.sweep(
                spec,
                FIT.inputs,
                samples=samples,
                method=method,
                draws=draws,
                seed=seed,
                chunk_size=chunk_size,
                processes=False,
                workers=1,
                out=Path(scratch) / "out",
            )
        except (ComputeGapError, ValueError) as err:  # ValueError: documented for the design
            assert str(err)
