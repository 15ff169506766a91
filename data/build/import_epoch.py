"""Turn the raw Epoch AI files in ``data/epoch/`` into compute-gap series and observations.

Deterministic, standard library only (Python 3.11). Usage, from the repository root::

    python data/build/import_epoch.py           # write data/build/epoch_{series,observations}.csv
    python data/build/import_epoch.py --merge   # ... and replace the Epoch rows in data/*.csv
    python data/build/import_epoch.py --check   # exit 1 if any of those files is out of date

Conventions (see data/README.md):

* Cumulative Monte Carlo totals become one observation per quarter, labelled with the calendar
  quarter of Epoch's end date (``2025-12-31`` -> ``2025-Q4``). value = median, low/high = p5/p95,
  quality = ``estimate``. Huawei (and xAI) are Epoch point estimates: no low/high.
* Rows that Epoch flags ``Incomplete`` (a quarter built from only part of the vendor's fiscal
  quarters) are skipped.
* Nvidia quarterly revenue keeps Nvidia's fiscal quarter in the note and is labelled with the
  calendar quarter of the fiscal quarter's end date (FY26Q3 ends 2025-10-26 -> ``2025-Q4``).
* Epoch's annual Nvidia price ranges become low/high in USD with value = Epoch's geometric mean
  where Epoch gives one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent
EPOCH_DIR = DATA_DIR / "epoch"
BUILD_DIR = DATA_DIR / "build"

SERIES_FIELDS = ["series_id", "country", "entity", "description", "unit", "frequency", "kind"]
OBS_FIELDS = ["series_id", "period", "value", "low", "high", "quality", "source_id", "note"]

SRC_MAIN = "epoch_ai_chip_counts"  # epoch-research/ai-chip-counts @ d1b1bc3
SRC_STAGING = "epoch_ai_chip_counts_staging"  # same repo @ 10c28e48, staging/curated file

MC_CAVEAT = (
    "Epoch AI Monte Carlo median with p5/p95 in low/high; percentiles of different rows "
    "cannot be summed (shared random seed)."
)


@dataclass(frozen=True)
class Spec:
    """One output series read from one Epoch file."""

    series_id: str
    country: str
    entity: str
    description: str
    unit: str
    frequency: str
    kind: str
    source_id: str

    def series_row(self) -> dict[str, str]:
        return {
            "series_id": self.series_id,
            "country": self.country,
            "entity": self.entity,
            "description": self.description,
            "unit": self.unit,
            "frequency": self.frequency,
            "kind": self.kind,
        }


# ---------------------------------------------------------------- number and date helpers


def num(text: str | None) -> str:
    """Canonical decimal text for a numeric cell ('12080.0' -> '12080', '$36,742' -> '36742').

    Returns '' for an empty cell; raises ValueError for anything else that is not a number.
    """
    if text is None:
        return ""
    cleaned = text.strip().replace("$", "").replace(",", "")
    if cleaned == "":
        return ""
    try:
        d = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    out = format(d.normalize(), "f")
    return "0" if out in ("-0", "") else out


def is_num(text: str | None) -> bool:
    try:
        return num(text) != ""
    except ValueError:
        return False


def parse_date(text: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"unparseable date {text!r}")


def quarter_label(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_end_label(text: str) -> str:
    """Label of a cumulative total whose end date must be a calendar quarter end."""
    day = parse_date(text)
    if (day.month, day.day) not in {(3, 31), (6, 30), (9, 30), (12, 31)}:
        raise ValueError(f"end date {text!r} is not a calendar quarter end")
    return quarter_label(day)


def read_rows(name: str) -> list[dict[str, str]]:
    with open(EPOCH_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def obs(
    spec: Spec, period: str, value: str, low: str = "", high: str = "", note: str = ""
) -> dict[str, str]:
    return {
        "series_id": spec.series_id,
        "period": period,
        "value": value,
        "low": low,
        "high": high,
        "quality": "estimate",
        "source_id": spec.source_id,
        "note": note,
    }


# ---------------------------------------------------------------- cumulative totals

# Column names differ between Epoch exports; each layout maps (median, p5, p95).
LAYOUT_OWNERS = {
    "h100e": ("Compute estimate in H100e (median)", "H100e (5th percentile)",
              "H100e (95th percentile)"),
    "units": ("Number of Units", "Number of Units (5th percentile)",
              "Number of Units (95th percentile)"),
}  # fmt: skip
LAYOUT_TOTALS = {
    "h100e": ("Compute estimate in H100e (median)", "Compute estimate in H100e (5th percentile)",
              "Compute estimate in H100e (95th percentile)"),
    "units": ("Number of units (median)", "Number of units (5th percentile)",
              "Number of units (95th percentile)"),
}  # fmt: skip
LAYOUT_STAGING = {
    "h100e": ("H100e (median)", "H100e (5th percentile)", "H100e (95th percentile)"),
    "units": ("Number of units (median)", "Number of units (5th percentile)",
              "Number of units (95th percentile)"),
}  # fmt: skip


def cumulative(
    spec: Spec,
    rows: Iterable[dict[str, str]],
    layout: dict[str, tuple[str, str, str]],
    start: str,
    start_col: str = "Start date",
    note: str = "",
) -> list[dict[str, str]]:
    """Observations of one cumulative series (spec.unit picks h100e or units columns)."""
    median_col, p5_col, p95_col = layout[spec.unit]
    out = []
    for row in rows:
        if row.get("Incomplete", "").strip():
            continue  # partial quarter; see module docstring
        if parse_date(row[start_col]) != parse_date(start):
            raise ValueError(f"{spec.series_id}: unexpected start date {row[start_col]!r}")
        value, low, high = num(row[median_col]), num(row[p5_col]), num(row[p95_col])
        if value == "":
            raise ValueError(f"{spec.series_id}: missing median in {row.get('Name')!r}")
        if (low == "") != (high == ""):
            raise ValueError(f"{spec.series_id}: one-sided percentile in {row.get('Name')!r}")
        if low and not Decimal(low) <= Decimal(value) <= Decimal(high):
            raise ValueError(f"{spec.series_id}: p5 <= median <= p95 fails in {row.get('Name')!r}")
        out.append(obs(spec, quarter_end_label(row["End date"]), value, low, high, note))
    return out


def _cum_spec(sid, country, entity, what, unit, since, source=SRC_MAIN, extra=""):
    noun = "H100-equivalents (dense 8-bit peak / 1979 TFLOP/s)" if unit == "h100e" else "chips"
    desc = f"{what}, cumulative {noun} since {since}, end of quarter. {MC_CAVEAT}"
    if extra:
        desc = f"{desc} {extra}"
    return Spec(sid, country, entity, desc, unit, "quarterly", "compute_stock", source)


def owner_series() -> list[tuple[list[dict[str, str]], dict[str, str]]]:
    """Series rows and observations from the Nvidia owners and designer-level files."""
    results = []
    owners = read_rows("owners_csv_export_nvidia_owners_cumulative_totals.csv")
    hyperscalers = [
        ("msft", "Microsoft"), ("meta", "Meta"), ("amzn", "Amazon"), ("googl", "Google"),
        ("orcl", "Oracle"),
    ]  # fmt: skip
    for prefix, owner in hyperscalers:
        spec = _cum_spec(
            f"{prefix}_nvidia_cum_h100e", "US", owner,
            f"Nvidia data-centre AI chips owned by {owner} (Epoch owner allocation)",
            "h100e", "2022-01-01",
        )  # fmt: skip
        rows = [r for r in owners if r["Owner"] == owner]
        results.append((cumulative(spec, rows, LAYOUT_OWNERS, "2022-01-01"), spec.series_row()))
    china = [r for r in owners if r["Owner"] == "China"]
    for unit in ("h100e", "units"):
        spec = _cum_spec(
            f"cn_nvidia_licensed_cum_{unit}", "CN", "China",
            "Nvidia chips sold to China through licensed/legal channels (China-spec A800, H800, "
            "H20 plus a share of pre-control A100s; Epoch owner 'China')",
            unit, "2022-01-01",
        )  # fmt: skip
        results.append((cumulative(spec, china, LAYOUT_OWNERS, "2022-01-01"), spec.series_row()))
    other = read_rows("owners_csv_export_nvidia_owners_OTHER_cumulative_totals.csv")
    for unit in ("h100e", "units"):
        spec = _cum_spec(
            f"other_nvidia_cum_{unit}", "GLOBAL", "Other owners",
            "Nvidia chips owned by everyone except Microsoft, Meta, Amazon, Google, Oracle, "
            "China, xAI and CoreWeave",
            unit, "2022-01-01",
        )  # fmt: skip
        results.append((cumulative(spec, other, LAYOUT_OWNERS, "2022-01-01"), spec.series_row()))

    staging = read_rows("staging_curated_owners_cumulative_by_designer.csv")
    designer_specs = [
        ("cn_nvidia_smuggled", "CN", "China", "Nvidia", "China (smuggled)",
         "Nvidia chips smuggled into China (Epoch smuggling Monte Carlo, diversion + resale "
         "weighted 60/40)", ""),
        ("cn_huawei", "CN", "Huawei", "Huawei", "China",
         "Huawei Ascend chips sold in China (Epoch curated estimate)",
         "Point estimate: Epoch gives no interval."),
        ("cn_cambricon", "CN", "Cambricon", "Cambricon", "China",
         "Cambricon chips sold in China (Epoch; quarterly allocation proportional to Cambricon's "
         "reported revenue)", ""),
        ("xai_nvidia", "US", "xAI", "Nvidia", "xAI",
         "Nvidia chips in xAI data centres (Epoch, from its Frontier AI Data Centers data; lumpy "
         "and lagging)", "Point estimate: Epoch gives no interval."),
    ]  # fmt: skip
    for prefix, country, entity, designer, owner, what, extra in designer_specs:
        rows = [r for r in staging if r["Designer"] == designer and r["Owner"] == owner]
        point = "Point estimate" in extra
        for unit in ("h100e", "units"):
            spec = _cum_spec(
                f"{prefix}_cum_{unit}", country, entity, what, unit, "2024-01-01",
                source=SRC_STAGING, extra=extra,
            )  # fmt: skip
            found = cumulative(
                spec, rows, LAYOUT_STAGING, "2024-01-01", start_col="Series start date",
                note="point estimate" if point else "",
            )  # fmt: skip
            results.append((found, spec.series_row()))
    return results


def designer_totals() -> list[tuple[list[dict[str, str]], dict[str, str]]]:
    """Global sales by chip designer (csv_export files)."""
    results = []
    files = [
        ("csv_export_nvidia_cumulative_totals.csv", "nvidia_global", "GLOBAL", "Nvidia",
         "All Nvidia data-centre AI chips sold worldwide", "2022-01-01", LAYOUT_TOTALS),
        ("csv_export_tpu_cumulative_totals.csv", "tpu", "US", "Google",
         "Google TPUs produced (Google-designed, Broadcom-built; used by Google and its cloud "
         "customers)", "2023-01-01", LAYOUT_TOTALS),
        ("csv_export_amd_cumulative_totals.csv", "amd_global", "GLOBAL", "AMD",
         "All AMD Instinct data-centre AI chips sold worldwide", "2024-01-01", LAYOUT_TOTALS),
        ("csv_export_trainium_cumulative_totals.csv", "trainium", "US", "Amazon",
         "Amazon Trainium chips deployed by AWS", "2024-01-01", LAYOUT_OWNERS),
    ]  # fmt: skip
    for name, prefix, country, entity, what, since, layout in files:
        rows = read_rows(name)
        for unit in ("h100e", "units"):
            spec = _cum_spec(f"{prefix}_cum_{unit}", country, entity, what, unit, since)
            results.append((cumulative(spec, rows, layout, since), spec.series_row()))
    return results


# ---------------------------------------------------------------- Nvidia revenue and prices


def nvidia_revenue() -> list[tuple[list[dict[str, str]], dict[str, str]]]:
    rows = read_rows("data_inputs_Nvidia_quarterly_revenue.csv")
    results = []
    for column, sid, what in [
        ("total_revenue", "nvda_revenue_q_usd_bn", "Nvidia total revenue"),
        ("dc_revenue", "nvda_dc_revenue_q_usd_bn", "Nvidia data-centre segment revenue"),
    ]:
        spec = Spec(
            sid, "US", "Nvidia",
            f"{what} per Nvidia fiscal quarter (Nvidia's fiscal year ends late January), as "
            "reproduced by Epoch from Nvidia's quarterly press releases; labelled with the "
            "calendar quarter in which the fiscal quarter ends (FY26Q3, ending 2025-10-26, is "
            "2025-Q4); the note gives the fiscal quarter and its dates.",
            "usd_bn", "quarterly", "revenue", SRC_MAIN,
        )  # fmt: skip
        found = []
        for row in rows:
            start, end = parse_date(row["Start Date"]), parse_date(row["End Date"])
            note = f"Nvidia {row['Quarter']} ({start.isoformat()} to {end.isoformat()})"
            item = obs(spec, quarter_label(end), num(row[column]), note=note)
            item["quality"] = "reported"
            found.append(item)
        results.append((found, spec.series_row()))
    return results


def nvidia_prices() -> list[tuple[list[dict[str, str]], dict[str, str]]]:
    with open(EPOCH_DIR / "data_inputs_Nvidia_annual_prices.csv", newline="",
              encoding="utf-8") as fh:  # fmt: skip
        table = list(csv.reader(fh))
    header, body = table[0], table[1:]
    results = []
    for chip in ("A100", "H100", "H20", "GB200", "GB300"):
        lo_i, hi_i = header.index(f"{chip} low"), header.index(f"{chip} high")
        geo_i = hi_i + 1 if hi_i + 1 < len(header) and header[hi_i + 1] == "Geomean" else None
        spec = Spec(
            f"nvda_{chip.lower()}_price_usd", "GLOBAL", "Nvidia",
            f"Epoch AI's assumed price range per Nvidia {chip} in each calendar year (USD per "
            "chip; low/high as given by Epoch, value = Epoch's geometric mean where given).",
            "usd", "annual", "price", SRC_MAIN,
        )  # fmt: skip
        found = []
        for row in body:
            low, high = row[lo_i], row[hi_i]
            if not (is_num(low) and is_num(high)):
                continue
            value = num(row[geo_i]) if geo_i is not None and is_num(row[geo_i]) else ""
            note = "Epoch marks its A100 prices as a stub" if chip == "A100" else ""
            found.append(obs(spec, row[0].strip(), value, num(low), num(high), note))
        results.append((found, spec.series_row()))
    return results


# ---------------------------------------------------------------- assembly and output


def build() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """All Epoch-derived (series rows, observation rows), in a fixed order."""
    series: list[dict[str, str]] = []
    observations: list[dict[str, str]] = []
    parts = owner_series() + designer_totals() + nvidia_revenue() + nvidia_prices()
    for found, series_row in parts:
        if not found:
            raise ValueError(f"{series_row['series_id']}: no observations")
        series.append(series_row)
        observations.extend(found)
    ids = [s["series_id"] for s in series]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate series_id")
    keys = [(o["series_id"], o["period"]) for o in observations]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate (series_id, period)")
    return series, observations


def render(rows: list[dict[str, str]], fields: list[str]) -> str:
    """CSV text exactly as written to disk."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def merged(path: Path, fields: list[str], epoch_rows, epoch_ids: set[str]) -> str:
    """Main file with its Epoch-owned rows replaced: other rows keep their order, Epoch last."""
    kept = [r for r in read_csv(path) if r["series_id"] not in epoch_ids]
    return render(kept + list(epoch_rows), fields)


def targets(merge: bool) -> dict[Path, str]:
    series, observations = build()
    out = {
        BUILD_DIR / "epoch_series.csv": render(series, SERIES_FIELDS),
        BUILD_DIR / "epoch_observations.csv": render(observations, OBS_FIELDS),
    }
    if merge:
        ids = {s["series_id"] for s in series}
        out[DATA_DIR / "series.csv"] = merged(DATA_DIR / "series.csv", SERIES_FIELDS, series, ids)
        out[DATA_DIR / "observations.csv"] = merged(
            DATA_DIR / "observations.csv", OBS_FIELDS, observations, ids
        )
        known = {r["source_id"] for r in read_csv(DATA_DIR / "sources.csv")}
        missing = {o["source_id"] for o in observations} - known
        if missing:
            raise SystemExit(f"sources.csv lacks source_id(s): {sorted(missing)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merge", action="store_true",
                        help="also replace the Epoch rows in data/series.csv and "
                             "data/observations.csv")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a target file is out of date "
                             "(with --merge, the main files too)")  # fmt: skip
    args = parser.parse_args(argv)
    stale = []
    for path, text in targets(args.merge).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(DATA_DIR.parent)}")
    for path in stale:
        print(f"out of date: {path.relative_to(DATA_DIR.parent)}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
