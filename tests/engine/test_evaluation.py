"""One evaluation layer: prepare, evaluators, the manifest, the tidy headline, and results at a
fixed seed pinned to what the code gave before the layer existed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import forecast
from forecast.evaluation import (
    STREAMS,
    DaskEvaluator,
    InProcessEvaluator,
    make_manifest,
    prepare,
    seed_streams,
)
from forecast.model.predict import posterior_predictive
from forecast.quantiles import BAND, QUANTILE_COLUMNS, QUANTILES
from forecast.runner import HEADLINE_COLUMNS, headline_table
from forecast.sweeps import sweep_from_dict
from tests.helpers.sweeps import SMALL
from tests.helpers.synthetic import SyntheticFit, synthetic_inputs

#: ``project(SyntheticFit(60), ["status_quo", "leaky", "tighten"], horizon=2035, draws=40,
#: seed=3)`` on main before this layer (commit 049585d): (q05, q50, q95, mean).
PINNED = {
    ("status_quo", "ratio_us_cn", 2030): (6.732016199925251, 10.60082914372638,
                                          21.186527232528384, 12.16330140244741),
    ("leaky", "ratio_us_cn", 2035): (1.9667447178693525, 4.25734946139457, 7.59397675081478,
                                     4.492073044630707),
    ("tighten", "years_behind", 2030): (8.400530053416503, 9.285294319906257,
                                        10.366233616541228, 9.257244453632648),
    ("tighten", "ratio_us_cn", 2035): (23.75505133349027, 58.64122142722765,
                                       115.44441744875581, 77.39775269507876),
}  # fmt: skip
#: The small sweep of tests/helpers/sweeps.py (8 Sobol samples, seed 4, 20 loose synthetic draws)
#: on main: (sample, outcome) -> (leakage, q05, q50, q95).
PINNED_SWEEP = {
    (1, "cn_share_2030"): (0.29871930317021905, 0.0600990989594323, 0.07988135617047232,
                           0.08976787052732109),
    (2, "us_h100e_2030"): (0.07877723537385464, 10155621.029508028, 12676735.479389936,
                           16110376.034510925),
}  # fmt: skip


@pytest.fixture(scope="module")
def projection():
    return forecast.project(
        SyntheticFit(60), ["status_quo", "leaky", "tighten"], horizon=2035, draws=40, seed=3
    )


def test_projection_values_are_pinned(projection) -> None:
    summary = projection.summary().set_index(["scenario", "metric", "year"])
    for key, expected in PINNED.items():
        got = summary.loc[key, ["q05", "q50", "q95", "mean"]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=str(key))


@pytest.mark.parametrize("evaluator", ["in-process", "dask"])
def test_sweep_values_are_pinned_for_every_evaluator(tmp_path: Path, evaluator: str) -> None:
    options = (
        {"evaluator": InProcessEvaluator()} if evaluator == "in-process"
        else {"processes": False, "workers": 1}
    )  # fmt: skip
    result = forecast.sweep(
        sweep_from_dict(SMALL), synthetic_inputs(n_draws=20, first=2021, last=2025, loose=True),
        out=tmp_path / "out", samples=8, chunk_size=16, seed=4, **options,
    )  # fmt: skip
    frame = result.results.to_table().to_pandas().set_index(["sample", "outcome"])
    for key, expected in PINNED_SWEEP.items():
        got = frame.loc[key, ["leakage", "q05", "q50", "q95"]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=str(key))
    assert result.manifest["package"] == "compute-gap" and result.manifest["seed"] == 4


def test_in_process_and_dask_evaluators_give_identical_projections() -> None:
    fit = SyntheticFit(40)
    names = ["status_quo", "leaky", "tighten", "no_controls_counterfactual"]
    here = forecast.project(fit, names, horizon=2032, seed=7, chunk_size=2)
    with DaskEvaluator(workers=1, processes=False) as dask:
        there = forecast.project(fit, names, horizon=2032, seed=7, chunk_size=2, evaluator=dask)
        assert dask.client is not None  # still open: the outer ``with`` owns it
    assert dask.client is None
    for metric, values in here.values.items():
        np.testing.assert_array_equal(values, there.values[metric], err_msg=metric)


def test_prepare_is_the_one_seed_plumbing() -> None:
    fit = SyntheticFit(30)
    prepared = prepare(fit, 2033, seed=5, draws=12)
    streams = seed_streams(5)
    assert list(prepared.streams) == list(STREAMS) == ["draws", "baseline", "design", "bootstrap"]
    assert all(
        a.spawn_key == b.spawn_key and a.entropy == b.entropy
        for a, b in zip(prepared.streams.values(), streams.values(), strict=True)
    )
    assert prepared.n_draws == 12 and prepared.world.years[-1] == 2033
    # the projection, the model's posterior predictive and the explorer all start here
    again = prepare(fit, 2033, seed=5, draws=12).world
    np.testing.assert_array_equal(prepared.world.drivers["us_capex_usd_bn"],
                                  again.drivers["us_capex_usd_bn"])  # fmt: skip
    inputs = fit.projection_inputs()
    whole = prepare(inputs, 2033, seed=5, draws=3)  # inputs are used whole
    assert whole.n_draws == inputs.hist["us_h100e"].shape[0]
    ahead = posterior_predictive(fit, 2033, 12, 5)  # numpy, the engine compiled: to rounding
    status_quo = forecast.project(fit, ["status_quo"], horizon=2033, draws=12, seed=5)
    np.testing.assert_allclose(ahead["us_h100e"], status_quo.values["us_h100e"][0], rtol=1e-12)


@pytest.mark.parametrize("fit", ["a fit", None, 3, {"projection_inputs": 1}])
def test_prepare_refuses_what_is_not_a_posterior(fit) -> None:
    with pytest.raises(forecast.InputError, match="fit must be a fitted model"):
        prepare(fit, 2030, seed=0)
    with pytest.raises(forecast.InputError, match="fit must be a fitted model"):
        forecast.project(fit, ["status_quo"], horizon=2030)


def test_headline_table_is_tidy(projection) -> None:
    table = headline_table(projection)
    assert tuple(table.columns) == HEADLINE_COLUMNS == (
        "scenario", "metric", "year", "q05", "q50", "q95",
    )  # fmt: skip
    assert list(table["scenario"].unique()) == ["status_quo", "leaky", "tighten"]
    assert table.groupby("scenario", sort=False).size().tolist() == [6, 6, 6]
    assert table[table["scenario"] == "leaky"][["metric", "year"]].values.tolist() == [
        ["ratio_us_cn", 2027], ["ratio_us_cn", 2030], ["ratio_us_cn", 2035],
        ["years_behind", 2027], ["years_behind", 2030], ["years_behind", 2035],
    ]  # fmt: skip
    row = table.set_index(["scenario", "metric", "year"]).loc[("leaky", "ratio_us_cn", 2035)]
    np.testing.assert_allclose(row.to_numpy(dtype=float), np.array(PINNED[
        ("leaky", "ratio_us_cn", 2035)])[[0, 1, 2]], rtol=1e-12)  # fmt: skip


def test_quantile_levels_are_defined_once() -> None:
    from forecast import attribution, baselines
    from forecast.explore import desk
    from forecast.model import fitting
    from forecast.report import figures

    assert QUANTILES == (0.05, 0.25, 0.5, 0.75, 0.95) and BAND == (0.05, 0.95)
    assert QUANTILE_COLUMNS == ("q05", "q25", "q50", "q75", "q95")
    assert baselines.QUANTILES is QUANTILES and fitting.QUANTILES is QUANTILES
    assert figures.BAND is BAND and desk.FAN_QUANTILES == (0.05, 0.5, 0.95)
    assert attribution.attribute.__defaults__[-1] is QUANTILES


def test_every_manifest_starts_with_the_same_header() -> None:
    manifest = make_manifest(seed=1, draws=2)
    assert list(manifest) == ["package", "version", "created", "seed", "draws"]
    assert manifest["version"] == forecast.__version__


def test_a_dask_evaluator_runs_only_when_open() -> None:
    with pytest.raises(forecast.InputError, match="inside 'with evaluator:'"):
        next(DaskEvaluator(processes=False).map(lambda shared, task: task, [1]))
    evaluator = InProcessEvaluator()
    with evaluator:
        assert dict(evaluator.map(lambda shared, task: shared + task, [1, 2], shared=10)) == {
            0: 11, 1: 12,
        }  # fmt: skip
