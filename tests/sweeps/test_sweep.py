"""Sweeps: Sobol and PRIM against known answers, determinism, resume, Parquet layout, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from SALib.test_functions import Ishigami

import forecast
from forecast import ScenarioError
from forecast.cli import main, sweep_cmd
from forecast.sweeps import sweep_from_dict
from forecast.sweeps.analysis import design, prim_box, sobol_indices
from tests.helpers.paths import ROOT
from tests.helpers.sweeps import SMALL, SMALL_TOML, run_small, small_inputs, small_spec, tidy


def test_sobol_reproduces_ishigami_indices() -> None:
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = design(problem, 1024, "sobol", seed=1)
    indices = sobol_indices(problem, Ishigami.evaluate(x), seed=2)
    # analytic values (Ishigami and Homma 1990, a=7, b=0.1), SALib's own test tolerance
    np.testing.assert_allclose(indices["S1"], [0.3139, 0.4424, 0.0], atol=5e-2, rtol=1e-1)
    np.testing.assert_allclose(indices["ST"], [0.5576, 0.4424, 0.2437], atol=5e-2, rtol=1e-1)
    assert (indices[["S1_conf", "ST_conf"]] > 0).all().all()


def test_design_sizes_and_errors() -> None:
    problem = small_spec().problem
    assert design(problem, 8, "sobol", seed=0).shape == (8 * 5, 3)
    lhs = design(problem, 10, "lhs", seed=0)
    assert lhs.shape == (10, 3)
    for column, (low, high) in enumerate(problem["bounds"]):
        assert low <= lhs[:, column].min() and lhs[:, column].max() <= high
    with pytest.raises(ValueError, match="power of two"):
        design(problem, 10, "sobol", seed=0)
    with pytest.raises(ValueError, match="unknown method"):
        design(problem, 8, "morris", seed=0)


def test_constant_output_has_zero_indices() -> None:
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    indices = sobol_indices(problem, np.ones(4 * 8), seed=1)
    assert (indices[["S1", "ST"]] == 0).all().all()


@pytest.mark.parametrize(("a_low", "b_high"), [(0.6, 0.3), (0.9, 0.15)])  # common, rare (1.5 %)
def test_prim_finds_a_planted_box(a_low: float, b_high: float) -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(0, 1, (5000, 3)), columns=["a", "b", "c"])
    planted = (x["a"] > a_low) & (x["b"] < b_high)
    box = prim_box(x, planted.to_numpy()).set_index("lever")
    assert box.loc["a", "low"] == pytest.approx(a_low, abs=0.05)
    assert box.loc["b", "high"] == pytest.approx(b_high, abs=0.05)
    assert box.loc["a", "qp"] < 0.05 and box.loc["b", "qp"] < 0.05
    assert not box.loc["c", "restricted"] or box.loc["c", "qp"] > 0.05
    assert box["density"].iloc[0] >= 0.8 and box["coverage"].iloc[0] >= 0.8


def test_prim_without_cases_returns_the_whole_space() -> None:
    x = pd.DataFrame({"a": [0.0, 0.5, 1.0]})
    box = prim_box(x, np.zeros(3, dtype=bool))
    assert not box["restricted"].any() and np.isnan(box["coverage"].iloc[0])


def test_levers_an_outcome_does_not_use_get_zero_total_index(tmp_path: Path) -> None:
    result = run_small(tmp_path / "out", samples=64, chunk_size=64)
    indices = result.sobol().set_index(["outcome", "lever"])
    us = indices.loc["us_h100e_2030"]
    assert us.loc["leakage", "ST"] == pytest.approx(0, abs=1e-9)
    assert us.loc["domestic_yield", "ST"] == pytest.approx(0, abs=1e-9)
    assert us.loc["us_capex_growth", "ST"] > 0.9
    assert (indices.loc["cn_share_2030", "ST"] > 0.01).all()


def test_results_are_one_row_per_sample_and_outcome(tmp_path: Path) -> None:
    result = run_small(tmp_path / "out", chunk_size=24)
    frame = tidy(result)
    rows = result.manifest["rows"]
    assert rows == 16 * 5 and result.manifest["chunks"] == 4
    assert len(frame) == rows * 2
    assert not frame.duplicated(["sample", "outcome"]).any()
    assert sorted(frame["sample"].unique()) == list(range(rows))
    assert sorted(p.name for p in (tmp_path / "out" / "results").iterdir()) == [
        f"chunk={c:06d}.parquet" for c in range(4)
    ]
    assert (frame["q05"] <= frame["q50"]).all() and (frame["q50"] <= frame["q95"]).all()
    assert result.samples.shape == (rows, 3 + 2)


def test_same_seed_same_results_whatever_workers_and_chunks(tmp_path: Path) -> None:
    one = tidy(run_small(tmp_path / "one", workers=1, chunk_size=80))
    two = tidy(run_small(tmp_path / "two", workers=2, chunk_size=7))
    pd.testing.assert_frame_equal(one, two)
    other = tidy(run_small(tmp_path / "other", seed=1))
    assert not np.allclose(one["q50"], other["q50"])


def test_sample_matches_a_named_scenario_projection(tmp_path: Path) -> None:
    result = run_small(tmp_path / "out", method="lhs", samples=4)
    levers = result.samples.iloc[0][list(SMALL["levers"])]
    scenario = forecast.scenario_from_dict(
        {"name": "small", "description": "x", "start": 2026,
         "levers": {k: float(v) for k, v in levers.items()}}
    )  # fmt: skip
    projection = forecast.project(small_inputs(), [scenario], horizon=2030, seed=0)
    expected = projection.summary().query("metric == 'cn_share' and year == 2030")["q50"]
    assert result.samples.iloc[0]["cn_share_2030"] == pytest.approx(expected.iloc[0])


def test_store_draws_keeps_every_draw(tmp_path: Path) -> None:
    result = run_small(tmp_path / "out", store_draws=True, method="lhs")
    frame = result.results.to_table().to_pandas()
    draws = np.stack(frame["draws"].to_numpy())
    assert draws.shape == (len(frame), 20)
    np.testing.assert_allclose(np.median(draws, axis=1), frame["q50"])


def test_resume_writes_only_missing_chunks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_small(out, chunk_size=16)
    expected = tidy(first)
    chunks = sorted((out / "results").iterdir())
    for path in chunks[1:3]:
        path.unlink()
    stamps = {p.name: p.stat().st_mtime_ns for p in (chunks[0], *chunks[3:])}
    resumed = run_small(out, chunk_size=16, resume=True)
    pd.testing.assert_frame_equal(tidy(resumed), expected)
    assert {p.name: p.stat().st_mtime_ns for p in (chunks[0], *chunks[3:])} == stamps
    assert resumed.manifest["created"] == first.manifest["created"]


def test_out_directory_guards(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_small(out)
    with pytest.raises(ScenarioError, match="already holds a sweep; pass --resume"):
        run_small(out)
    with pytest.raises(ScenarioError, match=r"cannot resume .*samples: 16 there, 32 now"):
        run_small(out, samples=32, resume=True)
    with pytest.raises(ScenarioError, match="inputs_sha256"):
        forecast.sweep(small_spec(), small_inputs(21), out=out, samples=16, resume=True)


def test_lhs_sweep_has_no_sobol_but_prim(tmp_path: Path) -> None:
    result = run_small(tmp_path / "out", method="lhs", samples=64, chunk_size=64)
    sobol, boxes = result.analyse()
    assert sobol is None and not (tmp_path / "out" / "sobol.csv").exists()
    assert list(boxes["condition"].unique()) == SMALL["conditions"]
    assert pd.read_csv(tmp_path / "out" / "prim.csv").shape == boxes.shape
    with pytest.raises(ValueError, match="need a Sobol design"):
        result.sobol()


def test_start_outside_the_data_names_the_sweep(tmp_path: Path) -> None:
    spec = sweep_from_dict({**SMALL, "start": 2021})
    with pytest.raises(ScenarioError, match="<small>: field 'start': 2021 is outside"):
        forecast.sweep(spec, small_inputs(), out=tmp_path / "out", samples=8)


def test_cli_prints_sobol_table_and_prim_boxes(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sweep_cmd, "load_fit", lambda *args: small_inputs())
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML)
    out = tmp_path / "out"
    argv = ["sweep", str(path), "--samples", "16", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Sobol indices" in printed and "cn_share >= 0.2 in 2030: coverage" in printed
    assert "levers that matter most for us_h100e_2030: us_capex_growth" in printed
    assert {"sobol.csv", "prim.csv", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert pq.read_table(out / "results").num_rows == 16 * 5 * 2
    assert main([*argv, "--resume"]) == 0
    assert main(argv) == 2
    assert "already holds a sweep" in capsys.readouterr().err


def test_cli_bad_input_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\ndescription = "x"\noutcomes = ["gap in 2030"]\n')
    assert main(["sweep", str(bad)]) == 2
    assert "unknown metric 'gap'" in capsys.readouterr().err
    default = ROOT / "scenarios" / "sweeps" / "default.toml"
    assert main(["sweep", str(default), "--samples", "100"]) == 2
    assert "power of two" in capsys.readouterr().err
