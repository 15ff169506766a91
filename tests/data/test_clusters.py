"""Country totals derived from the GPU-clusters snapshot."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast import load_dataset
from forecast.clusters import cluster_country_totals, derived_cluster_series
from forecast.paths import shipped_dir


def _cluster(country, h100e, start, status="Existing", end="", standard="True"):
    return {
        "Status": status, "Country": country, "H100 equivalents": h100e,
        "First Operational Date": start, "Decommissioned Date (if applicable)": end,
        "Include in Standard Analysis": standard,
    }  # fmt: skip


def test_totals_count_operational_clusters_only() -> None:
    clusters = pd.DataFrame(
        [
            _cluster("United States of America", 100.0, "2020-03-01"),
            _cluster("United States of America", 50.0, "2021-12-31", end="2023-06-01"),
            _cluster("China", 30.0, "2021-05-01"),
            _cluster("China", 1000.0, "2021-05-01", status="Planned"),
            _cluster("China", 1000.0, "2021-05-01", standard=""),  # duplicate/superseded
            _cluster("France", 20.0, "2022-01-01"),
            _cluster("China", 999.0, ""),  # no date: unusable
        ]
    )
    totals = cluster_country_totals(clusters, range(2020, 2025))
    assert totals["US"].tolist() == [100.0, 150.0, 150.0, 100.0, 100.0]
    assert totals["CN"].tolist() == [0.0, 30.0, 30.0, 30.0, 30.0]
    assert totals["total"].tolist() == [100.0, 180.0, 200.0, 150.0, 150.0]
    assert totals.loc[2022, "cn_share"] == pytest.approx(30 / 200)
    assert totals.loc[2023, "us_share"] == pytest.approx(100 / 150)


def test_shipped_snapshot_gives_plausible_country_shares() -> None:
    """Epoch reports US ~75 % and China ~15 % of cluster performance (May 2025)."""
    snapshot = shipped_dir("data") / "epoch" / "gpu_clusters.csv"
    if not snapshot.is_file():
        pytest.fail(f"shipped snapshot missing: {snapshot}")
    _, observations = derived_cluster_series(shipped_dir("data"))
    shares = observations.set_index(["series_id", "period"])["value"]
    assert 0.6 < shares[("clusters_us_share", "2025")] < 0.85
    assert 0.05 < shares[("clusters_cn_share", "2025")] < 0.25
    us = shares.loc["clusters_us_h100e"]
    assert us.is_monotonic_increasing
    dataset = load_dataset()
    assert "clusters_cn_h100e" in set(dataset.series["series_id"])
