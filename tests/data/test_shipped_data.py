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


# --- Physical limits: money, power, chip supply, China's fabs ------------------------------


@pytest.mark.parametrize(
    ("series_id", "period", "column", "expected"),
    [
        ("msft_ocf_usd_bn", "2025", "value", 136.162),
        ("googl_ocf_usd_bn", "2025", "value", 164.7),
        ("amzn_ocf_usd_bn", "2025", "value", 139.5),
        ("meta_ocf_usd_bn", "2023", "value", 71.113),
        ("orcl_ocf_usd_bn", "2025", "value", 20.821),
        ("us_hyperscaler_bond_issuance_usd_bn", "2025", "value", 121),
        ("us_ai_power_gw", "2025", "value", 5),
        ("us_ai_power_gw", "2030", "low", 50),
        ("ai_accel_power_gw_semianalysis", "2025-Q1", "low", 10),
        ("us_dc_power_capacity_gw", "2028", "low", 74),
        ("us_dc_power_capacity_gw", "2028", "high", 132),
        ("us_dc_power_demand_gw_ferc", "2030", "value", 35),
        ("tsmc_cowos_capacity_wpm", "2025", "value", 70_000),
        ("tsmc_cowos_capacity_wpm", "2026", "high", 130_000),
        ("tsmc_cowos_capacity_wpm_trendforce", "2026", "low", 120_000),
        ("nvda_blackwell_gpus_shipped_units", "2025", "value", 6_000_000),
        ("smic_advanced_capacity_wpm", "2025", "value", 45_000),
        ("cn_advanced_capacity_wpm_nikkei", "2026-Q1", "high", 20_000),
        ("cxmt_hbm3_wafer_allocation_wpm", "2026", "value", 60_000),
        ("cny_per_usd", "2016", "value", 6.6423),
        ("cny_per_usd", "2023", "value", 7.0809),
    ],
)
def test_limits_facts_are_present(dataset, series_id, period, column, expected):
    rows = dataset.observations.query("series_id == @series_id and period == @period")
    assert len(rows) == 1, f"{series_id} {period} missing"
    assert rows.iloc[0][column] == pytest.approx(expected, rel=1e-6)


def test_operating_cash_flow_uses_the_capex_fiscal_years(dataset) -> None:
    for company in ("msft", "googl", "amzn", "meta", "orcl"):
        ocf = f"{company}_ocf_usd_bn"
        assert set(dataset.history(ocf)["period"]) == {"2023", "2024", "2025"}, ocf
        info, capex = dataset.series_info(ocf), dataset.series_info(f"{company}_capex_usd_bn")
        assert (info["unit"], info["frequency"]) == ("usd_bn", "annual")
        for words in ("30 June", "31 May", "calendar fiscal year"):
            assert (words in info["description"]) == (words in capex["description"]), ocf
    assert set(dataset.history("cny_per_usd")["year"]) == set(range(2015, 2024))


def _chip(dataset, name: str) -> pd.Series:
    rows = dataset.chips[dataset.chips["chip"] == name]
    assert len(rows) == 1, name
    return rows.iloc[0]


def test_chip_h100e_and_tdp(dataset) -> None:
    assert _chip(dataset, "NVIDIA H100 SXM5 80GB")["h100e"] == 1
    assert _chip(dataset, "NVIDIA H100 SXM5 80GB")["tdp_w"] == 700
    assert _chip(dataset, "NVIDIA H200 SXM")["tdp_w"] == 700
    assert _chip(dataset, "NVIDIA B200")["h100e"] == pytest.approx(2.27, abs=0.01)
    assert _chip(dataset, "NVIDIA B200")["tdp_w"] == 1000
    assert _chip(dataset, "NVIDIA GB200")["tdp_w"] == 1200
    assert _chip(dataset, "AMD Instinct MI300X")["tdp_w"] == 750
    assert _chip(dataset, "NVIDIA HGX H20")["h100e"] == pytest.approx(0.15, abs=0.005)
    assert _chip(dataset, "Huawei Ascend 910B")["h100e"] == pytest.approx(376 / 989.4, abs=1e-4)
    # Rule 1 of data/README.md: h100e = dense BF16 / 989.4 wherever BF16 is known.
    known = dataset.chips.dropna(subset=["bf16_dense_tflops"])
    assert (known["h100e"] - (known["bf16_dense_tflops"] / 989.4).round(4)).abs().max() < 1e-9
    assert dataset.chips["h100e"].notna().all()


def test_ascend_910c_has_one_documented_h100e(dataset) -> None:
    """One 910C value in the project: the chip row's 800 TFLOP/s / 989.4, as the README says."""
    value = _chip(dataset, "Huawei Ascend 910C")["h100e"]
    assert value == 0.8086
    assert value == round(_chip(dataset, "Huawei Ascend 910C")["bf16_dense_tflops"] / 989.4, 4)
    readme = (shipped_dir("data") / "README.md").read_text(encoding="utf-8")
    assert "**The Ascend 910C has one H100e value in the project: 0.8086" in readme


def test_every_tdp_cites_a_source(dataset) -> None:
    with_tdp = dataset.chips[dataset.chips["tdp_w"].notna()]
    assert len(with_tdp) >= 20
    assert with_tdp["tdp_source_id"].isin(dataset.sources["source_id"]).all()
    assert (dataset.chips["tdp_w"].dropna() > 0).all()


def _chips_problems(data_dir, **cells) -> list[str]:
    from forecast import DataError
    from tests.helpers.datasets import CHIP, write_csv

    write_csv(data_dir / "chips.csv", "chips", [{**CHIP, **cells}])
    with pytest.raises(DataError) as caught:
        load_dataset(data_dir)
    return [str(p) for p in caught.value.problems]


def test_chip_tdp_without_source_is_rejected(small_data_dir) -> None:
    assert _chips_problems(small_data_dir, tdp_w="700") == [
        "chips.csv:2: tdp_w is given but tdp_source_id is empty"
    ]
    problems = _chips_problems(small_data_dir, tdp_w="700", tdp_source_id="nowhere")
    assert problems == ["chips.csv:2: unknown source id 'nowhere' (not in sources.csv)"]
    assert any("h100e" in p for p in _chips_problems(small_data_dir, h100e="-1"))
    assert any("tdp_w" in p for p in _chips_problems(small_data_dir, tdp_w="0",
                                                     tdp_source_id="test_source"))  # fmt: skip
