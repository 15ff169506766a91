"""Notebook-friendly results: the headline as HTML, the report's figures, xarray; and the
example notebook, executed on synthetic posterior draws (as the command-line tests run)."""

from __future__ import annotations

import html
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from nbclient import NotebookClient

from forecast.errors import ScenarioError
from forecast.report.figures import BAND, scenario_colors
from forecast.runner import headline_table
from tests.helpers.paths import ROOT
from tests.helpers.reports import synthetic_projection

NOTEBOOK = ROOT / "scenarios" / "examples" / "analyst_notebook.ipynb"
#: Run first in the kernel: the fit answers from synthetic draws (no PyMC, no cache).
SYNTHETIC_FIT = f"""import sys
sys.path.insert(0, {str(ROOT)!r})
import forecast.model
from tests.helpers.synthetic import synthetic_fit
forecast.model.fit = synthetic_fit"""


@pytest.fixture(scope="module")
def projection():
    return synthetic_projection(["status_quo", "tighten", "leaky"], n_draws=40)


def test_repr_html_is_the_headline_table(projection) -> None:
    text = projection._repr_html_()
    rows = re.findall(r"<tr>(<td.*?)</tr>", text)
    assert len(rows) == 3
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[1])]
    assert cells[0] == "tighten"
    table = headline_table(projection).set_index(["scenario", "metric", "year"])
    median_2030 = table.loc[("tighten", "ratio_us_cn", 2030), "q50"]
    assert cells[2].startswith(f"{median_2030:.3g} (")


def test_plot_fan_draws_the_median_of_the_draws(projection) -> None:
    fig = projection.plot("ratio_us_cn", scenarios=["tighten"])
    assert isinstance(fig, Figure)
    color = scenario_colors(projection.names)["tighten"]
    line = next(ln for ln in fig.axes[0].lines if ln.get_color() == color)
    years = line.get_xdata()
    cols = np.searchsorted(projection.years, years)
    values = projection.values["ratio_us_cn"][1][:, cols]
    np.testing.assert_allclose(line.get_ydata(), np.median(values, axis=0))
    assert BAND == (0.05, 0.95)


@pytest.mark.parametrize("what", ["stocks", "cn_additions", "what_binds", "attribution"])
def test_plot_draws_the_reports_other_figures(projection, what) -> None:
    fig = projection.plot(what, scenarios=["tighten"])
    assert isinstance(fig, Figure) and fig.axes


def test_plot_refuses_an_unknown_metric_or_scenario(projection) -> None:
    with pytest.raises(ScenarioError, match="cannot plot 'gdp'"):
        projection.plot("gdp")
    with pytest.raises(ScenarioError, match="nope"):
        projection.plot("ratio_us_cn", scenarios=["nope"])


def test_to_xarray_holds_every_value(projection) -> None:
    data = projection.to_xarray()
    assert dict(data.sizes) == {"scenario": 3, "draw": 40, "year": len(projection.years)}
    cell = data["ratio_us_cn"].sel(scenario="leaky", year=2030).to_numpy()
    col = list(projection.years).index(2030)
    np.testing.assert_array_equal(cell, projection.values["ratio_us_cn"][2, :, col])
    assert data["cn_h100e"].attrs["unit"] == "H100e"
    assert data["binding_us"].attrs["limits"] == ["money", "finance", "power", "supply"]
    assert data.attrs["seed"] == 0


def test_example_notebook_runs(tmp_path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    params.source = f"DRAWS = 30\nOUT = {str(tmp_path / 'out')!r}"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(SYNTHETIC_FIT))
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    table = pd.read_csv(tmp_path / "out" / "gap_table.csv")
    assert set(table["scenario"]) == {"status_quo", "enforced_yield60"}
    assert (tmp_path / "out" / "ratio_us_cn.png").read_bytes()[:4] == b"\x89PNG"
    printed = "".join(
        o.get("text", "") for c in notebook.cells for o in c.get("outputs", [])
    )  # the probability statement
    assert re.search(r"P\(ratio in 2030 > 10\) = [01]\.\d\d", printed)
