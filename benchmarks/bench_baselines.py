"""Baselines on the shipped data: fit + forecast per model, and the full backtest.

Fits are cached by input; every timed round starts from an empty cache so it measures fitting.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast import load_dataset
from forecast.backtest import DEFAULT_MODELS, backtest, backtestable_series
from forecast.baselines import clear_fit_cache, yearly_history
from forecast.registry import MODELS, get_forecaster

SERIES = "msft_capex_usd_bn"


@pytest.fixture(scope="module")
def shipped():
    return load_dataset()


@pytest.mark.parametrize("model", list(MODELS))
def test_fit_and_forecast_shipped_capex(benchmark, shipped, model: str) -> None:
    forecaster = get_forecaster(model)
    prediction = benchmark.pedantic(
        forecaster, args=(shipped, SERIES, 5), setup=clear_fit_cache, rounds=3
    )
    last = int(yearly_history(shipped, SERIES).index[-1])
    assert list(prediction.periods) == list(range(last + 1, last + 6))
    assert np.all(prediction.quantiles > 0)
    assert np.all(np.diff(prediction.quantiles, axis=1) > 0)


def test_full_backtest_shipped_yearly_series(benchmark, shipped) -> None:
    result = benchmark.pedantic(backtest, setup=clear_fit_cache, rounds=1)
    series = backtestable_series(shipped)
    assert series, "the shipped data has no annual series with enough values"
    assert set(result.summary.index) == {(s, m) for s in series for m in DEFAULT_MODELS}
    scores = result.summary[["log_error", "mase", "coverage_50", "coverage_90", "crps"]]
    assert scores.notna().all().all()
    assert result.overall.loc["naive", "crps_skill"] == 0
