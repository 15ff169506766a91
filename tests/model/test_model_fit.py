"""Fitting the shipped data: outputs, data consistency, projection inputs, cache and CLI."""

from __future__ import annotations

import shutil
import time
import warnings

import numpy as np
import pytest
import xarray as xr

from forecast.cli import main
from forecast.core import DYNAMICS, FLOWS, NP, STOCKS, demand_flows
from forecast.data import load_dataset
from forecast.evaluation import prepare
from forecast.model import cache, fitting
from forecast.model.fitting import FitWarning, fit
from forecast.model.predict import posterior_predictive

#: A short fit: enough for means and intervals, not for the diagnostic gate.
#: Short fits: a divergence is not re-run with smaller steps (see test_divergences_trigger...).
SHORT = {"draws": 300, "tune": 300, "chains": 2, "seed": 1, "retry": False}
#: China's channels and the Epoch inputs (cumulative H100e) that measure them.
EPOCH_CHINA = {
    "licensed": {"cn_licensed_epoch": "cn_nvidia_licensed_cum_h100e"},
    "leakage": {"cn_smuggled_epoch": "cn_nvidia_smuggled_cum_h100e"},
    "domestic": {"cn_huawei_epoch": "cn_huawei_cum_h100e",
                 "cn_cambricon_epoch": "cn_cambricon_cum_h100e"},
}  # fmt: skip


def _fit(dataset, directory, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        return fit(dataset, cache_dir=directory, **{**SHORT, **kwargs})


@pytest.fixture(scope="module")
def shipped():
    return load_dataset()


@pytest.fixture(scope="module")
def cold(shipped, tmp_path_factory):
    """A short fit of the shipped data in a fresh cache directory."""
    directory = tmp_path_factory.mktemp("cache")
    return _fit(shipped, directory), directory


@pytest.fixture
def no_sampling(monkeypatch, cold):
    """Make sampling instant (returns the cold fit's posterior) and count the calls."""
    calls = []

    def fake(model, settings, directory=None):
        calls.append(settings)
        return cold[0].idata

    monkeypatch.setattr(fitting, "sample_model", fake)
    return calls


@pytest.mark.slow
def test_fit_outputs(cold):
    result, _ = cold
    assert not result.from_cache
    table = result.diagnostics()
    assert list(table.columns) == ["parameter", "r_hat", "ess_bulk", "ess_tail"]
    assert table.attrs["divergences"] == result.divergences
    frame = result.stocks_flows()
    assert list(frame.columns) == [
        "country", "channel", "measure", "year", "mean", "q05", "q25", "q50", "q75", "q95",
    ]  # fmt: skip
    last = frame[(frame.year == 2025) & (frame.measure == "stock")].set_index("channel")
    assert (last["q05"] > 0).all() and (last["q05"] < last["q95"]).all()
    china = last.loc[["licensed", "leakage", "domestic"]]
    cn_total = frame[(frame.country == "CN") & (frame.channel == "total")]
    assert cn_total[(cn_total.year == 2025) & (cn_total.measure == "stock")]["mean"].item() == (
        pytest.approx(china[china.index != "total"]["mean"].sum())
    )
    assert {"mean", "sd"} <= set(result.summary().columns)


def _epoch_band(dataset, series_id: str, sd: float) -> tuple[float, float]:
    """Epoch's 2025 p5-p95, or for a point estimate (Huawei) the observation's 90 % band."""
    row = dataset.history(series_id).set_index("period").loc["2025-Q4"]
    if np.isnan(row["low"]):
        return row["value"] * np.exp(-1.645 * sd), row["value"] * np.exp(1.645 * sd)
    return row["low"], row["high"]


@pytest.mark.slow
@pytest.mark.parametrize("channel", list(EPOCH_CHINA))
def test_china_2025_reproduces_epoch_chip_counts(cold, shipped, channel):
    """The model must not fight its own data: each 2025 channel inside Epoch's p5-p95."""
    check = cold[0].observation_check().query("period == '2025-Q4'").set_index("link")
    model, low, high = 0.0, 0.0, 0.0
    for link, series_id in EPOCH_CHINA[channel].items():
        band = _epoch_band(shipped, series_id, check.loc[link, "sd"])
        model, low, high = model + check.loc[link, "model_q50"], low + band[0], high + band[1]
    assert low <= model <= high, (channel, low, model, high)


@pytest.mark.slow
def test_projection_inputs_satisfy_the_identities(cold):
    inputs = cold[0].projection_inputs(n_draws=200, seed=4)
    h, p = inputs.hist, inputs.dynamics
    assert h["us_h100e"].shape == (200, len(inputs.years)) and inputs.years[-1] == 2026
    assert inputs.years[inputs.n_full - 1] == 2025
    assert set(p) == set(DYNAMICS) and all(v.shape == (200,) for v in p.values())
    want = demand_flows(NP, h)
    for flow in FLOWS:
        np.testing.assert_allclose(h[flow], want[flow], rtol=1e-9)
    keep = 1 - p["retirement"][:, None]
    for stock, flow in STOCKS.items():
        np.testing.assert_allclose(h[stock][:, 1:], keep * h[stock][:, :-1] + h[flow][:, 1:],
                                   rtol=1e-9)  # fmt: skip


@pytest.mark.slow
def test_model_forecast_stays_inside_the_limits(cold):
    """The posterior predictive to 2035: guidance honoured, every flow within its limit."""
    forecast = posterior_predictive(cold[0], horizon=2035, draws=400, seed=3)
    years = list(forecast["years"])
    capex_2026 = np.median(forecast["us_capex_usd_bn"][:, years.index(2026)])
    assert 600 < capex_2026 < 720  # the five firms' guidance: 650-690 bn
    world = prepare(cold[0], 2035, 3, 400).world
    assert np.all(forecast["us_power_gw"][:, world.limited]
                  <= world.drivers["us_power_gw"][:, world.limited] * (1 + 1e-9))  # fmt: skip
    assert np.all(
        forecast["us_capex_usd_bn"][:, world.limited]
        <= world.drivers["us_capex_ceiling_usd_bn"][:, world.limited] * (1 + 1e-9)
    )
    growth = np.log(forecast["us_h100e"][:, -1] / forecast["us_h100e"][:, years.index(2030)])
    assert np.median(growth) / 5 < 0.5  # no unbounded exponential: < 65 %/yr after 2030


@pytest.mark.slow
def test_cache_hit_is_fast_and_identical(cold, shipped):
    result, directory = cold
    start = time.perf_counter()
    again = _fit(shipped, directory)
    warm = time.perf_counter() - start
    assert again.from_cache and again.cache_path == result.cache_path
    assert warm * 20 < result.seconds, (warm, result.seconds)
    np.testing.assert_array_equal(
        again.idata.posterior["us_h100e"].values, result.idata.posterior["us_h100e"].values
    )


@pytest.mark.slow
def test_a_real_fit_round_trips_through_save_and_load(cold, shipped, tmp_path):
    """The model object's file of a sampled fit: the cache entry, and loaded back equal."""
    from forecast.model.fitting import StockFlowModel

    result, _ = cold
    model = StockFlowModel(settings={k: v for k, v in SHORT.items() if k != "retry"})
    loaded = model.load(model.save(result, tmp_path / "fit.nc"), shipped)
    entry = model.load(result.cache_path, shipped)
    for other in (loaded, entry):
        xr.testing.assert_identical(other.idata.posterior, result.idata.posterior)
        for name, values in result.idata.sample_stats.data_vars.items():  # NetCDF-3 dtypes
            np.testing.assert_array_equal(other.idata.sample_stats[name].values, values.values)
        assert other.settings == result.settings and other.config == result.config
        assert other.free_variables == result.free_variables


@pytest.mark.slow
def test_cache_misses_on_changed_data_settings_and_version(cold, no_sampling, monkeypatch):
    _, directory = cold
    _fit(load_dataset(until=2024), directory)
    _fit(load_dataset(), directory, seed=2)
    monkeypatch.setattr(cache, "__version__", "999.0")
    _fit(load_dataset(), directory)
    assert len(no_sampling) == 3


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "truncated", "damaged", "stale"])
def test_unusable_cache_file_is_ignored_and_rebuilt(cold, shipped, no_sampling, tmp_path, damage):
    result, directory = cold
    copy = tmp_path / "cache"
    shutil.copytree(directory, copy)
    path = copy / result.cache_path.relative_to(directory)
    if damage == "garbage":
        path.write_bytes(b"not a netcdf file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "damaged":  # readable, but some stored values are overwritten
        raw = bytearray(path.read_bytes())
        raw[-4096:-4000] = bytes(255 - b for b in raw[-4096:-4000])
        path.write_bytes(bytes(raw))
    else:  # a valid file written for other inputs
        other = _fit(load_dataset(until=2023), copy)
        shutil.copyfile(other.cache_path, path)
        no_sampling.clear()
    with pytest.warns(cache.CacheWarning, match="ignoring"):
        rebuilt = _fit(shipped, copy)
    assert len(no_sampling) == 1 and not rebuilt.from_cache
    assert _fit(shipped, copy).from_cache  # rewritten: the next call hits
    assert not list(path.parent.glob(".*.tmp"))  # atomic writes leave no temporary files


@pytest.mark.slow
def test_same_seed_gives_identical_draws(shipped, tmp_path):
    tiny = {"draws": 30, "tune": 30, "refit": True}
    first = _fit(shipped, tmp_path / "a", **tiny)
    second = _fit(shipped, tmp_path / "b", **tiny)
    for name in ("retirement", "us_h100e"):
        np.testing.assert_array_equal(
            first.idata.posterior[name].values, second.idata.posterior[name].values
        )


@pytest.mark.slow
def test_cli_fit_prints_tables_and_gate_exit_code(cold, capsys):
    result, directory = cold
    args = ["fit", "--draws", "300", "--tune", "300", "--chains", "2", "--seed", "1"]
    code = main([*args, "--cache-dir", str(directory)])
    out = capsys.readouterr().out
    assert code == (0 if result.passed else 3)
    assert "diagnostics" in out and "posterior stocks" in out and str(result.cache_path) in out


def test_unknown_sampler_is_a_clear_error(tmp_path):
    assert main(["fit", "--sampler", "stan", "--cache-dir", str(tmp_path)]) == 2


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::forecast.model.fitting.FitWarning")
def test_bayes_forecaster_predicts_linked_series(cold, shipped):
    from forecast.errors import ModelError
    from forecast.model.predict import BayesForecaster
    from forecast.registry import get_forecaster

    assert isinstance(get_forecaster("bayes"), BayesForecaster)
    _, directory = cold
    options = (*((k, v) for k, v in SHORT.items() if k != "seed"), ("cache_dir", directory))
    forecaster = BayesForecaster(seed=SHORT["seed"], n_draws=300, fit_options=options)
    capex = forecaster(shipped, "msft_capex_usd_bn", 2)  # one company: total x its share
    assert capex.periods.tolist() == [2026, 2027]
    assert 0.5 < capex.quantiles[0, 2] / 64.551 < 3.0  # around FY2025's 64.6 bn
    stock = forecaster(shipped, "clusters_us_h100e", 1)
    assert (stock.draws > 0).all() and stock.quantiles[0, 0] < stock.quantiles[0, 4]
    with pytest.raises(ModelError, match="does not measure"):
        forecaster(shipped, "clusters_us_share", 1)


@pytest.mark.slow
def test_divergences_trigger_one_rerun_with_smaller_steps(cold, shipped, monkeypatch, tmp_path):
    """A fit with divergent transitions is sampled again at RETRY_TARGET_ACCEPT, once."""
    calls = []
    diverged = cold[0].idata.copy()
    diverged.sample_stats["diverging"][:] = False
    diverged.sample_stats["diverging"][0, 0] = True

    def fake(model, settings, directory=None):
        calls.append(settings.target_accept)
        return diverged if len(calls) == 1 else cold[0].idata

    monkeypatch.setattr(fitting, "sample_model", fake)
    monkeypatch.setattr(fitting, "_slim", lambda idata, model: idata)
    with pytest.warns(FitWarning, match="sampling again at 0.98"):
        result = fit(shipped, cache_dir=tmp_path, **{**SHORT, "retry": True})
    assert calls == [0.95, fitting.RETRY_TARGET_ACCEPT]
    assert result.settings["target_accept"] == fitting.RETRY_TARGET_ACCEPT
