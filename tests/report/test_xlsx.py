"""``summary.xlsx``: its medians equal summary.csv's, its provenance is manifest.json's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import forecast
from forecast.io import read_set
from forecast.metrics import METRICS
from forecast.runner import RESULT_FILES, build_manifest, write_results
from forecast.scenarios import scenario_from_dict
from forecast.xlsx import XLSX_FILE, provenance_rows, read_provenance
from tests.helpers.reports import FakeFit, synthetic_projection

FORMULA_NAME = '=HYPERLINK("http://x","click")'


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A run's result set with summary.xlsx, on synthetic draws (a formula-like name too)."""
    formula = scenario_from_dict({
        "name": FORMULA_NAME, "description": "=1+1", "extends": "tighten",
        "levers": {"leakage": 0.2}, "rationale": {"leakage": "=cmd|' /C calc'!A0"},
    })  # fmt: skip
    projection = synthetic_projection(["status_quo", "tighten", formula], n_draws=40)
    dataset = forecast.load_dataset()
    manifest = build_manifest(dataset, FakeFit(), projection)
    out = tmp_path_factory.mktemp("xlsx") / "out"
    return write_results(projection, manifest, out, xlsx=True)


def _sheet(path: Path, name: str) -> pd.DataFrame:
    book = load_workbook(path, read_only=True)
    try:
        rows = list(book[name].iter_rows(values_only=True))
    finally:
        book.close()
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_the_set_holds_the_workbook_with_its_hash(written) -> None:
    manifest = json.loads((written / "manifest.json").read_text())
    assert set(manifest["files"]) == {*RESULT_FILES, XLSX_FILE} - {"manifest.json"}
    book = load_workbook(written / XLSX_FILE, read_only=True)
    assert book.sheetnames == [*METRICS, "levers", "provenance"]
    book.close()


@pytest.mark.parametrize("metric", ["ratio_us_cn", "years_behind", "cn_h100e"])
def test_medians_and_intervals_equal_summary_csv(written, metric) -> None:
    csv = pd.read_csv(written / "summary.csv")
    csv = csv[csv["metric"] == metric].reset_index(drop=True)
    sheet = _sheet(written / XLSX_FILE, metric)
    assert len(sheet) == len(csv) == 3 * csv["year"].nunique()
    assert list(sheet["scenario"]) == list(csv["scenario"])
    assert list(sheet["year"]) == list(csv["year"])
    for ours, theirs in (("median", "q50"), ("q05", "q05"), ("q95", "q95")):
        got = sheet[ours].to_numpy(dtype=float)  # empty cells (NaN) where the csv has none
        np.testing.assert_allclose(got, csv[theirs].to_numpy(dtype=float), rtol=1e-12)
    assert (sheet["median"] > 0).all() if metric != "years_behind" else True


def test_provenance_sheet_matches_manifest_json(written) -> None:
    manifest = json.loads((written / "manifest.json").read_text())
    sheet = read_provenance(written / XLSX_FILE)
    assert sheet == dict(provenance_rows(manifest))
    assert sheet["version"] == manifest["version"] == forecast.__version__
    assert sheet["data.sha256"] == manifest["data"]["sha256"]
    assert sheet["seed"] == manifest["seed"] == 0
    assert sheet["fit.diagnostics.max_r_hat"] == manifest["fit"]["diagnostics"]["max_r_hat"]
    assert sheet["scenarios[2].name"] == FORMULA_NAME


def test_levers_sheet_lists_every_lever_with_unit_and_rationale(written) -> None:
    levers = _sheet(written / XLSX_FILE, "levers")
    mine = levers[levers["scenario"] == FORMULA_NAME].set_index("lever")
    assert mine.loc["leakage", "value"] == "0.2"
    assert mine.loc["leakage", "unit"] == "fraction"
    assert mine.loc["leakage", "extends"] == "tighten -> status_quo"
    tighten = forecast.load_scenario("tighten")
    assert set(levers[levers["scenario"] == "tighten"]["lever"]) == set(tighten.levers)


def test_text_that_looks_like_a_formula_stays_text(written) -> None:
    book = load_workbook(written / XLSX_FILE)  # not read-only: cell types are visible
    cells = [c for row in book["levers"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(c.value == FORMULA_NAME for c in cells)
    assert all(c.data_type == "s" for c in cells)
    assert book["ratio_us_cn"]["A2"].data_type == "s"


def test_run_with_xlsx_writes_a_verified_workbook(forker, tmp_path) -> None:
    argv = ["run", "status_quo", "tighten", "--draws", "20", "--out", "out", "--xlsx"]
    outcome = forker.run(argv, tmp_path, quick=True)
    assert outcome.code == 0, outcome.text
    assert "summary.xlsx" in outcome.out
    manifest = read_set(tmp_path / "out")  # every file's hash checked, the workbook's too
    assert XLSX_FILE in manifest["files"]
    csv = pd.read_csv(tmp_path / "out" / "summary.csv")
    csv = csv[csv["metric"] == "ratio_us_cn"]
    sheet = _sheet(tmp_path / "out" / XLSX_FILE, "ratio_us_cn")
    np.testing.assert_allclose(sheet["median"].to_numpy(float), csv["q50"].to_numpy(float))
    assert read_provenance(tmp_path / "out" / XLSX_FILE)["draws"] == 20
