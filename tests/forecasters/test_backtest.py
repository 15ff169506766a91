"""Backtest harness: calibration on simulated series, leakage, metrics and plugging in models."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
from scipy import special, stats

from forecast import DataError, ModelError, UsageError, load_dataset
from forecast.backtest import (
    DEFAULT_MODELS,
    SCORING_COLUMNS,
    backtest,
    backtestable_series,
    default_origins,
    ensemble_log_score,
    penalised_crps,
)
from forecast.baselines import (
    QUANTILE_COLUMNS,
    BaseForecaster,
    Calibration,
    EtsForecaster,
    History,
    NaiveForecaster,
    Predictive,
    SarimaxForecaster,
    calibration,
    calibration_scores,
    conformal_quantile,
    yearly_history,
)
from forecast.paths import shipped_dir
from forecast.registry import MODELS
from tests.helpers.datasets import EVENT, write_dataset

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
    statsmodels models' own intervals (``calibrate=False``) plug in maximum-likelihood
    parameters (they ignore parameter uncertainty), so they are checked where estimation error
    is small. (Calibrated intervals are checked on the shipped backtest.)
    """
    data_dir, origin = simulated[length]
    forecaster = MODELS[model]() if model == "naive" else MODELS[model](calibrate=False)
    result = backtest(data_dir, models=[forecaster], origins=[origin], horizon=H)
    cases = result.cases[result.cases["model"] == forecaster.alias]
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
    forecast_columns = ["series_id", "model", "used", "period", "mean", "q05", "q50", "q95", "note"]
    assert len(clean.cases) == 2 * len(models) * H
    assert clean.cases[forecast_columns].equals(poisoned.cases[forecast_columns])
    assert not clean.cases["actual"].equals(poisoned.cases["actual"])


@dataclass(frozen=True)
class Spy:
    """A forecaster that records the latest year it was shown, then acts as naive (an
    old-style callable forecaster: the backtest still takes those)."""

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
class Fixed(BaseForecaster):
    """A plug-in forecaster with draws only: lognormal around the last value."""

    name: ClassVar[str] = "fixed"
    min_length: ClassVar[int] = 1

    def fit(self, history: History) -> Fixed:
        self._remember(history)
        return self

    def predictive(self, horizon: int) -> Predictive:
        history = self._fitted()
        rng = np.random.default_rng(0)
        draws = history.values.iloc[-1] * np.exp(0.2 * rng.standard_normal((500, horizon)))
        periods = history.values.index[-1] + np.arange(1, horizon + 1)
        return Predictive(history.series_id, self.alias, periods, draws)


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
    np.testing.assert_allclose(row["log_score"], ensemble_log_score(actual, prediction.draws.T))
    assert list(row["horizon"]) == [1, 2]


def test_penalised_crps_ranks_coverage_too() -> None:
    """Mean CRPS x (1 + |coverage_90 - 0.9|): sharper but missing loses to honest."""
    crps, coverage = pd.Series([1.0, 1.1, 1.2]), pd.Series([0.5, 0.9, 1.0])
    np.testing.assert_allclose(penalised_crps(crps, coverage), [1.4, 1.1, 1.32])


def test_ensemble_log_score_is_scoringrules_kernel_estimate_without_underflow() -> None:
    draws = np.random.default_rng(2).lognormal(3.0, 0.3, size=(3, 2000))
    observed = np.array([20.0, 35.0, 1e4])  # the last: ~7000 bandwidths out
    scores = ensemble_log_score(observed, draws)
    expected = np.asarray(sr.logs_ensemble(observed[:2], draws[:2]))
    np.testing.assert_allclose(scores[:2], expected, rtol=1e-9)
    with np.errstate(divide="ignore"):
        assert np.isinf(sr.logs_ensemble(observed[2:], draws[2:])[0])
    assert 1e6 < scores[2] < np.inf


def test_scoring_table_is_tidy_and_one_seed_fixes_it(tmp_path: Path) -> None:
    """Issue 12's columns, one row per scored forecast; the same seed gives the same table,
    another seed other draws. The naive's log score (kernel density on 2000 draws) is within
    0.1 of its exact lognormal one where the outcome lies inside the 50 % interval."""
    data_dir = _write(tmp_path / "data", False)
    result = backtest(data_dir, models=["naive", "ets"], origins=[2009, 2011], seed=3)
    table = result.scoring_table()
    assert tuple(table.columns) == SCORING_COLUMNS
    assert len(table) == len(result.cases) == 2 * 2 * 2 * H
    assert table["covered90"].equals(result.cases["in90"].reset_index(drop=True))
    again = backtest(data_dir, models=["naive", "ets"], origins=[2009, 2011], seed=3)
    pd.testing.assert_frame_equal(table, again.scoring_table())
    other = backtest(data_dir, models=["naive", "ets"], origins=[2009, 2011], seed=4)
    assert not np.isclose(table["crps"], other.scoring_table()["crps"]).any()
    naive = table[(table["model"] == "naive") & (table["target"] == "capex") & table["covered50"]]
    logs = np.log(naive[["q05", "q50", "q95"]].to_numpy())
    sd = (logs[:, 2] - logs[:, 0]) / (2 * stats.norm.ppf(0.95))
    y = np.log(naive["observed"].to_numpy())
    exact = y - stats.norm.logpdf(y, logs[:, 1], sd)  # minus the lognormal log density
    assert len(naive) >= 3
    np.testing.assert_allclose(naive["log_score"], exact, atol=0.1)


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


@pytest.mark.parametrize(
    ("n", "level", "rank"), [(19, 0.9, 18), (69, 0.9, 63), (9, 0.9, 9), (9, 0.5, 5), (3, 0.5, 2)]
)
def test_conformal_quantile_is_the_finite_sample_rank(n: int, level: float, rank: int) -> None:
    """The ceil((n + 1) level)-th smallest score; scores given in any order."""
    scores = np.random.default_rng(n).permutation(np.arange(1.0, n + 1))
    assert conformal_quantile(scores, level) == rank


def test_conformal_quantile_needs_enough_scores_and_covers_exactly() -> None:
    """Fewer than 9 scores: no finite 90 % bound. With 19 exchangeable scores a new one is at
    or below the quantile with probability exactly 18/20 = 0.9 (40 000 trials: sd 0.0015)."""
    assert conformal_quantile(np.arange(8.0), 0.9) == np.inf
    assert conformal_quantile(np.empty(0), 0.9) == np.inf
    draws = np.random.default_rng(5).standard_normal((40_000, 20))
    covered = [new <= conformal_quantile(calib, 0.9) for *calib, new in draws]
    assert abs(np.mean(covered) - 0.9) < 0.006


def test_calibration_scores_are_the_backtests_own_errors(tmp_path: Path) -> None:
    """The scores behind ETS's calibration on a dataset are the standardised errors of an
    uncalibrated ETS backtest on that dataset, |t(y) - centre| / max(sd_ets, sd_naive), every
    origin, both series (log and logit scale); the factor is max(1, quantile / z_0.95)."""
    data_dir = _write(tmp_path / "data", False)
    dataset = load_dataset(data_dir)
    ets = EtsForecaster()
    result = backtest(data_dir, models=[EtsForecaster(calibrate=False, alias="ets")], horizon=H)
    cases = result.cases.set_index(["series_id", "origin", "period", "model"])
    t = np.where(cases.index.get_level_values("series_id") == "share", special.logit, np.log)
    transformed = {col: np.array([f(v) for f, v in zip(t, cases[col])]) for col in
                   ("actual", "q05", "q50", "q95")}  # fmt: skip
    frame = pd.DataFrame(transformed, index=cases.index)
    sd = (frame["q95"] - frame["q05"]) / (2 * stats.norm.ppf(0.95))
    spread = np.maximum(sd.xs("ets", level="model"), sd.xs("naive", level="model"))
    centre = frame["q50"].xs("ets", level="model")
    expected = np.abs(frame["actual"].xs("ets", level="model") - centre) / spread
    scores = calibration_scores(ets, dataset, H)
    assert len(scores) == len(expected) == 2 * (7 * H + 2 + 1)  # origins 2005-2013 of 2000-2014
    np.testing.assert_allclose(np.sort(scores), np.sort(expected), rtol=1e-9)
    widening = calibration(ets, dataset, H)
    quantile = np.sort(scores)[int(np.ceil(0.9 * (len(scores) + 1))) - 1]
    assert widening.quantile == quantile
    assert widening.factor == max(1.0, quantile / stats.norm.ppf(0.95))
    assert f"{len(scores)} earlier-origin errors" in ets(dataset, "capex", H).note
    early = load_dataset(data_dir, until=2006)  # one origin (2005), one error per series
    assert calibration(ets, early, H) == Calibration(1.0, 2, np.inf)
    assert "2 earlier-origin errors, too few" in ets(early, "capex", H).note


@pytest.mark.slow
def test_calibrated_intervals_cover_80_to_95_percent_on_the_shipped_backtest() -> None:
    """Shipped data, default models and auto, default origins (69 forecasts per model,
    origins 2020-2024).

    Measured when calibration was added (90 % / 50 % intervals): naive 58/69 and 35/69; ets
    62 and 45 (statsmodels' own intervals: 34 and 20); sarimax 58 and 38 (own: 34 and 17);
    ucm 60 and 43 (own: 44 and 27); auto 58 and 39.
    """
    cases = backtest(models=[*DEFAULT_MODELS, "auto"]).cases
    calibrated = cases.groupby("model")["in90"].agg(["sum", "size"])
    assert set(calibrated.index) == {*DEFAULT_MODELS, "auto"}
    assert (calibrated["size"] >= 60).all()
    share = calibrated["sum"] / calibrated["size"]
    assert share.between(0.80, 0.95).all(), calibrated
    raw = [MODELS[name](calibrate=False, alias=name) for name in ("ets", "sarimax")]
    own = backtest(models=raw).cases.groupby("model")["in90"].mean()
    assert (own[["ets", "sarimax"]] < 0.6).all(), own  # why calibration exists


ORIGIN = 2021


def _poison(data_dir: Path, rows: list[int] | None = None) -> Path:
    """Poison ``data_dir`` in place after :data:`ORIGIN`: observations (``rows``: positions
    among those after it; None: all of them, plus every GPU cluster first operational after it
    and a new export-control event) are scaled, shares halved and everything else tripled."""
    path = data_dir / "observations.csv"
    obs = pd.read_csv(path, dtype=str, keep_default_na=False)
    series = pd.read_csv(data_dir / "series.csv", dtype=str).set_index("series_id")["unit"]
    after = np.flatnonzero(obs["period"].str[:4].astype(int) > ORIGIN)
    for i in after if rows is None else after[rows]:
        factor = 0.5 if series[obs.at[i, "series_id"]] == "share" else 3.0
        for column in ("value", "low", "high"):
            if obs.at[i, column]:
                obs.at[i, column] = repr(float(obs.at[i, column]) * factor)
    obs.to_csv(path, index=False)
    if rows is None:
        clusters_path = data_dir / "epoch" / "gpu_clusters.csv"
        clusters = pd.read_csv(clusters_path, dtype=str, keep_default_na=False)
        late = pd.to_datetime(clusters["First Operational Date"], errors="coerce").dt.year > ORIGIN
        late &= clusters["H100 equivalents"] != ""
        h100e = pd.to_numeric(clusters.loc[late, "H100 equivalents"])
        clusters.loc[late, "H100 equivalents"] = (3 * h100e).map(repr)
        clusters.to_csv(clusters_path, index=False)
        events = pd.read_csv(data_dir / "events.csv", dtype=str, keep_default_na=False)
        late_rule = events.iloc[[0]].assign(date=f"{ORIGIN + 1}-06-01", event_id="future_rule")
        pd.concat([events, late_rule]).to_csv(data_dir / "events.csv", index=False)
    return data_dir


def test_poisoning_any_observation_after_the_origin_leaves_the_as_of_data_alone(
    tmp_path: Path,
) -> None:
    """Shipped data; each of 4 observations after 2021 picked at random (seeded) poisoned on
    its own: ``load_dataset(until=2021)`` is identical, the full data is not."""
    data_dir = shutil.copytree(shipped_dir("data"), tmp_path / "data")
    original = (data_dir / "observations.csv").read_bytes()
    clean, full = load_dataset(until=ORIGIN).fingerprint, load_dataset().fingerprint
    after = pd.read_csv(data_dir / "observations.csv")["period"].str[:4].astype(int) > ORIGIN
    for row in np.random.default_rng(12).choice(after.sum(), 4, replace=False):
        (data_dir / "observations.csv").write_bytes(original)
        _poison(data_dir, [row])
        assert load_dataset(data_dir, until=ORIGIN).fingerprint == clean
        assert load_dataset(data_dir).fingerprint != full


def test_poisoning_everything_after_the_origin_changes_no_forecast_at_it(tmp_path: Path) -> None:
    """Shipped data with every observation, cluster and event after 2021 poisoned: the default
    models' forecasts from 2021, intervals and calibration notes included, are unchanged."""
    poisoned = _poison(shutil.copytree(shipped_dir("data"), tmp_path / "data"))
    clean_cases = backtest(origins=[ORIGIN]).cases
    poisoned_cases = backtest(poisoned, origins=[ORIGIN]).cases
    columns = ["series_id", "model", "period", "mean", *QUANTILE_COLUMNS, "note"]
    assert len(clean_cases) >= 4 * 10
    pd.testing.assert_frame_equal(clean_cases[columns], poisoned_cases[columns])
    assert (clean_cases["actual"] != poisoned_cases["actual"]).all()


def test_two_sarimax_orders_in_one_backtest_are_both_reported(tmp_path: Path) -> None:
    """Forecasters are configured instances: two SARIMAX of different orders keep their own
    aliases, rows and numbers (a name per class would have merged them into one)."""
    data_dir = _write(tmp_path / "data", False)
    models = [SarimaxForecaster(), SarimaxForecaster(order=(2, 1, 0))]
    result = backtest(data_dir, models=models, origins=[2010, 2011], horizon=2)
    assert list(result.overall.index) == ["naive", "sarimax", "sarimax(2,1,0)"]
    assert set(result.summary.index) == {
        (s, m) for s in ("capex", "share") for m in ("naive", "sarimax", "sarimax(2,1,0)")
    }
    cases = result.cases.set_index(["series_id", "origin", "period", "model"]).sort_index()
    first = cases.xs("sarimax", level="model")
    second = cases.xs("sarimax(2,1,0)", level="model")
    assert len(first) == len(second) == 2 * 2 * 2
    assert (first["used"] == "sarimax").all() and (second["used"] == "sarimax(2,1,0)").all()
    assert not np.allclose(first["q50"], second["q50"])


def test_aliases_must_differ_in_a_run(tmp_path: Path) -> None:
    data_dir = _write(tmp_path / "data", False)
    message = r"models: alias 'sarimax' is used by 2 forecasters; aliases must be unique"
    with pytest.raises(UsageError, match=message):
        backtest(
            data_dir,
            models=[SarimaxForecaster(), SarimaxForecaster(order=(2, 1, 0), alias="sarimax")],
        )
    with pytest.raises(UsageError, match="alias 'ets' is used by 2"):
        backtest(data_dir, models=["ets", EtsForecaster(seed=4)])  # seeds are not in aliases
    mine = [SarimaxForecaster(alias="sarimax-a"), SarimaxForecaster(seed=1, alias="sarimax-b")]
    result = backtest(data_dir, models=mine, origins=[2010], horizon=1)
    assert list(result.overall.index) == ["naive", "sarimax-a", "sarimax-b"]


def test_fallback_forecasts_too_short_origins_with_naive(tmp_path: Path) -> None:
    """The orchestrator owns the fallback: at an origin too early for ETS it forecasts with
    naive instead of skipping, and says so."""
    data_dir = _write(tmp_path / "data", False)
    result = backtest(data_dir, models=["ets"], origins=[2003, 2008], fallback=True)
    assert result.skipped.empty
    early = result.cases[(result.cases["origin"] == 2003) & (result.cases["model"] == "ets")]
    assert len(early) == 2 * H and set(early["used"]) == {"naive"}
    assert (
        early["note"]
        .str.fullmatch("ets needs 6 values, the series has 4: fell back to naive")
        .all()
    )
    late = result.cases[(result.cases["origin"] == 2008) & (result.cases["model"] == "ets")]
    assert set(late["used"]) == {"ets"}
