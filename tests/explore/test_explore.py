"""The explorer without a browser: its numbers, its messages, and what it writes."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dash")

from openpyxl import load_workbook

import forecast
from forecast.errors import OutputError, ScenarioError
from forecast.evaluation import prepare
from forecast.explore.app import Explorer
from forecast.explore.desk import (
    Desk,
    LeverSetting,
    resolve,
    save_scenario,
    scenario_fields,
    scenario_toml,
)
from forecast.projection import project
from forecast.scenarios import LEVERS, load_scenario
from tests.helpers.synthetic import SyntheticFit

TRICKY = 'He said "no"\\ \n\ttab é 😀 \x7f end'


@pytest.fixture(scope="module")
def explorer(tmp_path_factory) -> Explorer:
    mine = tmp_path_factory.mktemp("mine")
    (mine / "broken.toml").write_text('name = "broken"\n[levers]\nleakage = 7\n')
    desk = Desk(SyntheticFit(), dataset=forecast.load_dataset(), drag_draws=25)
    return Explorer(desk, mine)


def _fields(explorer: Explorer, name: str = "edit", **levers: LeverSetting) -> dict:
    base = explorer.scenarios["status_quo"]
    return scenario_fields(base, name, "explorer test", levers, "because")


def _page(explorer: Explorer, name: str = "edit", dragging: bool = False, **values) -> list:
    """The page callback's outputs for lever values moved to ``values``."""
    starts = [values.get(n) for n in LEVERS]
    n = len(LEVERS)
    return explorer._recompute([[]] * n, starts, [None] * n, [None] * n, "status_quo", name,
                               "d", "", 2030, 10, dragging)  # fmt: skip


def test_figure_data_equal_forecast_project(explorer) -> None:
    shown = explorer.update(_fields(explorer, leakage=LeverSetting(0.3)), 2030, 10.0,
                            dragging=False)  # fmt: skip
    scenario = forecast.scenario_from_dict({"name": "edit", "description": "explorer test",
                                            "extends": "status_quo",
                                            "levers": {"leakage": 0.3}})  # fmt: skip
    expected = project(SyntheticFit(), ["status_quo", scenario], seed=0)
    trace = next(t for t in shown["figures"]["fig-ratio"]["data"] if t["name"] == "edit: median")
    median = np.median(expected.values["ratio_us_cn"][1], axis=0)
    np.testing.assert_allclose(trace["y"], median, rtol=1e-12)
    assert shown["projection"].n_draws == 60


def test_dragging_uses_fewer_draws_and_skips_the_attribution(explorer) -> None:
    shown = explorer.update(_fields(explorer, leakage=LeverSetting(0.3)), 2030, 10.0,
                            dragging=True)  # fmt: skip
    assert shown["projection"].n_draws == 25
    assert "fig-attr" not in shown["figures"]
    page = _page(explorer, dragging=True, leakage=0.3)
    assert page[-2].startswith("25 draws (dragging)")


def test_attribution_and_probability_statements(explorer) -> None:
    shown = explorer.update(_fields(explorer, leakage=LeverSetting(0.3),
                                    enforcement=LeverSetting(0.6)), 2030, 10.0,
                            dragging=False)  # fmt: skip
    bars = shown["figures"]["fig-attr"]["data"][0]
    table = forecast.attribute(shown["projection"], "edit")
    assert bars["y"] == list(table["lever"]) == ["enforcement", "leakage", "total"]
    np.testing.assert_allclose(bars["x"], table["mean"])
    ratio = shown["projection"].values["ratio_us_cn"][1, :, 2030 - 2015]
    assert shown["projection"].years[2030 - 2015] == 2030
    assert f"edit: P(ratio in 2030 > 10) = {np.mean(ratio > 10):.2f}" in shown["statements"]


def test_a_value_typed_out_of_range_gets_the_cli_message(explorer) -> None:
    page = _page(explorer, leakage=1.5)
    message = page[-3]
    assert "levers.leakage: value 1.5 is outside the valid range [0, 1] (fraction)" in message
    assert all(out is not None for out in page)  # no traceback, the figures kept


def test_a_broken_user_file_is_reported_not_fatal(explorer) -> None:
    assert "broken" not in explorer.scenarios
    assert any("broken.toml" in str(p) for p in explorer.problems)
    assert "broken.toml" in _page(explorer, leakage=0.3)[-3]


def test_opening_an_unknown_file_says_so(explorer, tmp_path) -> None:
    _, _, message = explorer._open(str(tmp_path / "nope.toml"))
    assert "scenario file not found" in message and "nope.toml" in message


def test_saved_file_round_trips_text_and_levers(tmp_path) -> None:
    base = load_scenario("tighten")
    fields = scenario_fields(base, "ramp", TRICKY, {
        "leakage": LeverSetting(0.2, 0.05, 2030), "hbm_cap": LeverSetting(2e6),
    }, TRICKY)  # fmt: skip
    path = save_scenario(fields, tmp_path)
    assert path == tmp_path / "ramp.toml"
    saved = load_scenario(path)
    assert saved.description == TRICKY and saved.rationale["leakage"] == TRICKY
    assert saved.levers["leakage"].points == ((base.start, 0.2), (2030, 0.05))
    assert saved.levers["hbm_cap"].constant == 2e6
    assert saved.chain == ("ramp", "tighten", "status_quo")
    assert tomllib.loads(scenario_toml(fields))["levers"]["leakage"] == [[2026, 0.2], [2030, 0.05]]


def test_saving_never_overwrites_without_confirmation(tmp_path) -> None:
    fields = scenario_fields(load_scenario("status_quo"), "mine", "d",
                             {"leakage": LeverSetting(0.3)}, "why")  # fmt: skip
    (tmp_path / "mine.toml").write_text("my own notes\n")
    with pytest.raises(OutputError, match="exists; confirm"):
        save_scenario(fields, tmp_path)
    assert (tmp_path / "mine.toml").read_text() == "my own notes\n"
    save_scenario(fields, tmp_path, overwrite=True)
    assert load_scenario(tmp_path / "mine.toml").levers["leakage"].constant == 0.3


def test_save_in_the_app_asks_before_replacing(explorer) -> None:
    fields = _fields(explorer, name="asked", leakage=LeverSetting(0.3))
    assert explorer._save(fields, overwrite=False)[2].startswith("saved ")
    displayed, question, _ = explorer._save(fields, overwrite=False)
    assert displayed and "asked.toml exists. Replace it?" in question
    assert explorer._save(fields, overwrite=True)[2].startswith("saved ")
    no_reason = {**fields, "rationale": {}}
    assert "write a rationale" in explorer._save(no_reason, overwrite=True)[2]


def test_bad_fields_are_refused_with_a_message(explorer) -> None:
    with pytest.raises(ScenarioError, match="is the scenario it extends"):
        _fields(explorer, name="status_quo")
    with pytest.raises(ScenarioError, match="ramp year 2020 must come after"):
        _fields(explorer, leakage=LeverSetting(0.2, 0.1, 2020))
    with pytest.raises(ScenarioError, match="field 'name'"):
        resolve({**_fields(explorer), "name": ""}, None)


def test_downloads_hold_the_current_summary(explorer) -> None:
    fields = _fields(explorer, leakage=LeverSetting(0.3))
    csv = explorer._download(fields, xlsx=False)
    summary = pd.read_csv(io.StringIO(csv["content"]))
    assert set(summary["scenario"]) == {"status_quo", "edit"}
    xlsx = explorer._download(fields, xlsx=True)
    assert xlsx["filename"] == "explorer-edit.xlsx"
    import base64

    book = load_workbook(io.BytesIO(base64.b64decode(xlsx["content"])), read_only=True)
    rows = list(book["ratio_us_cn"].iter_rows(min_row=2, values_only=True))
    ratio = summary[summary["metric"] == "ratio_us_cn"]
    np.testing.assert_allclose([r[2] for r in rows], ratio["q50"].to_numpy())
    book.close()


def test_the_command_refuses_a_busy_port_clearly(forker, tmp_path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        outcome = forker.run(["explore", "--port", str(port)], tmp_path, quick=True)
    assert outcome.code == 2, outcome.text
    assert f"cannot listen on 127.0.0.1:{port}" in outcome.err
    assert "Traceback" not in outcome.text
    assert Path(tmp_path).is_dir()


def test_controls_start_at_the_posteriors_values(explorer) -> None:
    posterior = explorer.desk.posterior_values(2026)
    world = prepare(SyntheticFit(), 2035, 0).world
    col = list(world.years).index(2026)
    leakage = np.median(world.drivers["leakage"][:, col])
    assert posterior["leakage"] == float(f"{leakage:.3g}")
    first = col + 1  # a limit's first growth: from the first projected year on
    power = np.median(world.drivers["us_power_gw"][:, first] / world.drivers["us_power_gw"][:, col])
    assert posterior["us_power_gw_growth"] == float(f"{power - 1:.3g}")
    unmoved = _page(explorer, leakage=posterior["leakage"])
    assert "[levers]\n\n" in unmoved[-4]  # at the posterior's value: nothing set
