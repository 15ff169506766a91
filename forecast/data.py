"""Load and validate the dataset: tidy CSV files in one directory.

Every problem is reported with its file, line and what is wrong, all at once, as a
:class:`forecast.DataError`. Nothing else escapes :func:`load_dataset`.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from forecast import bounds
from forecast.clusters import derived_cluster_series
from forecast.csvfile import read_csv, table_frame
from forecast.errors import DataError, Problem
from forecast.paths import shipped_dir
from forecast.periods import parse_period

COLUMNS: dict[str, list[str]] = {
    "series": ["series_id", "country", "entity", "description", "unit", "frequency", "kind"],
    "observations": [
        "series_id", "period", "value", "low", "high", "quality", "source_id", "note",
    ],
    "sources": ["source_id", "title", "publisher", "date", "reference", "licence", "note"],
    "events": ["date", "event_id", "title", "kind", "country", "description", "source_id"],
    "chips": [
        "chip", "vendor", "year", "bf16_dense_tflops", "int8_tops", "memory_gb",
        "bandwidth_tbs", "tpp", "source_id", "h100e", "tdp_w", "tdp_source_id",
    ],
}  # fmt: skip
NUMERIC: dict[str, list[str]] = {
    "observations": ["value", "low", "high"],
    "chips": [
        "year", "bf16_dense_tflops", "int8_tops", "memory_gb", "bandwidth_tbs", "tpp", "h100e",
        "tdp_w",
    ],
}  # fmt: skip
EXTRA_OBSERVATIONS = "extra_observations.csv"

SERIES_KINDS = (
    "capex", "revenue", "share", "compute_stock", "compute_flow", "shipments", "price",
    "performance", "yield", "utilization", "other",
)  # fmt: skip
UNITS = (
    "usd_bn", "cny_bn", "share", "h100e", "units", "eflops", "count", "months", "usd", "tflops",
    "ratio", "gw", "mw", "stacks", "dies",
)  # fmt: skip
#: Units whose values can never be negative (money and compute, and counts of things).
NON_NEGATIVE_UNITS = frozenset(UNITS)
QUALITIES = ("reported", "secondary", "estimate", "unconfirmed")
COUNTRIES = ("US", "CN", "GLOBAL", "OTHER")
EVENT_KINDS = (
    "export_control", "relaxation", "licensing", "entity_list", "market", "china_policy",
)  # fmt: skip
EVENT_COUNTRIES = ("US", "CN", "NL", "JP", "GLOBAL")
FREQUENCIES = ("annual", "quarterly", "semiannual", "irregular")

_ID = r"^[a-z0-9][a-z0-9_]*$"
_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"


def _is_period(values: pd.Series) -> pd.Series:
    def ok(text: str) -> bool:
        try:
            parse_period(text)
        except ValueError:
            return False
        return True

    return values.map(ok).astype(bool)


def _is_date(values: pd.Series) -> pd.Series:
    shaped = values.str.fullmatch(_DATE)
    padded = values.where(values.str.len() != 4, values + "-01").where(
        values.str.len() != 7, values + "-01"
    )
    padded = padded.where(padded.str.len() != 7, padded + "-01")
    parsed = pd.to_datetime(padded, format="%Y-%m-%d", errors="coerce")
    return (shaped & parsed.notna()).astype(bool)


def _text(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    required = [] if nullable else [pa.Check.str_length(min_value=1, error="must not be empty")]
    return pa.Column(str, checks=[*required, *checks])


def _ident(what: str) -> pa.Column:
    return _text(pa.Check.str_matches(_ID, error=f"{what} must be lowercase snake_case"))


def _one_of(options: tuple[str, ...], what: str) -> pa.Column:
    return _text(pa.Check.isin(options, error=f"{what} must be one of {', '.join(options)}"))


_PERIOD = pa.Check(_is_period, error="unparseable period (expected YYYY, YYYY-Qn or YYYY-Hn)")
_DATE_CHECK = pa.Check(_is_date, error="unparseable date (expected YYYY-MM-DD)")
_NUMBER = pa.Column(float, nullable=True)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "series": pa.DataFrameSchema(
        {
            "series_id": _ident("series_id"),
            "country": _one_of(COUNTRIES, "country"),
            "entity": _text(),
            "description": _text(),
            "unit": _one_of(UNITS, "unit"),
            "frequency": _one_of(FREQUENCIES, "frequency"),
            "kind": _one_of(SERIES_KINDS, "kind"),
        }
    ),
    "observations": pa.DataFrameSchema(
        {
            "series_id": _text(),
            "period": _text(_PERIOD),
            "value": _NUMBER,
            "low": _NUMBER,
            "high": _NUMBER,
            "quality": _one_of(QUALITIES, "quality"),
            "source_id": _text(),
            "note": _text(nullable=True),
        }
    ),
    "sources": pa.DataFrameSchema(
        {
            "source_id": _ident("source_id"),
            "title": _text(),
            "publisher": _text(),
            "date": _text(_DATE_CHECK),
            "reference": _text(),
            "licence": _text(),
            "note": _text(nullable=True),
        }
    ),
    "events": pa.DataFrameSchema(
        {
            "date": _text(_DATE_CHECK),
            "event_id": _ident("event_id"),
            "title": _text(),
            "kind": _one_of(EVENT_KINDS, "kind"),
            "country": _one_of(EVENT_COUNTRIES, "country"),
            "description": _text(),
            "source_id": _text(),
        }
    ),
    "chips": pa.DataFrameSchema(
        {
            "chip": _text(),
            "vendor": _text(),
            "year": pa.Column(float, pa.Check.in_range(1990, 2100, error="year out of range")),
            **{
                name: pa.Column(float, pa.Check.gt(0, error="must be positive"), nullable=True)
                for name in NUMERIC["chips"][1:]
            },
            "source_id": _text(),
            "tdp_source_id": _text(nullable=True),  # checked against sources.csv
        }
    ),
}


@dataclass(frozen=True)
class Dataset:
    """The validated dataset.

    Attributes
    ----------
    series, observations, sources, events, chips : pandas.DataFrame
        One frame per file, with the columns of the data contract (``data/README.md``).
        ``observations`` has an extra integer column ``year`` (the period's year) and
        includes ``extra_observations.csv`` and the series derived from the GPU-clusters
        snapshot.
    data_dir : pathlib.Path
        Where the files were read from.
    until : int or None
        The as-of cut-off year: nothing after it is present.
    """

    series: pd.DataFrame
    observations: pd.DataFrame
    sources: pd.DataFrame
    events: pd.DataFrame
    chips: pd.DataFrame
    data_dir: Path
    until: int | None = None
    _hash: str = field(default="", repr=False)

    def history(self, series_id: str) -> pd.DataFrame:
        """Observations of one series, oldest first.

        Raises
        ------
        DataError
            If the series is unknown.
        """
        if not isinstance(series_id, str) or series_id not in set(self.series["series_id"]):
            raise DataError(Problem("series.csv", None, f"unknown series id {series_id!r}"))
        rows = self.observations[self.observations["series_id"] == series_id]
        order = rows["period"].map(lambda p: parse_period(p).decimal_year)
        return rows.assign(_t=order).sort_values("_t").drop(columns="_t")

    def series_info(self, series_id: str) -> pd.Series:
        """The ``series.csv`` row of one series."""
        self.history(series_id)  # validates the id
        return self.series.set_index("series_id").loc[series_id]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the dataset's content (after the cut-off): a key for caches."""
        return self._hash


def _header_problems(header: list[str], expected: list[str], fname: str) -> list[Problem]:
    problems = []
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    dupes = sorted(c for c, n in Counter(header).items() if n > 1)
    if missing:
        problems.append(Problem(fname, 1, f"missing column(s): {', '.join(missing)}"))
    if extra:
        problems.append(Problem(fname, 1, f"unexpected column(s): {', '.join(extra)}"))
    if dupes:
        problems.append(Problem(fname, 1, f"duplicated column(s): {', '.join(dupes)}"))
    return problems


def _read_table(path: Path, name: str, *, allow_empty: bool = False) -> tuple[pd.DataFrame, list]:
    """Read one CSV as text cells, with a ``_line`` column; return it and the problems found."""
    fname = path.name
    header, records, problems = read_csv(path, fname)
    problems = problems or _header_problems(header, COLUMNS[name], fname)
    if problems:
        return pd.DataFrame(), problems
    frame, problems = table_frame(header, records, COLUMNS[name], fname)
    if frame.empty and not allow_empty and not problems:
        problems.append(Problem(fname, None, "no data rows"))
    return frame, problems


def _coerce_numbers(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list]:
    problems = []
    for column in NUMERIC.get(name, []):
        text = frame[column]
        numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = (text != "") & (numbers.isna() | ~np.isfinite(numbers.astype(float)))
        for line, fname, cell in zip(frame.loc[bad, "_line"], frame.loc[bad, "_file"], text[bad]):
            problems.append(Problem(fname, line, f"column {column!r}: {cell!r} is not a number"))
        frame[column] = numbers.astype(float)
    return frame, problems


def _check_schema(frame: pd.DataFrame, name: str) -> list[Problem]:
    try:
        SCHEMAS[name].validate(frame.drop(columns=["_line", "_file"]), lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"]).drop_duplicates(["index", "check"])
        problems = []
        for _, case in cases.iterrows():
            row = frame.loc[int(case["index"])]
            column = case["column"]
            cell = row[column] if column in row.index else case["failure_case"]
            problems.append(
                Problem(row["_file"], int(row["_line"]), f"{column} {cell!r}: {case['check']}")
            )
        return sorted(problems, key=lambda p: (p.file, p.line or 0))
    return []


def _load_file(path: Path, name: str, *, allow_empty: bool = False) -> tuple[pd.DataFrame, list]:
    frame, problems = _read_table(path, name, allow_empty=allow_empty)
    if frame.empty and "_line" not in frame:
        return frame, problems
    frame = frame.reset_index(drop=True)
    frame, number_problems = _coerce_numbers(frame, name)
    return frame, problems + number_problems + _check_schema(frame, name)


def _unknown_ids(frame: pd.DataFrame, column: str, known: set[str], what: str) -> list[Problem]:
    bad = ~frame[column].isin(known) & (frame[column] != "")
    rows = frame[bad]
    return [
        Problem(f, line, f"unknown {what} {value!r} (not in {what.split()[0]}s.csv)")
        for f, line, value in zip(rows["_file"], rows["_line"], rows[column])
    ]


def _check_observations(obs: pd.DataFrame, series: pd.DataFrame) -> list[Problem]:
    problems = []
    keys = obs.duplicated(["series_id", "period"], keep=False)
    for (sid, period), group in obs[keys].groupby(["series_id", "period"], sort=False):
        first = f"{group['_file'].iloc[0]}:{group['_line'].iloc[0]}"
        for f, n in zip(group["_file"].iloc[1:], group["_line"].iloc[1:]):
            problems.append(
                Problem(f, n, f"duplicate observation for ({sid}, {period}); first at {first}")
            )
    units = obs["series_id"].map(series.drop_duplicates("series_id").set_index("series_id")["unit"])
    value, low, high = obs["value"], obs["low"], obs["high"]
    rules = [
        (value.isna() & low.isna() & high.isna(), lambda r: "value, low and high are all empty"),
        (low > high, lambda r: f"low {r.low:g} is above high {r.high:g}"),
        (value < low, lambda r: f"value {r.value:g} is below low {r.low:g}"),
        (value > high, lambda r: f"value {r.value:g} is above high {r.high:g}"),
    ]
    for column in ("value", "low", "high"):
        x = obs[column]
        rules.append(
            (
                (units == "share") & ((x < 0) | (x > 1)),
                lambda r, c=column: (
                    f"{c} {r[c]:g} is outside [0, 1] for a share series "
                    "(write shares as fractions: 0.42, not 42)"
                ),
            )
        )
        rules.append(
            (
                units.isin(NON_NEGATIVE_UNITS) & (units != "share") & (x < 0),
                lambda r, c=column: f"{c} {r[c]:g} is negative for a series in {units[r.name]}",
            )
        )
    for mask, message in rules:
        for _, row in obs[mask.fillna(False).astype(bool)].iterrows():
            problems.append(Problem(row["_file"], int(row["_line"]), message(row)))
    return problems


def _cross_checks(frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Checks across files; a file that could not be read is skipped (its problem is known)."""
    ok = {name for name, frame in frames.items() if "_line" in frame.columns}
    problems = []
    for name, key in (("series", "series_id"), ("sources", "source_id"), ("events", "event_id")):
        if name in ok:
            dupes = frames[name][frames[name][key].duplicated()]
            for f, line, value in zip(dupes["_file"], dupes["_line"], dupes[key]):
                problems.append(Problem(f, line, f"duplicate {key} {value!r}"))
    if "sources" in ok:
        sources = set(frames["sources"]["source_id"])
        for name in ("observations", "events", "chips"):
            if name in ok:
                problems += _unknown_ids(frames[name], "source_id", sources, "source id")
        if "chips" in ok:
            problems += _unknown_ids(frames["chips"], "tdp_source_id", sources, "source id")
    if "chips" in ok:
        chips = frames["chips"]
        unsourced = chips[chips["tdp_w"].notna() & (chips["tdp_source_id"] == "")]
        for f, line in zip(unsourced["_file"], unsourced["_line"]):
            problems.append(Problem(f, line, "tdp_w is given but tdp_source_id is empty"))
    if {"series", "observations"} <= ok:
        obs, series = frames["observations"], set(frames["series"]["series_id"])
        problems += _unknown_ids(obs, "series_id", series, "series id")
        problems += _check_observations(obs[obs["series_id"].isin(series)], frames["series"])
    return problems


def _apply_until(frames: dict[str, pd.DataFrame], until: int | None) -> dict[str, pd.DataFrame]:
    if until is None:
        return frames
    out = dict(frames)
    out["observations"] = frames["observations"][frames["observations"]["year"] <= until]
    out["events"] = frames["events"][frames["events"]["date"].str[:4].astype(int) <= until]
    out["chips"] = frames["chips"][frames["chips"]["year"] <= until]
    return out


def _fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    digest = hashlib.sha256()
    for name in COLUMNS:
        digest.update(name.encode())
        digest.update(frames[name].to_csv(index=False).encode())
    return digest.hexdigest()


def validate_dir(data_dir: str | Path) -> list[Problem]:
    """Validate a data directory and return every problem found (empty list if clean).

    Parameters
    ----------
    data_dir : str or pathlib.Path
        Directory holding ``series.csv``, ``observations.csv``, ``sources.csv``,
        ``events.csv``, ``chips.csv`` and optionally ``extra_observations.csv``.
    """
    try:
        load_dataset(data_dir)
    except DataError as err:
        return err.problems
    return []


def load_dataset(data_dir: str | Path | None = None, until: int | None = None) -> Dataset:
    """Load, validate and return the dataset.

    Parameters
    ----------
    data_dir : str or pathlib.Path, optional
        Directory with the CSV files; the shipped ``data/`` when omitted. An
        ``extra_observations.csv`` there is merged into the observations.
    until : int, optional
        As-of cut-off year: observations, events and chips after this year are dropped,
        so a backtest at origin ``until`` cannot see the future.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Listing every problem (file, line, what is wrong). Nothing else escapes.
    """
    if not isinstance(data_dir, str | os.PathLike | None):
        raise DataError(Problem("<data_dir>", None, f"expected a directory, got {data_dir!r}"))
    directory = Path(data_dir) if data_dir is not None else shipped_dir("data")
    wrong_until = None if until is None else bounds.UNTIL.problem(until)
    if wrong_until:
        raise DataError(Problem("<until>", None, wrong_until))
    if not directory.is_dir():
        raise DataError(Problem(str(directory), None, "data directory does not exist"))
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in COLUMNS:
        frames[name], found = _load_file(directory / f"{name}.csv", name)
        problems += found
    extra_path = directory / EXTRA_OBSERVATIONS
    if extra_path.exists():
        extra, found = _load_file(extra_path, "observations", allow_empty=True)
        problems += found
        if "_line" in frames["observations"].columns and "_line" in extra.columns:
            frames["observations"] = pd.concat([frames["observations"], extra], ignore_index=True)
    try:
        derived_series, derived_obs = derived_cluster_series(directory)
    except DataError as err:
        problems += err.problems
    else:
        for name, derived in (("series", derived_series), ("observations", derived_obs)):
            if "_line" in frames[name].columns:  # only extend files that could be read
                frames[name] = pd.concat([frames[name], derived], ignore_index=True)
    problems += _cross_checks(frames)
    if problems:
        raise DataError(problems)
    obs = frames["observations"]
    frames["observations"] = obs.assign(year=obs["period"].str[:4].astype(int))
    frames = _apply_until(frames, until)
    public = {
        name: frame.drop(columns=["_line", "_file"], errors="ignore").reset_index(drop=True)
        for name, frame in frames.items()
    }
    return Dataset(**public, data_dir=directory, until=until, _hash=_fingerprint(public))
