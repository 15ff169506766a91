"""Country totals of installed compute derived from Epoch AI's GPU-clusters snapshot.

The snapshot (``data/epoch/gpu_clusters.csv``, CC BY 4.0, Epoch AI) lists individual clusters
with their H100-equivalents, country, status and first operational date. Summing the clusters
operational at each year end gives a *partial* country stock (the dataset covers roughly
10-20 % of global compute), which the models treat as a lower-coverage measurement.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.csvfile import read_csv, table_frame
from forecast.errors import DataError, Problem

SNAPSHOT = Path("epoch") / "gpu_clusters.csv"
SOURCE_ID = "epoch_gpu_clusters"
#: First year reported: before 2018 both countries hold under 2,000 H100e in the snapshot,
#: so shares would be noise.
FIRST_YEAR = 2018
#: The snapshot was taken in November 2025; 2025 is the last (nearly complete) year.
LAST_YEAR = 2025
COUNTRY_NAMES = {"US": "United States of America", "CN": "China"}
_REQUIRED = [
    "Status", "Country", "H100 equivalents", "First Operational Date",
    "Decommissioned Date (if applicable)", "Include in Standard Analysis",
]  # fmt: skip
STATUSES = ("Existing", "Planned", "Decommissioned")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def cluster_country_totals(clusters: pd.DataFrame, years: range) -> pd.DataFrame:
    """H100e of clusters operational at each year end, by country.

    A cluster counts from the year of its first operational date until the year before it
    is decommissioned. Planned clusters, clusters without a date, and rows Epoch excludes
    from its standard analysis (duplicates, superseded upgrades) are left out.

    Parameters
    ----------
    clusters : pandas.DataFrame
        Rows of the Epoch snapshot (columns as in the CSV).
    years : range
        Year ends to report.

    Returns
    -------
    pandas.DataFrame
        Index ``year``; columns ``US``, ``CN``, ``total`` (all countries), ``us_share``,
        ``cn_share`` (fractions of the total).
    """
    standard = clusters["Include in Standard Analysis"].astype(str).str.lower() == "true"
    usable = clusters[standard & (clusters["Status"] != "Planned")]
    start = pd.to_datetime(usable["First Operational Date"], errors="coerce").dt.year
    end = pd.to_datetime(usable["Decommissioned Date (if applicable)"], errors="coerce").dt.year
    h100e = pd.to_numeric(usable["H100 equivalents"], errors="coerce").fillna(0.0)
    rows = []
    for year in years:
        alive = (start <= year) & ~(end <= year)
        by_country = h100e[alive].groupby(usable.loc[alive, "Country"]).sum()
        total = float(h100e[alive].sum())
        row = {code: float(by_country.get(name, 0.0)) for code, name in COUNTRY_NAMES.items()}
        rows.append({"year": year, **row, "total": total})
    out = pd.DataFrame(rows).set_index("year")
    safe_total = out["total"].where(out["total"] > 0)
    return out.assign(us_share=out["US"] / safe_total, cn_share=out["CN"] / safe_total)


_SERIES = {
    "clusters_us_h100e": ("US", "US", "compute_stock", "h100e", "Installed H100e of US clusters"),
    "clusters_cn_h100e": ("CN", "CN", "compute_stock", "h100e", "Installed H100e of CN clusters"),
    "clusters_us_share": ("US", "us_share", "share", "share", "US share of cluster H100e"),
    "clusters_cn_share": ("CN", "cn_share", "share", "share", "China share of cluster H100e"),
}  # fmt: skip


def _value_problems(frame: pd.DataFrame) -> list[Problem]:
    """Every cell the totals read must mean something: a known status, a finite H100e count
    of at least 0 (empty: size unknown, the cluster is left out), a date (empty: not yet
    operational, or not decommissioned) and true/false for the standard-analysis flag."""
    h100e = pd.to_numeric(frame["H100 equivalents"].where(frame["H100 equivalents"] != ""),
                          errors="coerce")  # fmt: skip
    finite = np.isfinite(h100e.to_numpy(dtype=float))
    rules = {
        "Status": (~frame["Status"].isin(STATUSES), f"must be one of {', '.join(STATUSES)}"),
        "H100 equivalents": (
            (frame["H100 equivalents"] != "") & ~(finite & (h100e >= 0)),
            "must be a finite number >= 0, or empty when unknown",
        ),
        "Include in Standard Analysis": (
            ~frame["Include in Standard Analysis"].str.lower().isin(["true", "false", ""]),
            "must be true, false or empty",
        ),
    }
    for column in ("First Operational Date", "Decommissioned Date (if applicable)"):
        text = frame[column]
        parsed = pd.to_datetime(text.where(text != ""), errors="coerce", format="mixed")
        bad = (text != "") & (~text.str.match(_DATE) | parsed.isna())
        rules[column] = (bad, "must be a date YYYY-MM-DD (or empty)")
    problems = []
    for column, (bad, what) in rules.items():
        for line, cell in zip(frame.loc[bad, "_line"], frame.loc[bad, column]):
            problems.append(Problem(str(SNAPSHOT), int(line), f"{column} {cell!r}: {what}"))
    return sorted(problems, key=lambda p: p.line or 0)


def _coverage_problems(frame: pd.DataFrame) -> list[Problem]:
    """A country whose counted clusters all have unknown size would get totals of 0."""
    counted = frame[
        (frame["Include in Standard Analysis"].str.lower() == "true")
        & (frame["Status"] != "Planned")
        & (frame["First Operational Date"] != "")
    ]
    problems = []
    for code, name in COUNTRY_NAMES.items():
        rows = counted[counted["Country"] == name]
        if len(rows) and (rows["H100 equivalents"] == "").all():
            message = (
                f"none of the {len(rows)} counted clusters in {name} has a known H100 "
                f"equivalents value; {code}'s totals would all be 0"
            )
            problems.append(Problem(str(SNAPSHOT), None, message))
    return problems


def read_snapshot(data_dir: Path) -> pd.DataFrame | None:
    """The snapshot's columns used here, validated (None if the file is absent).

    Raises
    ------
    DataError
        Naming the file, line and column of every value that is not valid.
    """
    path = Path(data_dir) / SNAPSHOT
    if not path.exists():
        return None
    header, records, problems = read_csv(path, str(SNAPSHOT))
    missing = [c for c in _REQUIRED if c not in header]
    if header and missing:
        problems.append(Problem(str(SNAPSHOT), 1, f"missing column(s): {', '.join(missing)}"))
    if problems:
        raise DataError(problems)
    frame, problems = table_frame(header, records, _REQUIRED, str(SNAPSHOT))
    problems += _value_problems(frame) or _coverage_problems(frame)
    if problems:
        raise DataError(problems)
    return frame


def derived_cluster_series(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Series and observations derived from the snapshot in ``data_dir`` (empty if absent).

    Returns
    -------
    (series, observations) : tuple of pandas.DataFrame
        In the schemas of ``series.csv`` and ``observations.csv``, with ``_file``/``_line``
        bookkeeping columns pointing at the snapshot.

    Raises
    ------
    DataError
        If the snapshot exists but cannot be read, lacks a needed column, or has a value that
        is not valid (see :func:`read_snapshot`).
    """
    clusters = read_snapshot(data_dir)
    if clusters is None:
        return pd.DataFrame(), pd.DataFrame()
    totals = cluster_country_totals(clusters, range(FIRST_YEAR, LAST_YEAR + 1))
    note = "derived by forecast.clusters from the Epoch GPU-clusters snapshot (Nov 2025)"
    series, observations = [], []
    for sid, (country, column, kind, unit, title) in _SERIES.items():
        series.append(
            {
                "series_id": sid,
                "country": country,
                "entity": "Epoch GPU clusters",
                "description": f"{title} operational at year end in Epoch AI's GPU-clusters "
                "snapshot (covers ~10-20 % of global compute; 2025 = Nov 2025 snapshot)",
                "unit": unit,
                "frequency": "annual",
                "kind": kind,
            }
        )
        for year, value in totals[column].dropna().items():
            observations.append(
                {
                    "series_id": sid, "period": str(year), "value": float(value),
                    "low": float("nan"), "high": float("nan"), "quality": "estimate",
                    "source_id": SOURCE_ID, "note": note,
                }
            )  # fmt: skip
    where = {"_file": str(SNAPSHOT), "_line": 0}
    return pd.DataFrame(series).assign(**where), pd.DataFrame(observations).assign(**where)
