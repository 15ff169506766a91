"""The forecaster contract: configured instances with aliases, fit/predict, the registry."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import forecast
from forecast import FitError, TooShortError, UsageError, load_dataset
from forecast.backtest import AutoForecaster, forecast_series
from forecast.baselines import (
    FORECAST_COLUMNS,
    BaseForecaster,
    EtsForecaster,
    History,
    NaiveForecaster,
    Predictive,
    SarimaxForecaster,
    UcmForecaster,
)
from forecast.registry import MODELS, PROVIDERS, Registry, get_forecaster
from tests.helpers.datasets import write_dataset

YEARS = range(2008, 2025)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    """A capex-like walk 2008-2024 and a short series of 4 values."""
    rng = np.random.default_rng(11)
    logs = np.log(20.0) + np.cumsum(0.2 + 0.1 * rng.standard_normal(len(YEARS)))
    values = {
        "capex": {str(y): float(np.exp(v)) for y, v in zip(YEARS, logs)},
        "short": {"2021": 1.0, "2022": 1.4, "2023": 1.9, "2024": 2.5},
    }
    return load_dataset(write_dataset(tmp_path_factory.mktemp("forecasters") / "data", values))


def test_default_aliases_name_the_settings_that_differ() -> None:
    assert NaiveForecaster().alias == "naive"
    assert NaiveForecaster(seed=5, n_draws=10).alias == "naive"  # sampling, not the model
    assert EtsForecaster(calibrate=False).alias == "ets(calibrate=False)"
    assert SarimaxForecaster().alias == "sarimax"
    assert SarimaxForecaster(order=(2, 1, 0)).alias == "sarimax(2,1,0)"
    assert SarimaxForecaster(order=[0, 0, 1], shape="ramp").alias == "sarimax(0,0,1, shape=ramp)"
    assert AutoForecaster().alias == "auto"
    assert AutoForecaster(candidates=("naive", "ets")).alias == "auto(candidates=(naive,ets))"
    assert UcmForecaster(alias="trend").alias == "trend"
    assert SarimaxForecaster(alias="x") == SarimaxForecaster()  # the alias is a label only


def test_fit_returns_the_forecaster_and_predict_a_tidy_frame(dataset) -> None:
    """The contract: fit(history) -> self, predict(horizon, levels) -> tidy frame, with exact
    Gaussian quantiles at any level, the same as the default levels where they meet."""
    history = History.of(dataset, "capex")
    forecaster = SarimaxForecaster(order=(0, 1, 1))
    assert forecaster.fit(history) is forecaster
    frame = forecaster.predict(3)
    assert tuple(frame.columns) == FORECAST_COLUMNS
    assert list(frame["period"]) == [2025, 2026, 2027]
    assert set(frame["model"]) == {"sarimax(0,1,1)"}
    custom = forecaster.predict(3, levels=(0.025, 0.5, 0.9))
    assert list(custom.columns[-3:]) == ["q2.5", "q50", "q90"]
    np.testing.assert_allclose(custom["q50"], frame["q50"], rtol=1e-12)
    # exact: the 90 % quantile is the log-scale centre + 1.2816 sd, that sd from q05/q95
    log_sd = (np.log(frame["q95"]) - np.log(frame["q05"])) / (2 * stats.norm.ppf(0.95))
    expected = np.exp(np.log(frame["q50"]) + stats.norm.ppf(0.9) * log_sd)
    np.testing.assert_allclose(custom["q90"], expected, rtol=1e-9)
    prediction = forecaster.predictive(3)
    assert isinstance(prediction, Predictive) and prediction.model == "sarimax(0,1,1)"


def test_one_shot_call_is_fit_then_predictive(dataset) -> None:
    history = History.of(dataset, "capex")
    fitted = NaiveForecaster(seed=2).fit(history).predictive(4)
    once = NaiveForecaster(seed=2)(dataset, "capex", 4)
    np.testing.assert_array_equal(fitted.draws, once.draws)
    np.testing.assert_array_equal(fitted.quantiles, once.quantiles)


def test_misuse_is_a_usage_error(dataset) -> None:
    with pytest.raises(UsageError, match="'naive': call fit\\(history\\) before predicting"):
        NaiveForecaster().predict(2)
    with pytest.raises(UsageError, match="history must be a History"):
        NaiveForecaster().fit("capex")
    with pytest.raises(UsageError, match="dataset must be a Dataset"):
        History.of("data/", "capex")
    fitted = NaiveForecaster().fit(History.of(dataset, "capex"))
    with pytest.raises(UsageError, match="levels must be 1 to 99 increasing probabilities"):
        fitted.predict(2, levels=(0.5, 0.1))
    with pytest.raises(UsageError, match="levels must differ in their column names"):
        fitted.predict(2, levels=(0.05, 0.05 + 1e-9))
    with pytest.raises(UsageError, match="horizon must be a whole number from 1 to 50"):
        fitted.predict(0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SarimaxForecaster(order=(1, 2, 0)), r"order must be \(p, d, q\)"),
        (lambda: SarimaxForecaster(order=(1, 1)), r"order must be \(p, d, q\)"),
        (lambda: SarimaxForecaster(shape="wave"), "shape must be 'step' or 'ramp'"),
        (lambda: SarimaxForecaster(max_events=-1), "max_events must be a whole number"),
        (lambda: NaiveForecaster(seed=-1), "seed must be a whole number from 0"),
        (lambda: NaiveForecaster(n_draws=0), "n_draws must be a whole number from 1"),
        (lambda: EtsForecaster(calibrate="yes"), "calibrate must be True or False"),
        (lambda: EtsForecaster(alias=3), "alias must be text"),
        (lambda: AutoForecaster(candidates=("naive", "prophet")), "unknown model 'prophet'"),
        (lambda: AutoForecaster(candidates=("ets", "ets")), "alias 'ets' is used by 2"),
        (lambda: AutoForecaster(candidates=[]), "candidates must be a non-empty tuple"),
    ],
)
def test_bad_configuration_is_refused_when_made(make, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make()


def test_longer_orders_need_more_values_and_d0_has_a_trend(dataset) -> None:
    assert SarimaxForecaster().min_length == 6
    assert SarimaxForecaster(order=(2, 1, 1)).min_length == 8
    history = History.of(load_dataset(dataset.data_dir, until=2014), "capex")  # 7 values
    with pytest.raises(TooShortError, match="model 'sarimax\\(2,1,1\\)' needs at least 8"):
        SarimaxForecaster(order=(2, 1, 1)).fit(history)
    level = SarimaxForecaster(order=(1, 0, 0), calibrate=False)(dataset, "capex", 3)
    assert np.all(np.isfinite(level.quantiles)) and np.all(np.diff(level.quantiles[:, 2]) > 0)


def test_forecast_series_takes_an_instance_and_a_fallback_forecaster(dataset) -> None:
    frame = forecast_series(dataset, "capex", 2, SarimaxForecaster(order=(2, 1, 0)))
    assert set(frame["model"]) == {"sarimax(2,1,0)"}
    backup = NaiveForecaster(alias="random walk")
    short = forecast_series(dataset, "short", 2, "ets", fallback=backup)
    assert set(short["model"]) == {"random walk"}
    assert short.attrs["note"] == "ets needs 6 values, the series has 4: fell back to random walk"
    with pytest.raises(UsageError, match="fallback must be True, False or a forecaster"):
        forecast_series(dataset, "short", 2, "ets", fallback="naive")


def test_auto_chooses_among_configured_candidates(dataset) -> None:
    auto = AutoForecaster(candidates=(SarimaxForecaster(), SarimaxForecaster(order=(2, 1, 0))))
    frame = auto.fit(History.of(dataset, "capex")).predict(2)
    picked = frame["model"].iloc[0]
    assert picked in {"naive", "sarimax", "sarimax(2,1,0)"}
    note = frame.attrs["note"]
    assert note.startswith(f"auto picked {picked}: lowest penalised CRPS")
    assert "sarimax(2,1,0) " in note and "sarimax " in note
    with pytest.raises(
        TooShortError, match=r"'short' has 2 yearly values; model 'auto\(.*at least 3"
    ):
        auto.fit(History.of(load_dataset(dataset.data_dir, until=2022), "short"))


@dataclass(frozen=True)
class Last(BaseForecaster):
    """A plug-in: the last value, with a little noise (a registry calls it with ``seed=``)."""

    seed: int = 0
    name: ClassVar[str] = "last"

    def fit(self, history: History) -> Last:
        self._remember(history)
        return self

    def predictive(self, horizon: int) -> Predictive:
        history = self._fitted()
        noise = np.random.default_rng(self.seed).normal(1, 0.01, size=(100, horizon))
        periods = history.values.index[-1] + np.arange(1, horizon + 1)
        return Predictive(history.series_id, self.alias, periods, history.values.iloc[-1] * noise)


def test_a_registry_takes_plug_ins_and_lists_providers_unimported() -> None:
    registry = Registry({"bayes": "forecast.model.predict"})
    registry.register("last", Last)
    assert list(registry) == ["last", "bayes"] and "bayes" in registry and len(registry) == 2
    assert registry["last"](seed=0).alias == "last"
    assert "nope" not in registry and 3 not in registry
    with pytest.raises(KeyError):
        registry["nope"]
    with pytest.raises(UsageError, match="a model name must be non-empty text"):
        registry.register("", Last)
    assert isinstance(Last(), forecast.Forecaster)


def test_shipped_registry_lists_every_model_and_refuses_unknown_ones() -> None:
    assert list(MODELS)[:6] == ["naive", "ets", "sarimax", "ucm", "auto", "bayes"]
    assert set(PROVIDERS) == {"auto", "bayes"}
    assert isinstance(get_forecaster("auto", seed=3), AutoForecaster)
    with pytest.raises(UsageError, match="unknown model 'prophet'; valid models: naive, ets"):
        get_forecaster("prophet")
    with pytest.raises(UsageError, match="unknown model \\['ets'\\]"):
        get_forecaster(["ets"])
    with pytest.raises(UsageError, match="seed must be a whole number"):
        get_forecaster("naive", seed=-1)


def _imports(module: Path) -> set[str]:
    """Every module ``module`` imports, at any depth of its code (deferred imports too)."""
    tree = ast.parse(module.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_baselines_import_neither_the_orchestrator_nor_the_model() -> None:
    """One-way imports: the cycles backtest <-> baselines and baselines <-> model.predict are
    gone; the registry imports only the baselines (auto and bayes register themselves)."""
    package = Path(forecast.__file__).parent
    baselines = _imports(package / "baselines.py")
    assert not {m for m in baselines if m.startswith(("forecast.backtest", "forecast.model",
                                                       "forecast.registry"))}  # fmt: skip
    registry = _imports(package / "registry.py")
    assert not {m for m in registry if m.startswith(("forecast.backtest", "forecast.model"))}


def test_bayes_is_listed_without_loading_pymc() -> None:
    code = (
        "import sys; from forecast.registry import MODELS; "
        "assert 'bayes' in MODELS and 'bayes' in list(MODELS); "
        "assert 'forecast.model.predict' not in sys.modules and 'pymc' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_fit_errors_are_fit_errors(dataset) -> None:
    """Data a model cannot fit: a FitError (and still a ModelError, as before)."""
    gappy = pd.Series([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0], index=range(2018, 2025))
    with pytest.raises(FitError, match="needs consecutive years"):
        EtsForecaster()._model_scale("gappy", gappy.dropna(), forecast.baselines.LOG)
    assert issubclass(FitError, forecast.ModelError) and issubclass(TooShortError, FitError)
    assert issubclass(forecast.InputError, UsageError) and issubclass(UsageError, ValueError)
