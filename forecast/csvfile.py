"""One CSV data file read with every problem named by file and line: its bytes (within
:data:`forecast.bounds.DATA_FILE_BYTES`), its rows with their line numbers, and a frame of
their text cells.

Shared by :mod:`forecast.data` (the dataset's tables) and :mod:`forecast.clusters` (the
GPU-clusters snapshot), so that neither imports the other's internals.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from forecast import bounds
from forecast.errors import Problem


def read_bytes(path: Path, fname: str) -> tuple[bytes | None, list[Problem]]:
    """The bytes of one data file, or the problem that prevents reading it: missing, not a
    file, unreadable, or larger than :data:`forecast.bounds.DATA_FILE_BYTES`."""
    if not path.is_file():
        what = "not a file" if path.exists() else "missing file"
        return None, [Problem(fname, None, f"{what} (looked for {path})")]
    too_big = bounds.file_size_problem(path, bounds.DATA_FILE_BYTES)
    if too_big:
        return None, [Problem(fname, None, too_big)]
    try:
        return path.read_bytes(), []
    except OSError as err:
        return None, [Problem(fname, None, f"cannot read {path}: {err.strerror}")]


def read_csv(path: Path, fname: str) -> tuple[list[str], list[tuple[int, list[str]]], list]:
    """Parse one CSV file into its header and data rows (with line numbers).

    Blank rows are skipped and cells are stripped. Returns ``(header, rows, problems)``; when
    the file cannot be read (missing, too large, not UTF-8, malformed, empty, too many rows)
    the header is empty and ``problems`` says why.
    """
    raw, problems = read_bytes(path, fname)
    if raw is None:
        return [], [], problems
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        message = f"not valid UTF-8 (byte 0x{raw[err.start]:02x}); save as UTF-8"
        return [], [], [Problem(fname, line, message)]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as err:
        return [], [], [Problem(fname, reader.line_num, f"malformed CSV: {err}")]
    records = [(n, [c.strip() for c in row]) for n, row in records if any(c.strip() for c in row)]
    if not records:
        return [], [], [Problem(fname, None, "empty file (no header row)")]
    too_many = bounds.DATA_ROWS.problem(len(records) - 1, "number of data rows")
    if too_many:
        return [], [], [Problem(fname, None, too_many)]
    return records[0][1], records[1:], []


def table_frame(
    header: list[str], records: list[tuple[int, list[str]]], columns: list[str], fname: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """The ``columns`` of the rows as text, with ``_line`` and ``_file``; rows with the wrong
    number of fields are left out and reported."""
    rows, lines, problems = [], [], []
    for line, row in records:
        if len(row) != len(header):
            problems.append(
                Problem(fname, line, f"expected {len(header)} fields, found {len(row)}")
            )
            continue
        rows.append(row)
        lines.append(line)
    frame = pd.DataFrame(rows, columns=header, dtype=object)[columns].astype(str)
    return frame.assign(_line=lines, _file=fname), problems
