"""Figures of the report: fan charts, stocks with observations, China's additions, coverage.

Every function draws on plain inputs (a :class:`~forecast.projection.Projection`, a
:class:`~forecast.data.Dataset`, a DataFrame) and returns matplotlib objects the caller can
restyle. Without an ``ax`` (or ``fig``) they make a new :class:`matplotlib.figure.Figure` of
:data:`FIGSIZE` inches at :data:`DPI` that renders with the Agg canvas and never touches pyplot's
global state or the user's backend. Each figure carries a title, axis labels with units, a
legend and a source line. Text from data and scenario files is drawn as written: never as
mathtext (see :func:`forecast.text.for_figure`).

Years on the x axis are calendar years; a stock at year ``t`` is the stock at the end of ``t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from forecast._version import __version__
from forecast.attribution import attribute
from forecast.data import Dataset
from forecast.errors import ScenarioError
from forecast.metrics import BINDING, binding_shares
from forecast.periods import parse_period
from forecast.projection import Projection
from forecast.quantiles import BAND, INNER_BAND, MEDIAN
from forecast.text import for_figure

#: Size (inches) and resolution of every figure the report writes: 1200 x 720 pixels.
FIGSIZE = (8.0, 4.8)
DPI = 150
CN_CHANNELS = {
    "cn_add_licensed": "licensed foreign chips",
    "cn_add_leakage": "leakage (smuggling, offshore)",
    "cn_add_domestic": "domestic chips",
}
CHANNEL_COLORS = ("#4c72b0", "#dd8452", "#55a868")
_COUNTRY_STYLE = {"US": ("-", "o", "US"), "CN": ("--", "^", "China")}
_SOURCE_SIZE = 6.5
_BEFORE = "0.35"  # colour of a scenario's path before its levers act


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is labelled and scaled on a chart.

    Attributes
    ----------
    title : str
        What the metric is, in words.
    axis : str
        Short y-axis label (the unit is appended).
    unit : str
    log : bool
        Whether the y axis is logarithmic.
    """

    title: str
    axis: str
    unit: str
    log: bool

    @property
    def ylabel(self) -> str:
        """Axis label with the unit."""
        return f"{self.axis} ({self.unit})"


_ADDED = "H100e per year"
METRIC_INFO: dict[str, MetricInfo] = {
    "us_h100e": MetricInfo("US installed AI compute", "US stock", "H100e", True),
    "cn_h100e": MetricInfo("China's installed AI compute", "China's stock", "H100e", True),
    "ratio_us_cn": MetricInfo("US / China installed compute", "US / China", "ratio", True),
    "cn_share": MetricInfo("China's share of US + China compute", "China's share", "fraction",
                           False),
    "years_behind": MetricInfo("Years China's stock trails the US stock", "lag", "years", False),
    "us_add": MetricInfo("US compute additions", "US additions", _ADDED, True),
    "cn_add_licensed": MetricInfo("China's additions: licensed chips", "licensed", _ADDED, True),
    "cn_add_leakage": MetricInfo("China's additions: leakage", "leakage", _ADDED, True),
    "cn_add_domestic": MetricInfo("China's additions: domestic chips", "domestic", _ADDED, True),
}  # fmt: skip
_STOCKS = MetricInfo("US vs China installed AI compute", "installed AI compute", "H100e", True)


def new_figure() -> Figure:
    """An empty figure of :data:`FIGSIZE` at :data:`DPI` on an Agg canvas (no pyplot)."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def scenario_colors(names: Sequence[str]) -> dict[str, tuple]:
    """One colour per scenario, stable for a given list of names (tab10, tab20 beyond 10)."""
    cmap = mpl.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _chosen(projection: Projection, scenarios: Sequence[str] | None) -> list[str]:
    names = list(scenarios) if scenarios is not None else projection.names
    unknown = [name for name in names if name not in projection.names]
    if unknown:
        raise ScenarioError(f"scenario(s) not in this projection: {', '.join(unknown)}")
    return names


def _draws(projection: Projection, metric: str, name: str) -> np.ndarray:
    """One scenario's values of a metric: shape ``(draw, year)``."""
    return projection.values[metric][projection.names.index(name)]


def _quantiles(projection: Projection, metric: str, name: str, qs: Sequence[float]) -> np.ndarray:
    """Quantiles over draws of one scenario's metric: shape ``(len(qs), year)``."""
    return np.quantile(_draws(projection, metric, name), qs, axis=0)


def source_line(projection: Projection, extra: str = "") -> str:
    """The source note of a projection figure."""
    note = (
        f"Source: compute-gap {__version__} projection, {projection.n_draws} posterior draws, "
        f"seed {projection.seed}"
    )
    return f"{note}; {extra}" if extra else note


def _annotate_source(ax: Axes, text: str) -> None:
    """The source line, left-aligned with the axes, just below the x-axis label."""
    ax.annotate(
        text, xy=(0, 0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -3),
        textcoords="offset points", fontsize=_SOURCE_SIZE, color="0.35", va="top", ha="left",
    )  # fmt: skip


def _mark_cutoff(ax: Axes, cutoff: float | None) -> None:
    if cutoff is None:
        return
    ax.axvline(cutoff, color="0.4", linestyle=":", linewidth=1)
    ax.annotate(
        "data | projection", xy=(cutoff, 1), xycoords=("data", "axes fraction"),
        xytext=(0, -10), textcoords="offset points", fontsize=7, color="0.35", ha="center",
    )  # fmt: skip


def _legend_outside(ax: Axes, handles: list | None = None, title: str | None = None) -> None:
    ax.legend(
        handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
        fontsize=7.5, title_fontsize=8, frameon=False,
    )  # fmt: skip


def _finish_axes(ax: Axes, info: MetricInfo, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("year (end of year)")
    ax.set_ylabel(info.ylabel)
    if info.log:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def plot_fan(
    projection: Projection,
    metric: str,
    scenarios: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    cutoff: float | None = None,
) -> Axes:
    """Fan chart of one metric: median and 90 % interval per scenario over the years.

    Parameters
    ----------
    projection : Projection
    metric : str
        One of :data:`forecast.metrics.METRICS`.
    scenarios : sequence of str, optional
        Scenario names to draw (default: all, in the projection's order).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure of :data:`FIGSIZE`).
    cutoff : float, optional
        Last year of data; a dotted line marks where the projection begins.

    Returns
    -------
    matplotlib.axes.Axes
    """
    info = METRIC_INFO[metric]
    ax = ax if ax is not None else new_figure().add_subplot()
    names = _chosen(projection, scenarios)
    _draw_fans(ax, projection, metric, names, alpha=0.12)
    _mark_cutoff(ax, cutoff)
    _finish_axes(ax, info, f"{info.title}: median and 90 % interval by scenario")
    _legend_outside(ax, _scenario_handles(projection, names), title="scenario")
    _annotate_source(ax, source_line(projection))
    return ax


def _draw_fans(
    ax: Axes,
    projection: Projection,
    metric: str,
    names: list[str],
    *,
    alpha: float,
    ls: str = "-",
) -> None:
    """Median lines and 90 % bands; grey before a scenario's levers act, its colour after.

    Before its start year a scenario follows the posterior (and the baseline), so the
    scenarios coincide there; identical grey bands are drawn once.
    """
    colors = scenario_colors(projection.names)
    years = projection.years
    drawn: list[np.ndarray] = []
    for name in names:
        quantiles = _quantiles(projection, metric, name, (BAND[0], MEDIAN, BAND[1]))
        start = projection.scenarios[projection.names.index(name)].start
        before, after = years <= start - 1, years >= start - 1
        if not any(np.array_equal(quantiles[:, before], seen) for seen in drawn):
            drawn.append(quantiles[:, before])
            ax.fill_between(years[before], quantiles[0, before], quantiles[2, before],
                            color=_BEFORE, alpha=alpha * 1.5, lw=0)  # fmt: skip
            ax.plot(years[before], quantiles[1, before], color=_BEFORE, lw=1.4, ls=ls)
        ax.fill_between(years[after], quantiles[0, after], quantiles[2, after],
                        color=colors[name], alpha=alpha, lw=0)  # fmt: skip
        ax.plot(years[after], quantiles[1, after], color=colors[name], lw=1.6, ls=ls)


def _scenario_handles(projection: Projection, names: list[str]) -> list[Line2D]:
    colors = scenario_colors(projection.names)
    handles = [Line2D([], [], color=colors[name], lw=2, label=for_figure(name)) for name in names]
    return [*handles, Line2D([], [], color=_BEFORE, lw=2, label="before levers act")]


def stock_observations(dataset: Dataset) -> pd.DataFrame:
    """Year-end observations of US and Chinese installed compute in H100e.

    Series of kind ``compute_stock`` with unit ``h100e`` and country ``US`` or ``CN`` (Epoch
    chip counts, GPU-cluster totals, ...), kept at year ends (annual values and fourth quarters)
    so they line up with the model's end-of-year stocks. Many are partial stocks (one owner,
    chips since 2022): lower bounds of a national total.

    Returns
    -------
    pandas.DataFrame
        ``series_id, country, year, value, low, high, source_id``.
    """
    series = dataset.series
    chosen = series[
        (series["kind"] == "compute_stock")
        & (series["unit"] == "h100e")
        & series["country"].isin(list(_COUNTRY_STYLE))
    ].set_index("series_id")["country"]
    obs = dataset.observations
    obs = obs[obs["series_id"].isin(chosen.index) & obs["value"].notna()]
    year_end = obs["period"].map(lambda p: parse_period(p).end_month == 12).astype(bool)
    obs = obs[year_end]
    columns = ["series_id", "country", "year", "value", "low", "high", "source_id"]
    return obs.assign(country=obs["series_id"].map(chosen))[columns].reset_index(drop=True)


def _source_colors(sources: Sequence[str]) -> dict[str, tuple]:
    cmap = mpl.colormaps["Dark2"]
    return {source: cmap(i % cmap.N) for i, source in enumerate(sources)}


def _plot_observations(ax: Axes, observations: pd.DataFrame) -> list:
    """Observations as markers (shape by country, colour by source); legend handles."""
    colors = _source_colors(sorted(observations["source_id"].unique()))
    for (country, source), rows in observations.groupby(["country", "source_id"]):
        low = (rows["value"] - rows["low"]).clip(lower=0).fillna(0)
        high = (rows["high"] - rows["value"]).clip(lower=0).fillna(0)
        ax.errorbar(
            rows["year"], rows["value"], yerr=[low, high], fmt=_COUNTRY_STYLE[country][1],
            color=colors[source], ms=4.5, mec="black", mew=0.4, elinewidth=0.8, capsize=0,
            zorder=3,
        )  # fmt: skip
    style = {"ls": "", "marker": "s", "mec": "black", "mew": 0.4}
    return [
        Line2D([], [], color=color, label=for_figure(source), **style)
        for source, color in colors.items()
    ]


def plot_stocks(
    projection: Projection,
    dataset: Dataset | None = None,
    scenarios: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    cutoff: float | None = None,
) -> Axes:
    """US and Chinese installed compute on a log scale, with observations overlaid.

    Medians per scenario (US solid, China dashed, colour by scenario) with their 90 %
    intervals; the observations of :func:`stock_observations` as markers coloured by source
    (circles US, triangles China; bars are the sources' own ranges).

    Parameters
    ----------
    projection : Projection
    dataset : Dataset, optional
        Source of the observations (none drawn without it).
    scenarios : sequence of str, optional
        Scenario names (default: all).
    ax : matplotlib.axes.Axes, optional
    cutoff : float, optional
        Last year of data (dotted line).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else new_figure().add_subplot()
    names = _chosen(projection, scenarios)
    for country, metric in (("US", "us_h100e"), ("CN", "cn_h100e")):
        _draw_fans(ax, projection, metric, names, alpha=0.06, ls=_COUNTRY_STYLE[country][0])
    handles = _scenario_handles(projection, names)
    handles += [
        Line2D([], [], color="black", ls=ls, marker=marker, label=label)
        for ls, marker, label in _COUNTRY_STYLE.values()
    ]
    extra = ""
    if dataset is not None:
        handles += _plot_observations(ax, stock_observations(dataset))
        extra = "observations: data/observations.csv by source id (year ends; bars = ranges)"
    _mark_cutoff(ax, cutoff)
    _finish_axes(ax, _STOCKS, f"{_STOCKS.title}: model and observations")
    _legend_outside(ax, handles, title="scenario / country / source")
    _annotate_source(ax, source_line(projection, extra))
    return ax


def plot_additions(
    projection: Projection,
    scenarios: Sequence[str] | None = None,
    fig: Figure | None = None,
    *,
    since: int | None = None,
) -> Figure:
    """China's compute additions by channel, one panel per scenario, on a log scale.

    Each channel's median over draws (line) and 50 % interval (band); the channels are not
    stacked because the draws are skewed (means are dominated by the upper tail, medians do
    not add up).

    Parameters
    ----------
    projection : Projection
    scenarios : sequence of str, optional
        Scenario names (default: all).
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (default: a new one of :data:`FIGSIZE`).
    since : int, optional
        First year shown (default: the first year of the projection).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _chosen(projection, scenarios)
    ncols = min(len(names), 4)
    fig = fig if fig is not None else new_figure()
    axes = fig.subplots(-(-len(names) // ncols), ncols, sharex=True, sharey=True, squeeze=False)
    shown = projection.years >= (since if since is not None else projection.years[0])
    years = projection.years[shown]
    for ax, name in zip(axes.flat, names):
        for (channel, label), color in zip(CN_CHANNELS.items(), CHANNEL_COLORS):
            levels = (INNER_BAND[0], MEDIAN, INNER_BAND[1])
            low, median, high = _quantiles(projection, channel, name, levels)
            ax.fill_between(years, low[shown], high[shown], color=color, alpha=0.2, lw=0)
            ax.plot(years, median[shown], color=color, lw=1.4, label=label)
        ax.set_yscale("log")
        ax.set_title(for_figure(name), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True, steps=[5, 10]))
        ax.grid(True, alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year", fontsize=8)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    fig.supylabel("H100e added per year (median and 50 % interval)", fontsize=8)
    fig.suptitle("China's compute additions by channel, per scenario", fontsize=10, x=0.02,
                 ha="left")  # fmt: skip
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside right upper",
               fontsize=7.5, frameon=False, title="channel", title_fontsize=8)  # fmt: skip
    fig.set_layout_engine("constrained", rect=(0, 0.04, 1, 0.96))  # room for the source line
    fig.text(0.01, 0.008, source_line(projection), fontsize=_SOURCE_SIZE, color="0.35")
    return fig


#: Flows whose binding limit the "what binds" figure shows, with a label.
BINDING_PANELS = {"binding_us": "US additions", "binding_cn": "China's domestic additions"}
LIMIT_COLORS = ("#8c8c8c", "#c44e52", "#dd8452", "#4c72b0")


def plot_binding(
    projection: Projection,
    scenarios: Sequence[str] | None = None,
    fig: Figure | None = None,
    *,
    since: int | None = None,
) -> Figure:
    """What binds: the share of draws in which each limit caps a flow, per scenario and year.

    One row per scenario, one column per flow (:data:`BINDING_PANELS`); stacked shares over
    the projection years (the data years are not limited). The first limit of each list
    (``money`` for the US, ``demand`` for China) means no physical limit binds.

    Parameters
    ----------
    projection : Projection
    scenarios : sequence of str, optional
        Scenario names (default: all).
    fig : matplotlib.figure.Figure, optional
    since : int, optional
        First year shown (default: the first projected year).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _chosen(projection, scenarios)
    fig = fig if fig is not None else new_figure()
    fig.set_size_inches(FIGSIZE[0], max(FIGSIZE[1], 1.1 * len(names) + 1.0))
    axes = fig.subplots(len(names), len(BINDING_PANELS), sharex=True, squeeze=False)
    first = since if since is not None else projection.meta.get("first_limited_year")
    shown = projection.years >= (first if first is not None else projection.years[0])
    years = projection.years[shown]
    for row, name in zip(axes, names):
        i = projection.names.index(name)
        for ax, (metric, label) in zip(row, BINDING_PANELS.items()):
            limits = BINDING[metric]
            shares = binding_shares(projection.values[metric][i][:, shown], limits)
            ax.stackplot(years, *shares.values(), labels=limits,
                         colors=LIMIT_COLORS[: len(limits)], alpha=0.85)  # fmt: skip
            ax.set_ylim(0, 1)
            ax.set_title(f"{name}: {label}", fontsize=7.5)
            ax.tick_params(labelsize=6.5)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    for ax in axes[0]:
        ax.legend(loc="upper left", fontsize=6, frameon=True, ncols=2)
    fig.supylabel("share of draws in which the limit binds", fontsize=8)
    fig.suptitle("What binds: the limit that caps each flow, per scenario", fontsize=10,
                 x=0.02, ha="left")  # fmt: skip
    fig.set_layout_engine("constrained", rect=(0, 0.03, 1, 0.97))
    fig.text(0.01, 0.005, source_line(projection), fontsize=_SOURCE_SIZE, color="0.35")
    return fig


def plot_attribution(
    projection: Projection,
    base: str = "status_quo",
    year: int = 2030,
    fig: Figure | None = None,
) -> Figure:
    """Waterfalls of each scenario's change in log(ratio_us_cn) against ``base``, by lever.

    One panel per scenario with levers that differ from the base: each bar starts where the
    previous lever left the running total (mean Shapley contribution over paired draws,
    whiskers: its 90 % interval), ending at the scenario's total change.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = [n for n in projection.names if n != base]
    tables = {n: attribute(projection, n, base=base, year=year) for n in names}
    tables = {n: t for n, t in tables.items() if len(t) > 1}
    fig = fig if fig is not None else new_figure()
    ncols = min(max(len(tables), 1), 2)
    nrows = max(-(-len(tables) // ncols), 1)
    fig.set_size_inches(FIGSIZE[0], max(FIGSIZE[1], 2.0 * nrows + 1.0))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (name, table) in zip(axes.flat, tables.items()):
        levers = table[table["lever"] != "total"]
        start = np.concatenate([[0.0], np.cumsum(levers["mean"].to_numpy())[:-1]])
        rows = np.arange(len(levers) + 1)
        colors = np.where(levers["mean"] >= 0, "#c44e52", "#4c72b0")
        ax.barh(rows[:-1], levers["mean"], left=start, color=colors, alpha=0.85)
        err = np.abs(levers[["q05", "q95"]].to_numpy().T - levers["mean"].to_numpy())
        ax.errorbar(start + levers["mean"], rows[:-1], xerr=err, fmt="none", color="0.3", lw=0.8)
        total = table[table["lever"] == "total"].iloc[0]
        ax.barh(rows[-1], total["mean"], color="0.45")
        ax.errorbar(total["mean"], rows[-1], xerr=[[total["mean"] - total["q05"]],
                    [total["q95"] - total["mean"]]], fmt="none", color="0.2", lw=0.8)  # fmt: skip
        ax.set_yticks(rows, [*levers["lever"], "total"], fontsize=6.5)
        ax.invert_yaxis()
        ax.axvline(0, color="0.3", lw=0.6)
        ax.set_title(name, fontsize=8)
        ax.tick_params(axis="x", labelsize=6.5)
    for ax in axes.flat[len(tables) :]:
        ax.set_visible(False)
    fig.supxlabel(f"change in log(ratio_us_cn) in {year} against {base} "
                  "(+: a wider US lead)", fontsize=8)  # fmt: skip
    fig.suptitle("What each lever does: Shapley attribution in paired draws", fontsize=10,
                 x=0.02, ha="left")  # fmt: skip
    fig.set_layout_engine("constrained", rect=(0, 0.03, 1, 0.97))
    fig.text(0.01, 0.003, source_line(projection), fontsize=_SOURCE_SIZE, color="0.35")
    return fig


def coverage_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Empirical coverage of the 50 % and 90 % intervals per model.

    Parameters
    ----------
    cases : pandas.DataFrame
        One row per scored forecast with ``model``, ``in50`` and ``in90`` (booleans), as
        :attr:`forecast.backtest.BacktestResult.cases`.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``n, coverage_50, coverage_90``.
    """
    grouped = cases.astype({"in50": float, "in90": float}).groupby("model", sort=True)
    return grouped.agg(n=("in50", "size"), coverage_50=("in50", "mean"),
                       coverage_90=("in90", "mean"))  # fmt: skip


def wilson_interval(p: np.ndarray, n: np.ndarray, z: float = 1.645) -> tuple:
    """Wilson score interval of a binomial proportion (default 90 %): ``(low, high)``."""
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def plot_coverage(cases: pd.DataFrame, ax: Axes | None = None, *, source: str = "") -> Axes:
    """Backtest coverage of 50 % and 90 % intervals per model against the nominal level.

    Bars are the share of outcomes inside each model's interval; whiskers are 90 % Wilson
    intervals (approximate: forecasts from overlapping origins are not independent).

    Parameters
    ----------
    cases : pandas.DataFrame
        ``model, in50, in90`` per scored forecast (see :func:`coverage_table`).
    ax : matplotlib.axes.Axes, optional
    source : str
        What was backtested, appended to the source line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else new_figure().add_subplot()
    table = coverage_table(cases)
    width = 0.8 / max(len(table), 1)
    cmap = mpl.colormaps["tab10"]
    for i, (model, row) in enumerate(table.iterrows()):
        x = np.arange(2) + (i - (len(table) - 1) / 2) * width
        p = row[["coverage_50", "coverage_90"]].to_numpy(dtype=float)
        low, high = wilson_interval(p, row["n"])
        label = for_figure(f"{model} (n={int(row['n'])})")
        ax.bar(x, p, width * 0.9, color=cmap(i % cmap.N), label=label,
               yerr=[p - low, high - p], error_kw={"elinewidth": 0.8, "capsize": 2})  # fmt: skip
    for x, nominal in enumerate((0.5, 0.9)):
        ax.hlines(nominal, x - 0.45, x + 0.45, colors="black", linestyles="--", lw=1)
    ax.plot([], [], color="black", ls="--", lw=1, label="nominal level")
    ax.set_xticks([0, 1], ["50 % interval", "90 % interval"])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of outcomes inside the interval (fraction)")
    ax.set_xlabel("predictive interval")
    ax.set_title("Backtest: interval coverage vs nominal", fontsize=10, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    _legend_outside(ax, title="model")
    note = "Source: compute-gap backtest (rolling origin, expanding window)"
    _annotate_source(ax, f"{note}; {source}" if source else note)
    return ax
