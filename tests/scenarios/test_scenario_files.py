"""Scenario files: each validation rule has its malformed file; the error names file and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecast import ScenarioError
from forecast.paths import shipped_dir
from forecast.scenarios import LEVERS, list_scenarios, load_scenario

GOOD = """
name = "base"
description = "A base scenario"
start = 2026
[levers]
leakage = 0.05
licensed_share = [[2026, 0.2], [2028, 0.0]]
domestic_yield = { dist = "triangular", lower = 0.2, mode = 0.35, upper = 0.6 }
[rationale]
leakage = "test"
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert path.name in message
    return message


def test_good_file_and_extends(tmp_path: Path) -> None:
    _write(tmp_path, "base", GOOD)
    child = _write(tmp_path, "child", 'name = "child"\ndescription = "x"\nextends = "base"\n'
                   "[levers]\nleakage = 0.2\n")  # fmt: skip
    scenario = load_scenario(child)
    assert scenario.start == 2026 and scenario.chain == ("child", "base")
    assert scenario.levers["leakage"].constant == 0.2
    assert scenario.levers["licensed_share"].points == ((2026, 0.2), (2028, 0.0))
    values = scenario.levers["licensed_share"].evaluate(np.array([2025, 2027, 2030]), 2, None)
    np.testing.assert_allclose(values[0], [0.2, 0.1, 0.0])
    draws = scenario.levers["domestic_yield"].evaluate(
        np.array([2030]), 5000, np.random.default_rng(0)
    )
    assert 0.2 <= draws.min() and draws.max() <= 0.6
    assert abs(draws.mean() - (0.2 + 0.35 + 0.6) / 3) < 0.01


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("leakage = 0.05", "smuggling = 0.05"), "levers.smuggling: unknown lever"),
        (
            ("leakage = 0.05", "leakage = 1.5"),
            "levers.leakage: value 1.5 is outside the valid range",
        ),
        (("[[2026, 0.2], [2028, 0.0]]", "[[2026, 0.2], [2028]]"), "malformed path point"),
        (("[[2026, 0.2], [2028, 0.0]]", "[[2028, 0.2], [2026, 0.0]]"), "path years out of order"),
        (('dist = "triangular"', 'dist = "weibull"'), "unknown distribution 'weibull'"),
        (("mode = 0.35", "mode = 0.9"), "triangular needs lower <= mode <= upper"),
        (("mode = 0.35, ", ""), "triangular takes parameters"),
        (('description = "A base scenario"', ""), "field 'description' is required"),
        (("start = 2026", "start = 2026\ncolour = 1"), "unknown field 'colour'"),
        (("start = 2026", 'start = "soon"'), "field 'start' must be a year"),
        (("leakage = 0.05", "leakage = true"), "levers.leakage: expected a number"),
        (('leakage = "test"', 'leak = "test"'), "rationale.leak: not a lever"),
        (("leakage = 0.05", "leakage = 0.05\nleakage = 0.1"), "invalid TOML"),
    ],
)
def test_malformed_files(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = _write(tmp_path, "bad", GOOD.replace(*change, 1))
    assert expected in _error(path)


def test_beta_and_lognormal_parameters(tmp_path: Path) -> None:
    bad_beta = GOOD.replace("leakage = 0.05", 'leakage = { dist = "beta", alpha = -1, beta = 2 }')
    assert "beta needs alpha > 0 and beta > 0" in _error(_write(tmp_path, "b", bad_beta))
    old_form = GOOD.replace("leakage = 0.05", 'leakage = { dist = "beta", a = -1, b = 2 }')
    message = _error(_write(tmp_path, "old", old_form))
    assert "levers.leakage (old form of" in message and "beta needs alpha > 0" in message
    wide = GOOD.replace(
        "leakage = 0.05", 'leakage = { dist = "lognormal", median = 0.1, sigma = 2 }'
    )
    assert "99.9 % quantile" in _error(_write(tmp_path, "l", wide))


def test_extends_missing_and_cycle(tmp_path: Path) -> None:
    orphan = _write(tmp_path, "orphan", 'name = "orphan"\ndescription = "x"\nextends = "ghost"\n')
    assert "field 'extends': no scenario named 'ghost'" in _error(orphan)
    _write(tmp_path, "a", 'name = "a"\ndescription = "x"\nextends = "b"\n')
    b = _write(tmp_path, "b", 'name = "b"\ndescription = "x"\nextends = "a"\n')
    assert "cycle b -> a -> b" in _error(b)


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    assert "scenario file not found" in _error(tmp_path / "nope.toml")
    path = tmp_path / "latin.toml"
    path.write_bytes(GOOD.replace("A base", "Caf\u00e9").encode("latin-1"))
    assert "not valid UTF-8" in _error(path)


def test_list_reports_every_bad_file(tmp_path: Path) -> None:
    _write(tmp_path, "one", GOOD.replace("leakage = 0.05", "leakage = 2"))
    _write(tmp_path, "two", GOOD.replace("0.2], [2028", "0.2], [2020"))
    with pytest.raises(ScenarioError) as caught:
        list_scenarios(tmp_path)
    files = {p.file for p in caught.value.problems}
    assert files == {"one.toml", "two.toml"}


def test_every_shipped_scenario_loads_with_rationale() -> None:
    scenarios = list_scenarios()
    names = {s.name for s in scenarios}
    assert {
        "status_quo", "tighten", "loosen_h200", "loosen_blackwell", "leaky",
        "domestic_breakthrough", "us_capex_correction", "no_controls_counterfactual",
    } <= names  # fmt: skip
    for scenario in scenarios:
        missing = set(scenario.levers) - set(scenario.rationale)
        assert not missing, f"{scenario.name}: levers without rationale {missing}"
        assert set(scenario.levers) <= set(LEVERS)


def test_readme_documents_every_lever_and_range() -> None:
    readme = (shipped_dir("scenarios") / "README.md").read_text(encoding="utf-8")
    for lever in LEVERS.values():
        assert f"| `{lever.name}` | {lever.unit} | {lever.low:g} .. {lever.high:g} |" in readme
