"""The model's structure without sampling: configuration, measurement design, simulator, priors."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data import load_dataset
from forecast.errors import ModelError
from forecast.model.config import EXCLUDED, ModelConfig, model_config
from forecast.model.observations import INTERVAL, LOWER, POINT, UPPER, build_design
from forecast.model.stockflow import STOCKS, draw_prior, numpy_quantities, simulate
from tests.helpers.datasets import write_dataset


@pytest.fixture(scope="module")
def shipped():
    return load_dataset()


@pytest.fixture(scope="module")
def design(shipped):
    return build_design(shipped, model_config())


def test_config_key_is_stable_and_sensitive():
    assert model_config().key() == ModelConfig().key()
    changed = model_config({"priors": {"retirement": {"mu": 0.25}}})
    assert changed.priors["retirement"]["mu"] == 0.25
    assert changed.priors["retirement"]["sigma"] == ModelConfig().priors["retirement"]["sigma"]
    assert changed.key() != model_config().key()


@pytest.mark.parametrize(
    "overrides",
    [{"priors": {"no_such_prior": {"a": 1}}}, {"priors": {"retirement": {"mean": 1}}},
     {"no_such_field": 1}, {"factors": {"nope": {}}}],
)  # fmt: skip
def test_unknown_overrides_are_clear_errors(overrides):
    with pytest.raises(ModelError, match="unknown"):
        model_config(overrides)


def test_every_linked_series_is_shipped(shipped):
    known = set(shipped.series["series_id"])
    assert [s for s in model_config().series_ids() if s not in known] == []
    assert [s for s in EXCLUDED if s not in known] == []


def test_missing_required_series_is_a_clear_error(tmp_path):
    data = write_dataset(tmp_path / "d", {"msft_capex_usd_bn": {"2020": 10.0}})
    with pytest.raises(ModelError, match="required by the model configuration"):
        build_design(load_dataset(data), model_config())


def test_missing_optional_series_are_skipped_and_noted(tmp_path):
    ids = [sid for comp in model_config().links[0].series for sid in comp[:1]]
    values = {sid: {str(y): 10.0 + y - 2015 for y in range(2015, 2021)} for sid in ids}
    design = build_design(load_dataset(write_dataset(tmp_path / "d", values)), model_config())
    assert list(design.years) == list(range(2015, 2021))
    assert set(design.obs.link) == {"us_capex"}
    assert any("cn_licensed_epoch" in note for note in design.skipped)


def test_design_years_and_observation_kinds(design):
    obs = design.obs
    # filings are complete to 2025; the five firms' 2026 guidance adds 2026 as an interval
    assert design.years[0] == 2015 and design.years[-1] == 2026
    assert design.years[design.n_full - 1] == 2025
    guided = obs.link == "us_capex_guidance"
    assert obs.kind[guided].tolist() == [INTERVAL] and obs.weights[guided, -1] == 1.0
    assert {POINT, LOWER, UPPER, INTERVAL} <= set(obs.kind)
    assert np.isfinite(obs.value[obs.kind == POINT]).all()
    assert np.isnan(obs.value[obs.kind != POINT]).all()
    assert (obs.sd > 0).all() and (obs.weights.sum(axis=1) > 0).all()
    # a range stays a range: Alphabet's 2025 guidance makes the 2025 capex total an interval
    capex_2025 = (obs.link == "us_capex") & (obs.period == "2025")
    assert obs.kind[capex_2025].tolist() == [INTERVAL]


def test_epoch_intervals_set_the_noise(design):
    obs = design.obs
    row = np.flatnonzero((obs.link == "cn_smuggled_epoch") & (obs.period == "2025-Q4"))[0]
    width = np.log(1592327 / 294087) / (2 * 1.645)  # Epoch p5/p95 -> sd on the log scale
    assert width < obs.sd[row] < width * 1.1


def test_until_cuts_years_and_interventions(shipped):
    design = build_design(load_dataset(until=2022), model_config())
    assert design.years[-1] == 2022
    assert all(event == "oct2022_ac_rule" for event, _ in design.interventions)
    assert not design.hbm_capped.any()
    # limits not known by the cut-off do not apply: no cash flow, stockpile or wafer figure
    assert design.anchors["us_ocf_usd_bn"] == np.inf and not design.wafer_plan
    assert design.anchors["hbm_stockpile_stacks"] == np.inf


def test_anchors_come_from_the_data(design):
    a = design.anchors
    assert a["us_ocf_usd_bn"] == pytest.approx(136.162 + 164.7 + 139.5 + 115.8 + 20.821)
    assert a["chip_kw_per_h100e"] == pytest.approx(1.2 / 2.5268, rel=1e-3)  # GB200
    assert a["domestic_h100e_per_die"] == pytest.approx(0.8086 / 2)
    assert a["hbm_stacks_per_h100e"] == pytest.approx(13e6 / 1.6e6 / 0.8086)
    assert design.wafer_plan == {2025: 45000.0, 2026: 60000.0, 2027: 80000.0}


def test_simulated_quantities_satisfy_the_identities(design):
    config = model_config()
    q = numpy_quantities(draw_prior(design, config, np.random.default_rng(1)), design, config)
    price = q["price_usd_per_h100e"]
    np.testing.assert_allclose(
        q["us_add"], q["us_capex_usd_bn"] * 1e9 * q["us_accel_share"] / price
    )
    restricted = q["cn_demand_usd_bn"] * 1e9 * (1 - q["licensed_share"]) / price
    np.testing.assert_allclose(q["cn_add_leakage"], q["leakage"] * restricted)
    d = None
    for stock, flow in STOCKS.items():
        k = q[stock]
        ratio = (k[1:] - q[flow][1:]) / k[:-1]
        d = 1 - ratio if d is None else d
        np.testing.assert_allclose(1 - ratio, d)


def test_prior_predictive_histories_are_plausible(design):
    """Priors give positive stocks, and totals grow sanely: 98 % of log growth in [-0.5, 2]."""
    config, rng = model_config(), np.random.default_rng(7)
    draws = [numpy_quantities(draw_prior(design, config, rng), design, config) for _ in range(500)]
    for stock in (*STOCKS, "cn_h100e"):
        paths = np.array([q[stock] for q in draws])
        assert (paths > 0).all(), stock
        if stock not in ("us_h100e", "cn_h100e"):
            continue  # a channel can start from ~0 (leakage before the controls)
        growth = np.diff(np.log(paths), axis=1)
        share_sane = np.mean((growth > -0.5) & (growth < 2.0))
        assert share_sane > 0.98, (stock, share_sane)
    capex_2025 = np.array([q["us_capex_usd_bn"][-1] for q in draws])
    assert 50 < np.median(capex_2025) < 1000  # Big-5 capex of the right order


def test_simulate_keeps_kinds_and_brackets(design):
    config = model_config()
    params = draw_prior(design, config, np.random.default_rng(3))
    simulated, truth = simulate(params, design, config, np.random.default_rng(4))
    obs = simulated.obs
    np.testing.assert_array_equal(obs.kind, design.obs.kind)
    assert np.isfinite(obs.value[obs.kind == POINT]).all()
    interval = obs.kind == INTERVAL
    np.testing.assert_allclose(
        (obs.high - obs.low)[interval], (design.obs.high - design.obs.low)[interval]
    )
    assert set(truth) >= set(STOCKS)
