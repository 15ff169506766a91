"""Scenario engine: identities, paired draws, history before the start, analytic gap metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from forecast import InputError, ScenarioError
from forecast.engine import _lever_arrays, baseline, project_chunk
from forecast.io import read_set
from forecast.metrics import BINDING, FLAGS, METRICS, years_behind, years_behind_censored
from forecast.projection import project
from forecast.scenarios import scenario_from_dict
from tests.helpers.synthetic import synthetic_inputs


def _scenario(name: str, start: int = 2026, **levers) -> object:
    return scenario_from_dict(
        {"name": name, "description": f"test {name}", "start": start, "levers": levers}
    )


@pytest.fixture(scope="module")
def inputs():
    return synthetic_inputs(n_draws=300, loose=True)


def _at(projection, scenario: str, metric: str, year: int) -> np.ndarray:
    i = projection.names.index(scenario)
    return projection.values[metric][i, :, list(projection.years).index(year)]


def test_years_behind_two_exponentials_with_known_lag() -> None:
    years = np.arange(2000, 2041)
    us = np.exp(0.4 * (years - 2000))
    for lag in (0.0, 2.5, 7.0):
        cn = np.exp(0.4 * (years - 2000 - lag))
        tau = years_behind(us, cn, years)
        settled = years >= 2000 + lag + 1
        np.testing.assert_allclose(tau[settled], lag, atol=1e-9)
        early = ~settled & (years > 2000)
        assert np.all(tau[early] <= lag + 1e-9)  # censored at the start of the data


def test_years_behind_is_negative_when_china_leads_and_interpolates_in_log_space() -> None:
    years = np.array([2020, 2021, 2022])
    us = np.array([[1.0, 100.0, 200.0]])
    cn = np.array([[2.0, 10.0, 300.0]])
    tau = years_behind(us, cn, years)
    assert tau[0, 1] == pytest.approx(1.0 - np.log(10.0) / np.log(100.0))
    # China leads in 2022: the US (200) is where China was between 2021 (10) and 2022 (300)
    frac = (np.log(200.0) - np.log(10.0)) / (np.log(300.0) - np.log(10.0))
    assert tau[0, 2] == pytest.approx(-(1.0 - frac))
    # 2020: China already ahead at the first year: a censored lead of 0 years
    assert tau[0, 0] == 0.0
    np.testing.assert_array_equal(years_behind_censored(us, cn, years), [[1.0, 0.0, 0.0]])


def test_years_behind_is_antisymmetric() -> None:
    years = np.arange(2000, 2021)
    a, b = np.exp(0.3 * (years - 2000)), np.exp(0.3 * (years - 2003))
    np.testing.assert_allclose(years_behind(a, b, years), -years_behind(b, a, years))


def test_status_quo_reproduces_history_and_identities(inputs) -> None:
    proj = project(inputs, [_scenario("sq")], horizon=2030)
    n_hist = len(inputs.years)
    for stock in ("us_h100e",):
        np.testing.assert_array_equal(proj.values[stock][0, :, :n_hist], inputs.hist[stock])
    h = inputs.hist
    cn_hist = h["cn_licensed_h100e"] + h["cn_leakage_h100e"] + h["cn_domestic_h100e"]
    np.testing.assert_allclose(proj.values["cn_h100e"][0, :, :n_hist], cn_hist)
    us = proj.values["us_h100e"][0]
    add = proj.values["us_add"][0]
    np.testing.assert_allclose(us[:, 1:], 0.8 * us[:, :-1] + add[:, 1:], rtol=1e-12)
    np.testing.assert_allclose(
        proj.values["ratio_us_cn"], proj.values["us_h100e"] / proj.values["cn_h100e"]
    )


def test_history_identical_across_scenarios_before_start(inputs) -> None:
    scenarios = [
        _scenario("a"), _scenario("b", start=2023, licensed_share=1.0, allowed_perf=1.0),
        _scenario("c", start=2028, leakage=0.5),
    ]  # fmt: skip
    proj = project(inputs, scenarios, horizon=2032)
    years = list(proj.years)
    for metric, values in proj.values.items():
        for i, scenario in enumerate(scenarios):
            before = years.index(scenario.start)
            np.testing.assert_array_equal(values[i, :, :before], values[0, :, :before], metric)
    # the counterfactual diverges from its start year
    assert not np.allclose(_at(proj, "b", "cn_h100e", 2023), _at(proj, "a", "cn_h100e", 2023))


def test_directional_levers_on_paired_draws(inputs) -> None:
    # Without substitution (restricted dollars never turn to domestic chips): with it, and
    # domestic supply free, dollars moved from weak licensed chips to domestic ones buy more.
    scenarios = [
        _scenario("sq", substitution=0.0),
        _scenario("tight", licensed_share=0.0, leakage=0.02, substitution=0.0),
        _scenario("loose", licensed_share=0.8, allowed_perf=0.6, substitution=0.0),
        _scenario("leakier", leakage=0.6),
        _scenario("breakthrough", domestic_growth=1.0, domestic_yield=0.6),
        _scenario("tight_substituting", licensed_share=0.0, leakage=0.02, substitution=0.8),
    ]
    proj = project(inputs, scenarios, horizon=2030)
    ratio = {s.name: _at(proj, s.name, "ratio_us_cn", 2030) for s in scenarios}
    assert np.all(ratio["tight"] > ratio["sq"])
    assert np.all(ratio["sq"] > ratio["loose"])
    more = _at(proj, "tight_substituting", "cn_add_domestic", 2030)
    assert np.all(more >= _at(proj, "tight", "cn_add_domestic", 2030))
    assert more.mean() > _at(proj, "tight", "cn_add_domestic", 2030).mean()  # where HBM allows
    assert np.all(_at(proj, "leakier", "cn_h100e", 2030) >= _at(proj, "sq", "cn_h100e", 2030))
    boosted = _at(proj, "breakthrough", "cn_add_domestic", 2030)
    base = _at(proj, "sq", "cn_add_domestic", 2030)
    assert np.all(boosted >= base)  # HBM binds: the breakthrough scenario lifts no HBM limit
    lifted = _scenario("lifted", domestic_growth=1.0, domestic_yield=0.6, hbm_cap=1e9)
    proj = project(inputs, [_scenario("sq"), lifted], horizon=2030)
    assert _at(proj, "lifted", "cn_add_domestic", 2030).mean() > 1.2 * base.mean()


def test_domestic_push_takes_out_the_controls_growth_shifts(inputs) -> None:
    """Analytic: the synthetic push adds 0.1 log a year from 2023, so without it (0) domestic
    output potential is exp(-0.1 k) of the status quo's k years after a 2022 start; 1 changes
    nothing; a 2027 start keeps what was added by 2026."""
    base = baseline(inputs, 2030, np.random.default_rng(0))
    years = base.years
    scenarios = [
        _scenario("none", start=2022, domestic_push=0.0),
        _scenario("fitted", start=2022, domestic_push=1.0),
        _scenario("late", start=2027, domestic_push=0.0),
        _scenario("double", start=2022, domestic_push=2.0),
    ]
    output = _lever_arrays(scenarios, base, seed=0)["domestic_output_h100e_potential"]
    status = base.drivers["domestic_output_h100e_potential"]
    ratio = output / status[None]
    k = np.maximum(years - 2022, 0)
    np.testing.assert_allclose(ratio[0], np.exp(-0.1 * k) * np.ones((base.n_draws, 1)))
    np.testing.assert_array_equal(ratio[1], 1.0)
    np.testing.assert_allclose(ratio[2], np.exp(-0.1 * np.maximum(years - 2026, 0)) + 0 * ratio[2])
    np.testing.assert_allclose(ratio[3], np.exp(0.1 * k) * np.ones((base.n_draws, 1)))


def test_hbm_cap_binds(inputs) -> None:
    proj = project(inputs, [_scenario("cap", hbm_cap=1000.0)], horizon=2030)
    assert np.all(_at(proj, "cap", "cn_add_domestic", 2027) == 1000.0)
    assert np.all(_at(proj, "cap", "binding_cn", 2027) == 2)  # hbm


def test_distribution_levers_pair_with_draws_and_are_seeded(inputs) -> None:
    lever = {"dist": "triangular", "lower": 0.2, "mode": 0.35, "upper": 0.6}
    s = _scenario("tri", domestic_yield=lever)
    a = project(inputs, [s], horizon=2030, seed=3)
    b = project(inputs, [s], horizon=2030, seed=3)
    c = project(inputs, [s], horizon=2030, seed=4)
    np.testing.assert_array_equal(a.values["cn_h100e"], b.values["cn_h100e"])
    assert not np.array_equal(a.values["cn_h100e"], c.values["cn_h100e"])
    # a scenario's draws do not depend on which other scenarios run beside it
    d = project(inputs, [_scenario("other", leakage=0.3), s], horizon=2030, seed=3)
    np.testing.assert_array_equal(d.values["cn_h100e"][1], a.values["cn_h100e"][0])


def test_chunking_does_not_change_results(inputs) -> None:
    scenarios = [_scenario(f"s{i}", leakage=0.05 * i) for i in range(5)]
    # two levers on one driver (domestic output), in different scenarios of a chunk
    scenarios += [_scenario("push", start=2023, domestic_push=0.0),
                  _scenario("growth", domestic_growth=0.1)]  # fmt: skip
    whole = project(inputs, scenarios, horizon=2030, chunk_size=16)
    chunked = project(inputs, scenarios, horizon=2030, chunk_size=2)
    for metric in whole.values:
        np.testing.assert_array_equal(whole.values[metric], chunked.values[metric])


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_threads_do_not_change_results(inputs, threads) -> None:
    """Threads split the draws of one kernel call (uneven splits included); every output,
    binding codes and censoring flags too, is bit-identical to one thread's."""
    scenarios = [_scenario("a", leakage=0.3), _scenario("b", enforcement=0.5, start=2027)]
    base = baseline(inputs, 2032, np.random.default_rng(3))
    one = project_chunk(scenarios, base, seed=5, threads=1)
    many = project_chunk(scenarios, base, seed=5, threads=threads)
    for name, values in one.items():
        np.testing.assert_array_equal(many[name], values, err_msg=name)


def test_baseline_holds_policy_levels_and_grows_capex(inputs) -> None:
    base = baseline(inputs, 2030, np.random.default_rng(0))
    h, p = inputs.hist, inputs.dynamics
    assert np.all(base.drivers["licensed_share"][:, -1] == h["licensed_share"][:, -1])
    growth = np.log(base.drivers["us_capex_usd_bn"][:, -1] / h["us_capex_usd_bn"][:, -1]) / 5
    # damped trend: the slope 0.2 reverts towards the long-run rate, never past it
    g, phi = p["capex_growth_longrun"], p["capex_damping"]
    expected = g + (0.2 - g) * (1 - phi**5) / (1 - phi) / 5
    assert abs(growth.mean() - expected.mean()) < 0.03


def test_summary_and_compare_shapes(inputs) -> None:
    tight = _scenario("tight", licensed_share=0.0, leakage=0.02, substitution=0.0)
    proj = project(inputs, [_scenario("sq", substitution=0.0), tight], horizon=2030)
    summary = proj.summary()
    assert list(summary.columns) == [
        "scenario", "year", "metric", "mean", "q05", "q25", "q50", "q75", "q95",
    ]  # fmt: skip
    n_rows = len(METRICS) + sum(len(v) for v in BINDING.values()) + len(FLAGS)
    assert len(summary) == 2 * len(proj.years) * n_rows
    shares = summary[summary.metric.str.startswith("binding_us_")]
    total = shares.groupby(["scenario", "year"])["mean"].sum()
    np.testing.assert_allclose(total, 1.0)  # one limit binds per draw
    row = summary.query("scenario == 'sq' and year == 2030 and metric == 'ratio_us_cn'").iloc[0]
    assert row.q05 <= row.q50 <= row.q95
    diff = proj.compare("tight", "sq", metric="ratio_us_cn", year=2030)
    assert diff.loc[0, "p_positive"] == 1.0 and diff.loc[0, "q05"] > 0
    draws = proj.draws
    assert list(draws.columns) == ["scenario", "draw", "year", "metric", "value"]
    assert len(draws) == 2 * 300 * len(proj.years) * (len(METRICS) + len(BINDING) + len(FLAGS))


def test_streamed_parquet_holds_the_draws_table_in_either_dtype(inputs, tmp_path) -> None:
    proj = project(inputs, [_scenario("sq"), _scenario("leaky", leakage=0.4)], horizon=2030)
    draws = proj.draws
    written = pd.read_parquet(proj.to_parquet(tmp_path / "draws.parquet"))
    pd.testing.assert_frame_equal(written, draws, check_dtype=False)
    assert pq.ParquetFile(tmp_path / "draws.parquet").metadata.num_row_groups == len(
        (*METRICS, *BINDING, *FLAGS)
    )  # one group per metric: memory holds one at a time
    small = pd.read_parquet(proj.to_parquet(tmp_path / "f32.parquet", dtype="float32"))
    assert small["value"].dtype == np.float32
    np.testing.assert_allclose(small["value"], draws["value"], rtol=1e-7)
    codes = draws["metric"].isin([*BINDING, *FLAGS])
    np.testing.assert_array_equal(small["value"][codes], draws["value"][codes])
    with pytest.raises(InputError, match="draws dtype must be one of float64, float32"):
        proj.to_parquet(tmp_path / "x.parquet", dtype="float16")
    assert not (tmp_path / "x.parquet").exists()


def test_run_writes_float32_draws_when_asked_and_refuses_another_dtype(forker, tmp_path) -> None:
    argv = ["run", "status_quo", "--draws", "20", "--out", "out", "--draws-dtype", "float32"]
    outcome = forker.run(argv, tmp_path, quick=True)
    assert outcome.code == 0, outcome.text
    assert read_set(tmp_path / "out")["draws_dtype"] == "float32"  # hashes checked too
    assert pd.read_parquet(tmp_path / "out" / "draws.parquet")["value"].dtype == np.float32
    outcome = forker.run([*argv[:-1], "half", "--out", "bad"], tmp_path, quick=True)
    assert outcome.code == 2 and "draws dtype must be one of float64, float32" in outcome.err
    assert not (tmp_path / "bad").exists()  # refused before fitting or writing


def test_same_seed_gives_byte_identical_summary_csv(inputs, tmp_path) -> None:
    scenarios = [_scenario("sq"), _scenario("tri", leakage={"dist": "uniform", "lower": 0.1,
                                                                "upper": 0.5})]  # fmt: skip
    paths = []
    for i, seed in enumerate((7, 7, 8)):
        proj = project(inputs, scenarios, horizon=2030, seed=seed)
        paths.append(proj.to_csv(tmp_path / f"summary{i}.csv"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_start_outside_data_is_a_scenario_error(inputs) -> None:
    with pytest.raises(ScenarioError, match="field 'start': 2010 is outside the data"):
        project(inputs, [_scenario("early", start=2010)], horizon=2030)
