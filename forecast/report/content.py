"""What the report says: its figures and its sections, as format-free blocks.

Everything here works on plain inputs (:class:`ReportInputs`), so a report can be built from a
synthetic projection in tests and from a real run in :func:`forecast.report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from forecast.data import Dataset
from forecast.periods import parse_period
from forecast.projection import Projection
from forecast.quantiles import BAND, MEDIAN, quantile_column
from forecast.report.figures import (
    coverage_table,
    plot_additions,
    plot_attribution,
    plot_binding,
    plot_coverage,
    plot_fan,
    plot_stocks,
    stock_observations,
)
from forecast.report.render import Block, Bullets, FigureRef, Heading, Para, Table
from forecast.runner import HEADLINE_YEARS, RESULT_FILES, headline_table
from forecast.scenarios import LEVERS, Scenario

#: Metrics with a fan chart, in report order.
FAN_METRICS = ("ratio_us_cn", "years_behind", "cn_share", "cn_h100e", "us_h100e")
#: Parameters listed in the diagnostics table (those with the highest R-hat).
WORST_PARAMETERS = 12
TITLE = "The US-China AI compute gap"
_HEADLINE_LABELS = {
    "ratio_us_cn": "ratio_us_cn: US / China installed compute",
    "years_behind": "years_behind: China's lag (years)",
}
_SOURCE_COLUMNS = ["source_id", "title", "publisher", "date", "licence", "reference"]
#: The headline table's median and 90 % interval columns.
_LOW, _MEDIAN, _HIGH = (quantile_column(q) for q in (BAND[0], MEDIAN, BAND[1]))


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is built from.

    Attributes
    ----------
    projection : Projection
    dataset : Dataset
    manifest : dict
        As :func:`forecast.runner.build_manifest` makes it.
    diagnostics : pandas.DataFrame, optional
        ``parameter, r_hat, ess_bulk, ess_tail`` (``Fit.diagnostics()``).
    backtest : pandas.DataFrame, optional
        Scored forecasts with ``series_id, model, in50, in90``
        (:attr:`forecast.backtest.BacktestResult.cases`).
    backtest_note : str
        What was backtested, in words.
    cutoff : int, optional
        Last year of the model's history (marked on the charts).
    fit_note : str
        Where the posterior came from (sampled or cached, how long it took).
    """

    projection: Projection
    dataset: Dataset
    manifest: dict
    diagnostics: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    backtest_note: str = ""
    cutoff: int | None = None
    fit_note: str = ""


@dataclass(frozen=True)
class FigureSpec:
    """A report figure: file name (no suffix), caption and how to draw it."""

    name: str
    caption: str
    draw: Callable[[], Figure]


def figure_specs(inputs: ReportInputs) -> list[FigureSpec]:
    """The report's figures, in order (the coverage chart only with a backtest)."""
    p, cutoff = inputs.projection, inputs.cutoff
    specs = [
        FigureSpec(
            f"fan_{metric}",
            f"{metric}: median (line) and 90 % interval (band) per scenario; grey before a "
            "scenario's levers act.",
            lambda metric=metric: plot_fan(p, metric, cutoff=cutoff).figure,
        )
        for metric in FAN_METRICS
    ]
    specs += [
        FigureSpec(
            "stocks",
            "Installed AI compute, US (solid) and China (dashed), log scale, with year-end "
            "observations coloured by source. Many observations are partial stocks (one owner, "
            "chips since 2022), i.e. lower bounds of a national total. Where scenarios "
            "coincide (e.g. the US stock where a scenario leaves US capex alone), only the "
            "last one drawn is visible.",
            lambda: plot_stocks(p, inputs.dataset, cutoff=cutoff).figure,
        ),
        FigureSpec(
            "cn_additions",
            "China's additions of compute per year by channel (licensed foreign chips, "
            "leakage, domestic chips) per scenario: median and 50 % interval, log scale.",
            lambda: plot_additions(p, since=cutoff - 5 if cutoff else None),
        ),
    ]
    specs.append(
        FigureSpec(
            "what_binds",
            "What binds: in each projected year, the share of posterior draws in which "
            "money (no physical limit), the financing ceiling, the power envelope or world "
            "chip supply caps US additions, and in which demand, wafers or HBM cap China's "
            "domestic additions.",
            lambda: plot_binding(p),
        )
    )
    if "status_quo" in p.names and p.world is not None:
        specs.append(
            FigureSpec(
                "attribution",
                "What each lever does: for each scenario, the change in log(ratio_us_cn) in "
                "2030 against the status quo, split by lever (Shapley values over the "
                "scenario's levers in paired draws; whiskers: 90 % intervals).",
                lambda: plot_attribution(p),
            )
        )
    if inputs.backtest is not None and not inputs.backtest.empty:
        specs.append(
            FigureSpec(
                "backtest_coverage",
                "Share of backtest outcomes inside the 50 % and 90 % predictive intervals per "
                "model; whiskers: 90 % Wilson intervals; dashed: nominal level.",
                lambda: plot_coverage(inputs.backtest, source=inputs.backtest_note).figure,
            )
        )
    return specs


def _num(value: float) -> str:
    """Three significant digits, without scientific notation for large values."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _interval(row: pd.Series) -> str:
    """``median (low–high)`` of a :func:`~forecast.runner.headline_table` row."""
    return f"{_num(row[_MEDIAN])} ({_num(row[_LOW])}–{_num(row[_HIGH])})"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def headline(projection: Projection) -> Table:
    """Median and 90 % interval of the headline gap metrics per scenario (one row each)."""
    table = headline_table(projection)
    cells = table.set_index(["scenario", "metric", "year"])
    keys = list(dict.fromkeys(zip(table["metric"], table["year"], strict=True)))
    metrics = [metric for metric, _ in keys]
    groups = [(_HEADLINE_LABELS.get(m, m), metrics.count(m)) for m in dict.fromkeys(metrics)]
    return Table(
        ["scenario", *(str(year) for _, year in keys)],
        [
            [name, *(_interval(cells.loc[(name, *key)]) for key in keys)]
            for name in dict.fromkeys(table["scenario"])
        ],
        caption="median (5 %–95 % interval) over posterior draws",
        id="headline-table",
        numeric=frozenset(range(1, len(keys) + 1)),
        groups=[("", 1), *groups],
    )


def key_sentence(projection: Projection) -> str:
    """One sentence on the gap under the status quo (or the first scenario), for the top."""
    name = "status_quo" if "status_quo" in projection.names else projection.names[0]
    table = headline_table(projection)
    rows = table[table["scenario"] == name].set_index(["metric", "year"])
    year = int(rows.loc["ratio_us_cn"].index.max())
    ratio, lag = rows.loc[("ratio_us_cn", year)], rows.loc[("years_behind", year)]
    return (
        f"Under {name}, the US holds {_num(ratio[_MEDIAN])} times China's installed AI compute "
        f"in {year} (90 % interval {_num(ratio[_LOW])}–{_num(ratio[_HIGH])}); China's stock "
        f"trails the US stock by {_num(lag[_MEDIAN])} years ({_num(lag[_LOW])}–"
        f"{_num(lag[_HIGH])})."
    )


def data_cutoff(dataset: Dataset, cutoff: int | None) -> str:
    """The data cut-off in words: the as-of year, the latest observation, the model history."""
    latest = max(dataset.observations["period"], key=lambda p: parse_period(p).decimal_year)
    until = f"data as of {dataset.until}" if dataset.until else "all data (no --until)"
    model = f"; model history ends {cutoff}" if cutoff else ""
    return f"{until}; latest observation period {latest}{model}"


def _title_blocks(inputs: ReportInputs) -> list[Block]:
    m, p = inputs.manifest, inputs.projection
    return [
        Heading(1, f"{TITLE}, {int(p.years[0])}–{p.horizon}"),
        Para(
            f"How large is the gap in installed AI compute (in H100-equivalents) between the US "
            f"and China, and how does it evolve under {len(p.names)} export-control scenarios? "
            "Every number is a distribution over posterior draws."
        ),
        Para(
            f"compute-gap {m.get('version', '?')} · created {m.get('created', '?')} · seed "
            f"{p.seed} · {p.n_draws} draws · {data_cutoff(inputs.dataset, inputs.cutoff)}",
            note=True,
        ),
    ]


def _headline_blocks(inputs: ReportInputs) -> list[Block]:
    years = ", ".join(str(y) for y in HEADLINE_YEARS)
    return [
        Heading(2, f"Headline: the gap in {years}"),
        Para(key_sentence(inputs.projection)),
        headline(inputs.projection),
        Para(
            "ratio_us_cn: the US stock divided by China's (both in H100e). years_behind: how "
            "many years earlier the US had China's current stock (negative: China leads, by "
            "that many years); draws whose crossing lies before the data are left out of its "
            "statistics (years_behind_censored in summary.csv).",
            note=True,
        ),
    ]


def _has(specs: list[FigureSpec], name: str) -> bool:
    return any(s.name == name for s in specs)


def _figure_blocks(specs: list[FigureSpec], names: tuple[str, ...]) -> list[Block]:
    return [FigureRef(s.name, s.caption) for s in specs if s.name in names]


def _history_blocks(inputs: ReportInputs, specs: list[FigureSpec]) -> list[Block]:
    observations = stock_observations(inputs.dataset)
    used = inputs.dataset.sources[inputs.dataset.sources["source_id"].isin(
        observations["source_id"])]  # fmt: skip
    events = inputs.dataset.events.sort_values("date")
    return [
        Heading(2, "History: installed compute and its observations"),
        *_figure_blocks(specs, ("stocks",)),
        Table(
            _SOURCE_COLUMNS,
            _rows(used, _SOURCE_COLUMNS),
            caption=f"Sources of the {len(observations)} observations in the chart",
        ),
        Table(
            ["date", "event", "kind", "country", "source_id"],
            _rows(events, ["date", "title", "kind", "country", "source_id"]),
            caption="Export-control and market events in the data (interventions in the model)",
        ),
    ]


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    """Cells of ``columns`` as text, row by row (missing values as empty text)."""
    return frame[columns].fillna("").astype(str).to_numpy().tolist()


def _lever_rows(scenario: Scenario) -> list[list[str]]:
    return [
        [name, value.describe(), LEVERS[name].unit, scenario.rationale.get(name, "")]
        for name, value in scenario.levers.items()
    ]


def _scenario_blocks(scenario: Scenario) -> list[Block]:
    chain = f"; extends {' < '.join(scenario.chain[1:])}" if len(scenario.chain) > 1 else ""
    blocks: list[Block] = [
        Heading(3, scenario.name),
        Para(scenario.description),
        Para(f"Levers act from {scenario.start}{chain}.", note=True),
    ]
    if scenario.levers:
        blocks.append(Table(["lever", "value", "unit", "rationale"], _lever_rows(scenario)))
    else:
        blocks.append(Para("No lever set: every driver follows the posterior's own dynamics."))
    return blocks


def _scenarios_blocks(inputs: ReportInputs, specs: list[FigureSpec]) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Projections by scenario"),
        *_figure_blocks(specs, tuple(f"fan_{m}" for m in FAN_METRICS)),
        *_figure_blocks(specs, ("cn_additions",)),
        Heading(2, "What binds"),
        Para(
            "Each projected flow is what buyers want, capped by what can be paid for, "
            "powered and built: the financing ceiling, the US power envelope and world chip "
            "supply for US additions; wafers and HBM for China's domestic chips. The figure "
            "shows which limit binds in which share of draws (docs/DESIGN.md, frame v2)."
        ),
        *_figure_blocks(specs, ("what_binds",)),
        *([Heading(2, "What each lever does")] if _has(specs, "attribution") else []),
        *_figure_blocks(specs, ("attribution",)),
        Heading(2, "Scenarios and their levers"),
    ]
    for scenario in inputs.projection.scenarios:
        blocks += _scenario_blocks(scenario)
    return blocks


def _diagnostics_blocks(inputs: ReportInputs) -> list[Block]:
    fit = inputs.manifest.get("fit", {})
    summary = fit.get("diagnostics")
    blocks: list[Block] = [Heading(2, "Model diagnostics")]
    if summary is None:
        return [*blocks, Para("No fitted model: no sampler diagnostics for this projection.")]
    verdict = "passed" if summary["passed"] else "FAILED (treat the results with caution)"
    blocks.append(
        Para(
            f"Convergence checks {verdict}: {summary['divergences']} divergent transitions, "
            f"largest R-hat {summary['max_r_hat']:.3f}, smallest bulk ESS "
            f"{summary['min_ess_bulk']:.0f}, smallest tail ESS {summary['min_ess_tail']:.0f}."
        )
    )
    if inputs.fit_note:
        blocks.append(Para(inputs.fit_note, note=True))
    settings = fit.get("settings", {})
    blocks.append(Table(["setting", "value"], [[k, _fmt(v)] for k, v in settings.items()],
                        caption="Sampler settings"))  # fmt: skip
    if inputs.diagnostics is not None:
        worst = inputs.diagnostics.sort_values(["r_hat", "ess_bulk"], ascending=[False, True])
        worst = worst.head(WORST_PARAMETERS)
        blocks.append(
            Table(
                ["parameter", "r_hat", "ess_bulk", "ess_tail"],
                [
                    [str(r.parameter), f"{r.r_hat:.3f}", f"{r.ess_bulk:.0f}", f"{r.ess_tail:.0f}"]
                    for r in worst.itertuples()
                ],
                caption=f"The {len(worst)} of {len(inputs.diagnostics)} parameters with the "
                "largest R-hat, then the smallest bulk ESS",
                numeric=frozenset({1, 2, 3}),
            )
        )
    return blocks


#: What the baselines' intervals mean, under the backtest coverage table.
INTERVAL_MEANING = (
    "What the intervals mean: naive's are the random walk with drift's own (drift uncertainty "
    "and a small-sample correction included). ets's, sarimax's and ucm's are calibrated: the "
    "model's centre, with the larger of its own and naive's spread widened by a split-conformal "
    "factor from the errors the same model made from earlier origins on the data up to the "
    "forecast origin (at 90 %; no widening where fewer than 9 such errors exist)."
)


def _backtest_blocks(inputs: ReportInputs, specs: list[FigureSpec]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Backtest coverage")]
    if inputs.backtest is None or inputs.backtest.empty:
        return [*blocks, Para("No backtest was run for this report.")]
    table = coverage_table(inputs.backtest)
    rows = [
        [str(model), str(int(r.n)), f"{r.coverage_50:.0%}", f"{r.coverage_90:.0%}"]
        for model, r in table.iterrows()
    ]
    series = sorted(inputs.backtest["series_id"].unique())
    return [
        *blocks,
        *_figure_blocks(specs, ("backtest_coverage",)),
        Table(
            ["model", "forecasts", "in 50 % interval", "in 90 % interval"],
            rows,
            numeric=frozenset({1, 2, 3}),
        ),
        Para(f"{inputs.backtest_note}. Series: {', '.join(series)}.", note=True),
        Para(INTERVAL_MEANING, note=True),
    ]


def _provenance_blocks(inputs: ReportInputs) -> list[Block]:
    m, data = inputs.manifest, inputs.manifest.get("data", {})
    scenarios = [
        [s["name"], s["file"] or "(built in code)", (s["sha256"] or "")[:16],
         " < ".join(s["extends"]) or "-", str(s["start"])]
        for s in m.get("scenarios", [])
    ]  # fmt: skip
    sources = inputs.dataset.sources
    return [
        Heading(2, "Data cut-off and provenance"),
        Bullets(
            [
                f"Data cut-off: {data_cutoff(inputs.dataset, inputs.cutoff)}.",
                f"Data directory: {data.get('directory', inputs.dataset.data_dir)}; SHA-256 "
                f"{data.get('sha256', inputs.dataset.fingerprint)}.",
                f"compute-gap {m.get('version', '?')}, created {m.get('created', '?')}; seed "
                f"{m.get('seed')}, horizon {m.get('horizon')}, {m.get('draws')} draws.",
                f"Files next to this report: {', '.join(RESULT_FILES)} (as compute-gap run "
                "writes them), report.md, figures/ (PNG and SVG).",
            ]
        ),
        Table(
            ["scenario", "file", "sha256 (first 16)", "extends", "start"],
            scenarios,
            caption="Scenario files",
        ),
        Table(
            _SOURCE_COLUMNS,
            _rows(sources, _SOURCE_COLUMNS),
            caption=f"All {len(sources)} sources of the dataset",
        ),
    ]


def document(inputs: ReportInputs, specs: list[FigureSpec]) -> list[Block]:
    """The report as blocks, in reading order: title, headline table, contents, sections."""
    top = _headline_blocks(inputs)
    rest = [
        *_scenarios_blocks(inputs, specs),
        *_history_blocks(inputs, specs),
        *_diagnostics_blocks(inputs),
        *_backtest_blocks(inputs, specs),
        *_provenance_blocks(inputs),
    ]
    toc = [(b.text, b.anchor) for b in [*top, *rest] if isinstance(b, Heading) and b.level == 2]
    return [*_title_blocks(inputs), *top, Bullets(toc), *rest]
