"""The example scripts an analyst copies keep working."""

from __future__ import annotations

import runpy
import sys

from forecast.paths import shipped_dir
from forecast.projection import project
from forecast.scenarios import list_scenarios
from tests.helpers.synthetic import synthetic_inputs


def test_summary_table_example(tmp_path, monkeypatch, capsys) -> None:
    projection = project(synthetic_inputs(n_draws=50), list_scenarios()[:3], horizon=2035)
    path = projection.to_csv(tmp_path / "summary.csv")
    monkeypatch.setattr(sys, "argv", ["summary_table.py", str(path)])
    runpy.run_path(str(shipped_dir("scenarios") / "examples" / "summary_table.py"),
                   run_name="__main__")  # fmt: skip
    out = capsys.readouterr().out
    assert "| scenario | 2027 | 2030 | 2035 |" in out
    for name in projection.names:
        assert f"| {name} |" in out
    assert (tmp_path / "summary_table.csv").is_file()
