"""The shipped dataset: size, provenance, the seed facts and events the issues ask for."""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from forecast import load_dataset
from forecast.paths import shipped_dir


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def test_size_and_provenance(dataset) -> None:
    assert len(dataset.series) >= 40
    assert len(dataset.observations) >= 300
    assert dataset.observations["source_id"].isin(dataset.sources["source_id"]).all()
    assert dataset.events["source_id"].isin(dataset.sources["source_id"]).all()
    assert dataset.chips["source_id"].isin(dataset.sources["source_id"]).all()


@pytest.mark.parametrize(
    ("series_id", "period", "column", "expected"),
    [
        ("seed_caict_us_eflops", "2025-Q1", "value", 2400),
        ("seed_caict_cn_eflops", "2025-Q1", "value", 1053),
        ("seed_cn_ai_server_foreign_chip_share", "2024", "value", 0.63),
        ("seed_cn_ai_server_foreign_chip_share", "2025", "value", 0.42),
        ("seed_nvda_cn_ai_chip_market_share", "2022", "value", 0.95),
        ("seed_nvda_cn_ai_chip_market_share", "2025", "value", 0.0),
        ("seed_us_share_global_high_end_gpus", "2026", "low", 0.7),
        ("seed_cn_us_high_end_chip_ratio", "2026", "value", 0.125),
        ("seed_us_data_centre_count", "2026", "value", 5427),
        ("seed_bernstein_cn_ai_chip_demand_usd_bn", "2025", "value", 39.5),
        ("seed_bernstein_cn_ai_chip_supply_gap_usd_bn", "2025", "low", 10),
        ("seed_cn_ai_chip_yield", "2025", "high", 0.2),
        ("seed_cn_intelligent_computing_centre_utilization", "2025", "high", 0.3),
        ("seed_trendforce_nvda_share_global_gpu_server", "2026-Q1", "value", 0.68),
        ("seed_meta_high_end_gpus_planned", "2026", "low", 1_200_000),
        ("seed_big4_capex_usd_bn", "2026", "value", 725),
        ("seed_big4_capex_yoy_growth", "2026", "value", 0.77),
        ("seed_morgan_stanley_us_tech_capex_usd_bn", "2027", "value", 1100),
        ("seed_google_ai_compute_h100e", "2026", "value", 5_000_000),
        ("seed_us_cn_model_lag_months", "2026", "low", 8),
        ("seed_us_cn_model_lag_months", "2026", "high", 15),
        ("seed_huawei_cloudmatrix384_chip_count", "2025", "value", 384),
        ("cn_nvidia_licensed_cum_h100e", "2025-Q4", "value", 401_698),
        ("cn_nvidia_smuggled_cum_h100e", "2025-Q4", "value", 662_048),
        ("cn_huawei_cum_h100e", "2025-Q4", "value", 707_968),
    ],
)
def test_seed_and_reference_facts_are_present(dataset, series_id, period, column, expected):
    rows = dataset.observations.query("series_id == @series_id and period == @period")
    assert len(rows) == 1, f"{series_id} {period} missing"
    assert rows.iloc[0][column] == pytest.approx(expected, rel=1e-3)


def test_capex_covers_2015_to_2025(dataset) -> None:
    for sid in ("msft_capex_usd_bn", "googl_capex_usd_bn", "amzn_capex_usd_bn",
                "meta_capex_usd_bn", "orcl_capex_usd_bn"):  # fmt: skip
        years = set(dataset.history(sid)["year"])
        assert {2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023} <= years, sid


def test_export_control_events_present(dataset) -> None:
    required = {
        "entity_list_huawei_2019", "nvidia_licence_notice_2022", "oct2022_ac_rule",
        "oct2023_ac_update", "dec2024_hbm_sme_rule", "jan2025_diffusion_rule",
        "may2025_diffusion_rescinded", "apr2025_h20_licence", "jul2025_h20_resumed",
        "sep2025_cn_nvidia_guidance", "dec2025_h200_decision", "jan2026_h200_rule",
    }  # fmt: skip
    assert required <= set(dataset.events["event_id"])
    dates = pd.to_datetime(dataset.events["date"])
    assert dates.min().year == 2019


def test_epoch_rows_match_the_import_script(monkeypatch) -> None:
    """The Epoch rows are generated from the raw files by data/build/import_epoch.py."""
    script = shipped_dir("data") / "build" / "import_epoch.py"
    spec = importlib.util.spec_from_file_location("import_epoch", script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "import_epoch", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    _, observation_rows = module.build()
    observations = pd.read_csv(shipped_dir("data") / "observations.csv", dtype=str,
                               keep_default_na=False)  # fmt: skip
    built = pd.DataFrame(observation_rows).astype(str)
    ids = set(built["series_id"])
    shipped = observations[observations["series_id"].isin(ids)].reset_index(drop=True)
    assert len(shipped) == len(built) > 300
    pd.testing.assert_frame_equal(shipped[built.columns], built, check_dtype=False)


def test_until_cutoff_drops_future(dataset) -> None:
    early = load_dataset(until=2021)
    assert early.observations["year"].max() == 2021
    assert len(early.observations) < len(dataset.observations)
    assert (pd.to_datetime(early.events["date"]).dt.year <= 2021).all()
