"""The model object: merged configuration, build, fit through the cache, save and load.

Sampling is replaced by a small fake posterior (the model is still built on the shipped data);
``tests/model/test_model_fit.py`` round-trips a real fit through save and load.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict

import arviz as az
import numpy as np
import pytest
import xarray as xr

import forecast
from forecast.data import load_dataset
from forecast.errors import FitError, OutputError, UsageError
from forecast.model import cache, fitting
from forecast.model.config import model_config
from forecast.model.fitting import FitSettings, FitWarning, StockFlowModel

OVERRIDES = {"priors": {"retirement": {"mu": 0.25}}, "start_year": 2016}
#: Settings of the fake fits (never sampled: see ``fake_sampling``).
SETTINGS = {"draws": 20, "tune": 20, "chains": 1, "seed": 5}


def fake_posterior(seed: int = 0) -> az.InferenceData:
    rng = np.random.default_rng(seed)
    idata = az.from_dict(
        posterior={"retirement": rng.random((1, 20)), "us_h100e": rng.random((1, 20, 4))},
        sample_stats={"diverging": np.zeros((1, 20), dtype=bool)},
    )
    idata.posterior.attrs["free_variables"] = "retirement"
    return idata


@pytest.fixture(scope="module")
def shipped():
    return load_dataset()


def fake_sampler(model, settings, directory=None) -> az.InferenceData:
    return fake_posterior(settings.seed)


@pytest.fixture
def no_sampling(monkeypatch):
    """Any sampling fails the test: what follows must come from the cache."""

    def refuse(model, settings, directory=None):
        raise AssertionError("sampled instead of reading the cache")

    monkeypatch.setattr(fitting, "sample_model", refuse)


def quiet(call, *args, **kwargs):
    """``call`` with the gate's FitWarning (a fake posterior misses it) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        return call(*args, **kwargs)


@pytest.fixture(scope="module")
def fitted(shipped, tmp_path_factory):
    """A fit through ``forecast.fit`` (the model built, sampling faked: :func:`fake_sampler`)
    in a fresh cache directory."""
    directory = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fitting, "sample_model", fake_sampler)
        patch.setattr(fitting, "_slim", lambda idata, model: idata)
        return quiet(forecast.fit, shipped, cache_dir=directory, **SETTINGS), directory


def test_config_is_the_defaults_merged_with_the_users() -> None:
    model = StockFlowModel(OVERRIDES)
    assert model.config == model_config(OVERRIDES)
    assert model.config_key == model_config(OVERRIDES).key() != model_config().key()
    assert model.config.priors["retirement"]["mu"] == 0.25 and model.config.start_year == 2016
    changed = {"retirement", "start_year"}
    default = model_config()
    assert {k: v for k, v in model.config.priors.items() if k not in changed} == {
        k: v for k, v in default.priors.items() if k not in changed
    }
    assert StockFlowModel().config == default
    assert StockFlowModel(default).config is default
    assert StockFlowModel(settings={"seed": 3}).settings == FitSettings(seed=3)
    assert StockFlowModel().settings == FitSettings()


@pytest.mark.parametrize(
    ("config", "settings", "match"),
    [
        ({"no_such_field": 1}, None, "no_such_field"),
        (None, {"no_such_setting": 1}, "no_such_setting"),
        (None, {"sampler": "stan"}, "unknown sampler"),
        (None, [("seed", 1)], "FitSettings or a dict"),
    ],
)
def test_bad_configuration_or_settings_are_usage_errors(config, settings, match) -> None:
    with pytest.raises(UsageError, match=match):
        StockFlowModel(config, settings)


def test_build_gives_the_pymc_model(shipped) -> None:
    import pymc as pm

    model = StockFlowModel().build(shipped)
    assert isinstance(model, pm.Model)
    assert "retirement" in {v.name for v in model.free_RVs}
    with pytest.raises(UsageError, match="Dataset"):
        StockFlowModel().build("data/")


def test_fit_is_the_model_objects_fit_and_uses_the_cache(fitted, shipped, no_sampling) -> None:
    result, directory = fitted
    assert not result.from_cache and result.data_fingerprint == shipped.fingerprint
    assert isinstance(result.idata, az.InferenceData)
    key = cache.cache_key(shipped.fingerprint, model_config().key(), result.settings)
    assert result.cache_path == cache.cache_path(key, directory)  # the key as before
    model = StockFlowModel(settings=SETTINGS)
    again = quiet(model.fit, shipped, cache_dir=directory)
    assert again.from_cache and again.cache_path == result.cache_path
    xr.testing.assert_identical(again.idata.posterior, result.idata.posterior)
    assert again.settings == result.settings == asdict(FitSettings(**SETTINGS))


def test_the_cache_entry_is_the_file_save_writes(fitted, shipped, tmp_path) -> None:
    result, _ = fitted
    model = StockFlowModel(settings=SETTINGS)
    copy = model.save(result, tmp_path / "fit.nc")
    _, entry = cache.read(result.cache_path)
    _, saved = cache.read(copy)
    ignore = {"posterior__created_at", "sample_stats__created_at"}
    assert {k: v for k, v in entry.items() if k not in ignore} == {
        k: v for k, v in saved.items() if k not in ignore
    }
    assert entry[fitting.CONFIG_ATTR] == model.config_key
    assert entry[fitting.VERSION_ATTR] == forecast.__version__
    assert entry[fitting.DATA_ATTR] == shipped.fingerprint
    loaded = model.load(result.cache_path, shipped)  # a cache entry loads strictly
    xr.testing.assert_identical(loaded.idata.posterior, result.idata.posterior)


def test_save_load_round_trip(fitted, shipped, tmp_path) -> None:
    result, _ = fitted
    model = StockFlowModel(settings=SETTINGS)
    path = model.save(result, tmp_path / "fit.nc")
    loaded = model.load(path, shipped)
    for group in ("posterior", "sample_stats"):
        for name in result.idata[group].data_vars:
            np.testing.assert_array_equal(
                loaded.idata[group][name].values, result.idata[group][name].values
            )
    assert loaded.free_variables == result.free_variables
    assert loaded.config == result.config and loaded.config.key() == result.config.key()
    assert loaded.settings == result.settings
    assert loaded.data_fingerprint == shipped.fingerprint
    assert loaded.from_cache and loaded.cache_path == path
    np.testing.assert_array_equal(loaded.design.years, result.design.years)


def test_a_saved_fit_copied_into_the_cache_is_found(fitted, shipped, tmp_path, no_sampling):
    result, _ = fitted
    directory = tmp_path / "cache"
    cache.prepare(directory)
    StockFlowModel(settings=SETTINGS).save(result, directory / "fits" / result.cache_path.name)
    again = quiet(forecast.fit, shipped, cache_dir=directory, **SETTINGS)
    assert again.from_cache


@pytest.fixture
def saved(fitted, tmp_path):
    return StockFlowModel(settings=SETTINGS).save(fitted[0], tmp_path / "fit.nc")


def test_load_refuses_another_configuration(saved, shipped) -> None:
    other = StockFlowModel(OVERRIDES)
    with pytest.raises(FitError, match=r"fit\.nc: saved with another configuration hash") as err:
        other.load(saved, shipped)
    assert model_config().key()[:12] in str(err.value) and other.config_key[:12] in str(err.value)
    assert "strict=False" in str(err.value)
    loaded = other.load(saved, shipped, strict=False)
    assert loaded.config == other.config and loaded.settings["seed"] == SETTINGS["seed"]


@pytest.mark.parametrize(("version", "refused"), [("0.2.0", True), ("1.1.0", True),
                                                  ("0.1.7", False)])  # fmt: skip
def test_load_refuses_another_major_minor_version(
    fitted, shipped, tmp_path, monkeypatch, version, refused
) -> None:
    monkeypatch.setattr(fitting, "__version__", version)
    path = StockFlowModel(settings=SETTINGS).save(fitted[0], tmp_path / "fit.nc")
    monkeypatch.undo()
    model = StockFlowModel()
    if refused:
        with pytest.raises(FitError, match=rf"fit\.nc: .*package version {version}"):
            model.load(path, shipped)
    else:
        model.load(path, shipped)
    assert model.load(path, shipped, strict=False).settings == fitted[0].settings


def test_load_refuses_other_data(saved) -> None:
    other = load_dataset(until=2024)
    with pytest.raises(FitError, match="data fingerprint"):
        StockFlowModel().load(saved, other)


def test_load_of_a_damaged_or_missing_file_is_a_clear_error(saved, shipped, tmp_path) -> None:
    raw = bytearray(saved.read_bytes())
    raw[-200:-100] = bytes(255 - b for b in raw[-200:-100])
    saved.write_bytes(bytes(raw))
    with pytest.raises(FitError, match=r"fit\.nc: damaged"):
        StockFlowModel().load(saved, shipped)
    saved.write_bytes(b"not a netcdf file")
    with pytest.raises(FitError, match=r"fit\.nc: unreadable"):
        StockFlowModel().load(saved, shipped, strict=False)
    with pytest.raises(UsageError, match="no such file"):
        StockFlowModel().load(tmp_path / "absent.nc", shipped)


def test_save_refuses_what_is_not_a_fit_or_a_path(fitted, tmp_path) -> None:
    with pytest.raises(UsageError, match="needs a Fit"):
        StockFlowModel().save(fake_posterior(), tmp_path / "fit.nc")
    with pytest.raises(UsageError, match="path must be a file path"):
        StockFlowModel().save(fitted[0], 3)  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="cannot be written"):
        (tmp_path / "file").write_text("x")
        StockFlowModel().save(fitted[0], tmp_path / "file" / "fit.nc")


@pytest.mark.parametrize("through", ["forecast.fit", "StockFlowModel.fit"])
def test_divergences_trigger_one_rerun_with_smaller_steps(shipped, monkeypatch, tmp_path, through):
    """As before the model object: one rerun at RETRY_TARGET_ACCEPT, warnings at the caller."""
    calls = []

    def fake(model, settings, directory=None):
        calls.append(settings.target_accept)
        idata = fake_posterior()
        idata.sample_stats["diverging"][0, 0] = len(calls) == 1
        return idata

    monkeypatch.setattr(fitting, "sample_model", fake)
    monkeypatch.setattr(fitting, "_slim", lambda idata, model: idata)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if through == "forecast.fit":
            result = forecast.fit(shipped, cache_dir=tmp_path, **SETTINGS)
        else:
            result = StockFlowModel(settings=SETTINGS).fit(shipped, cache_dir=tmp_path)
    assert calls == [0.95, fitting.RETRY_TARGET_ACCEPT]
    assert result.settings["target_accept"] == fitting.RETRY_TARGET_ACCEPT
    fit_warnings = [w for w in caught if issubclass(w.category, FitWarning)]
    assert "sampling again at 0.98" in str(fit_warnings[0].message)
    assert "misses the diagnostic gate" in str(fit_warnings[-1].message)
    assert {w.filename for w in fit_warnings} == {__file__}
