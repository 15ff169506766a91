"""Sweep files: each validation rule has its malformed file; errors name the file and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecast import ScenarioError
from forecast.paths import shipped_dir
from forecast.priors import Prior
from forecast.scenarios import LEVERS
from forecast.sweeps import Outcome, load_sweep

GOOD = """
name = "small"
description = "A small sweep"
base = "leaky"
start = 2027
horizon = 2032
outcomes = ["ratio_us_cn in 2030", "cn_share in 2032"]
conditions = ["cn_share >= 0.4 in 2032"]
[levers]
licensed_share = [0.0, 0.6]
hbm_cap = [240000, 4e6]
[rationale]
licensed_share = "test"
"""


def _write(directory: Path, text: str, name: str = "sweep") -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    message = str(caught.value)
    assert path.name in message
    return message


def test_good_file(tmp_path: Path) -> None:
    spec = load_sweep(_write(tmp_path, GOOD))
    assert spec.base.name == "leaky" and (spec.start, spec.horizon) == (2027, 2032)
    assert spec.ranges == {"licensed_share": [0.0, 0.6], "hbm_cap": [240000.0, 4e6]}
    assert spec.levers["hbm_cap"] == Prior("uniform", lower=240000.0, upper=4e6)
    assert spec.outcomes == (Outcome("ratio_us_cn", 2030), Outcome("cn_share", 2032))
    assert spec.problem["names"] == ["licensed_share", "hbm_cap"]
    condition = spec.conditions[0]
    assert condition.outcome.name == "cn_share_2032"
    np.testing.assert_array_equal(condition.holds(np.array([0.3, 0.4, 0.5])), [0, 1, 1])
    sample = spec.scenario(np.array([0.25, 1e6]))
    assert sample.levers["licensed_share"].constant == 0.25
    assert sample.levers["leakage"].kind == "dist"  # kept from the base scenario
    assert sample.start == 2027


def test_digest_ignores_wording_but_not_ranges(tmp_path: Path) -> None:
    digest = load_sweep(_write(tmp_path, GOOD)).digest
    reworded = GOOD.replace("A small sweep", "Reworded").replace('"test"', '"other"')
    assert load_sweep(_write(tmp_path, reworded, "b")).digest == digest
    assert load_sweep(_write(tmp_path, GOOD.replace("0.6]", "0.5]"), "c")).digest != digest


def test_defaults_and_base_by_path(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\ndescription = "x"\nstart = 2026\n[levers]\nleakage = 0.2\n'
    )
    text = GOOD.replace('base = "leaky"', 'base = "mine.toml"').replace("start = 2027\n", "")
    spec = load_sweep(_write(tmp_path, text.replace("horizon = 2032\n", "")))
    assert spec.base.name == "mine" and spec.start == 2026 and spec.horizon == 2035


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("licensed_share = [", "smuggling = ["), "levers.smuggling: unknown lever"),
        (("[0.0, 0.6]", "[0.0, 1.6]"), "levers.licensed_share[1]: value 1.6 is outside"),
        (("[0.0, 0.6]", "[0.6, 0.0]"), "levers.licensed_share: low 0.6 must be below high 0"),
        (("[0.0, 0.6]", "0.3"), "levers.licensed_share: expected a range [low, high]"),
        (("[0.0, 0.6]", "[0.0, true]"), "expected a range [low, high]"),
        (('"ratio_us_cn in 2030"', '"gap in 2030"'), "outcomes[0]: unknown metric 'gap'"),
        (('"ratio_us_cn in 2030"', '"ratio_us_cn 2030"'), "outcomes[0]: expected 'METRIC in"),
        (('"ratio_us_cn in 2030"', '"cn_share in 2032"'), "outcomes[1]: 'cn_share in 2032' is"),
        (('"ratio_us_cn in 2030"', '"ratio_us_cn in 2040"'), "ratio_us_cn in 2040 is outside"),
        (('"ratio_us_cn in 2030"', '"ratio_us_cn in 2026"'), "ratio_us_cn in 2026 is outside"),
        ((">= 0.4 in 2032", "= 0.4 in 2032"), "conditions[0]: expected 'METRIC OP VALUE"),
        ((">= 0.4 in 2032", ">= 0.4 in 2030"), "conditions[0]: cn_share in 2030 is not one"),
        (('outcomes = ["ratio_us_cn in 2030", "cn_share in 2032"]', "outcomes = []"),
         "field 'outcomes' must name at least one"),
        (('base = "leaky"', 'base = "ghost"'), "field 'base': ghost.toml: scenario file not"),
        (('base = "leaky"', "base = 3"), "field 'base' must be a scenario name"),
        (("horizon = 2032", 'horizon = "late"'), "field 'horizon' must be a year"),
        (("start = 2027", "start = 2027\ncolour = 1"), "unknown field 'colour'"),
        (('description = "A small sweep"', ""), "field 'description' is required"),
        (('licensed_share = "test"', 'leakage = "test"'), "rationale.leakage: not a swept lever"),
        (("[levers]\nlicensed_share = [0.0, 0.6]\nhbm_cap = [240000, 4e6]", "[levers]"),
         "[levers] must be a table naming at least one lever"),
    ],
)  # fmt: skip
def test_malformed_files(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in GOOD
    assert expected in _error(_write(tmp_path, GOOD.replace(*change, 1)))


def test_condition_parsing_on_a_spec(tmp_path: Path) -> None:
    spec = load_sweep(_write(tmp_path, GOOD))
    assert spec.condition(" ratio_us_cn <= 2.5e0 in 2030 ").value == 2.5
    with pytest.raises(ScenarioError, match=r"sweep\.toml: condition: years_behind in 2030"):
        spec.condition("years_behind <= 1 in 2030")


def test_every_shipped_sweep_loads_with_rationale() -> None:
    paths = sorted((shipped_dir("scenarios") / "sweeps").glob("*.toml"))
    assert "default.toml" in [p.name for p in paths]
    for path in paths:
        spec = load_sweep(path)
        assert set(spec.levers) == set(spec.rationale), path.name
        assert set(spec.levers) <= set(LEVERS)
        assert spec.conditions, path.name
    default = load_sweep(paths[[p.name for p in paths].index("default.toml")])
    assert {"ratio_us_cn_2030", "years_behind_2030", "cn_share_2035"} <= {
        o.name for o in default.outcomes
    }
    # every lever but hbm_cap, which replaces the HBM mechanism cn_hbm_output drives, and
    # domestic_push, which domestic_growth (varied) overrides
    assert set(default.levers) == set(LEVERS) - {"hbm_cap", "domestic_push"}
