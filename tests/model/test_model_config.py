"""The model configuration: every number comes from a data file with its source."""

from __future__ import annotations

import pytest

from forecast.model import config
from forecast.model.config import ASSUMPTIONS, LINK_NUMBERS, SETTINGS, model_config


def test_every_assumption_has_a_source() -> None:
    empty = [f"{r['group']}:{r['name']}" for r in ASSUMPTIONS if not r["source"].strip()]
    assert not empty, f"assumptions.csv rows without a source: {empty}"
    empty = [name for name, r in SETTINGS.items() if not r["source"].strip()]
    assert not empty, f"settings.csv rows without a source: {empty}"
    empty = [name for name, r in LINK_NUMBERS.items() if not r["rationale"].strip()]
    assert not empty, f"links.csv rows without a rationale: {empty}"


def test_the_config_is_built_from_the_files() -> None:
    cfg = model_config()
    groups = {g: {r["name"] for r in ASSUMPTIONS if r["group"] == g}
              for g in ("prior", "world", "factor")}  # fmt: skip
    assert set(cfg.priors) == groups["prior"] and set(cfg.world) == groups["world"]
    assert set(cfg.factors) == groups["factor"]
    assert len(cfg.interventions) == sum(r["group"] == "intervention" for r in ASSUMPTIONS)
    assert {link.name for link in cfg.links} == set(LINK_NUMBERS)
    assert cfg.interval_z == float(SETTINGS["interval_z"]["value"])
    assert config.QUALITY_SD["unconfirmed"] == 3.0


def test_rewording_a_source_keeps_the_cache_key_and_a_number_changes_it() -> None:
    cfg = model_config()
    reworded = model_config({"priors": {"retirement": {"source": "another reason"}}})
    assert reworded.key() == cfg.key()
    assert model_config({"priors": {"retirement": {"mu": 0.25}}}).key() != cfg.key()


@pytest.mark.parametrize("name", ["assumptions.csv", "settings.csv", "links.csv"])
def test_the_files_ship_beside_the_model(name) -> None:
    from pathlib import Path

    assert (Path(config.__file__).parent / name).is_file()
