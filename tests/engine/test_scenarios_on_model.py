"""The shipped scenario library on the real posterior: directions any sound model satisfies."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from forecast.data import load_dataset
from forecast.model.fitting import FitWarning, fit
from forecast.projection import project
from forecast.scenarios import scenario_from_dict


def _variant(name: str, **levers) -> object:
    return scenario_from_dict(
        {"name": name, "description": name, "extends": "status_quo", "levers": levers}
    )


@pytest.fixture(scope="module")
def projection(tmp_path_factory):
    """The shipped library plus single-lever variants, on a short fit of the shipped data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        posterior = fit(load_dataset(), draws=300, tune=300, chains=2, seed=1, retry=False,
                        cache_dir=tmp_path_factory.mktemp("cache"))  # fmt: skip
    library = [
        "status_quo", "tighten", "loosen_h200", "loosen_blackwell", "leaky",
        "domestic_breakthrough", "chip_security", "no_controls_counterfactual",
        _variant("all_leaks", leakage=1.0),
        _variant("enforced", enforcement=0.5), _variant("more_enforced", enforcement=0.9),
        _variant("weak_chip", licensed_share=0.5, allowed_perf=0.3),
        _variant("strong_chip", licensed_share=0.5, allowed_perf=0.6),
        _variant("no_licences", licensed_share=0.0),
    ]  # fmt: skip
    return project(posterior, library, horizon=2035, seed=0)


def _at(projection, scenario: str, metric: str, year: int) -> np.ndarray:
    i = projection.names.index(scenario)
    return projection.values[metric][i, :, list(projection.years).index(year)]


def _china_added(projection, scenario: str, year: int) -> np.ndarray:
    channels = ("cn_add_licensed", "cn_add_leakage", "cn_add_domestic")
    return sum(_at(projection, scenario, c, year) for c in channels)


@pytest.mark.slow
def test_policy_ordering_of_the_2030_ratio(projection) -> None:
    median = {n: np.median(_at(projection, n, "ratio_us_cn", 2030)) for n in projection.names}
    assert median["tighten"] > median["status_quo"] > median["loosen_h200"]
    assert median["loosen_h200"] > median["loosen_blackwell"]
    assert median["chip_security"] > median["status_quo"]
    ratio = {n: _at(projection, n, "ratio_us_cn", 2030) for n in projection.names}
    assert np.all(ratio["tighten"] > ratio["status_quo"])
    assert np.mean(ratio["leaky"] < ratio["status_quo"]) > 0.8


@pytest.mark.slow
def test_counterfactual_below_the_status_quo_from_2023(projection) -> None:
    for year in range(2023, 2036):
        cf = np.median(_at(projection, "no_controls_counterfactual", "ratio_us_cn", year))
        assert cf < np.median(_at(projection, "status_quo", "ratio_us_cn", year)), year


@pytest.mark.slow
def test_stronger_enforcement_never_raises_smuggling(projection) -> None:
    """In every draw and year: China's share of world supply is set against the US order,
    which the US's earlier additions do not enter, so nothing couples smuggling to them
    (docs/DESIGN.md)."""
    levels = ("status_quo", "enforced", "more_enforced")
    for year in range(2026, 2036):
        base, some, more = (_at(projection, n, "cn_add_leakage", year) for n in levels)
        assert np.all(some <= base * (1 + 1e-12)) and np.all(more <= some * (1 + 1e-12)), year
        assert np.median(more) < np.median(some) < np.median(base), year


@pytest.mark.slow
def test_a_better_licensed_chip_never_lowers_china_additions(projection) -> None:
    for year in (2026, 2030):
        weak = _china_added(projection, "weak_chip", year)
        strong = _china_added(projection, "strong_chip", year)
        assert np.all(strong >= weak * (1 - 1e-12))


@pytest.mark.slow
def test_restricting_licences_moves_demand_to_smuggling_and_domestic_chips(projection) -> None:
    """No licences: restricted dollars go to smuggling (until its capacity binds) and, in
    part, to domestic chips (until wafers or HBM bind); China adds less in total, because
    those limits keep the dollars from being spent (docs/DESIGN.md)."""
    for year in (2026, 2030):
        for channel in ("cn_add_leakage", "cn_add_domestic"):
            base = _at(projection, "status_quo", channel, year)
            assert np.all(_at(projection, "no_licences", channel, year) >= base * (1 - 1e-12))
        less = _china_added(projection, "no_licences", year)
        base = _china_added(projection, "status_quo", year)
        assert np.median(less / base) < 1.0


@pytest.mark.slow
def test_more_leakage_never_lowers_china_and_breakthrough_raises_domestic(projection) -> None:
    # More leakage means fewer unserved dollars turning to domestic chips (and domestic
    # output may be capped anyway): China gains in the bulk of draws, not in every one.
    for year in (2027, 2030, 2035):
        leaks = _at(projection, "all_leaks", "cn_h100e", year)
        base = _at(projection, "status_quo", "cn_h100e", year)
        assert np.mean(leaks >= base * (1 - 1e-9)) > 0.9 and np.median(leaks / base) >= 1.0
    boosted = _at(projection, "domestic_breakthrough", "cn_add_domestic", 2030)
    base = _at(projection, "status_quo", "cn_add_domestic", 2030)
    assert np.all(boosted >= base) and np.median(boosted / base) > 2


@pytest.mark.slow
def test_history_identical_before_start(projection) -> None:
    before = list(projection.years).index(2026)
    cf = projection.names.index("no_controls_counterfactual")
    for values in projection.values.values():
        for i, scenario_values in enumerate(values[1:], start=1):
            if i != cf:
                np.testing.assert_array_equal(scenario_values[:, :before], values[0, :, :before])
