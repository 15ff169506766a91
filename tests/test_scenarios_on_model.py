"""The shipped scenario library on the real posterior: directions any sound model satisfies."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from forecast.data import load_dataset
from forecast.model.fitting import FitWarning, fit
from forecast.projection import project
from forecast.scenarios import scenario_from_dict


@pytest.fixture(scope="module")
def projection(tmp_path_factory):
    """Every shipped scenario plus a leakage-raising variant, on a short fit of shipped data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        posterior = fit(load_dataset(), draws=300, tune=300, chains=2, seed=1,
                        cache_dir=tmp_path_factory.mktemp("cache"))  # fmt: skip
    more_leakage = scenario_from_dict(
        {"name": "all_leaks", "description": "every restricted chip leaks",
         "extends": "status_quo", "levers": {"leakage": 1.0}}
    )  # fmt: skip
    library = ["status_quo", "tighten", "loosen_h200", "leaky", "domestic_breakthrough",
               more_leakage]  # fmt: skip
    return project(posterior, library, horizon=2035, seed=0)


def _at(projection, scenario: str, metric: str, year: int) -> np.ndarray:
    i = projection.names.index(scenario)
    return projection.values[metric][i, :, list(projection.years).index(year)]


@pytest.mark.slow
def test_policy_ordering_on_paired_draws(projection) -> None:
    ratio = {n: _at(projection, n, "ratio_us_cn", 2030) for n in projection.names}
    assert np.all(ratio["tighten"] > ratio["status_quo"])
    # Where the posterior's leakage is near 1, licensing cut-down chips can displace leaked
    # full-performance ones (and free world supply for the US), so some draws may reverse;
    # the bulk must not.
    assert np.mean(ratio["status_quo"] > ratio["loosen_h200"]) > 0.9
    assert np.median(ratio["status_quo"] / ratio["loosen_h200"]) > 1.2
    assert np.mean(ratio["leaky"] < ratio["status_quo"]) > 0.8


@pytest.mark.slow
def test_more_leakage_never_lowers_china_and_breakthrough_raises_domestic(projection) -> None:
    for year in (2027, 2030, 2035):
        assert np.all(
            _at(projection, "all_leaks", "cn_h100e", year)
            >= _at(projection, "status_quo", "cn_h100e", year)
        )
    boosted = _at(projection, "domestic_breakthrough", "cn_add_domestic", 2030)
    base = _at(projection, "status_quo", "cn_add_domestic", 2030)
    assert np.all(boosted >= base) and np.median(boosted / base) > 2


@pytest.mark.slow
def test_history_identical_before_start(projection) -> None:
    before = list(projection.years).index(2026)
    for values in projection.values.values():
        for scenario_values in values[1:]:
            np.testing.assert_array_equal(scenario_values[:, :before], values[0, :, :before])
