"""``summary.xlsx``: the run's summary as a workbook analysts can open without Python.

One sheet per metric of :data:`forecast.metrics.METRICS` (a row per scenario and year: the
median and the 90 % interval, the mean, the unit), a ``levers`` sheet (every scenario's levers
as written, with unit and rationale) and a ``provenance`` sheet (the run's manifest flattened
to ``key, value`` rows: version, data hash, seed, fit settings and diagnostics, scenarios).

Text from scenario files is written as text, never as a formula (a name starting with ``=``
stays a name) and with control characters made visible (:func:`forecast.text.visible`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from forecast.io import write_atomic
from forecast.metrics import METRICS, UNITS
from forecast.projection import Projection
from forecast.scenarios import LEVERS
from forecast.text import visible

XLSX_FILE = "summary.xlsx"
#: Columns of a metric sheet.
METRIC_COLUMNS = ("scenario", "year", "median", "q05", "q95", "mean", "unit")
LEVER_COLUMNS = ("scenario", "extends", "start", "lever", "value", "unit", "valid range",
                 "rationale")  # fmt: skip
#: Manifest keys the provenance sheet leaves out: the set's own bookkeeping, written after.
_NOT_PROVENANCE = ("package", "kind", "files")


def metric_sheet(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's rows of :meth:`Projection.summary` as a sheet: scenario x year.

    Parameters
    ----------
    summary : pandas.DataFrame
        As :meth:`forecast.Projection.summary` returns it (``q05``, ``q50``, ``q95``).
    metric : str

    Returns
    -------
    pandas.DataFrame
        Columns :data:`METRIC_COLUMNS`, in the summary's order.
    """
    rows = summary[summary["metric"] == metric]
    return pd.DataFrame({
        "scenario": rows["scenario"], "year": rows["year"], "median": rows["q50"],
        "q05": rows["q05"], "q95": rows["q95"], "mean": rows["mean"],
        "unit": UNITS[metric],
    }).reset_index(drop=True)  # fmt: skip


def lever_rows(projection: Projection) -> list[tuple]:
    """Every scenario's resolved levers: one row per scenario and lever (a row for none)."""
    rows = []
    for s in projection.scenarios:
        extends = " -> ".join(s.chain[1:])
        if not s.levers:
            rows.append((s.name, extends, s.start, "", "", "", "", ""))
        for name, value in sorted(s.levers.items()):
            lever = LEVERS[name]
            rows.append((
                s.name, extends, s.start, name, value.describe(), lever.unit,
                f"{lever.low:g} .. {lever.high:g}", s.rationale.get(name, ""),
            ))  # fmt: skip
    return rows


def _flatten(value: object, prefix: str) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, value


def provenance_rows(manifest: dict) -> list[tuple[str, object]]:
    """The manifest flattened to ``(key, value)``: ``fit.diagnostics.max_r_hat``,
    ``scenarios[0].name``...; lists of scalars become JSON text (``scenarios[0].extends``)."""
    kept = {k: v for k, v in manifest.items() if k not in _NOT_PROVENANCE}
    rows = []
    for key, value in _flatten(_lists_as_text(kept), ""):
        rows.append((key, value))
    return rows


def _lists_as_text(value: object) -> object:
    """Lists of scalars as JSON text (one cell); lists of records stay lists."""
    if isinstance(value, dict):
        return {k: _lists_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return json.dumps(value)
        return [_lists_as_text(v) for v in value]
    return value


def _cell(value: object) -> object:
    """A value Excel shows as it is: NaN and None empty, numpy scalars plain, text literal."""
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float):
        return value
    return visible(value)


def _add_sheet(book: object, title: str, columns: Iterable[str], rows: Iterable) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=..." from a scenario name stays text, not a formula
    sheet.freeze_panes = "A2"


def write_xlsx(projection: Projection, manifest: dict, path: str | Path) -> Path:
    """Write ``summary.xlsx`` atomically (see the module docstring for its sheets).

    Parameters
    ----------
    projection : Projection
    manifest : dict
        Provenance of the run (:func:`forecast.runner.build_manifest`).
    path : str or pathlib.Path
        The workbook (replaced atomically).

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook  # loads only when a workbook is written

    summary = projection.summary()
    book = Workbook()
    book.remove(book.active)
    for metric in METRICS:
        frame = metric_sheet(summary, metric)
        _add_sheet(book, metric, frame.columns, frame.itertuples(index=False))
    _add_sheet(book, "levers", LEVER_COLUMNS, lever_rows(projection))
    _add_sheet(book, "provenance", ("key", "value"), provenance_rows(manifest))
    created = manifest.get("created")
    if isinstance(created, str):  # the same run gives the same workbook properties
        stamp = pd.Timestamp(created).tz_convert(None).to_pydatetime()
        book.properties.created = book.properties.modified = stamp
    return write_atomic(path, lambda tmp: book.save(tmp))


def read_provenance(path: str | Path) -> dict[str, object]:
    """The provenance sheet of a workbook as ``{key: value}`` (for checks and tests)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        rows = book["provenance"].iter_rows(min_row=2, values_only=True)
        return {key: value for key, value in rows}
    finally:
        book.close()
