"""Turn a run's ``summary.csv`` into a compact table for a report.

Run ``compute-gap run`` first, then:
    .venv/bin/python scenarios/examples/summary_table.py results/summary.csv
It prints a Markdown table of median [90 % interval] per scenario and year, and writes the
same numbers as ``summary_table.csv`` beside the input.
"""

import sys
from pathlib import Path

import pandas as pd


def report_table(summary: pd.DataFrame, metric: str, years=(2027, 2030, 2035)) -> pd.DataFrame:
    """One row per scenario, one column per year: 'median [q05, q95]'."""
    rows = summary[(summary["metric"] == metric) & summary["year"].isin(years)]
    cells = rows.assign(
        cell=rows.apply(lambda r: f"{r.q50:.3g} [{r.q05:.3g}, {r.q95:.3g}]", axis=1)
    )
    return cells.pivot(index="scenario", columns="year", values="cell")


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-style Markdown table (no extra dependency)."""
    header = ["scenario", *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join([name, *row]) + " |" for name, row in zip(table.index, table.values)
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "results/summary.csv")
    summary = pd.read_csv(path)
    for metric in ("ratio_us_cn", "years_behind"):
        table = report_table(summary, metric)
        print(f"\n{metric}: median [90 % interval]\n")
        print(to_markdown(table))
    report_table(summary, "ratio_us_cn").to_csv(path.with_name("summary_table.csv"))
