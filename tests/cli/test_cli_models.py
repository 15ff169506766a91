"""``compute-gap forecast`` and ``compute-gap backtest``: output, files and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.baselines import FORECAST_COLUMNS
from forecast.cli import main
from tests.helpers.datasets import write_dataset


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    logs = np.log(20) + np.cumsum(0.2 + 0.1 * rng.standard_normal(11))
    values = {
        "cli_capex": {str(2015 + i): float(np.exp(v)) for i, v in enumerate(logs)},
        "cli_short": {"2023": 1.0, "2024": 1.4, "2025": 1.9},
    }
    return write_dataset(tmp_path_factory.mktemp("cli") / "data", values)


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_prints_a_table_and_writes_csv(data_dir, tmp_path, capsys) -> None:
    path = tmp_path / "out.csv"
    code, out, _ = _run(
        capsys, "forecast", "cli_capex", "--horizon", "4", "--model", "ets", "--until", "2024",
        "--data-dir", str(data_dir), "--csv", str(path),
    )  # fmt: skip
    assert code == 0
    assert "cli_capex: forecast by ets" in out and "2028" in out and "q95" in out
    frame = pd.read_csv(path)
    assert tuple(frame.columns) == FORECAST_COLUMNS
    assert list(frame["period"]) == [2025, 2026, 2027, 2028]


def test_forecast_auto_says_what_it_picked(data_dir, capsys) -> None:
    code, out, _ = _run(capsys, "forecast", "cli_capex", "--data-dir", str(data_dir))
    assert code == 0
    assert "auto picked" in out


def test_forecast_fallback(data_dir, capsys) -> None:
    args = ["forecast", "cli_short", "--model", "ucm", "--data-dir", str(data_dir)]
    code, out, _ = _run(capsys, *args, "--fallback")
    assert code == 0
    assert "fell back to naive" in out


def test_backtest_tables(data_dir, capsys) -> None:
    code, out, _ = _run(
        capsys, "backtest", "--model", "ets", "--model", "ucm", "--origins", "2020:2023",
        "--horizon", "2", "--data-dir", str(data_dir),
    )  # fmt: skip
    assert code == 0
    assert "cli_capex: backtest, horizons 1-2" in out
    assert "Overall" in out
    for word in ("naive", "ets", "ucm", "log_err", "mase", "cov50", "cov90", "crps", "skill"):
        assert word in out


def test_backtest_json(data_dir, capsys) -> None:
    code, out, _ = _run(capsys, "backtest", "--json", "--data-dir", str(data_dir))
    assert code == 0
    payload = json.loads(out)
    models = {row["model"] for row in payload["overall"]}
    assert models == {"naive", "ets", "sarimax", "ucm"}
    assert {row["series_id"] for row in payload["summary"]} == {"cli_capex"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forecast", "nope"], "unknown series id 'nope'"),
        (["forecast", "cli_short", "--model", "ets"], "'cli_short' has 3 yearly values"),
        (["forecast", "cli_capex", "--horizon", "0"], "Input should be greater than or equal to 1"),
        (["forecast", "cli_capex", "--model", "prophet"], "unknown model 'prophet'"),
        (["backtest", "--model", "prophet"], "valid models: naive, ets, sarimax, ucm, auto"),
        (["backtest", "--horizon", "-1"], "Input should be greater than or equal to 1"),
        (["backtest", "--series", "nope"], "unknown series id 'nope'"),
        (["backtest", "--origins", "2019-2023"], "expected FIRST:LAST"),
    ],
)
def test_bad_input_exits_2_without_traceback(data_dir, capsys, args, message) -> None:
    code, out, err = _run(capsys, *args, "--data-dir", str(data_dir))
    assert code == 2
    assert message in out + err
    assert "Traceback" not in out + err
