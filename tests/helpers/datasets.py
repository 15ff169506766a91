"""Small, valid datasets written to a directory: the CSV files of ``forecast.data``."""

from __future__ import annotations

import csv
from pathlib import Path

from forecast.data import COLUMNS

SOURCE = {
    "source_id": "test_source",
    "title": "Synthetic test data",
    "publisher": "compute-gap tests",
    "date": "2026-01-01",
    "reference": "tests/helpers/datasets.py",
    "licence": "MIT",
    "note": "",
}
EVENT = {
    "date": "2022-10-07",
    "event_id": "oct2022_ac_rule",
    "title": "Advanced computing rule",
    "kind": "export_control",
    "country": "US",
    "description": "Synthetic event for tests",
    "source_id": "test_source",
}
CHIP = {
    "chip": "H100 SXM",
    "vendor": "Nvidia",
    "year": "2022",
    "bf16_dense_tflops": "989",
    "int8_tops": "1979",
    "memory_gb": "80",
    "bandwidth_tbs": "3.35",
    "tpp": "",
    "source_id": "test_source",
}


def write_csv(path: Path, name: str, rows: list[dict]) -> Path:
    """Write rows with the columns of ``name`` (missing keys become empty cells)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS[name])
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS[name]})
    return path


def write_dataset(
    directory: Path,
    values: dict[str, dict[str, float]],
    *,
    units: dict[str, str] | None = None,
    kinds: dict[str, str] | None = None,
    events: list[dict] | None = None,
) -> Path:
    """Write a complete, valid data directory.

    Parameters
    ----------
    directory : Path
        Created if missing.
    values : dict
        ``{series_id: {period: value}}``.
    units, kinds : dict, optional
        Per-series unit (default ``usd_bn``) and kind (default ``capex``).
    events : list of dict, optional
        Rows for events.csv (default: one Oct 2022 export-control event).
    """
    directory.mkdir(parents=True, exist_ok=True)
    units, kinds = units or {}, kinds or {}
    series = [
        {
            "series_id": sid,
            "country": "US",
            "entity": "Test",
            "description": f"Synthetic series {sid}",
            "unit": units.get(sid, "usd_bn"),
            "frequency": "annual",
            "kind": kinds.get(sid, "capex"),
        }
        for sid in values
    ]
    observations = [
        {"series_id": sid, "period": period, "value": repr(float(v)), "quality": "reported",
         "source_id": "test_source"}
        for sid, points in values.items()
        for period, v in points.items()
    ]  # fmt: skip
    write_csv(directory / "series.csv", "series", series)
    write_csv(directory / "observations.csv", "observations", observations)
    write_csv(directory / "sources.csv", "sources", [SOURCE])
    write_csv(directory / "events.csv", "events", events if events is not None else [EVENT])
    write_csv(directory / "chips.csv", "chips", [CHIP])
    return directory
