"""Baseline forecasters: statsmodels cross-checks, transforms, interventions and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.statespace.structural import UnobservedComponents

from forecast import DataError, ModelError, load_dataset
from forecast.backtest import forecast_series
from forecast.baselines import (
    FORECAST_COLUMNS,
    LOG,
    LOGIT,
    Predictive,
    SarimaxForecaster,
    TooShortError,
    intervention_matrix,
)
from forecast.registry import MODELS, get_forecaster
from tests.helpers.datasets import EVENT, write_dataset

BASE_MODELS = ("naive", "ets", "sarimax", "ucm")
YEARS = range(2005, 2025)


def _noisy_growth(seed: int, start: float = 10.0, growth: float = 0.15) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    logs = np.log(start) + np.cumsum(growth + 0.1 * rng.standard_normal(len(YEARS)))
    return {str(year): float(np.exp(v)) for year, v in zip(YEARS, logs)}


def _event(date: str, event_id: str, kind: str = "export_control") -> dict:
    return {**EVENT, "date": date, "event_id": event_id, "kind": kind}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    """Capex-like series 2005-2024, a share, a falling positive series and a short series."""
    rng = np.random.default_rng(7)
    share = 1 / (1 + np.exp(-(-3 + 0.35 * np.arange(len(YEARS)) + 0.1 * rng.standard_normal(20))))
    values = {
        "capex": _noisy_growth(1),
        "share": {str(y): float(v) for y, v in zip(YEARS, share)},
        "falling": _noisy_growth(2, start=100.0, growth=-0.6),
        "short": {"2021": 1.0, "2022": 1.5, "2023": 2.0, "2024": 2.4},
    }
    events = [
        EVENT,
        _event("2022-12-01", "same_year"),
        _event("2019-05-01", "market_event", kind="market"),
        _event("2001-01-01", "before_the_data"),
    ]
    directory = write_dataset(
        tmp_path_factory.mktemp("baselines") / "data", values,
        units={"share": "share"}, kinds={"share": "share"}, events=events,
    )  # fmt: skip
    return load_dataset(directory)


def _reference(model: str, z: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
    """statsmodels' own mean and 50 % / 90 % intervals on the log scale, fitted directly."""
    if model == "ets":
        fit = ETSModel(pd.Series(z), error="add", trend="add", damped_trend=True).fit(disp=False)
        prediction = fit.get_prediction(start=len(z), end=len(z) + horizon - 1)
        frames = {a: prediction.summary_frame(alpha=a).to_numpy() for a in (0.1, 0.5)}
        return {"mean": frames[0.1][:, 0], 0.1: frames[0.1][:, 1:], 0.5: frames[0.5][:, 1:]}
    if model == "sarimax":  # the one intervention year in 2005-2024: 2022 (two events)
        exog = (np.arange(2005, 2025) >= 2022).astype(float)[:, None]
        fitted = SARIMAX(z, exog=exog, order=(1, 1, 0), trend="t").fit(disp=False)
        forecast = fitted.get_forecast(horizon, exog=np.ones((horizon, 1)))
    else:
        fitted = UnobservedComponents(z, level="local linear trend").fit(disp=False)
        forecast = fitted.get_forecast(horizon)
    return {"mean": forecast.predicted_mean, **{a: forecast.conf_int(alpha=a) for a in (0.1, 0.5)}}


@pytest.mark.parametrize("model", ["ets", "sarimax", "ucm"])
def test_wrapper_matches_statsmodels(dataset, model: str) -> None:
    """Uncalibrated, the wrappers give statsmodels' own intervals."""
    frame = MODELS[model](calibrate=False)(dataset, "capex", 4).to_frame()
    z = np.log(np.array(list(_noisy_growth(1).values())))
    expected = _reference(model, z, 4)
    np.testing.assert_allclose(frame["q50"], np.exp(expected["mean"]), rtol=1e-9)
    np.testing.assert_allclose(frame[["q05", "q95"]], np.exp(expected[0.1]), rtol=1e-9)
    np.testing.assert_allclose(frame[["q25", "q75"]], np.exp(expected[0.5]), rtol=1e-9)


def test_naive_matches_closed_form(dataset) -> None:
    """Random walk with drift: drift = mean step, s = sd of steps, var_h = s^2 h (1 + h/T),
    widened so that the 90 % interval is the Student-t one."""
    frame = forecast_series(dataset, "capex", 3, "naive")
    steps = np.diff(np.log(list(_noisy_growth(1).values())))
    h = np.arange(1, 4)
    last = np.log(_noisy_growth(1)["2024"])
    sd = steps.std(ddof=1) * np.sqrt(h * (1 + h / len(steps)))
    np.testing.assert_allclose(
        frame["q95"], np.exp(last + steps.mean() * h + stats.t.ppf(0.95, len(steps) - 1) * sd)
    )
    sd *= stats.t.ppf(0.95, len(steps) - 1) / stats.norm.ppf(0.95)
    for column, q in zip(["q05", "q25", "q50", "q75", "q95"], [0.05, 0.25, 0.5, 0.75, 0.95]):
        expected = np.exp(last + steps.mean() * h + stats.norm.ppf(q) * sd)
        np.testing.assert_allclose(frame[column], expected, rtol=1e-12)
    np.testing.assert_allclose(frame["mean"], np.exp(last + steps.mean() * h + sd**2 / 2))


def test_forecast_frame_is_tidy(dataset) -> None:
    frame = forecast_series(dataset, "capex", 3, "ucm")
    assert tuple(frame.columns) == FORECAST_COLUMNS
    assert list(frame["period"]) == [2025, 2026, 2027]
    assert set(frame["model"]) == {"ucm"} and set(frame["series_id"]) == {"capex"}
    quantiles = frame[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert np.all(np.diff(quantiles, axis=1) > 0)


@pytest.mark.parametrize("model", BASE_MODELS)
def test_positive_series_intervals_stay_positive(dataset, model: str) -> None:
    frame = forecast_series(dataset, "falling", 15, model)
    assert (frame[["mean", "q05"]].to_numpy() > 0).all()
    prediction = get_forecaster(model)(dataset, "falling", 15)
    assert (prediction.draws > 0).all()


@pytest.mark.parametrize("model", BASE_MODELS)
def test_shares_stay_between_zero_and_one(dataset, model: str) -> None:
    prediction = get_forecaster(model)(dataset, "share", 15)
    for values in (prediction.quantiles, prediction.draws, prediction.mean):
        assert ((values >= 0) & (values <= 1)).all()


def test_transform_means() -> None:
    loc, scale = np.array([0.3, -1.0, 2.0]), np.array([0.1, 0.5, 1.5])
    np.testing.assert_allclose(LOG.mean(loc, scale), np.exp(loc + scale**2 / 2), rtol=1e-9)
    expected = [
        integrate.quad(lambda x, m=m, s=s: LOGIT.inverse(m + s * x) * stats.norm.pdf(x), -40, 40)[0]
        for m, s in zip(loc, scale)
    ]
    np.testing.assert_allclose(LOGIT.mean(loc, scale), expected, rtol=1e-9)


def test_interventions_use_distinct_event_years_inside_the_window(dataset) -> None:
    z = pd.Series(np.log(list(_noisy_growth(1).values())), index=np.arange(2005, 2025))
    assert SarimaxForecaster().regressors(dataset, z) == (2022,)  # market and pre-2005: out
    assert SarimaxForecaster().regressors(dataset, z.loc[:2021]) == ()  # not yet happened
    assert SarimaxForecaster(max_events=0).regressors(dataset, z) == ()


def test_interventions_drop_singular_and_unaffordable_regressors(dataset) -> None:
    gappy = pd.Series(np.linspace(0, 1, 20), index=np.arange(2005, 2025)).drop([2021, 2022])
    z = gappy.reindex(np.arange(2005, 2025))  # the 2022 step's differences are unobserved
    assert SarimaxForecaster().regressors(dataset, z) == ()
    tiny = pd.Series(np.linspace(0, 1, 5), index=np.arange(2020, 2025))
    assert SarimaxForecaster().regressors(dataset, tiny) == ()  # 4 steps carry no extra term


def test_intervention_shapes() -> None:
    years = np.arange(2020, 2026)
    step = intervention_matrix(years, (2022, 2024), "step")
    ramp = intervention_matrix(years, (2022,), "ramp")
    np.testing.assert_array_equal(step[:, 0], [0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(step[:, 1], [0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(ramp[:, 0], [0, 0, 1, 2, 3, 4])


def test_sarimax_ramp_forecasts(dataset) -> None:
    prediction = SarimaxForecaster(shape="ramp")(dataset, "capex", 3)
    assert np.all(np.isfinite(prediction.quantiles)) and np.all(prediction.quantiles > 0)


def test_auto_says_what_it_picked_and_why(dataset) -> None:
    frame = forecast_series(dataset, "capex", 2)
    assert frame["model"].iloc[0] in BASE_MODELS
    note = frame.attrs["note"]
    assert note.startswith(f"auto picked {frame['model'].iloc[0]}: lowest penalised CRPS")
    assert all(f"{name} " in note for name in BASE_MODELS)
    assert note.count("90 % coverage ") == 1 + len(BASE_MODELS)


def test_auto_on_a_short_series_uses_naive_and_says_so(dataset) -> None:
    frame = forecast_series(dataset, "short", 2)
    assert frame["model"].iloc[0] == "naive"
    assert "too few values" in frame.attrs["note"]


def test_predictive_from_draws_only() -> None:
    draws = np.random.default_rng(0).lognormal(size=(4000, 2))
    prediction = Predictive("s", "custom", np.array([2025, 2026]), draws)
    np.testing.assert_allclose(prediction.quantiles[:, 2], np.median(draws, axis=0))
    np.testing.assert_allclose(prediction.mean, draws.mean(axis=0))
    with pytest.raises(ValueError, match="shape"):
        Predictive("s", "custom", np.array([2025]), draws)


def test_unknown_series_is_a_data_error(dataset) -> None:
    with pytest.raises(DataError, match="unknown series id 'nope'"):
        forecast_series(dataset, "nope", 3, "naive")


@pytest.mark.parametrize("model", ["ets", "sarimax", "ucm"])
def test_too_short_names_series_and_minimum(dataset, model: str) -> None:
    with pytest.raises(TooShortError, match=r"'short' has 4 yearly values.*at least 6"):
        forecast_series(dataset, "short", 3, model)


def test_fallback_to_naive_only_when_allowed(dataset) -> None:
    frame = forecast_series(dataset, "short", 3, "ets", fallback=True)
    assert set(frame["model"]) == {"naive"}
    assert "fell back to naive" in frame.attrs["note"]


@pytest.mark.parametrize("horizon", [0, -2, 1.5, True, 51])
def test_bad_horizon(dataset, horizon) -> None:
    with pytest.raises(ModelError, match="horizon must be a whole number from 1 to 50"):
        forecast_series(dataset, "capex", horizon, "naive")


def test_unknown_model_lists_valid_names(dataset) -> None:
    with pytest.raises(ModelError, match="unknown model 'prophet'; valid models: naive, ets"):
        forecast_series(dataset, "capex", 3, "prophet")
    assert set(BASE_MODELS) | {"auto"} <= set(MODELS)


def test_quarterly_series_is_refused(tmp_path: Path) -> None:
    directory = write_dataset(tmp_path / "data", {"q": {f"2024-Q{i}": float(i) for i in (1, 2)}})
    (directory / "series.csv").write_text(
        (directory / "series.csv").read_text().replace("annual", "quarterly")
    )
    with pytest.raises(ModelError, match="'q' is quarterly; the baselines model annual"):
        forecast_series(load_dataset(directory), "q", 2, "naive")


def test_values_outside_the_transform_domain(tmp_path: Path) -> None:
    values = {"z": {"2020": 1.0, "2021": 0.0, "2022": 2.0, "2023": 3.0}}
    dataset = load_dataset(write_dataset(tmp_path / "data", values))
    with pytest.raises(ModelError, match="'z' has 0 in 2021; its log transform needs positive"):
        forecast_series(dataset, "z", 2, "naive")


def test_gaps_refused_by_ets_handled_by_the_others(tmp_path: Path) -> None:
    values = {k: v for k, v in _noisy_growth(3).items() if k != "2015"}
    dataset = load_dataset(write_dataset(tmp_path / "data", {"gappy": values}))
    with pytest.raises(ModelError, match=r"needs consecutive years.*no value for 2015"):
        forecast_series(dataset, "gappy", 2, "ets")
    for model in ("naive", "sarimax", "ucm"):
        assert np.isfinite(forecast_series(dataset, "gappy", 2, model)["q95"]).all()
