"""Backtest harness: calibration on simulated series, leakage, metrics and plugging in models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import scoringrules as sr

from forecast import DataError, ModelError, load_dataset
from forecast.backtest import backtest, backtestable_series, default_origins
from forecast.baselines import NaiveForecaster, Predictive, yearly_history
from tests.conftest import EVENT, write_dataset

H = 3


def _random_walks(n_series: int, n_fit: int, seed: int) -> dict[str, dict[str, float]]:
    """log y_t = log y_(t-1) + 0.15 + 0.1 e_t, e_t ~ N(0, 1), y_0 = 10; years 2000 on."""
    rng = np.random.default_rng(seed)
    series = {}
    for i in range(n_series):
        logs = np.log(10.0) + np.cumsum(0.15 + 0.1 * rng.standard_normal(n_fit + H))
        series[f"sim_{i:03d}"] = {str(2000 + k): float(np.exp(v)) for k, v in enumerate(logs)}
    return series


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory):
    """200 short (12 values) and 200 long (80 values) random walks with drift, each + 3 more."""

    def make(n_fit: int, seed: int) -> tuple[Path, int]:
        root = tmp_path_factory.mktemp(f"sim{n_fit}")
        return write_dataset(root / "data", _random_walks(200, n_fit, seed)), 2000 + n_fit - 1

    return {"short": make(12, 1), "long": make(80, 2)}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "length"),
    [("naive", "short"), ("naive", "long"), ("ets", "long"), ("sarimax", "long"), ("ucm", "long")],
)
def test_intervals_are_calibrated_on_simulated_series(simulated, model: str, length: str) -> None:
    """Known process: 200 random walks with drift on the log scale (see ``_random_walks``),
    fitted on their first 12 (naive) or 80 values and scored on the next 3: 600 held-out values.

    Every model nests this process. The naive baseline is calibrated on short series; the
    statsmodels models plug in maximum-likelihood parameters (their intervals ignore parameter
    uncertainty), so they are checked where estimation error is small.
    """
    data_dir, origin = simulated[length]
    result = backtest(data_dir, models=[model], origins=[origin], horizon=H)
    cases = result.cases[result.cases["model"] == model]
    assert len(cases) == 600
    assert 0.85 <= cases["in90"].mean() <= 0.95
    assert 0.43 <= cases["in50"].mean() <= 0.57


def _values(poison: bool) -> dict[str, dict[str, float]]:
    walk = _random_walks(1, 12, seed=3)["sim_000"]
    share = {str(y): 0.2 + 0.03 * (y - 2000) + 0.01 * (-1) ** y for y in range(2000, 2015)}
    series = {"capex": walk, "share": share}
    if poison:  # everything after 2010 is wild
        series = {
            sid: {p: (v * 1000 if sid == "capex" else 0.999) if int(p) > 2010 else v
                  for p, v in points.items()}
            for sid, points in series.items()
        }  # fmt: skip
    return series


def _write(directory: Path, poison: bool) -> Path:
    events = [EVENT | {"date": "2005-03-01", "event_id": "early_rule"}]
    if poison:
        events.append(EVENT | {"date": "2011-06-01", "event_id": "future_rule"})
    return write_dataset(
        directory, _values(poison), units={"share": "share"}, kinds={"share": "share"},
        events=events,
    )  # fmt: skip


def test_backtest_never_reads_after_the_origin(tmp_path: Path) -> None:
    """Identical data up to 2010, poisoned after it (values and a new event): the forecasts
    from origin 2010 must not change, for every model including ``auto``'s own selection."""
    models = ["naive", "ets", "sarimax", "ucm", "auto"]
    clean = backtest(_write(tmp_path / "clean", False), models=models, origins=[2010])
    poisoned = backtest(_write(tmp_path / "poisoned", True), models=models, origins=[2010])
    forecast_columns = ["series_id", "model", "used", "period", "mean", "q05", "q50", "q95"]
    assert len(clean.cases) == 2 * len(models) * H
    assert clean.cases[forecast_columns].equals(poisoned.cases[forecast_columns])
    assert not clean.cases["actual"].equals(poisoned.cases["actual"])


@dataclass(frozen=True)
class Spy:
    """A forecaster that records the latest year it was shown, then acts as naive."""

    seen: list
    name: ClassVar[str] = "spy"
    min_length: ClassVar[int] = 3

    def __call__(self, dataset, series_id: str, horizon: int) -> Predictive:
        events = dataset.events["date"].str[:4].astype(int)
        self.seen.append((dataset.until, dataset.observations["year"].max(), events.max()))
        return NaiveForecaster()(dataset, series_id, horizon)


def test_forecasters_only_see_data_up_to_the_origin(tmp_path: Path) -> None:
    spy = Spy([])
    result = backtest(_write(tmp_path / "data", True), models=[spy], origins=[2008, 2010])
    assert {(until, obs, event) for until, obs, event in spy.seen} == {
        (2008, 2008, 2005), (2010, 2010, 2005),
    }  # fmt: skip
    assert set(result.summary.index.get_level_values("model")) == {"naive", "spy"}


@dataclass(frozen=True)
class Fixed:
    """A plug-in forecaster with draws only: lognormal around the last value."""

    name: ClassVar[str] = "fixed"
    min_length: ClassVar[int] = 1

    def __call__(self, dataset, series_id: str, horizon: int) -> Predictive:
        history = yearly_history(dataset, series_id)
        rng = np.random.default_rng(0)
        draws = history.iloc[-1] * np.exp(0.2 * rng.standard_normal((500, horizon)))
        return Predictive(
            series_id, self.name, history.index[-1] + np.arange(1, horizon + 1), draws
        )


def test_scores_by_hand(tmp_path: Path) -> None:
    data_dir = _write(tmp_path / "data", False)
    result = backtest(data_dir, models=[Fixed()], origins=[2009], horizon=2)
    cases = result.cases[result.cases["model"] == "fixed"].set_index("period")
    history = yearly_history(load_dataset(data_dir), "capex")
    prediction = Fixed()(load_dataset(data_dir, until=2009), "capex", 2)
    row = cases[cases["series_id"] == "capex"]
    actual = history.loc[[2010, 2011]].to_numpy()
    q = prediction.quantiles
    np.testing.assert_allclose(row["log_error"], np.log(q[:, 2]) - np.log(actual))
    scale = np.abs(np.diff(history.loc[:2009].to_numpy())).mean()
    np.testing.assert_allclose(row["scaled_error"], np.abs(q[:, 2] - actual) / scale)
    np.testing.assert_array_equal(row["in50"], (q[:, 1] <= actual) & (actual <= q[:, 3]))
    np.testing.assert_array_equal(row["in90"], (q[:, 0] <= actual) & (actual <= q[:, 4]))
    np.testing.assert_allclose(row["crps"], sr.crps_ensemble(actual, prediction.draws.T))
    assert list(row["horizon"]) == [1, 2]


def test_summary_overall_and_json(tmp_path: Path) -> None:
    result = backtest(_write(tmp_path / "data", False), models=["naive", "ets"], horizon=2)
    naive = result.summary.xs("naive", level="model")
    assert (naive["crps_skill"] == 0).all()
    assert (result.summary.groupby(level="series_id")["best"].sum() == 1).all()
    assert list(result.overall.index) == ["naive", "ets"]
    assert result.overall["wins"].sum() == 2
    assert result.overall.loc["naive", "crps_skill"] == 0
    payload = json.loads(json.dumps(result.to_dict()))
    assert set(payload) == {"horizon", "overall", "summary", "skipped", "cases"}
    assert {"model", "log_error", "mase", "coverage_90", "crps_skill"} <= set(payload["overall"][0])


def test_default_series_and_origins(tmp_path: Path) -> None:
    values = {"long": _random_walks(1, 9, seed=4)["sim_000"], "brief": {"2020": 1.0, "2021": 2.0}}
    dataset = load_dataset(write_dataset(tmp_path / "data", values))
    assert backtestable_series(dataset) == ["long"]  # 12 values; "brief" has 2
    history = yearly_history(dataset, "long")
    assert default_origins(history, 6) == list(range(2005, 2011))
    result = backtest(dataset, models=["ets"], horizon=H)
    assert sorted(result.cases["origin"].unique()) == list(range(2005, 2011))
    assert result.skipped.empty


def test_origins_too_early_for_a_model_are_skipped_for_all(tmp_path: Path) -> None:
    result = backtest(_write(tmp_path / "data", False), models=["ets"], origins=[2003, 2008])
    assert set(result.cases["origin"]) == {2008}  # naive could, but comparisons stay matched
    skipped = result.skipped[result.skipped["origin"] == 2003]
    assert set(skipped["model"]) == {"ets"}
    assert skipped["reason"].str.contains("needs at least 6").all()
    late = backtest(tmp_path / "data", origins=[2020]).skipped
    assert list(late["reason"]) == ["no value in 2021-2023"] * 2


def test_bad_input(tmp_path: Path) -> None:
    data_dir = _write(tmp_path / "data", False)
    with pytest.raises(ModelError, match="horizon must be"):
        backtest(data_dir, horizon=0)
    with pytest.raises(ModelError, match="unknown model 'arima'; valid models"):
        backtest(data_dir, models=["arima"])
    with pytest.raises(DataError, match="unknown series id 'nope'"):
        backtest(data_dir, series=["nope"])
    with pytest.raises(ModelError, match="is not a forecaster"):
        backtest(data_dir, models=[len])
