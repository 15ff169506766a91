"""Lever attribution: Shapley contributions to log(ratio_us_cn) in paired draws."""

from __future__ import annotations

import numpy as np
import pytest

import forecast
from forecast.attribution import attribution_draws, shapley_weights
from forecast.errors import ScenarioError
from forecast.projection import project
from forecast.scenarios import scenario_from_dict
from tests.helpers.synthetic import synthetic_inputs


def _scenario(name: str, **levers) -> object:
    return scenario_from_dict(
        {"name": name, "description": f"test {name}", "start": 2026, "levers": levers}
    )


@pytest.fixture(scope="module")
def projection():
    scenarios = [
        _scenario("base"),
        _scenario("one", enforcement=0.6),
        _scenario("many", licensed_share=0.0, enforcement=0.6, substitution=0.2,
                  cn_wafer_capacity_growth=0.05,
                  leakage={"dist": "uniform", "lower": 0.2, "upper": 0.8}),
    ]  # fmt: skip
    return project(synthetic_inputs(n_draws=200, seed=3), scenarios, horizon=2032, seed=5)


def test_contributions_sum_to_the_total_in_every_draw(projection) -> None:
    draws = attribution_draws(projection, "many", base="base", year=2030)
    assert set(draws) == {"licensed_share", "enforcement", "substitution",
                          "cn_wafer_capacity_growth", "leakage", "total"}  # fmt: skip
    levers = sum(v for k, v in draws.items() if k != "total")
    np.testing.assert_allclose(levers, draws["total"], rtol=1e-9, atol=1e-12)
    # the total is the scenario's own change against the base, draw by draw
    i, j = projection.names.index("many"), projection.names.index("base")
    col = list(projection.years).index(2030)
    ratio = projection.values["ratio_us_cn"][:, :, col]
    np.testing.assert_allclose(draws["total"], np.log(ratio[i] / ratio[j]), rtol=1e-9)


def test_a_single_lever_scenario_attributes_everything_to_it(projection) -> None:
    draws = attribution_draws(projection, "one", base="base", year=2031)
    np.testing.assert_array_equal(draws["enforcement"], draws["total"])
    table = forecast.attribute(projection, "one", base="base", year=2031)
    assert list(table["lever"]) == ["enforcement", "total"]
    assert table.loc[0, "mean"] == pytest.approx(table.loc[1, "mean"])
    assert {"q05", "q50", "q95", "share_positive"} <= set(table.columns)


def test_shapley_weights_sum_to_one_over_orders() -> None:
    from math import comb

    for k in range(1, 8):
        weights = shapley_weights(k)
        assert sum(comb(k - 1, s) * w for s, w in weights.items()) == pytest.approx(1.0)


def test_bad_requests_are_scenario_errors(projection) -> None:
    with pytest.raises(ScenarioError, match="not in this projection"):
        forecast.attribute(projection, "nope")
    with pytest.raises(ScenarioError, match="outside"):
        forecast.attribute(projection, "one", base="base", year=2050)
